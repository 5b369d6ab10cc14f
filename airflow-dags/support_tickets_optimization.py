"""Weekly maintenance: archive closed tickets, ANALYZE, refresh the daily summary, purge old metrics."""

from support_common import DEFAULT_ARGS, START_DATE, bash, tool

from airflow.sdk import DAG

with DAG(
    dag_id="support_tickets_optimization",
    description="Weekly maintenance of the support database",
    schedule="0 3 * * 0",
    start_date=START_DATE,
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["support"],
):
    bash("maintain", f'{tool("support-store")} maintain')
