"""The DAGs of airflow-dags/, loaded and run by the real Airflow 3 against a fresh
PostgreSQL database each; the tests check what landed in the database and files."""

from __future__ import annotations

import csv
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import urllib.parse
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import BIN_DIR, ENGINES, ROOT, example_tickets, query, run, seed_tickets, tool, utc

AIRFLOW = ENGINES / "airflow" / "bin" / "airflow"
DAGS = ROOT / "airflow-dags"
DAG_IDS = [
    "support_model_retrain",
    "support_tickets_export",
    "support_tickets_monitor",
    "support_tickets_optimization",
    "support_tickets_reports",
]


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory) -> dict[str, str]:
    """A migrated Airflow metadata database (SQLite) in a temporary AIRFLOW_HOME."""
    assert AIRFLOW.is_file(), f"{AIRFLOW} is missing: run scripts/install-engines.sh airflow"
    home = tmp_path_factory.mktemp("airflow")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    }
    run([AIRFLOW, "db", "migrate"], env=env)
    return env


def test_every_dag_loads_without_import_errors(airflow_home):
    # The DAG processor puts the bundle folder on sys.path; so does this check.
    script = (
        "import json, sys\n"
        f"sys.path.append({str(DAGS)!r})\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(DAGS)!r})\n"
        "print(json.dumps({'errors': bag.import_errors, 'dags': {d.dag_id: {\n"
        "    'tasks': sorted(t.task_id for t in d.tasks),\n"
        "    'bash': [t.bash_command for t in d.tasks if t.task_type == 'BashOperator'],\n"
        "    'append_env': [t.append_env for t in d.tasks if t.task_type == 'BashOperator'],\n"
        "    'tz': str(d.start_date.tzinfo)} for d in bag.dags.values()}}))\n"
    )
    out = run([ENGINES / "airflow" / "bin" / "python", "-c", script], env=airflow_home).stdout
    loaded = json.loads(out.strip().splitlines()[-1])
    assert loaded["errors"] == {}
    assert sorted(loaded["dags"]) == DAG_IDS
    for dag_id, dag in loaded["dags"].items():
        assert dag["tz"] == "UTC", dag_id
        assert dag["bash"] and all(dag["append_env"]), dag_id
        for command in dag["bash"]:
            # Binaries by absolute path under $SUPPORT_BIN_DIR, never found on PATH.
            for before, name in re.findall(r"(.)(support-(?:store|export|escalate|categorize|triage|answer|ml-predict)\b)", command):
                assert before == "/" and f"}}/{name}" in command, (dag_id, name)
            # The database URL (password and all) is read from the environment, never
            # expanded into a command line, where `ps` would show it.
            assert not re.search(r"\$\{?DATABASE_URL", command), dag_id


