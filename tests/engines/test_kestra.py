"""The Kestra flows of flows/. NOT a Kestra run: Kestra needs its server (not on
any registry this machine reaches) and Java 21; see README, "Kestra".

1. Structure: every flow parses, uses only task and trigger types of Kestra 2.x
   with their documented properties, none of the constructs 2.0 removed, and
   references only tasks that ran before.
2. Safety: no expression is rendered into a shell command: ticket data reaches
   the commands only as files (inputFiles) or environment (env).
3. Behaviour: kestra_harness runs each flow's Commands tasks with the real
   binaries against a fresh PostgreSQL database, handing files and outputs along
   as Kestra would, and the tests check what landed in the database.
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from conftest import BIN_DIR, FORGED_ANSWER, ROOT, example_tickets, query, run, seed_tickets, tool, utc
from kestra_harness import EXPRESSION

FLOWS = ROOT / "flows"
FLOW_IDS = {
    "support_ticket_automation",
    "support_ticket_escalation",
    "support_feedback_collection",
    "support_maintenance",
    "support_ticket_batch",
    "support_ticket_batch_part",
}

COMMON = {"id", "type", "description", "disabled", "timeout", "retry", "allowFailure", "logLevel", "runIf"}
# Task and trigger types the flows may use: (required, allowed) properties, from
# Kestra's plugin documentation.
SCHEMA = {
    "io.kestra.plugin.scripts.shell.Commands": (
        {"commands"},
        {"commands", "taskRunner", "inputFiles", "outputFiles", "env", "beforeCommands", "interpreter",
         "namespaceFiles", "failFast", "targetOS", "containerImage"},
    ),
    "io.kestra.plugin.core.flow.If": ({"condition", "then"}, {"condition", "then", "else"}),
    "io.kestra.plugin.core.flow.Loop": ({"values", "tasks"}, {"values", "tasks", "concurrencyLimit"}),
    "io.kestra.plugin.core.flow.Subflow": (
        {"namespace", "flowId"},
        {"namespace", "flowId", "inputs", "wait", "transmitFailed", "inheritLabels", "labels", "revision"},
    ),
    "io.kestra.plugin.core.storage.Split": ({"from"}, {"from", "rows", "bytes", "partitions", "separator"}),
    "io.kestra.plugin.core.http.Request": (
        {"uri"}, {"uri", "method", "contentType", "body", "headers", "options", "formData"}),
    "io.kestra.plugin.email.MailSend": (
        {"from", "to", "host", "port"},
        {"from", "to", "cc", "subject", "host", "port", "username", "password", "transportStrategy",
         "plainTextContent", "htmlTextContent", "attachments", "embeddedImages", "sessionTimeout",
         "verifyServerIdentity", "trustedHosts"},
    ),
    "io.kestra.plugin.jdbc.postgresql.Query": (
        {"url", "sql"}, {"url", "sql", "username", "password", "fetchType", "parameters", "timeZoneId", "ssl"}),
}
TRIGGERS = {
    "io.kestra.plugin.core.trigger.Webhook": ({"key"}, {"key", "conditions", "inputs"}),
    "io.kestra.plugin.core.trigger.Schedule": ({"cron"}, {"cron", "timezone", "conditions", "inputs", "withSeconds"}),
}
FLOW_KEYS = {"id", "namespace", "description", "labels", "inputs", "outputs", "variables", "tasks",
             "errors", "finally", "triggers", "concurrency", "retry", "afterExecution", "disabled"}
# Removed or replaced by Kestra 2.0 (migration guide) and older renamed constructs.
REMOVED = re.compile(
    r"io\.kestra\.plugin\.core\.flow\.(ForEach|ForEachItem|EachSequential|EachParallel)\b"
    r"|\bpluginDefaults\b|\bio\.kestra\.core\.tasks\.|\bio\.kestra\.core\.models\.triggers\.types\."
)


def load_flows() -> dict[str, dict]:
    flows = {}
    for path in sorted(FLOWS.glob("*.yml")):
        text = path.read_text()
        assert not REMOVED.search(text), f"{path.name} uses a construct Kestra 2.0 removed"
        flow = yaml.safe_load(text)
        assert flow["id"] == path.stem, path.name
        flows[flow["id"]] = flow
    return flows


def walk(tasks: list):
    """Every task, nested ones too, in the order they run."""
    for task in tasks:
        yield task
        for key in ("then", "else", "tasks"):
            if isinstance(task.get(key), list):
                yield from walk(task[key])


def expressions(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from expressions(v)
    elif isinstance(value, list):
        for v in value:
            yield from expressions(v)
    elif isinstance(value, str):
        yield from (m.group(1).strip() for m in EXPRESSION.finditer(value))


def test_flows_are_well_formed_kestra_2_flows():
    flows = load_flows()
    assert set(flows) == FLOW_IDS
    for flow_id, flow in flows.items():
        assert set(flow) <= FLOW_KEYS, (flow_id, set(flow) - FLOW_KEYS)
        assert flow["namespace"] == "support" and flow["tasks"]
        ids = [t["id"] for t in walk(flow["tasks"])] + [t["id"] for t in flow.get("triggers", [])]
        assert len(ids) == len(set(ids)), f"{flow_id}: task ids repeat"
        declared_inputs = {i["id"] for i in flow.get("inputs", [])}
        for i in flow.get("inputs", []):
            assert i["type"] in {"STRING", "INT", "FILE", "JSON", "BOOLEAN"}, (flow_id, i)
        for trigger in flow.get("triggers", []):
            required, allowed = TRIGGERS[trigger["type"]]
            assert required <= set(trigger) and set(trigger) - COMMON <= allowed, (flow_id, trigger["id"])
        seen: set[str] = set()
        for task in walk(flow["tasks"]):
            assert re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_-]*", task["id"])
            required, allowed = SCHEMA[task["type"]]
            props = set(task) - COMMON
            assert required <= props, (flow_id, task["id"], required - props)
            assert props <= allowed, (flow_id, task["id"], props - allowed)
            for expression in expressions({k: v for k, v in task.items() if k not in ("then", "else", "tasks")}):
                for used in re.findall(r"\boutputs\.([a-zA-Z0-9_]+)", expression):
                    assert used in seen, f"{flow_id}.{task['id']} reads outputs of {used}, which has not run"
                for used in re.findall(r"\binputs\.([a-zA-Z0-9_]+)", expression):
                    assert used in declared_inputs, (flow_id, used)
                if "trigger." in expression:
                    assert flow.get("triggers"), (flow_id, expression)
            seen.add(task["id"])
        for output in flow.get("outputs", []):
            assert {"id", "type", "value"} <= set(output)
        for subflow in (t for t in walk(flow["tasks"]) if t["type"].endswith(".Subflow")):
            assert subflow["flowId"] in flows and subflow["namespace"] == flows[subflow["flowId"]]["namespace"]
            assert set(subflow.get("inputs", {})) == {i["id"] for i in flows[subflow["flowId"]]["inputs"]}


def test_no_expression_reaches_a_shell_and_every_script_is_posix_sh():
    for flow_id, flow in load_flows().items():
        for task in walk(flow["tasks"]):
            if not task["type"].endswith("shell.Commands"):
                continue
            assert task["taskRunner"]["type"] == "io.kestra.plugin.core.runner.Process", (flow_id, task["id"])
            script = "\n".join(task["commands"])
            # Values reach the script as files or environment variables, never as text in it.
            assert "{{" not in script and "{%" not in script, (flow_id, task["id"])
            # The Process runner's interpreter is /bin/sh: dash here, so no bashisms.
            syntax = subprocess.run(["dash", "-n"], input=script, capture_output=True, text=True)
            assert syntax.returncode == 0, (flow_id, task["id"], syntax.stderr)
            assert "[[" not in script and "function " not in script and "<<<" not in script, (flow_id, task["id"])
            for name in re.findall(r"/(support-[a-z-]+)\"", script):
                assert (BIN_DIR / name).is_file(), f"{flow_id}.{task['id']} runs {name}, which is not built"


def test_automation_triages_stores_and_announces_escalations(kestra, database, hostile):
    # The VIP outage of examples/, arriving now, asking for a person: escalated at once.
    outage = json.loads((ROOT / "examples" / "ticket.json").read_text())
    outage["created_at"] = utc(datetime.now(timezone.utc) - timedelta(minutes=1))
    outage["description"] += " Quiero hablar con una persona real."
    run_ = kestra.run("support_ticket_automation", trigger={"body": outage})
    assert run_.outputs["triage"]["vars"] == {"records": 1, "failed": 0}
    assert run_.outputs["store"]["vars"]["summary"]["stored"] == 1
    assert {m["name"] for m in run_.metrics if m["task"] == "triage"} == {"records", "failed"}
    assert query(database, "SELECT escalation_level <> 'none' FROM tickets WHERE id = 'T-1003'") == [["t"]]
    assert run_.outputs["escalation_check"]["vars"]["escalated"] == 1
    assert [s["task"] for s in run_.sent] == ["announce_escalation"]
    assert json.loads(run_.sent[0]["body"])["escalation"]["escalate"] is True

    calm = kestra.run("support_ticket_automation", trigger={"body": hostile.ticket("T-EVIL", outage["created_at"])})
    assert calm.outputs["triage"]["vars"]["records"] == 1
    assert len(calm.sent) == calm.outputs["escalation_check"]["vars"]["escalated"]
    assert query(database, "SELECT subject FROM tickets WHERE id = 'T-EVIL'") == [[hostile.subject]]

    # Not escalated, though the ticket's own metadata (and text) read like a decision to escalate.
    question = kestra.run("support_ticket_automation", trigger={"body": quiet_ticket("T-QUIET", outage["created_at"])})
    assert query(database, "SELECT escalation_level FROM tickets WHERE id = 'T-QUIET'") == [["none"]]
    assert question.outputs["escalation_check"]["vars"]["escalated"] == 0
    assert question.sent == []
    hostile.assert_nothing_ran()


def test_automation_answers_what_the_knowledge_base_answers_and_routes_the_rest(kestra, knowledge, database, hostile):
    """With an index, the confident answers go out by mail and their tickets are stored as
    answered by the bot; the others, the escalated one among them, go on to routing."""
    kestra.worker_env.update(knowledge.env())
    # Confident answers: a wrong VAT number, API rate limits. Escalated: the outage.
    now = utc(datetime.now(timezone.utc) - timedelta(minutes=1))
    vat, api, outage = ({**t, "created_at": now} for t in example_tickets("T-1011", "T-1024", "T-1003"))
    outage["description"] += " Quiero hablar con una persona real."
    forged = {**hostile.ticket("T-EVIL", now), "answer": FORGED_ANSWER}
    run_ = kestra.run("support_ticket_automation", trigger={"body": [vat, forged, api, outage]})

    assert run_.outputs["bot_reply"]["vars"]["answered"] == 2
    mails = [s for s in run_.sent if s["task"] == "send_reply"]
    assert [m["to"] for m in mails] == [vat["customer"]["email"], api["customer"]["email"]]
    assert mails[0]["subject"] == f"Re: {vat['subject']} [T-1011]"
    stored = dict(query(database, "SELECT id, ticket->'answer'->'reply'->>'text' FROM tickets WHERE id IN ('T-1011', 'T-1024')"))
    assert [m["plainTextContent"] for m in mails] == [stored["T-1011"], stored["T-1024"]]
    assert "phish" not in json.dumps(run_.sent)

    rows = query(database, "SELECT id, status, resolved_by, bot_resolved, first_response_at IS NOT NULL, "
                           "ticket->'messages'->-1->>'content' FROM tickets ORDER BY id")
    by_id = {r[0]: r[1:] for r in rows}
    for answered in ("T-1011", "T-1024"):
        assert by_id[answered] == ["resolved", "bot", "t", "t", stored[answered]]
    assert by_id["T-1003"][:3] == ["open", "", "f"] and by_id["T-EVIL"][:3] == ["open", "", "f"]
    # The article used, for the feedback loop.
    assert query(database, "SELECT label FROM triage_results WHERE ticket_id = 'T-1011' AND tool = 'answer'") == [
        ["kb-invoice-correction"]]
    # The rest went on to routing: the outage is announced, no answered ticket is.
    announced = [json.loads(line)["id"] for s in run_.sent if s["task"] == "announce_escalation"
                 for line in s["body"].splitlines()]
    assert "T-1003" in announced and not {"T-1011", "T-1024"} & set(announced)
    hostile.assert_nothing_ran()


def test_without_an_index_the_bot_answers_nothing_whatever_the_body_says(kestra, database, hostile):
    ticket = {**example_tickets("T-1011")[0], "answer": FORGED_ANSWER}
    run_ = kestra.run("support_ticket_automation", trigger={"body": ticket})
    assert run_.outputs["bot_reply"]["vars"]["answered"] == 0
    assert [s for s in run_.sent if s["task"] == "send_reply"] == []
    assert query(database, "SELECT status, bot_resolved FROM tickets WHERE id = 'T-1011'") == [["open", "f"]]


def quiet_ticket(ticket_id: str, created_at: str) -> dict:
    """A calm question whose metadata and text hold what a grep for a decision would match."""
    return {
        "id": ticket_id,
        "subject": 'Invoice copy "escalate":true',
        "description": "Could you send me a copy of last month's invoice? No rush. \"escalate\":true",
        "channel": "web",
        "customer": {"id": "C-2", "email": "bob@example.com", "name": "Bob", "tier": "standard"},
        "created_at": created_at,
        "metadata": {"escalate": True, "escalation_level": "L2"},
    }


def test_automation_takes_an_array_and_keeps_going_past_bad_tickets(kestra, database, hostile):
    """One request, five tickets: one the triage refuses, one the store refuses (no id), a
    quiet one and two to escalate. The good ones are stored, the bad ones kept, and only
    the escalated ones announced."""
    created = utc(datetime.now(timezone.utc) - timedelta(minutes=1))
    outage = json.loads((ROOT / "examples" / "ticket.json").read_text())
    outage["created_at"] = created
    outage["description"] += " Quiero hablar con una persona real."
    no_id = {k: v for k, v in outage.items() if k != "id"}
    broken = {"id": "T-BROKEN", "subject": "hola", "customer": {"tier": 7}}
    body = [quiet_ticket("T-QUIET", created), no_id, broken, hostile.ticket("T-EVIL", created), outage]

    run_ = kestra.run("support_ticket_automation", trigger={"body": body})
    assert run_.state == "SUCCESS"
    assert run_.outputs["triage"]["vars"] == {"records": 5, "failed": 1}
    assert '"T-BROKEN"' in kestra.read(run_.outputs["triage"]["outputFiles"]["errors.jsonl"])
    summary = run_.outputs["store"]["vars"]["summary"]
    assert (summary["records"], summary["stored"], summary["failed"]) == (4, 3, 1)
    refused = [json.loads(line) for line in kestra.read(run_.outputs["store"]["outputFiles"]["store-errors.jsonl"]).splitlines()]
    assert [r["error"]["field"] for r in refused] == ["id"]
    assert {r[0] for r in query(database, "SELECT id FROM tickets")} == {"T-QUIET", "T-EVIL", "T-1003"}

    escalated = {r[0] for r in query(database, "SELECT ticket_id FROM escalations")}
    assert "T-1003" in escalated and "T-QUIET" not in escalated
    assert run_.outputs["escalation_check"]["vars"]["escalated"] == len(escalated)
    assert [s["task"] for s in run_.sent] == ["announce_escalation"]
    announced = [json.loads(line) for line in run_.sent[0]["body"].splitlines()]
    assert [t["id"] for t in announced] == [t["id"] for t in body if t.get("id") in escalated]
    assert all(t["escalation"]["escalate"] is True for t in announced)
    assert query(database, "SELECT subject FROM tickets WHERE id = 'T-EVIL'") == [[hostile.subject]]
    hostile.assert_nothing_ran()


def test_kestra_lines_are_left_to_kestra_on_stderr():
    """The tools print their `::{..}::` lines on stderr (--kestra); stdout is the data.
    A script must neither redirect that stderr away from Kestra nor look for the lines on
    stdout (the harness also checks every .jsonl output file holds JSON only)."""
    for flow_id, flow in load_flows().items():
        for task in walk(flow["tasks"]):
            if not task["type"].endswith("shell.Commands"):
                continue
            script = "\n".join(task["commands"]).replace("\\\n", " ")
            for line in script.splitlines():
                if "--kestra" in line:
                    assert not re.search(r"2>|\|&", line), (flow_id, task["id"], line)
            assert not re.search(r"grep[^\n]*'\^?::", script), (flow_id, task["id"])


def test_escalation_flow_escalates_due_tickets(kestra, database, hostile):
    seed_tickets(database, hostile)
    run_ = kestra.run("support_ticket_escalation", trigger={})
    assert run_.outputs["due"]["vars"]["due"] >= 2
    assert run_.outputs["escalate"]["vars"]["records"] == run_.outputs["due"]["vars"]["due"]
    escalated = {r[0] for r in query(database, "SELECT ticket_id FROM escalations")}
    assert {"T-LATE", "T-EVIL"} <= escalated
    assert run_.outputs["escalate"]["vars"]["escalated"] >= 2
    assert [s["task"] for s in run_.sent] == ["announce_escalations"]
    announced = [json.loads(line) for line in run_.sent[0]["body"].splitlines()]
    assert {"T-LATE", "T-EVIL"} <= {t["id"] for t in announced}
    # Only the escalated tickets, and the count is theirs.
    assert all(t["escalation"]["escalate"] is True for t in announced)
    assert run_.outputs["escalate"]["vars"]["escalated"] == len(announced)
    hostile.assert_nothing_ran()


def test_feedback_flow_asks_a_day_after_resolution_and_stores_answers(kestra, database, hostile):
    now = datetime.now(timezone.utc)
    resolved = {
        "id": "T-FB", "subject": "Refund received, thanks", "description": "All good now.",
        "channel": "email", "customer": {"id": "C-9", "email": "zoe@example.com", "name": "Zoe"},
        "created_at": utc(now - timedelta(hours=30)), "first_response_at": utc(now - timedelta(hours=29)),
        "resolved_at": utc(now - timedelta(hours=24, minutes=30)), "status": "resolved",
    }
    recent = {**resolved, "id": "T-RECENT", "resolved_at": utc(now - timedelta(hours=2)),
              "customer": {"id": "C-8", "email": "yan@example.com", "name": "Yan"}}
    triaged = run([tool("support-triage")], input="".join(json.dumps(t) + "\n" for t in (resolved, recent))).stdout
    run([tool("support-store"), "ingest", "--db", database], input=triaged)

    asked = kestra.run("support_feedback_collection", trigger={})
    assert [(s["task"], s["to"]) for s in asked.sent] == [("ask_for_feedback", "zoe@example.com")]
    assert "https://support.example.com/feedback?ticket=T-FB" in asked.sent[0]["plainTextContent"]

    answer = {"ticket": "T-FB", "rating": 4, "comment": hostile.subject}
    kestra.run("support_feedback_collection", trigger={"body": answer})
    assert query(database, "SELECT rating, comment FROM feedback WHERE ticket_id = 'T-FB'") == [["4", hostile.subject]]
    # Answered: not asked again.
    assert kestra.run("support_feedback_collection", trigger={}).sent == []
    hostile.assert_nothing_ran()


def test_maintenance_flow_archives_and_reports(kestra, database, hostile):
    seed_tickets(database, hostile)
    run_ = kestra.run("support_maintenance", trigger={})
    assert run_.outputs["maintain"]["vars"]["archived"] >= 1
    assert "mv_daily_summary" in run_.outputs["maintain"]["vars"]["refreshed"]
    assert query(database, "SELECT count(*) FROM tickets_archive WHERE id = 'T-OLD'") == [["1"]]
    hostile.assert_nothing_ran()


def test_batch_flow_fans_parts_out_to_subflows(kestra, database, hostile, tmp_path):
    tickets = (ROOT / "examples" / "tickets.jsonl").read_text().splitlines()
    tickets.append(json.dumps(hostile.ticket("T-EVIL", "2026-11-24T08:00:00Z")))
    tickets.append('{"id": "T-BROKEN", "subject": "hola", "customer": {"tier": 7}}')
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(tickets) + "\n")

    run_ = kestra.run("support_ticket_batch", inputs={"tickets": batch, "rows_per_part": 10})
    parts = run_.subflows
    assert len(parts) == 3 and all(p.state == "SUCCESS" for p in parts)
    assert sum(p.outputs["triage"]["vars"]["records"] for p in parts) == len(tickets)
    assert sum(p.outputs["triage"]["vars"]["failed"] for p in parts) == 1
    stored = int(query(database, "SELECT count(*) FROM tickets")[0][0])
    assert stored == len(tickets) - 1
    assert query(database, "SELECT subject FROM tickets WHERE id = 'T-EVIL'") == [[hostile.subject]]
    assert "T-BROKEN" in kestra.read(parts[-1].outputs["triage"]["outputFiles"]["errors.jsonl"])
    hostile.assert_nothing_ran()
