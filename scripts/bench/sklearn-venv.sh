#!/usr/bin/env bash
# Prints the Python of target/sklearn-venv, the scikit-learn the benchmarks
# compare with, creating it (pip install scikit-learn) on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/sklearn-venv
if ! "$venv/bin/python" -c 'import sklearn' 2>/dev/null; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet scikit-learn >&2
fi
echo "$PWD/$venv/bin/python"
