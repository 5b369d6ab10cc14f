"""A stand-in for Kestra that runs the flows of flows/ here. NOT Kestra.

Kestra cannot run on this machine (see README, "Kestra"), so this harness walks
a flow the way Kestra's executor would and does for real what the flows ask of
the machine: each `io.kestra.plugin.scripts.shell.Commands` task's commands run
under /bin/sh in a fresh working directory holding its `inputFiles`, with its
`env`; `::{"outputs":..}::` and `::{"metrics":[..]}::` lines on stdout or stderr
become the task's outputs and metrics, exactly as Kestra's log consumer parses
them; `outputFiles` are kept in a stand-in internal storage under `kestra://`
URIs. Split cuts files into parts, Loop iterates, If branches, Subflow runs the
other flow, and a PostgreSQL Query runs its SQL with psql. Tasks that would
reach out (HTTP Request, MailSend) are recorded with their rendered properties,
not sent.

Expressions: the Pebble subset the flows use, evaluated strictly (an undefined
name is an error, as in Kestra): variables (`trigger`, `inputs`, `outputs`,
`item`), `secret()`, `read()`, `fromJson()`, the filters `toJson` and
`urlencode`, comparisons, the tests `is defined`, `is iterable` (a list: in
Pebble a Java Iterable, which a map or a string is not) and `is map`, and the
tags `{% if %}{% else %}{% endif %}` and `{% for x in list %}{% endfor %}`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.S)
# Pebble's tags and printed expressions, in the order they appear in a template.
TEMPLATE_TOKEN = re.compile(r"(\{\{.*?\}\}|\{%.*?%\})", re.S)
# Kestra's own pattern (TaskLogLineMatcher): one line, nothing around it.
LOG_DATA = re.compile(r"^::(\{.*\})::$")


class Undefined(Exception):
    """A name or key an expression uses is not defined (Kestra fails the task)."""


class TaskFailed(Exception):
    pass


class Vars(dict):
    """A dict whose keys read as attributes, strictly."""

    def __getattr__(self, name):
        try:
            return wrap(self[name])
        except KeyError:
            raise Undefined(name) from None

    def __getitem__(self, key):
        try:
            return wrap(dict.__getitem__(self, key))
        except KeyError:
            raise Undefined(key) from None


def wrap(value):
    if isinstance(value, dict) and not isinstance(value, Vars):
        return Vars(value)
    return value


def split_top(text: str, sep: str) -> list[str]:
    """Splits on `sep` outside quotes, brackets and parentheses."""
    parts, depth, quote, current = [], 0, None, ""
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += ch
    parts.append(current)
    return parts


@dataclass
class Execution:
    """One run of a flow: its outputs, metrics, and what it would have sent."""

    flow_id: str
    state: str = "RUNNING"
    outputs: dict = field(default_factory=dict)
    metrics: list = field(default_factory=list)
    sent: list = field(default_factory=list)
    subflows: list = field(default_factory=list)
    flow_outputs: dict = field(default_factory=dict)


class Kestra:
    def __init__(self, flows_dir: Path, secrets: dict[str, str], worker_env: dict[str, str], work: Path):
        self.flows = {}
        for path in sorted(flows_dir.glob("*.yml")):
            flow = yaml.safe_load(path.read_text())
            self.flows[(flow["namespace"], flow["id"])] = flow
        self.secrets = secrets
        self.worker_env = worker_env
        self.work = work
        self.storage: dict[str, Path] = {}

    # ------------------------------------------------------------- storage
    def store(self, source: Path) -> str:
        uri = f"kestra://support/{uuid.uuid4().hex}/{source.name}"
        target = self.work / "storage" / uri.removeprefix("kestra://")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        self.storage[uri] = target
        return uri

    def read(self, uri: str) -> str:
        if uri not in self.storage:
            raise Undefined(f"no file at {uri}")
        return self.storage[uri].read_text(encoding="utf-8")

    # --------------------------------------------------------- expressions
    def evaluate(self, expression: str, scope: dict):
        expression = expression.strip()
        test = re.fullmatch(r"(.*)\s+is\s+(defined|iterable|map)", expression, re.S)
        if test:
            subject, name = test.groups()
            if name == "defined":
                try:
                    self.evaluate(subject, scope)
                    return True
                except Undefined:
                    return False
            value = self.evaluate(subject, scope)
            return isinstance(value, list) if name == "iterable" else isinstance(value, dict)
        head, *filters = split_top(expression, "|")
        python = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", re.sub(r"\bnull\b", "None", head)))
        names = {
            **{k: wrap(v) for k, v in scope.items()},
            "secret": self.secret,
            "read": self.read,
            "fromJson": lambda text: wrap(json.loads(text)),
        }
        value = eval(compile(python.strip(), "<pebble>", "eval"), {"__builtins__": {}}, names)  # noqa: S307 (flow text only)
        for name in (f.strip() for f in filters):
            if name == "toJson":
                value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            elif name == "urlencode":
                value = urllib.parse.quote(str(value), safe="")
            else:
                raise ValueError(f"filter {name} is not one this harness knows")
        return value

    def secret(self, name: str) -> str:
        if name not in self.secrets:
            raise Undefined(f"secret {name}")
        return self.secrets[name]

    def render(self, template, scope: dict):
        if isinstance(template, dict):
            return {k: self.render(v, scope) for k, v in template.items()}
        if isinstance(template, list):
            return [self.render(v, scope) for v in template]
        if not isinstance(template, str):
            return template
        whole = EXPRESSION.fullmatch(template.strip())
        if whole:
            return self.evaluate(whole.group(1), scope)
        if "{%" in template:
            nodes, rest = self.parse_template(TEMPLATE_TOKEN.split(template), ())
            assert not rest, f"unbalanced tags in {template!r}"
            return self.render_nodes(nodes, scope)
        return EXPRESSION.sub(lambda m: str(self.evaluate(m.group(1), scope)), template)

    def parse_template(self, tokens: list[str], until: tuple[str, ...]):
        """Pebble's `if`/`else`/`endif` and `for`/`endfor` tags as a tree; returns
        (nodes, the tokens after the closing tag in `until`)."""
        nodes = []
        while tokens:
            token, tokens = tokens[0], tokens[1:]
            tag = re.fullmatch(r"\{%-?\s*(.*?)\s*-?%\}", token, re.S)
            if not tag:
                if token.startswith("{{"):
                    nodes.append(("expr", token[2:-2]))
                elif token:
                    nodes.append(("text", token))
                continue
            words = tag.group(1)
            keyword = words.split()[0]
            if keyword in until:
                return nodes, [token, *tokens] if keyword == "else" else tokens
            if keyword == "if":
                then, tokens = self.parse_template(tokens, ("else", "endif"))
                otherwise = []
                if tokens and re.fullmatch(r"\{%-?\s*else\s*-?%\}", tokens[0]):
                    otherwise, tokens = self.parse_template(tokens[1:], ("endif",))
                nodes.append(("if", words[2:], then, otherwise))
            elif keyword == "for":
                loop = re.fullmatch(r"for\s+(\w+)\s+in\s+(.+)", words, re.S)
                assert loop, f"tag {words!r}"
                body, tokens = self.parse_template(tokens, ("endfor",))
                nodes.append(("for", loop.group(1), loop.group(2), body))
            else:
                raise ValueError(f"tag {keyword} is not one this harness knows")
        assert not until, f"no closing tag among {until}"
        return nodes, []

    def render_nodes(self, nodes: list, scope: dict) -> str:
        out = []
        for node in nodes:
            if node[0] == "text":
                out.append(node[1])
            elif node[0] == "expr":
                out.append(str(self.evaluate(node[1], scope)))
            elif node[0] == "if":
                out.append(self.render_nodes(node[2] if self.evaluate(node[1], scope) else node[3], scope))
            else:
                _, name, iterable, body = node
                values = self.evaluate(iterable, scope)
                assert isinstance(values, list), f"for over {type(values).__name__}: Pebble would iterate entries"
                out += [self.render_nodes(body, {**scope, name: value}) for value in values]
        return "".join(out)

    # ---------------------------------------------------------------- runs
    def run(self, flow_id: str, trigger: dict | None = None, inputs: dict | None = None,
            namespace: str = "support") -> Execution:
        flow = self.flows[(namespace, flow_id)]
        execution = Execution(flow_id=flow_id)
        given = dict(inputs or {})
        resolved = {}
        for declared in flow.get("inputs", []):
            value = given.pop(declared["id"], declared.get("defaults"))
            if value is None:
                raise TaskFailed(f"input {declared['id']} is required")
            if declared["type"] == "FILE" and not str(value).startswith("kestra://"):
                value = self.store(Path(value))
            if declared["type"] == "INT":
                value = int(value)
            resolved[declared["id"]] = value
        assert not given, f"inputs the flow does not declare: {sorted(given)}"
        scope = {"inputs": resolved, "outputs": execution.outputs, "execution": {"id": uuid.uuid4().hex}}
        if trigger is not None:
            scope["trigger"] = trigger
        try:
            self.run_tasks(flow["tasks"], scope, execution)
        except (TaskFailed, Undefined):
            execution.state = "FAILED"
            raise
        for output in flow.get("outputs", []):
            execution.flow_outputs[output["id"]] = self.render(output["value"], scope)
        execution.state = "SUCCESS"
        return execution

    def run_tasks(self, tasks: list, scope: dict, execution: Execution) -> None:
        for task in tasks:
            self.run_task(task, scope, execution)

    def run_task(self, task: dict, scope: dict, execution: Execution) -> None:
        kind = task["type"].rsplit(".", 1)[-1]
        runner = getattr(self, f"task_{kind}")
        result = runner(task, scope, execution)
        if result is not None:
            execution.outputs[task["id"]] = result

    def task_Commands(self, task, scope, execution):
        assert task["taskRunner"]["type"] == "io.kestra.plugin.core.runner.Process"
        workdir = Path(tempfile.mkdtemp(prefix=f"{task['id']}-", dir=self.work))
        for name, value in (task.get("inputFiles") or {}).items():
            content = self.render(value, scope)
            if isinstance(content, str) and content in self.storage:
                shutil.copyfile(self.storage[content], workdir / name)
            else:
                (workdir / name).write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
        env = {**self.worker_env, **{k: str(self.render(v, scope)) for k, v in (task.get("env") or {}).items()}}
        # Kestra's shell Commands: the commands as one script under /bin/sh -c, `set -e` first (failFast).
        script = "set -e\n" + "\n".join(task["commands"])
        done = subprocess.run(["/bin/sh", "-c", script], cwd=workdir, env=env, capture_output=True, text=True)
        vars_ = {}
        for line in (done.stdout + "\n" + done.stderr).splitlines():
            match = LOG_DATA.match(line)
            if match:
                data = json.loads(match.group(1))
                vars_.update(data.get("outputs") or {})
                execution.metrics += [{**m, "task": task["id"]} for m in data.get("metrics") or []]
        if done.returncode != 0:
            raise TaskFailed(f"{task['id']} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        files = {}
        for name in task.get("outputFiles") or []:
            path = workdir / name
            if path.exists():
                if name.endswith(".jsonl"):
                    # A tool's `::{..}::` lines (or anything else) in an output file would
                    # be data for the next task: a .jsonl output holds JSON values only.
                    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                        try:
                            json.loads(line)
                        except ValueError:
                            raise TaskFailed(f"{task['id']}: {name} line {number} is not JSON: {line[:200]!r}") from None
                files[name] = self.store(path)
        return {"vars": vars_, "outputFiles": files, "exitCode": done.returncode, "stderr": done.stderr}

    def task_If(self, task, scope, execution):
        branch = "then" if self.render(task["condition"], scope) else "else"
        self.run_tasks(task.get(branch) or [], scope, execution)

    def task_Loop(self, task, scope, execution):
        values = self.render(task["values"], scope)
        if isinstance(values, str):
            values = json.loads(values)
        iterations = []
        for index, value in enumerate(values):
            # Each iteration runs isolated; an object arrives as a JSON string.
            inner = Execution(flow_id=execution.flow_id, outputs=dict(execution.outputs), sent=execution.sent,
                              subflows=execution.subflows, metrics=execution.metrics)
            item = {"value": value if isinstance(value, str) else json.dumps(value), "index": index}
            self.run_tasks(task["tasks"], {**scope, "outputs": inner.outputs, "item": item}, inner)
            iterations.append(inner.outputs)
        return {"iterations": len(iterations)}

    def task_Subflow(self, task, scope, execution):
        inputs = self.render(task.get("inputs") or {}, scope)
        child = self.run(task["flowId"], inputs=inputs, namespace=task["namespace"])
        execution.subflows.append(child)
        return {"executionId": uuid.uuid4().hex, "state": child.state, "outputs": child.flow_outputs}

    def task_Split(self, task, scope, execution):
        source = self.storage[self.render(task["from"], scope)]
        rows = int(self.render(task["rows"], scope))
        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        uris = []
        for start in range(0, len(lines), rows):
            part = self.work / f"{task['id']}-{start // rows}.jsonl"
            part.write_text("".join(lines[start:start + rows]), encoding="utf-8")
            uris.append(self.store(part))
        return {"uris": uris}

    def task_Query(self, task, scope, execution):
        assert task["type"] == "io.kestra.plugin.jdbc.postgresql.Query" and task["fetchType"] == "FETCH"
        jdbc = urllib.parse.urlsplit(self.render(task["url"], scope).removeprefix("jdbc:"))
        url = f"postgres://{self.render(task['username'], scope)}@{jdbc.netloc}{jdbc.path}"
        sql = self.render(task["sql"], scope).strip().rstrip(";")
        done = subprocess.run(
            ["psql", url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c",
             f"SELECT coalesce(json_agg(q), '[]') FROM ({sql}) q"],
            capture_output=True, text=True,
        )
        if done.returncode != 0:
            raise TaskFailed(f"{task['id']}: {done.stderr}")
        rows = json.loads(done.stdout)
        return {"rows": rows, "size": len(rows)}

    def record(self, task, scope, execution, properties):
        sent = {"task": task["id"], "type": task["type"]}
        sent.update({name: self.render(task[name], scope) for name in properties if name in task})
        execution.sent.append(sent)

    def task_Request(self, task, scope, execution):
        self.record(task, scope, execution, ["uri", "method", "contentType", "body"])

    def task_MailSend(self, task, scope, execution):
        self.record(task, scope, execution, ["host", "port", "from", "to", "subject", "plainTextContent"])
