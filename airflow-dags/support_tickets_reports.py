"""Weekly: the HTML report of the seven days before the run (charts inline, one self-contained file)."""

from support_common import DEFAULT_ARGS, START_DATE, bash, tool

from airflow.sdk import DAG

with DAG(
    dag_id="support_tickets_reports",
    description="Weekly HTML report",
    schedule="0 6 * * 1",
    start_date=START_DATE,
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["support"],
):
    # support-export writes --output whole or not at all: a reader never sees half a report.
    bash(
        "report",
        'report="$OUT_DIR/support-report-$REPORT_DAY.html"\n'
        # Stdin is /dev/null: the tickets come from the database in DATABASE_URL (the worker's
        # environment, never a command line), whatever stdin the worker hands its tasks.
        f'{tool("support-export")} report --format html --period 7d --now "$REPORT_END" --output "$report" '
        "< /dev/null\n"
        'echo "$report"',
        env={
            # The run's logical time; a manual run without one reports up to when it was triggered.
            "REPORT_END": "{{ (logical_date or dag_run.run_after).isoformat() }}",
            "REPORT_DAY": "{{ (logical_date or dag_run.run_after).strftime('%Y-%m-%d') }}",
        },
    )
