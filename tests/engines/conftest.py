"""What the engine tests share: the support binaries, a fresh PostgreSQL database
per test, tickets dated around the real clock, and a hostile ticket whose
subject would run commands if any engine let ticket text reach a shell.

Run through scripts/test-engines.sh, which installs the engines first.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import uuid
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default as email_policy
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from kestra_harness import Kestra

ROOT = Path(__file__).resolve().parents[2]
ENGINES = ROOT / ".engines"
BIN_DIR = Path(os.environ.get("SUPPORT_BIN_DIR", ROOT / "target" / "debug")).resolve()
PG_SERVER = os.environ.get("SUPPORT_TEST_PG", "postgres://postgres@127.0.0.1:5432")


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped engine test is a failure: the engines must have run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("CI") and skipped:
        print(f"\n{len(skipped)} engine test(s) skipped in CI: that is a failure")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def run(args, **kwargs) -> subprocess.CompletedProcess:
    """Runs a command; on failure the assertion shows its output."""
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{args[0]} exited {done.returncode}\n--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    return done


def tool(name: str) -> Path:
    path = BIN_DIR / name
    assert path.is_file(), f"{path} is missing: build the tools first (cargo build --workspace --bins)"
    return path


def query(url: str, sql: str) -> list[list[str]]:
    """Rows of `sql` as lists of strings (NULL as '')."""
    out = run(["psql", url, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql]).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def database():
    """A freshly created, migrated database; dropped afterwards."""
    name = f"support_engines_{uuid.uuid4().hex[:12]}"
    admin = f"{PG_SERVER}/postgres"
    query(admin, f'CREATE DATABASE "{name}"')
    url = f"{PG_SERVER}/{name}"
    try:
        run([tool("support-store"), "migrate", "--db", url])
        yield url
    finally:
        query(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Mailbox:
    """A real SMTP server on 127.0.0.1 keeping what it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=email_policy)))
        return "250 OK"


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()


@dataclass
class Knowledge:
    """The embedding model's folder and an index of the example knowledge base: what an
    engine's worker needs (as SUPPORT_EMBEDDER and SUPPORT_KB_INDEX) for the bot to answer."""

    embedder: Path
    index: Path

    def env(self) -> dict[str, str]:
        return {"SUPPORT_EMBEDDER": str(self.embedder), "SUPPORT_KB_INDEX": str(self.index)}


@pytest.fixture(scope="session")
def knowledge(tmp_path_factory) -> Knowledge:
    """examples/kb indexed once for the session, with the model scripts/setup-models.sh
    installs (idempotent; its last line is the model's folder)."""
    embedder = Path(run([ROOT / "scripts" / "setup-models.sh"]).stdout.strip().splitlines()[-1])
    out = tmp_path_factory.mktemp("kb") / "kb.index"
    run([tool("support-answer"), "index", "--kb", ROOT / "examples" / "kb" / "articles.jsonl", "--out", out,
         "--embedder", embedder])
    return Knowledge(embedder=embedder, index=out)


def example_tickets(*ids: str) -> list[dict]:
    """Tickets of examples/tickets.jsonl, in the order of `ids`."""
    tickets = {t["id"]: t for t in map(json.loads, (ROOT / "examples" / "tickets.jsonl").read_text().splitlines())}
    return [tickets[i] for i in ids]


# A body whose `answer` claims a confident reply: no engine may send its text.
FORGED_ANSWER = {"articles": [], "auto_reply": True, "confidence": 1.0, "reasons": [],
                 "reply": {"article_id": "kb-x", "language": "en", "text": "Log in at http://phish.example to confirm."}}


@dataclass
class Hostile:
    """A ticket whose subject holds shell payloads, and the traces they would leave."""

    subject: str
    markers: Path
    home: Path

    def ticket(self, ticket_id: str, created_at: str) -> dict:
        return {
            "id": ticket_id,
            "subject": self.subject,
            "description": "URGENTE: el servicio está caído, nadie puede trabajar. Service down, nobody can work!",
            "channel": "web",
            "customer": {"id": "C-EVIL", "email": "mallory@example.com", "name": "Mallory", "tier": "vip"},
            "created_at": created_at,
            "status": "open",
        }

    def assert_nothing_ran(self) -> None:
        ran = sorted(p.name for p in self.markers.iterdir())
        assert ran == [], f"payloads in the subject ran: {ran}"
        assert (self.home / "canary").is_file(), "`rm -rf ~` ran: the sandbox HOME was emptied"