def bash_commands(env: dict[str, str]) -> dict[str, dict[str, str]]:
    """Every BashOperator's command, by DAG and task, as the DagBag loads them."""
    script = (
        "import json, sys\n"
        f"sys.path.append({str(DAGS)!r})\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(DAGS)!r})\n"
        "print(json.dumps({d.dag_id: {t.task_id: t.bash_command for t in d.tasks if t.task_type == 'BashOperator'}\n"
        "                  for d in bag.dags.values()}))\n"
    )
    out = run([ENGINES / "airflow" / "bin" / "python", "-c", script], env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


# Run ids as someone triggering a run may choose them where [scheduler]
# allowed_run_id_pattern is widened and [core] allow_double_dot_in_ids is on. (Airflow
# itself then fails such a run at its first XCom, but only after the task's command ran.)
OUT_DIR_MADE = 'mkdir -p "$OUT_DIR"\n'
HOSTILE_RUN_IDS = ["..", ".", "../..", "../../outside", "a/../../..", "x y", "~", "-rf",
                   "'; rm -rf ~ #", '"$(touch MARKER)"', "`touch MARKER`", "line\nbreak", "ñ/é", "a" * 300]


def test_run_folders_stay_inside_the_work_dir_whatever_the_run_id(airflow_home, tmp_path, hostile):
    """The clean-up commands, as loaded, with hostile run ids: each removes its own run's
    folder and nothing else; no two run ids share a folder; the ids never run as code."""
    commands = bash_commands(airflow_home)
    cleanups = {("support_model_retrain", "cleanup"), ("support_tickets_monitor", "check_errors")}
    folders = {}
    for dag_id, task_id in sorted(cleanups):
        for run_id in HOSTILE_RUN_IDS:
            base = tmp_path / "area"
            work = base / "work"
            keep = [base / "outside" / "keep", work / "keep", work / dag_id / "other-run" / "keep",
                    work / "out" / "keep"]
            for path in keep:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("keep\n")
            env = {"PATH": os.environ["PATH"], "HOME": str(hostile.home), "SUPPORT_WORK_DIR": str(work),
                   "SUPPORT_DAG_ID": dag_id, "SUPPORT_RUN_ID": run_id}
            # The prologue (up to the output folder, made last), then what a first task does.
            command = commands[dag_id][task_id]
            prologue = command[:command.index(OUT_DIR_MADE) + len(OUT_DIR_MADE)]
            made = run(["bash", "-c", prologue + 'mkdir -p "$RUN_DIR"; touch "$RUN_DIR/file"; printf %s "$RUN_DIR"'],
                       env=env, cwd=hostile.markers).stdout
            run_dir = Path(made)
            assert run_dir.parent == work / dag_id and run_dir.is_dir(), (run_id, made)
            folders.setdefault(run_dir.name, set()).add(run_id)
            run(["bash", "-c", commands[dag_id][task_id]], env=env, cwd=hostile.markers)
            assert not run_dir.exists(), (dag_id, run_id)
            for path in keep:
                assert path.is_file(), f"{dag_id}.{task_id} with run id {run_id!r} removed {path}"
            shutil.rmtree(base)
    assert all(len(ids) == 1 for ids in folders.values()), folders
    hostile.assert_nothing_ran()


def dags_test(env: dict[str, str], dag_id: str, logical_date: str) -> str:
    """`airflow dags test`; returns its output after checking the run succeeded. Its stdin
    is an empty pipe, which the tasks inherit (a worker may hand them any stdin): a tool
    that reads stdin when it is piped must be told where its input is."""
    done = subprocess.run(
        [str(AIRFLOW), "dags", "test", dag_id, logical_date], env=env, capture_output=True, text=True, input=""
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-6000:]
    finished = re.search(r"DagRun Finished: dag_id=" + dag_id + r".*?state=(\w+)", out)
    assert finished and finished.group(1) == "success", out[-6000:]
    return out


@pytest.fixture
def run_env(airflow_home, database, hostile, tmp_path):
    """The environment a worker would have, pointing at this test's database."""
    return {
        **airflow_home,
        "DATABASE_URL": database,
        "SUPPORT_BIN_DIR": str(BIN_DIR),
        "SUPPORT_WORK_DIR": str(tmp_path / "work"),
        "SUPPORT_OUT_DIR": str(tmp_path / "out"),
        "HOME": str(hostile.home),
    }


def test_monitor_escalates_breached_tickets_and_stores_them(run_env, database, hostile, tmp_path):
    seeded = seed_tickets(database, hostile)
    # Triaged when they arrived, the tickets were not yet late: nothing escalated.
    assert query(database, "SELECT ticket_id FROM escalations WHERE ticket_id IN ('T-LATE', 'T-EVIL')") == []

    dags_test(run_env, "support_tickets_monitor", seeded.now.strftime("%Y-%m-%dT%H:%M:%S+00:00"))

    escalated = {row[0] for row in query(database, "SELECT ticket_id FROM escalations")}
    assert {"T-LATE", "T-EVIL"} <= escalated, escalated
    assert "T-FRESH" not in escalated and "T-OLD" not in escalated
    # The stored escalation decision is the one the monitor made, with its triggers.
    level, triggers = query(
        database, "SELECT escalation_level, ticket->'escalation'->'triggers' FROM tickets WHERE id = 'T-LATE'"
    )[0]
    assert level not in ("", "none") and json.loads(triggers)
    assert query(database, "SELECT subject FROM tickets WHERE id = 'T-EVIL'") == [[hostile.subject]]
    # The run cleaned up after itself.
    assert not any((tmp_path / "work" / "support_tickets_monitor").glob("*/due.jsonl"))
    hostile.assert_nothing_ran()


def test_monitor_answers_what_the_knowledge_base_answers_and_escalates_the_rest(
        run_env, database, hostile, knowledge, smtp, tmp_path):
    port, mailbox = smtp
    seeded = seed_tickets(database, hostile)
    # Three days old, so breached, and answered by the example knowledge base. Its subject
    # holds a template, which must reach the customer as written.
    arrived = seeded.now - timedelta(days=3)
    vat = {**example_tickets("T-1011")[0], "id": "T-VAT", "subject": "Invoice with wrong VAT number {{ 7 * 7 }}",
           "created_at": utc(arrived), "status": "open"}
    del vat["first_response_at"]
    triaged = run([tool("support-triage"), "--now", utc(arrived + timedelta(minutes=1))],
                  input=json.dumps(vat) + "\n").stdout
    run([tool("support-store"), "ingest", "--db", database], input=triaged)
    smtp_connection = {"conn_type": "smtp", "host": "127.0.0.1", "port": port,
                       "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "support@example.com"}}
    env = {**run_env, **knowledge.env(), "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(smtp_connection)}

    dags_test(env, "support_tickets_monitor", seeded.now.strftime("%Y-%m-%dT%H:%M:%S+00:00"))

    reply_text, status, resolved_by, last_message = query(
        database, "SELECT ticket->'answer'->'reply'->>'text', status, resolved_by, ticket->'messages'->-1->>'content' "
                  "FROM tickets WHERE id = 'T-VAT'")[0]
    assert (status, resolved_by, last_message) == ("resolved", "bot", reply_text)
    assert len(mailbox.messages) == 1
    recipients, mail = mailbox.messages[0]
    assert recipients == [vat["customer"]["email"]]
    assert mail["Subject"] == "Re: Invoice with wrong VAT number {{ 7 * 7 }} [T-VAT]"
    assert mail["Auto-Submitted"] == "auto-replied"
    assert "<p>" + html.escape(reply_text).replace("\n", "<br>\n") + "</p>" in mail.get_body().get_content()
    # The others went on to support-escalate.
    escalated = {row[0] for row in query(database, "SELECT ticket_id FROM escalations")}
    assert {"T-LATE", "T-EVIL"} <= escalated and "T-VAT" not in escalated
    assert not any((tmp_path / "work" / "support_tickets_monitor").glob("*/due.jsonl"))
    hostile.assert_nothing_ran()


def test_export_writes_the_days_tickets_as_csv(run_env, database, hostile, tmp_path):
    seeded = seed_tickets(database, hostile)
    day = seeded.yesterday_noon.strftime("%Y-%m-%d")

    # A run triggered today exports the last whole day: yesterday.
    dags_test(run_env, "support_tickets_export", seeded.now.strftime("%Y-%m-%d"))

    exported = tmp_path / "out" / f"tickets-{day}.csv"
    rows = list(csv.DictReader(exported.open(newline="", encoding="utf-8")))
    ids = {row["id"] for row in rows}
    # Created yesterday: the breached two and the resolved one; not today's nor last year's.
    assert ids == {"T-LATE", "T-EVIL", "T-DONE"}, ids
    assert next(r for r in rows if r["id"] == "T-EVIL")["subject"] == hostile.subject
    hostile.assert_nothing_ran()


def test_report_is_one_html_page_with_charts(run_env, database, hostile, tmp_path):
    seeded = seed_tickets(database, hostile)
    today = seeded.now.strftime("%Y-%m-%d")

    dags_test(run_env, "support_tickets_reports", seeded.now.strftime("%Y-%m-%dT%H:%M:%S+00:00"))

    page = (tmp_path / "out" / f"support-report-{today}.html").read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "<svg" in page
    hostile.assert_nothing_ran()


def test_optimization_archives_old_closed_tickets(run_env, database, hostile, tmp_path):
    seed_tickets(database, hostile)
    assert query(database, "SELECT count(*) FROM tickets WHERE id = 'T-OLD'") == [["1"]]

    dags_test(run_env, "support_tickets_optimization", "2026-01-04T03:00:00+00:00")

    assert query(database, "SELECT count(*) FROM tickets WHERE id = 'T-OLD'") == [["0"]]
    assert query(database, "SELECT count(*) FROM tickets_archive WHERE id = 'T-OLD'") == [["1"]]
    # Open tickets stay where they are.
    assert query(database, "SELECT count(*) FROM tickets WHERE id IN ('T-LATE', 'T-EVIL', 'T-FRESH')") == [["3"]]
    hostile.assert_nothing_ran()


def labelled_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def history_labels(label_of) -> dict[str, list[tuple[str, str]]]:
    """The example history's distinct texts, each with `label_of(ticket)`, split 3:1 (train, dev).

    From the repository itself, so the test needs no dataset beside the clone.
    """
    texts = {}
    with (ROOT / "examples" / "history.jsonl").open(encoding="utf-8") as f:
        for line in f:
            ticket = json.loads(line)
            text = " ".join(filter(None, (ticket.get("subject"), ticket.get("description"))))
            texts[text] = label_of(ticket)
    rows = sorted(texts.items())
    return {
        "train": [row for i, row in enumerate(rows) if i % 4],
        "dev": [row for i, row in enumerate(rows) if i % 4 == 0],
    }


@pytest.fixture(scope="module")
def intents() -> dict[str, list[tuple[str, str]]]:
    return history_labels(lambda ticket: ticket["category"]["subcategory"])


@pytest.fixture(scope="module")
def sentiments() -> dict[str, list[tuple[str, str]]]:
    return history_labels(lambda ticket: ticket["sentiment"]["label"])


def models(database: str, tool_name: str) -> list[dict]:
    """The store's models of a tool, newest first (support-store models list)."""
    out = run([tool("support-store"), "models", "list", "--tool", tool_name, "--db", database]).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_retrain_promotes_a_better_model_and_keeps_a_better_current_one(
        run_env, database, hostile, tmp_path, intents, sentiments, knowledge):
    """The categorizer and the sentiment model, each from its own training set and the
    store's corrections of its own decisions, with the embedding model on the worker."""
    seed_tickets(database, hostile)
    corrections = tmp_path / "corrections.jsonl"
    corrections.write_text(
        json.dumps({"ticket": "T-LATE", "tool": "category", "label": "recover_password", "by": "ana"}) + "\n"
        + json.dumps({"ticket": "T-DONE", "tool": "category", "label": "get_refund", "by": "ana"}) + "\n"
        # The hostile subject goes into the training data through the corrections export.
        + json.dumps({"ticket": "T-EVIL", "tool": "category", "label": "complaint", "by": "ana"}) + "\n"
        + json.dumps({"ticket": "T-EVIL", "tool": "sentiment", "label": "negative", "by": "ana"}) + "\n"
    )
    run([tool("support-store"), "correct", "--db", database, "--input", corrections])
    assert len(query(database, "SELECT 1 FROM triage_results WHERE true_label IS NOT NULL")) == 4

    # Every training row: plenty to learn from; a few rows: too little to be any good.
    data = {
        "categorize": {name: labelled_csv(tmp_path / f"{name}.csv", rows) for name, rows in (
            ("many", intents["train"]), ("few", intents["train"][::40]), ("dev", intents["dev"]))},
        "sentiment": {name: labelled_csv(tmp_path / f"sentiment-{name}.csv", rows) for name, rows in (
            ("many", sentiments["train"]), ("few", sentiments["train"][::10]), ("dev", sentiments["dev"]))},
    }
    for name, files in data.items():
        # The active model is weak: one a person promoted by hand.
        weak, weak_report = tmp_path / f"{name}-weak.model", tmp_path / f"{name}-weak.json"
        run([tool(f"support-{name}"), "train", "--data", files["few"], "--out", weak])
        weak_report.write_text(run([tool(f"support-{name}"), "evaluate", "--model", weak, "--data", files["dev"]]).stdout)
        run([tool("support-store"), "models", "promote", "--db", database, "--tool", name, "--force",
             "--file", weak, "--report", weak_report])
    # The database URL carries a password (PostgreSQL here trusts local connections and
    # ignores it): the tools read it from the environment, so no command line has it.
    password = "s3cret/p@ss word"
    with_password = database.replace("postgres@", f"postgres:{urllib.parse.quote(password, safe='')}@")
    env = {**run_env, "DATABASE_URL": with_password, "SUPPORT_EMBEDDER": str(knowledge.embedder),
           "SUPPORT_EVAL_DATA": str(data["categorize"]["dev"]),
           "SUPPORT_SENTIMENT_EVAL_DATA": str(data["sentiment"]["dev"])}

    def training(size: str) -> dict[str, str]:
        return {"SUPPORT_TRAIN_DATA": str(data["categorize"][size]),
                "SUPPORT_SENTIMENT_TRAIN_DATA": str(data["sentiment"][size])}

    # The active models are weak and the candidates learn from many rows: promoted, with
    # the change of macro-F1 in the log and the store.
    log = dags_test({**env, **training("many")}, "support_model_retrain", "2026-01-03T02:00:00+00:00")
    assert "3 correction(s)" in log and "1 correction(s)" in log
    assert "s3cret" not in log
    assert log.count('"promoted":true') == 2 and "/macro_f1" in log, log[-3000:]
    # ml-predict has no held-out data here: skipped, and the run still succeeds.
    assert "the resolution model (ml-predict) is not retrained" in log
    for name, corrected in (("categorize", 3), ("sentiment", 1)):
        strong, first = models(database, name)
        assert (strong["version"], strong["active"], first["active"]) == (2, True, False), name
        assert strong["metrics"]["/macro_f1"] > first["metrics"]["/macro_f1"], name
        assert strong["training_data"] == f"{data[name]['many'].name} and {corrected} correction(s)"

    # Now the candidates learn from few rows and the active models are strong: kept.
    log = dags_test({**env, **training("few")}, "support_model_retrain", "2026-01-10T02:00:00+00:00")
    assert log.count('"promoted":false') == 2, log[-3000:]
    for name in ("categorize", "sentiment"):
        assert [(m["version"], m["active"]) for m in models(database, name)] == [(2, True), (1, False)], name
    # Promoted or not, each run removed its folder.
    assert list((tmp_path / "work" / "support_model_retrain").iterdir()) == []
    hostile.assert_nothing_ran()


def test_retrain_learns_resolution_from_the_store_and_the_flows_use_the_promoted_model(
        run_env, database, hostile, kestra, tmp_path):
    """The example history: four fifths in the store, one fifth held out. The retrain DAG
    trains support-ml-predict on the store, promotes it over the baseline, and the ticket
    flow then predicts with it; a rollback returns the flow to the embedded priors."""
    store_part, held_out = [], []
    for line in (ROOT / "examples" / "history.jsonl").read_text(encoding="utf-8").splitlines():
        ticket_id = json.loads(line)["id"]
        (held_out if int(hashlib.md5(ticket_id.encode()).hexdigest(), 16) % 5 == 0 else store_part).append(line)
    run([tool("support-store"), "ingest", "--db", database], input="\n".join(store_part) + "\n")
    held_out_file = tmp_path / "held-out.jsonl"
    held_out_file.write_text("\n".join(held_out) + "\n", encoding="utf-8")

    log = dags_test({**run_env, "SUPPORT_ML_EVAL_DATA": str(held_out_file)}, "support_model_retrain",
                    "2026-01-03T02:00:00+00:00")
    assert "the categorizer is not retrained" in log
    (promoted,) = models(database, "ml-predict")
    assert promoted["active"] and promoted["version"] == 1, promoted
    finished = sum(json.loads(line)["status"] in ("resolved", "closed") for line in store_part)
    assert promoted["training_data"] == f"the store's closed tickets ({finished} records)"
    report = json.loads(query(database, "SELECT metrics::text FROM models WHERE tool = 'ml-predict'")[0][0])
    assert report["resolution_minutes"]["model"]["mae"] <= report["resolution_minutes"]["baseline"]["mae"]
    assert report["sla_breach"]["model"]["auc"] >= report["sla_breach"]["baseline"]["auc"]

    # The ticket flow predicts with the promoted model, fetched from the store.
    ticket = {**json.loads(held_out[0]), "id": "T-NEW", "status": "open"}
    for field in ("resolved_at", "resolved_by", "closed_at", "first_response_at"):
        ticket.pop(field, None)
    kestra.run("support_ticket_automation", trigger={"body": ticket})
    model, source = query(
        database, "SELECT ticket->'predictions'->>'model', ticket->'predictions'->>'source' FROM tickets WHERE id = 'T-NEW'"
    )[0]
    assert source == "model" and f"ml-predict-v1-{promoted['sha256'][:16]}.model" in model, model

    # Rolled back: no model is active, and the flow is back to the embedded priors.
    run([tool("support-store"), "models", "rollback", "--tool", "ml-predict", "--db", database])
    kestra.run("support_ticket_automation", trigger={"body": {**ticket, "id": "T-NEXT"}})
    assert query(database, "SELECT ticket->'predictions'->>'source' FROM tickets WHERE id = 'T-NEXT'") == [["default"]]
    hostile.assert_nothing_ran()
