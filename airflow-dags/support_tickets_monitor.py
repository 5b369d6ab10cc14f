"""Every 15 minutes: open tickets whose SLA is at risk or breached -> the bot answers the
ones the knowledge base answers confidently -> the rest to support-escalate -> store.

The tickets travel through files in the run's folder. With SUPPORT_KB_INDEX set on the
worker (an index from `support-answer index`), or else an index promoted in the store
(`support-store models promote --tool answer`), and SUPPORT_EMBEDDER where the model is
if not in the default place, support-answer finds each ticket's article and `support-answer
reply` picks those the bot may answer: each gets its reply by mail (EmailOperator, the
`smtp_default` connection) and is stored marked answered by the bot. Without an index
every ticket goes on to support-escalate. A ticket a tool cannot read becomes an error
record in the run's folder, the others are still stored, and the last task fails the run
so someone looks.
"""

import html
import json

from support_common import DEFAULT_ARGS, START_DATE, bash, tool

from airflow.providers.smtp.operators.smtp import EmailOperator
from airflow.sdk import DAG, task


class LiteralEmailOperator(EmailOperator):
    """EmailOperator sending its fields as given. Its own fields are Jinja templates, mapped
    ones too: a ticket subject holding `{{ ... }}` would be run by the template engine."""

    template_fields = ()


@task
def replies(mails_line: str) -> list[dict]:
    """The mail arguments of each mail `support-answer reply` wrote."""
    return [
        {
            "to": mail["to"],
            "subject": mail["subject"],
            "html_content": "<p>" + html.escape(mail["text"]).replace("\n", "<br>\n") + "</p>",
        }
        for mail in json.loads(mails_line)
    ]


with DAG(
    dag_id="support_tickets_monitor",
    description="SLA at risk -> bot answer or escalate -> store",
    schedule="*/15 * * * *",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["support"],
):
    due = bash("due", f'mkdir -p "$RUN_DIR"\n{tool("support-store")} due > "$RUN_DIR/due.jsonl"')
    # Exit code 1 means some records failed: they are in the errors file and the others go
    # on; anything else stops the run here. The last line (the task's XCom) is the mails,
    # as one JSON array.
    answer = bash(
        "answer",
        # SUPPORT_KB_INDEX when set, else the index promoted in the store (support-store models).
        f'index=${{SUPPORT_KB_INDEX:-$({tool("support-store")} models path --tool answer < /dev/null)}}\n'
        'if [ -n "$index" ]; then\n'
        f'  {tool("support-answer")} --index "$index" --errors "$RUN_DIR/answer-errors.jsonl" '
        '< "$RUN_DIR/due.jsonl" > "$RUN_DIR/answers.jsonl" || [ $? -eq 1 ]\n'
        f'  {tool("support-answer")} reply --input "$RUN_DIR/answers.jsonl" --rest "$RUN_DIR/rest.jsonl" '
        '--mails "$RUN_DIR/mails.jsonl" > "$RUN_DIR/answered.jsonl"\n'
        "else\n"
        '  cp "$RUN_DIR/due.jsonl" "$RUN_DIR/rest.jsonl"\n'
        '  : > "$RUN_DIR/answered.jsonl"\n'
        '  : > "$RUN_DIR/mails.jsonl"\n'
        "fi\n"
        'printf \'[%s]\\n\' "$(paste -sd, "$RUN_DIR/mails.jsonl")"',
    )
    # RFC 3834: an automatic reply says so, and mail systems do not answer it back.
    send = LiteralEmailOperator.partial(
        task_id="send_reply",
        conn_id="smtp_default",
        custom_headers={"Auto-Submitted": "auto-replied"},
    ).expand_kwargs(replies(answer.output))
    # Sent, so stored as answered by the bot; with no mail to send, `send_reply` is skipped
    # and the run goes on.
    store_answered = bash(
        "store_answered",
        f'{tool("support-store")} ingest --input "$RUN_DIR/answered.jsonl"',
        trigger_rule="none_failed",
    )
    escalate = bash(
        "escalate",
        f'{tool("support-escalate")} --errors "$RUN_DIR/escalate-errors.jsonl" '
        '< "$RUN_DIR/rest.jsonl" > "$RUN_DIR/escalated.jsonl" || [ $? -eq 1 ]',
    )
    store = bash("store", f'{tool("support-store")} ingest < "$RUN_DIR/escalated.jsonl"')
    check = bash(
        "check_errors",
        'failed=0\n'
        'for errors in "$RUN_DIR/answer-errors.jsonl" "$RUN_DIR/escalate-errors.jsonl"; do\n'
        '  if [ -s "$errors" ]; then\n'
        '    echo "$(wc -l < "$errors") ticket(s) could not be handled ($(basename "$errors")):" >&2\n'
        '    cat "$errors" >&2\n'
        "    failed=1\n"
        "  fi\n"
        "done\n"
        '[ "$failed" -eq 0 ]\n'
        'rm -rf "$RUN_DIR"',
    )
    due >> answer >> send >> store_answered >> escalate >> store >> check
