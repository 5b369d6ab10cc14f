"""Weekly: retrain the models, and promote each only when it beats the active one.

Every model lives in the store (`support-store models`): a candidate is evaluated
beside the active model on the same held-out data, and `support-store models
promote` keeps it only when no gate metric is worse and one is better, printing
the change of each. The flows and DAGs run the active models with
`--store-models`; `support-store models rollback` undoes a promotion.

categorize (skipped when $SUPPORT_TRAIN_DATA or $SUPPORT_EVAL_DATA is not set)
  1. export_corrections: the categorizer decisions people corrected
     (`triage_results.true_label`, tool `category`) as CSV `text,label`.
  2. train_categorize: the team's training set ($SUPPORT_TRAIN_DATA, CSV
     `text,label`) plus the corrections -> a candidate.
  3. evaluate_categorize: the candidate and the active model (the embedded
     default before any) on $SUPPORT_EVAL_DATA.
  4. promote_categorize: when its macro-F1 is higher.

ml-predict (skipped when $SUPPORT_ML_EVAL_DATA is not set)
  1. train_ml_predict: the store's resolved and closed tickets -> a candidate.
  2. promote_ml_predict: evaluated on $SUPPORT_ML_EVAL_DATA (closed tickets kept
     out of the store, JSON Lines or CSV) beside the active model; promoted when
     the resolution MAE and the SLA-breach AUC are both no worse and one is
     better. Before any model it must beat the per-(category, priority)
     baseline of its own report (the embedded priors learn nothing to compare).

The tools read DATABASE_URL from the worker's environment, never from a command
line; stdin is /dev/null wherever a tool would otherwise read it.
"""

from support_common import DEFAULT_ARGS, START_DATE, bash, tool

from airflow.sdk import DAG

# Exit code 99 skips a BashOperator task (and, by the default trigger rule, those after it).
SKIP = 99

with DAG(
    dag_id="support_model_retrain",
    description="Retrain the models; promote each only when it beats the active one",
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
        f'{tool("support-export")} corrections --output "$RUN_DIR/corrections.csv" < /dev/null\n'
        'echo "$(($(wc -l < "$RUN_DIR/corrections.csv") - 1)) correction(s)"',
    )
    # The corrections' header row is dropped: the training set brings its own
    # (`awk 1` ends its last line, should the file lack the final newline).
    train_categorize = bash(
        "train_categorize",
        'if [ -z "${SUPPORT_TRAIN_DATA:-}" ] || [ -z "${SUPPORT_EVAL_DATA:-}" ]; then\n'
        '  echo "SUPPORT_TRAIN_DATA or SUPPORT_EVAL_DATA is not set: the categorizer is not retrained"\n'
        f"  exit {SKIP}\n"
        "fi\n"
        '{ awk 1 "$SUPPORT_TRAIN_DATA"; tail -n +2 "$RUN_DIR/corrections.csv"; } > "$RUN_DIR/train.csv"\n'
        f'{tool("support-categorize")} train --data "$RUN_DIR/train.csv" --text text --label label '
        '--out "$RUN_DIR/categorize.model"',
    )
    evaluate_categorize = bash(
        "evaluate_categorize",
        f'{tool("support-categorize")} evaluate --model "$RUN_DIR/categorize.model" '
        '--data "$SUPPORT_EVAL_DATA" --text text --label label > "$RUN_DIR/categorize-candidate.json"\n'
        # The active model of the store, else the embedded default.
        f'{tool("support-categorize")} evaluate --store-models '
        '--data "$SUPPORT_EVAL_DATA" --text text --label label > "$RUN_DIR/categorize-active.json"',
    )
    promote_categorize = bash(
        "promote_categorize",
        f'{tool("support-store")} models promote --tool categorize --file "$RUN_DIR/categorize.model" '
        '--report "$RUN_DIR/categorize-candidate.json" --active-report "$RUN_DIR/categorize-active.json" '
        '--eval-data "$SUPPORT_EVAL_DATA" '
        '--training-data "$(basename "$SUPPORT_TRAIN_DATA") and $(($(wc -l < "$RUN_DIR/corrections.csv") - 1)) '
        'correction(s)" < /dev/null',
    )
    train_ml_predict = bash(
        "train_ml_predict",
        'if [ -z "${SUPPORT_ML_EVAL_DATA:-}" ]; then\n'
        '  echo "SUPPORT_ML_EVAL_DATA is not set: the resolution model (ml-predict) is not retrained"\n'
        f"  exit {SKIP}\n"
        "fi\n"
        'mkdir -p "$RUN_DIR"\n'
        f'{tool("support-ml-predict")} train --db --out "$RUN_DIR/ml-predict.model" < /dev/null '
        '| tee "$RUN_DIR/ml-predict-train.json"',
    )
    promote_ml_predict = bash(
        "promote_ml_predict",
        f'active=$({tool("support-store")} models path --tool ml-predict < /dev/null)\n'
        f'{tool("support-ml-predict")} evaluate --model "$RUN_DIR/ml-predict.model" '
        '--data "$SUPPORT_ML_EVAL_DATA" > "$RUN_DIR/ml-predict-candidate.json"\n'
        'if [ -n "$active" ]; then\n'
        f'  {tool("support-ml-predict")} evaluate --model "$active" '
        '--data "$SUPPORT_ML_EVAL_DATA" > "$RUN_DIR/ml-predict-active.json"\n'
        '  set -- --active-report "$RUN_DIR/ml-predict-active.json"\n'
        "else\n"
        "  set -- --against-baseline\n"
        "fi\n"
        f'{tool("support-store")} models promote --tool ml-predict --file "$RUN_DIR/ml-predict.model" '
        '--report "$RUN_DIR/ml-predict-candidate.json" "$@" --eval-data "$SUPPORT_ML_EVAL_DATA" '
        "--training-data \"the store's closed tickets ($(sed -n 's/.*\"records\":\\([0-9]*\\).*/\\1/p' "
        '"$RUN_DIR/ml-predict-train.json") records)" < /dev/null',
    )
    cleanup = bash("cleanup", 'rm -rf "$RUN_DIR"', trigger_rule="none_failed")
    export_corrections >> train_categorize >> evaluate_categorize >> promote_categorize >> cleanup
    train_ml_predict >> promote_ml_predict >> cleanup