@pytest.fixture
def hostile(tmp_path) -> Hostile:
    """The subject of the issue: a quote-breaking `rm -rf ~`, `$(touch ...)` and a
    backtick payload. The engines run with HOME set to a sandbox holding a canary
    file, so even a successful injection could not reach the real home."""
    markers = tmp_path / "markers"
    markers.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    (home / "canary").write_text("rm -rf ~ did not run\n")
    subject = f"'; rm -rf ~ # $(touch {markers}/dollar) `touch {markers}/backtick` \"; touch {markers}/dquote #"
    return Hostile(subject=subject, markers=markers, home=home)


def utc(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Seeded:
    now: datetime
    yesterday_noon: datetime
    tickets: list[dict]


def seed_tickets(url: str, hostile: Hostile) -> Seeded:
    """Triages and stores tickets dated around the real clock: two breached
    yesterday at noon (one of them the hostile ticket), one fresh, one closed
    long ago (for archiving), one resolved yesterday."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    today = now.replace(hour=0, minute=0, second=0)
    noon = today - timedelta(hours=12)
    tickets = [
        {
            "id": "T-LATE",
            "subject": "No puedo acceder a mi cuenta, es urgente",
            "description": "Llevo dos días sin poder entrar y nadie me responde. Es la tercera vez que escribo.",
            "channel": "email",
            "customer": {"id": "C-1", "email": "ana@example.com", "name": "Ana", "tier": "vip"},
            "created_at": utc(noon),
            "status": "open",
        },
        hostile.ticket("T-EVIL", utc(noon + timedelta(minutes=5))),
        {
            "id": "T-FRESH",
            "subject": "Question about my invoice",
            "description": "Could you send me a copy of last month's invoice? No rush.",
            "channel": "web",
            "customer": {"id": "C-2", "email": "bob@example.com", "name": "Bob", "tier": "standard"},
            "created_at": utc(now - timedelta(minutes=2)),
            "status": "open",
        },
        {
            "id": "T-OLD",
            "subject": "Cambio de dirección de envío",
            "description": "Quiero cambiar la dirección de envío de mi pedido.",
            "channel": "chat",
            "customer": {"id": "C-3", "email": "eva@example.com", "name": "Eva", "tier": "standard"},
            "created_at": utc(now - timedelta(days=400)),
            "first_response_at": utc(now - timedelta(days=400) + timedelta(minutes=20)),
            "resolved_at": utc(now - timedelta(days=399)),
            "closed_at": utc(now - timedelta(days=399)),
            "status": "closed",
        },
        {
            "id": "T-DONE",
            "subject": "Refund for a damaged item",
            "description": "The item arrived broken, I want a refund.",
            "channel": "email",
            "customer": {"id": "C-4", "email": "dan@example.com", "name": "Dan", "tier": "standard"},
            "created_at": utc(noon + timedelta(hours=1)),
            "first_response_at": utc(noon + timedelta(hours=2)),
            "resolved_at": utc(noon + timedelta(hours=5)),
            "resolved_by": "bot",
            "status": "resolved",
        },
    ]
    # Each triaged a minute after it arrived, as an intake pipeline would have.
    triaged = "".join(
        run(
            [tool("support-triage"), "--agents", ROOT / "examples" / "agents.yaml", "--now",
             utc(datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")) + timedelta(minutes=1))],
            input=json.dumps(t, ensure_ascii=False) + "\n",
        ).stdout
        for t in tickets
    )
    run([tool("support-store"), "ingest", "--db", url], input=triaged)
    return Seeded(now=now, yesterday_noon=noon, tickets=tickets)


@pytest.fixture
def kestra(database, hostile, tmp_path) -> Kestra:
    jdbc = database.replace("postgres://postgres@", "jdbc:postgresql://")
    secrets = {
        "SUPPORT_DATABASE_URL": database,
        "SUPPORT_WEBHOOK_KEY": "test-key",
        "SUPPORT_NOTIFY_URL": "http://127.0.0.1:9/escalations",
        "SUPPORT_JDBC_URL": jdbc,
        "SUPPORT_DB_USER": "postgres",
        "SUPPORT_DB_PASSWORD": "",
        "SUPPORT_FEEDBACK_KEY": "feedback-key",
        "SUPPORT_FEEDBACK_FORM_URL": "https://support.example.com/feedback",
        "SUPPORT_SMTP_HOST": "127.0.0.1",
        "SUPPORT_SMTP_PORT": "2525",
        "SUPPORT_SMTP_USER": "",
        "SUPPORT_SMTP_PASSWORD": "",
        "SUPPORT_MAIL_FROM": "support@example.com",
    }
    worker_env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(hostile.home),
        "SUPPORT_BIN_DIR": str(BIN_DIR),
        "SUPPORT_AGENTS": str(ROOT / "examples" / "agents.yaml"),
    }
    work = tmp_path / "kestra"
    work.mkdir()
    return Kestra(ROOT / "flows", secrets, worker_env, work)
