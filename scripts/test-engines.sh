#!/usr/bin/env bash
# The engine tests (tests/engines, pytest): the Airflow DAGs and the n8n
# workflows run by the real engines, the Kestra flows by a harness that runs
# their commands (not Kestra: see README, "Kestra"). Each test gets its own
# PostgreSQL database at 127.0.0.1:5432, dropped afterwards.
#
# Installs the pinned engines first (scripts/install-engines.sh) and uses the
# tools in target/debug (or $SUPPORT_BIN_DIR): build them first, as scripts/test.sh does.
# Extra arguments go to pytest, e.g. scripts/test-engines.sh -k n8n
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-engines.sh

scripts/start-postgres.sh

# CI=true makes a skipped engine test fail the run (tests/engines/conftest.py).
exec .engines/airflow/bin/python -m pytest tests/engines -p no:cacheprovider -q -rs "$@"
