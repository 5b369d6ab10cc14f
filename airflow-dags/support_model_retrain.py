"""Weekly: retrain the categorizer with the corrections people made, keep it only if it is not worse.

1. export_corrections: every stored categorizer decision a person corrected
   (`triage_results.true_label`, tool `category`) as CSV `text,label`
   (`support-export corrections`, which reads $DATABASE_URL from the environment).
2. train: the team's training set ($SUPPORT_TRAIN_DATA, CSV `text,label`) plus
   the corrections -> a candidate model.
3. evaluate the candidate and the current model (the promoted one, or the
   embedded default before any) on the same held-out set ($SUPPORT_EVAL_DATA).
4. promote: only when the candidate's macro-F1 is at least the current one's;
   the model lands in $SUPPORT_OUT_DIR/categorize.model, which the tools read
   with `--model`.
"""

import json
from pathlib import Path

from support_common import DEFAULT_ARGS, START_DATE, bash, tool

from airflow.sdk import DAG, task

MODEL = '"$OUT_DIR/categorize.model"'


# Skips only `promote`: the clean-up after it still runs.
@task.short_circuit(ignore_downstream_trigger_rules=False)
def candidate_not_worse(candidate_report: str, current_report: str) -> bool:
    """True (go on to promote) when the candidate's macro-F1 is at least the current model's."""
    candidate = json.loads(Path(candidate_report).read_text())
    current = json.loads(Path(current_report).read_text())
    print(
        f"macro-F1 candidate {candidate['macro_f1']:.4f} vs current {current['macro_f1']:.4f} "
        f"({current['model']}); accuracy {candidate['accuracy']:.4f} vs {current['accuracy']:.4f}"
    )
    return candidate["macro_f1"] >= current["macro_f1"]


with DAG(
    dag_id="support_model_retrain",
    description="Retrain the categorizer with corrections; promote only if not worse",
    schedule="0 2 * * 6",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["support", "model"],
):
    export_corrections = bash(
        "export_corrections",
        'mkdir -p "$RUN_DIR"\n'
        # Stdin is /dev/null: the corrections come from the database in DATABASE_URL (the
        # worker's environment, never a command line), whatever stdin the worker hands its tasks.
        f'{tool("support-export")} corrections --output "$RUN_DIR/corrections.csv" < /dev/null\n'
        'echo "$(($(wc -l < "$RUN_DIR/corrections.csv") - 1)) correction(s)"',
    )
    # The corrections' header row is dropped: the training set brings its own
    # (`awk 1` ends its last line, should the file lack the final newline).
    train = bash(
        "train",
        ': "${SUPPORT_TRAIN_DATA:?set SUPPORT_TRAIN_DATA to the training CSV (columns text,label)}"\n'
        '{ awk 1 "$SUPPORT_TRAIN_DATA"; tail -n +2 "$RUN_DIR/corrections.csv"; } > "$RUN_DIR/train.csv"\n'
        f'{tool("support-categorize")} train --data "$RUN_DIR/train.csv" --text text --label label '
        '--out "$RUN_DIR/candidate.model"',
    )
    evaluate_candidate = bash(
        "evaluate_candidate",
        ': "${SUPPORT_EVAL_DATA:?set SUPPORT_EVAL_DATA to the held-out CSV (columns text,label)}"\n'
        f'{tool("support-categorize")} evaluate --model "$RUN_DIR/candidate.model" '
        '--data "$SUPPORT_EVAL_DATA" --text text --label label > "$RUN_DIR/candidate-eval.json"\n'
        'echo "$RUN_DIR/candidate-eval.json"',
    )
    evaluate_current = bash(
        "evaluate_current",
        ': "${SUPPORT_EVAL_DATA:?set SUPPORT_EVAL_DATA to the held-out CSV (columns text,label)}"\n'
        f"if [ -f {MODEL} ]; then set -- --model {MODEL}; else set --; fi\n"
        f'{tool("support-categorize")} evaluate "$@" '
        '--data "$SUPPORT_EVAL_DATA" --text text --label label > "$RUN_DIR/current-eval.json"\n'
        'echo "$RUN_DIR/current-eval.json"',
    )
    gate = candidate_not_worse(evaluate_candidate.output, evaluate_current.output)
    promote = bash(
        "promote",
        f'cp "$RUN_DIR/candidate.model" {MODEL}.part\n'
        f"mv {MODEL}.part {MODEL}\n"
        f'echo "promoted: $(sha256sum < {MODEL})"',
    )
    cleanup = bash("cleanup", 'rm -rf "$RUN_DIR"', trigger_rule="none_failed")
    export_corrections >> train >> [evaluate_candidate, evaluate_current]
    gate >> promote >> cleanup
