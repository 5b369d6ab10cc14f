"""Daily: the tickets created in the run's data interval (the previous day, UTC) as CSV."""

from support_common import DEFAULT_ARGS, START_DATE, bash, tool

from airflow.sdk import DAG
from airflow.timetables.interval import CronDataIntervalTimetable

with DAG(
    dag_id="support_tickets_export",
    description="Daily CSV export",
    # A data interval of one whole day: the run after midnight exports the day before.
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=START_DATE,
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["support"],
):
    bash(
        "export_csv",
        'csv="$OUT_DIR/tickets-$EXPORT_DAY.csv"\n'
        # Stdin is /dev/null: the tickets come from the database in DATABASE_URL (the worker's
        # environment, never a command line), whatever stdin the worker hands its tasks.
        f'{tool("support-export")} tickets --format csv --since "$EXPORT_SINCE" --until "$EXPORT_UNTIL" '
        '--output "$csv" < /dev/null\n'
        'echo "$csv"',
        env={
            "EXPORT_SINCE": "{{ data_interval_start.isoformat() }}",
            "EXPORT_UNTIL": "{{ data_interval_end.isoformat() }}",
            "EXPORT_DAY": "{{ data_interval_start.strftime('%Y-%m-%d') }}",
        },
    )
