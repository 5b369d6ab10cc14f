"""What the support DAGs share: where the tools are, where a run keeps its files.

Every DAG runs the support-* binaries with BashOperator. The commands name the
binaries by absolute path under $SUPPORT_BIN_DIR and pass data only through
files under the run's own folder ($RUN_DIR): ticket text never becomes part of
a command line. Set on every worker (see README, "Airflow"):

  SUPPORT_BIN_DIR   folder holding support-store, support-export, support-escalate, ...
  DATABASE_URL      postgres://USER:PASSWORD@HOST:5432/DATABASE, read by support-store and support-export
  SUPPORT_WORK_DIR  where runs keep their files (default /tmp/support-airflow); shared if tasks
                    of one run may land on different workers
  SUPPORT_OUT_DIR   where reports, exports and promoted models go (default $SUPPORT_WORK_DIR/out)
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.bash import BashOperator

# A time-zone-aware start: schedules are read in UTC.
START_DATE = pendulum.datetime(2026, 1, 1, tz="UTC")

DEFAULT_ARGS = {
    "owner": "support",
    "retries": 1,
    "retry_delay": timedelta(minutes=2),
}

# Templated by Airflow per task instance; `append_env=True` keeps the worker's
# own environment (SUPPORT_BIN_DIR, DATABASE_URL, PATH) beside it. The values
# reach the shell as variables, never as command text.
RUN_ENV = {
    "SUPPORT_DAG_ID": "{{ dag.dag_id }}",
    "SUPPORT_RUN_ID": "{{ run_id }}",
}

# Shell prologue of every command: fail on the first error; name the run's folder
# (the first task of a run that needs it makes it, the last removes it) and the
# output folder.
#
# A run id is anyone's text (triggered through the API or the UI: "..", spaces,
# quotes, "$(...)", slashes where allowed_run_id_pattern permits them), and the
# run's folder is removed with `rm -rf`. So the folder's name is never the run id
# itself: it is the run id with every byte but [A-Za-z0-9_.:+-] replaced by "_",
# cut to 48 bytes (for people reading the folder), then "-" and 16 hex digits of
# the run id's SHA-256 (so two run ids never share a folder). It cannot contain
# "/", cannot be "." or "..", and always lies directly under
# $SUPPORT_WORK_DIR/DAG_ID, which is checked before anything uses it.
PROLOGUE = (
    "set -eu\n"
    'WORK_DIR="${SUPPORT_WORK_DIR:-/tmp/support-airflow}"\n'
    'case $WORK_DIR in /*) ;; *) echo "SUPPORT_WORK_DIR must be an absolute path" >&2; exit 1 ;; esac\n'
    'case $SUPPORT_DAG_ID in "" | . | .. | */*) echo "unexpected dag id" >&2; exit 1 ;; esac\n'
    "RUN_NAME=$(printf '%s' \"$SUPPORT_RUN_ID\" | LC_ALL=C tr -c 'A-Za-z0-9_.:+-' '_' | cut -c1-48)\n"
    "RUN_HASH=$(printf '%s' \"$SUPPORT_RUN_ID\" | sha256sum | cut -c1-16)\n"
    'RUN_DIR="$WORK_DIR/$SUPPORT_DAG_ID/$RUN_NAME-$RUN_HASH"\n'
    'case ${RUN_NAME}${RUN_HASH} in */* | *[!A-Za-z0-9_.:+-]*) echo "unsafe run folder name" >&2; exit 1 ;; esac\n'
    'OUT_DIR="${SUPPORT_OUT_DIR:-$WORK_DIR/out}"\n'
    'mkdir -p "$OUT_DIR"\n'
)


def tool(name: str) -> str:
    """The absolute path of a support binary, as a quoted shell word."""
    return f'"${{SUPPORT_BIN_DIR:?set SUPPORT_BIN_DIR to the folder of the support-* binaries}}/{name}"'


def bash(task_id: str, body: str, env: dict[str, str] | None = None, **kwargs) -> BashOperator:
    """A BashOperator running `body` after the prologue, with the run's environment and `env`."""
    return BashOperator(
        task_id=task_id,
        bash_command=PROLOGUE + body + "\n",
        env={**RUN_ENV, **(env or {})},
        append_env=True,
        **kwargs,
    )
