"""Every 15 minutes: open tickets whose SLA is at risk or breached -> support-escalate -> store.

The tickets and their escalations travel through files in the run's folder; a
ticket that support-escalate cannot read becomes an error record there, the
others are still stored, and the last task fails the run so someone looks.
"""

from support_common import DEFAULT_ARGS, START_DATE, bash, tool

from airflow.sdk import DAG

with DAG(
    dag_id="support_tickets_monitor",
    description="SLA at risk -> escalate -> store",
    schedule="*/15 * * * *",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["support"],
):
    due = bash("due", f'mkdir -p "$RUN_DIR"\n{tool("support-store")} due > "$RUN_DIR/due.jsonl"')
    # Exit code 1 means some records failed: they are in the errors file and the
    # good ones are escalated; anything else stops the run here.
    escalate = bash(
        "escalate",
        f'{tool("support-escalate")} --errors "$RUN_DIR/escalate-errors.jsonl" '
        '< "$RUN_DIR/due.jsonl" > "$RUN_DIR/escalated.jsonl" || [ $? -eq 1 ]',
    )
    store = bash("store", f'{tool("support-store")} ingest < "$RUN_DIR/escalated.jsonl"')
    check = bash(
        "check_errors",
        'if [ -s "$RUN_DIR/escalate-errors.jsonl" ]; then\n'
        '  echo "$(wc -l < "$RUN_DIR/escalate-errors.jsonl") ticket(s) could not be escalated:" >&2\n'
        '  cat "$RUN_DIR/escalate-errors.jsonl" >&2\n'
        "  exit 1\n"
        "fi\n"
        'rm -rf "$RUN_DIR"',
    )
    due >> escalate >> store >> check
