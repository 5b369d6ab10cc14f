"""Weekly: retrain the models, and promote each only when it beats the active one.

Every model lives in the store (`support-store models`): a candidate is evaluated
beside the active model on the same held-out data, and `support-store models
promote` keeps it only when no gate metric is worse and one is better, printing
the change of each. The flows and DAGs run the active models with
`--store-models`; `support-store models rollback` undoes a promotion.

categorize (skipped when $SUPPORT_TRAIN_DATA or $SUPPORT_EVAL_DATA is not set) and
sentiment (the same with $SUPPORT_SENTIMENT_TRAIN_DATA and $SUPPORT_SENTIMENT_EVAL_DATA)
  1. corrections_TOOL: the tool's decisions people corrected
     (`triage_results.true_label`, `support-export corrections --tool`) as CSV `text,label`.
  2. train_TOOL: the team's training set (CSV `text,label`) plus the corrections
     -> a candidate.
  3. evaluate_TOOL: the candidate and the active model (the embedded default
     before any) on the held-out data.
  4. promote_TOOL: when its macro-F1 is higher.

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

from airflow.sdk import DAG, chain

# Exit code 99 skips a BashOperator task (and, by the default trigger rule, those after it).
SKIP = 99


def retrain_classifier(name: str, key: str, what: str, train_var: str, eval_var: str) -> list:
    """The tasks that retrain support-NAME (whose result is KEY in the ticket) on $TRAIN_VAR
    and the store's corrections, and promote the candidate when it beats the active model
    on $EVAL_VAR. Skipped, with a line saying so, when either variable is not set."""
    binary = tool(f"support-{name}")
    corrections, train = f'"$RUN_DIR/{name}-corrections.csv"', f'"$RUN_DIR/{name}-train.csv"'
    model, eval_data = f'"$RUN_DIR/{name}.model"', f'"${eval_var}"'
    candidate, active = f'"$RUN_DIR/{name}-candidate.json"', f'"$RUN_DIR/{name}-active.json"'
    export = bash(
        f"corrections_{name}",
        f'if [ -z "${{{train_var}:-}}" ] || [ -z "${{{eval_var}:-}}" ]; then\n'
        f'  echo "{train_var} or {eval_var} is not set: {what} is not retrained"\n'
        f"  exit {SKIP}\n"
        "fi\n"
        'mkdir -p "$RUN_DIR"\n'
        f'{tool("support-export")} corrections --tool {key} --output {corrections} < /dev/null\n'
        f'echo "$(($(wc -l < {corrections}) - 1)) correction(s)"',
    )
    # The corrections' header row is dropped: the training set brings its own
    # (`awk 1` ends its last line, should the file lack the final newline).
    fit = bash(
        f"train_{name}",
        f'{{ awk 1 "${train_var}"; tail -n +2 {corrections}; }} > {train}\n'
        f"{binary} train --data {train} --text text --label label --out {model} < /dev/null",
    )
    evaluate = bash(
        f"evaluate_{name}",
        f"{binary} evaluate --model {model} --data {eval_data} --text text --label label "
        f"> {candidate} < /dev/null\n"
        # The active model of the store, else the embedded default.
        f"{binary} evaluate --store-models --data {eval_data} --text text --label label "
        f"> {active} < /dev/null",
    )
    promote = bash(
        f"promote_{name}",
        f"{tool('support-store')} models promote --tool {name} --file {model} "
        f"--report {candidate} --active-report {active} --eval-data {eval_data} "
        f'--training-data "$(basename "${train_var}") and $(($(wc -l < {corrections}) - 1)) '
        'correction(s)" < /dev/null',
    )
    return [export, fit, evaluate, promote]


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
    for retrain in (
        retrain_classifier("categorize", "category", "the categorizer", "SUPPORT_TRAIN_DATA", "SUPPORT_EVAL_DATA"),
        retrain_classifier(
            "sentiment",
            "sentiment",
            "the sentiment model",
            "SUPPORT_SENTIMENT_TRAIN_DATA",
            "SUPPORT_SENTIMENT_EVAL_DATA",
        ),
    ):
        chain(*retrain, cleanup)
    train_ml_predict >> promote_ml_predict >> cleanup
