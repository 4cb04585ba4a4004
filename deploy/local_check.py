#!/usr/bin/env python3
"""Run the fund deployments for real on this machine, without docker, and clean up.

    FUND_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
        python deploy/local_check.py [--keep] [--no-bad-input]

Steps (each one timed):
  1. create two databases on that PostgreSQL server: fund_prefect_<random> for Prefect and
     fund_product_<random> for the product (as in compose.yaml: one server, two databases);
  2. `prefect server start` on a free loopback port, on the Prefect database, with a
     temporary PREFECT_HOME, basic authentication on (PREFECT_SERVER_API_AUTH_STRING; the
     clients send PREFECT_API_AUTH_STRING) and the deployment concurrency lease shortened to
     LEASE_SECONDS; wait for its health check;
  3. `prefect work-pool create fund-process --type process`;
  4. `prefect deploy --prefect-file deploy/prefect.yaml --name cycle --name weekly-report`,
     with FUND_CYCLE_DIR / FUND_OUT_DIR pointing at a copy of the bundled demo cycle (with
     `require_approval = true`) and a temporary output folder;
  5. `prefect worker start --pool fund-process`, with FUND_DATABASE_URL (the product
     database) in its environment only; wait until it is online;
  6. rejection: run the cycle deployment; it suspends for approval (check the form: Chinese
     labels, 批准/驳回 without a default, approver required, the figures in its description);
     resume it through the API the UI uses with 驳回 → the run ends in the state "Rejected",
     the decision is in the product database; change the budget in cycle.toml and run
     again → it suspends again;
  7. approval: while that run waits, another run of the cycle ends Completed
     ("AwaitingApproval", saying since when), the deployment's concurrency slot is free;
     after more than the lease period, resume with 批准 → Completed, allocation.csv and
     publicity.html written, the stage rows in the product database;
  8. the weekly-report deployment runs Completed on the published cycle;
  9. alerts: `python -m fund.flows.alerts apply` with a webhook on a local HTTP server this
     check starts; a run on a cycle folder that does not exist must fail naming the folder,
     the webhook must receive the alert, and neither the worker's log nor the run's logs
     may contain a traceback;
 10. stop the worker and the server (their whole process groups) and drop both databases.

Everything is undone on failure or Ctrl-C/SIGTERM too. Exit status 0 when all checks
pass, 1 when one fails (the message says which and shows the server/worker log tails).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fund.flows.deployments import (  # noqa: E402
    CYCLE_DEPLOYMENT,
    REPORT_DEPLOYMENT,
    WORK_POOL,
    ServerUnreachable,
    check_server,
    prefect_file,
)

TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
OUTPUTS = ("allocation/allocation.csv", "allocation/publicity.html")
MISSING_CYCLE = "no-such-cycle"
LEASE_SECONDS = 30  # the server's deployment concurrency lease (its minimum; default 300)
APPROVE, REJECT = "批准", "驳回"
CHANGED_BUDGET = "3000000.00"


class CheckFailed(Exception):
    """One of the checks did not pass; the message says which and why."""


class Interrupted(BaseException):
    """SIGTERM: stop and clean up like on Ctrl-C."""


@dataclass
class Result:
    timings: list[tuple[str, float]] = field(default_factory=list)
    api_url: str = ""
    flow_run: dict = field(default_factory=dict)  # the approved run, after Resume
    bad_run: dict = field(default_factory=dict)
    rejected_run: dict = field(default_factory=dict)
    waiting_run: dict = field(default_factory=dict)  # another run while one waits for approval
    repaused_run: dict = field(default_factory=dict)  # the run after the budget changed
    report_run: dict = field(default_factory=dict)
    form: dict = field(default_factory=dict)  # the approval form: schema and description
    approvals: list = field(default_factory=list)  # the product database's approval rows
    suspended_s: float = 0.0  # how long the approved run waited suspended
    active_slots_while_waiting: int | None = None
    alert: dict = field(default_factory=dict)  # what the webhook received
    tracebacks: list[str] = field(default_factory=list)
    deployments: dict[str, dict] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def table(self) -> str:
        width = max(len(name) for name, _ in self.timings) if self.timings else 10
        lines = [f"  {name:<{width}}  {seconds:6.1f} s" for name, seconds in self.timings]
        lines.append(f"  {'total':<{width}}  {sum(s for _, s in self.timings):6.1f} s")
        return "\n".join(lines)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """All descendants of pid (Linux /proc; elsewhere none are known)."""
    parents: dict[int, int] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        kids = [p for p, parent in parents.items() if parent == current]
        found += kids
        frontier += kids
    return found


def _signal(pid: int, sig: int) -> None:
    for kill in (lambda: os.killpg(pid, sig), lambda: os.kill(pid, sig)):
        try:
            kill()
            return
        except (ProcessLookupError, PermissionError):
            continue


class Service:
    """A long-running command (server, worker) in its own process group, output to a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], cwd: Path, log: Path):
        self.name, self.log = name, log
        self._log_file = open(log, "wb")
        self.process = subprocess.Popen(
            args,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(f"    {line}" for line in text.splitlines()[-lines:])

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM to the group (and to any descendant that started its own session, like
        flow-run processes), then SIGKILL to whatever is left after `grace` seconds."""
        pid = self.process.pid
        stragglers = children_of(pid)
        if self.alive():
            _signal(pid, signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        _signal(pid, signal.SIGKILL)
        for child in stragglers + children_of(pid):
            _signal(child, signal.SIGKILL)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._log_file.close()


class Webhook:
    """A local HTTP server that records what is POSTed to it (the alert's webhook)."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append({"path": self.path, "body": body.decode("utf-8", errors="replace")})
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"errcode": 0}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/robot/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class LocalCheck:
    def __init__(
        self,
        database_url: str,
        *,
        keep: bool = False,
        bad_input: bool = True,
        report: bool | None = None,
        startup_timeout: float = 120.0,
        run_timeout: float = 150.0,
        lease_seconds: float = LEASE_SECONDS,
        log=print,
    ):
        self.database_url = database_url
        self.keep = keep
        self.bad_input = bad_input
        self.report = (ROOT / "fund" / "flows" / "report.py").is_file() if report is None else report
        self.startup_timeout = startup_timeout
        self.run_timeout = run_timeout
        self.lease_seconds = lease_seconds
        self.log = log
        self.result = Result()
        self.services: list[Service] = []
        self.databases: list[str] = []
        self.tmp: Path | None = None
        self.http = None
        self.webhook: Webhook | None = None
        self.auth = ("fund-admin", secrets.token_hex(8))
        self.cycle: Path | None = None
        self.out: Path | None = None
        self.product_db = ""
        self.waiting: dict | None = None  # the run suspended for approval, with "_suspended_at"

    # -- helpers -----------------------------------------------------------------------
    @contextmanager
    def step(self, name: str):
        self.log(f"-> {name}")
        start = time.monotonic()
        try:
            yield
        finally:
            seconds = time.monotonic() - start
            self.result.timings.append((name, seconds))
            self.log(f"   {name}: {seconds:.1f} s")

    def env(self, **extra: str) -> dict[str, str]:
        """This process's environment without any PREFECT_* setting of the caller (a test
        harness, a profile), with a private PREFECT_HOME, telemetry off and the API's login."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("PREFECT_") and k not in ("FUND_CRASH_AT", "FUND_DATABASE_URL", "FUND_DATABASE_SECRET")
        }
        env.update(
            {
                "PREFECT_HOME": str(self.tmp / "prefect-home"),
                "DO_NOT_TRACK": "1",
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "GX_ANALYTICS_ENABLED": "False",
                "PREFECT_API_AUTH_STRING": ":".join(self.auth),
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
                "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            }
        )
        if self.result.api_url:
            env["PREFECT_API_URL"] = self.result.api_url
        env.update(extra)
        return env

    def prefect(self, *args: str, env: dict[str, str] | None = None, timeout: float = 180.0) -> str:
        """Run one `prefect ...` command of this Python; its output, or CheckFailed."""
        return self.python("-m", "prefect", "--no-prompt", *args, env=env, timeout=timeout)

    def python(self, *args: str, env: dict[str, str] | None = None, timeout: float = 180.0) -> str:
        command = [sys.executable, *args]
        try:
            done = subprocess.run(
                command,
                env=env or self.env(),
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise CheckFailed(f"`{' '.join(args)}` did not finish in {timeout:.0f} s") from exc
        output = (done.stdout or "") + (done.stderr or "")
        if done.returncode != 0:
            raise CheckFailed(f"`{' '.join(args)}` failed (exit {done.returncode}):\n{output[-3000:]}")
        return output

    def api(self, method: str, path: str, **kwargs):
        response = self.http.request(method, f"{self.result.api_url}{path}", **kwargs)
        if response.status_code >= 400:
            raise CheckFailed(f"{method} {path} answered HTTP {response.status_code}: {response.text[:500]}")
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return response.text

    def logs(self) -> str:
        return "\n".join(f"  {s.name} log ({s.log}):\n{s.tail()}" for s in self.services)

    # -- the steps -----------------------------------------------------------------------
    def create_databases(self) -> tuple[str, str]:
        import sqlalchemy
        from sqlalchemy.engine import make_url

        base = make_url(self.database_url)
        driver = base.drivername if "+" in base.drivername else "postgresql+psycopg"
        admin = base.set(drivername=driver)
        token = secrets.token_hex(4)
        prefect_db, product_db = f"fund_prefect_{token}", f"fund_product_{token}"
        engine = sqlalchemy.create_engine(admin, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                for name in (prefect_db, product_db):
                    connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
                    self.databases.append(name)
        except sqlalchemy.exc.OperationalError as exc:
            raise CheckFailed(
                f"cannot reach PostgreSQL at {base.render_as_string(hide_password=True)}: "
                f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}"
            ) from None
        finally:
            engine.dispose()
        prefect_url = base.set(drivername="postgresql+asyncpg", database=prefect_db, query={})
        product_url = base.set(drivername=driver, database=product_db, query={})
        return prefect_url.render_as_string(hide_password=False), product_url.render_as_string(hide_password=False)

    def drop_databases(self) -> None:
        import sqlalchemy
        from sqlalchemy.engine import make_url

        base = make_url(self.database_url)
        admin = base.set(drivername=base.drivername if "+" in base.drivername else "postgresql+psycopg")
        engine = sqlalchemy.create_engine(admin, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                while self.databases:
                    name = self.databases.pop()
                    connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            engine.dispose()

    def start_server(self, prefect_db_url: str) -> None:
        port = free_port()
        url = f"http://127.0.0.1:{port}/api"
        server = Service(
            "server",
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"],
            self.env(
                PREFECT_API_DATABASE_CONNECTION_URL=prefect_db_url,
                PREFECT_SERVER_API_AUTH_STRING=":".join(self.auth),
                PREFECT_SERVER_CONCURRENCY_INITIAL_DEPLOYMENT_LEASE_DURATION=str(self.lease_seconds),
            ),
            ROOT,
            self.tmp / "logs" / "server.log",
        )
        self.services.append(server)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if not server.alive():
                raise CheckFailed(f"prefect server exited with {server.process.returncode} before answering:\n{server.tail()}")
            try:
                self.result.api_url = check_server(url, timeout=2)
                break
            except ServerUnreachable as exc:
                if time.monotonic() > deadline:
                    raise CheckFailed(f"{exc}\n(waited {self.startup_timeout:.0f} s)\n{server.tail()}") from None
            time.sleep(0.5)
        import httpx

        if httpx.post(f"{url}/flows/filter", json={}, timeout=10, trust_env=False).status_code != 401:
            raise CheckFailed("the server answers without the login (PREFECT_SERVER_API_AUTH_STRING not in effect)")

    def start_worker(self, name: str = "local-check-worker", limit: int | None = None) -> None:
        """A process worker of the pool (at most `limit` flow runs at once, when given), online."""
        worker = Service(
            name,
            [sys.executable, "-m", "prefect", "worker", "start", "--pool", WORK_POOL, "--type", "process", "--name", name]
            + (["--limit", str(limit)] if limit else []),
            self.env(
                PREFECT_WORKER_QUERY_SECONDS="1",
                PREFECT_WORKER_PREFETCH_SECONDS="5",
                PREFECT_WORKER_HEARTBEAT_SECONDS="5",
                FUND_DATABASE_URL=self.product_db,
            ),
            ROOT,
            self.tmp / "logs" / f"{name}.log",
        )
        self.services.append(worker)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if not worker.alive():
                raise CheckFailed(f"prefect worker exited with {worker.process.returncode}:\n{worker.tail()}")
            workers = self.api("POST", f"/work_pools/{WORK_POOL}/workers/filter", json={})
            if any(w.get("name") == name for w in workers or []):
                return
            if time.monotonic() > deadline:
                raise CheckFailed(f"the worker did not come online in {self.startup_timeout:.0f} s:\n{worker.tail()}")
            time.sleep(0.5)

    def deployment(self, name: str) -> dict:
        found = self.api("POST", "/deployments/filter", json={"deployments": {"name": {"any_": [name]}}})
        if not found:
            raise CheckFailed(f"deployment {name!r} is not registered")
        return found[0]

    def flow_name(self, flow_id: str) -> str:
        return self.api("GET", f"/flows/{flow_id}")["name"]

    def create_run(self, deployment: str, parameters: dict | None = None) -> dict:
        deployment_id = self.result.deployments[deployment]["id"]
        run = self.api("POST", f"/deployments/{deployment_id}/create_flow_run", json={"parameters": parameters or {}})
        run["_created"] = time.monotonic()
        return run

    def wait_run(self, run: dict, until: set[str] = TERMINAL) -> dict:
        """Wait until the flow run's state type is one of `until`; the run, with `_queued_s`
        (created → first running) and `_running_s` (first running → now) added."""
        start = run.get("_created", time.monotonic())
        started = run.get("_started")
        deadline = time.monotonic() + self.run_timeout
        while True:
            current = self.api("GET", f"/flow_runs/{run['id']}")
            state = (current.get("state") or {}).get("type")
            if state == "RUNNING" and started is None:
                started = time.monotonic()
            if state in until:
                end = time.monotonic()
                current.update(
                    _created=start, _started=started, _queued_s=(started or end) - start, _running_s=end - (started or end)
                )
                return current
            if state in TERMINAL:
                raise CheckFailed(
                    f"flow run {current['name']} ended {state} ({(current.get('state') or {}).get('name')}): "
                    f"{(current.get('state') or {}).get('message')}\n{self.logs()}"
                )
            if time.monotonic() > deadline:
                raise CheckFailed(f"flow run {current['name']} still {state} after {self.run_timeout:.0f} s\n{self.logs()}")
            for service in self.services:
                if not service.alive():
                    raise CheckFailed(f"the {service.name} died while flow run {current['name']} was {state}:\n{service.tail()}")
            time.sleep(0.5)

    def run_deployment(self, deployment: str, parameters: dict | None = None) -> dict:
        return self.wait_run(self.create_run(deployment, parameters))

    def say(self, run: dict, what: str) -> None:
        state = run.get("state") or {}
        self.log(
            f"   flow run {run['name']} {what}: {state.get('type')}/{state.get('name')}: "
            f"{(state.get('message') or '')[:160]} (picked up after {run['_queued_s']:.1f} s, ran {run['_running_s']:.1f} s)"
        )

    def run_input(self, run: dict, key: str, wait_s: float = 30.0):
        """A suspended run's form input. Prefect sets the Suspended state first and writes the
        form's schema and description just after, so a reader that is quick sees 404 for a moment."""
        deadline = time.monotonic() + wait_s
        while True:
            response = self.http.request("GET", f"{self.result.api_url}/flow_runs/{run['id']}/input/{key}")
            if response.status_code != 404 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        return self.api("GET", f"/flow_runs/{run['id']}/input/{key}")

    def suspended(self, run: dict) -> dict:
        """Wait until the run is suspended for approval; check it and its form."""
        run = self.wait_run(run, {"PAUSED"})
        run["_suspended_at"] = time.monotonic()
        state = run["state"]
        if state["name"] != "Suspended":
            raise CheckFailed(f"flow run {run['name']} should be Suspended (no process held); it is {state['name']}")
        keyset = state["state_details"]["run_input_keyset"]
        schema = self.run_input(run, keyset["schema"])  # JSON, as the UI reads it
        description = self.run_input(run, keyset["description"])
        schema = json.loads(schema) if isinstance(schema, str) else schema
        description = json.loads(description) if isinstance(description, str) and description.startswith('"') else description
        self.result.form = {"schema": schema, "description": description}
        return run

    def resume(self, run: dict, decision: str, approver: str, reason: str | None = None) -> dict:
        """Decide through the API the UI's Resume form uses; the run as it is afterwards."""
        form = {"decision": decision, "approver": approver, **({"reason": reason} if reason else {})}
        answer = self.api("POST", f"/flow_runs/{run['id']}/resume", json={"run_input": form})
        if (answer or {}).get("status") != "ACCEPT":
            raise CheckFailed(f"resuming {run['name']} was not accepted: {answer}")
        return run

    def approval_rows(self) -> list[dict]:
        import sqlalchemy

        engine = sqlalchemy.create_engine(self.product_db)
        try:
            with engine.connect() as connection:
                rows = (
                    connection.execute(
                        sqlalchemy.text('SELECT id, allocation_hash, decision, "by", reason FROM approval ORDER BY id')
                    )
                    .mappings()
                    .all()
                )
            return [dict(r) for r in rows]
        finally:
            engine.dispose()

    def runs_showing_the_database(self) -> list[str]:
        """The flow runs (stage subflows included) whose parameters show the product database URL."""
        runs = self.api("POST", "/flow_runs/filter", json={"limit": 200})
        return [run["name"] for run in runs or [] if self.product_db in json.dumps(run.get("parameters") or {})]

    def set_budget(self, budget: str) -> None:
        toml = self.cycle / "cycle.toml"
        text = toml.read_text(encoding="utf-8")
        toml.write_text(re.sub(r"(?m)^budget = .*$", f'budget = "{budget}"', text, count=1), encoding="utf-8")

    # -- the whole check -------------------------------------------------------------------
    def start_server_and_pool(self) -> None:
        """Steps 1–3: databases, server, pool (undone by `cleanup`)."""
        import httpx

        self.tmp = Path(tempfile.mkdtemp(prefix="fund-local-check-"))
        (self.tmp / "logs").mkdir()
        self.http = httpx.Client(timeout=30, trust_env=False, auth=self.auth)  # loopback only: never through a proxy
        self.log(f"working folder: {self.tmp}")
        with self.step("create databases"):
            prefect_db, self.product_db = self.create_databases()
        with self.step("start prefect server"):
            self.start_server(prefect_db)
            self.log(f"   server at {self.result.api_url}")
        with self.step("create work pool"):
            self.prefect("work-pool", "create", WORK_POOL, "--type", "process", "--overwrite")

    def register(self, names: list[str], **environment: str) -> None:
        """`prefect deploy` of these deployments of prefect.yaml (their placeholders from `environment`)."""
        with self.step("register deployments (prefect deploy)"):
            before = prefect_file().read_bytes()
            args = ["deploy", "--prefect-file", str(prefect_file().relative_to(ROOT))]
            for name in names:
                args += ["--name", name]
            self.prefect(*args, env=self.env(**environment))
            if prefect_file().read_bytes() != before:
                raise CheckFailed("prefect deploy rewrote deploy/prefect.yaml")
            for name in names:
                self.result.deployments[name] = self.deployment(name)
            self.log(
                "   registered "
                + ", ".join(f"{self.flow_name(d['flow_id'])}/{d['name']}" for d in self.result.deployments.values())
            )

    def start(self) -> None:
        """Steps 1–5: databases, server, pool, deployments, worker (undone by `cleanup`)."""
        from fund.cli.cycle import demo_folder

        self.start_server_and_pool()
        self.cycle, self.out = self.tmp / "cycle", self.tmp / "output"
        shutil.copytree(demo_folder(), self.cycle)
        toml = self.cycle / "cycle.toml"
        toml.write_text(
            toml.read_text(encoding="utf-8").replace("require_approval = false", "require_approval = true"), encoding="utf-8"
        )
        self.register(
            [CYCLE_DEPLOYMENT] + ([REPORT_DEPLOYMENT] if self.report else []),
            FUND_CYCLE_DIR=str(self.cycle),
            FUND_OUT_DIR=str(self.out),
        )
        expected = {
            "cycle_dir": str(self.cycle),
            "out_dir": str(self.out),
            "lang": "zh",
            "pause_for_approval": True,
            "approval_timeout_s": 604800,
        }
        parameters = self.result.deployments[CYCLE_DEPLOYMENT]["parameters"]
        if parameters != expected:
            raise CheckFailed(f"the cycle deployment's parameters are {parameters}, expected {expected}")
        with self.step("start worker"):
            self.start_worker()

    def check_rejection(self) -> None:
        """Step 6: suspend, reject, change the budget, suspend again (leaves that run waiting)."""
        with self.step("run cycle: suspends for approval"):
            run = self.suspended(self.create_run(CYCLE_DEPLOYMENT))
            self.say(run, "waits")
        with self.step("reject in the form (Resume)"):
            self.resume(run, REJECT, "王科长", "结余过多，请复核")
            rejected = self.result.rejected_run = self.wait_run(run)
            self.say(rejected, "after 驳回")
            decisions = [a for a in self.approval_rows() if a["decision"] != "requested"]
            if (rejected["state"]["type"], rejected["state"]["name"]) != ("FAILED", "Rejected"):
                raise CheckFailed(
                    f"a rejected allocation should end in the state Rejected; it ended "
                    f"{rejected['state']['type']}/{rejected['state']['name']}"
                )
            if not decisions or (decisions[-1]["decision"], decisions[-1]["by"], decisions[-1]["reason"]) != (
                "rejected",
                "王科长",
                "结余过多，请复核",
            ):
                raise CheckFailed(f"the rejection is not recorded in the product database: {decisions}")
        with self.step("change the budget, run again: suspends again"):
            self.set_budget(CHANGED_BUDGET)
            self.waiting = self.result.repaused_run = self.suspended(self.create_run(CYCLE_DEPLOYMENT))
            self.say(self.waiting, "waits again")

    def check_approval(self) -> None:
        """Step 7: another run while one waits, a wait past the lease, approve, published."""
        if self.waiting is None:
            with self.step("run cycle: suspends for approval"):
                self.waiting = self.suspended(self.create_run(CYCLE_DEPLOYMENT))
        run = self.waiting
        with self.step("another run while it waits"):
            other = self.result.waiting_run = self.run_deployment(CYCLE_DEPLOYMENT)
            self.say(other, "while waiting")
            limit = self.result.deployments[CYCLE_DEPLOYMENT].get("global_concurrency_limit") or {}
            if limit.get("id"):
                self.result.active_slots_while_waiting = self.api("GET", f"/v2/concurrency_limits/{limit['id']}")["active_slots"]
        with self.step(f"wait past the {self.lease_seconds:.0f} s lease"):
            remaining = run["_suspended_at"] + self.lease_seconds + 5 - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)
            current = self.api("GET", f"/flow_runs/{run['id']}")
            if current["state"]["type"] != "PAUSED":
                raise CheckFailed(
                    f"the waiting run is {current['state']['type']} after the lease period: "
                    f"{current['state'].get('message')}\n{self.logs()}"
                )
            self.result.suspended_s = time.monotonic() - run["_suspended_at"]
        with self.step("approve in the form (Resume): published"):
            self.resume(run, APPROVE, "李主任", None)
            done = self.result.flow_run = self.wait_run(run)
            self.say(done, "after 批准")
        self.result.outputs = [str(self.out / rel) for rel in OUTPUTS if (self.out / rel).is_file()]
        self.result.stages = self.product_stages(self.product_db)
        self.result.approvals = self.approval_rows()

    def check_report(self) -> None:
        """Step 8: the weekly report deployment."""
        with self.step("run weekly-report deployment"):
            self.result.report_run = self.run_deployment(REPORT_DEPLOYMENT)
            self.say(self.result.report_run, "report")

    def check_bad_input_and_alert(self) -> None:
        """Step 9: alerts applied, a run on a missing folder fails, the webhook hears of it, no traceback."""
        with self.step("apply alerts (automations)"):
            self.webhook = Webhook()
            self.python("-m", "fund.flows.alerts", "apply", "--cycle-dir", str(self.cycle), "--webhook-url", self.webhook.url)
        with self.step("run on a missing cycle folder; alert"):
            bad = self.result.bad_run = self.run_deployment(
                CYCLE_DEPLOYMENT, {"cycle_dir": str(self.tmp / MISSING_CYCLE), "out_dir": str(self.tmp / "bad-output")}
            )
            self.say(bad, "bad input")
            deadline = time.monotonic() + 45
            while not self.webhook.received and time.monotonic() < deadline:
                time.sleep(0.5)
            if not self.webhook.received:
                raise CheckFailed(f"no alert reached the webhook within 45 s of the failed run\n{self.logs()}")
            self.result.alert = self.webhook.received[0]
            self.log(f"   webhook received: {self.result.alert['body'][:200]}")
        logs = self.api("POST", "/logs/filter", json={"logs": {"flow_run_id": {"any_": [bad["id"]]}}, "limit": 200})
        worker = next(s for s in self.services if s.name == "local-check-worker")
        self.result.tracebacks = [
            f"flow-run log: {line['message'][:200]}" for line in logs or [] if "Traceback" in line["message"]
        ]
        self.result.tracebacks += [
            f"worker log: {line}"
            for line in worker.log.read_text(encoding="utf-8", errors="replace").splitlines()
            if "Traceback" in line or "exited with unexpected exception" in line
        ]

    def run(self) -> Result:
        try:
            self.start()
            self.check_rejection()
            self.check_approval()
            if self.report:
                self.check_report()
            if self.bad_input:
                self.check_bad_input_and_alert()
            self.verify()
            return self.result
        finally:
            with self.step("shut down and clean up"):
                self.cleanup()

    def verify(self) -> None:
        r = self.result
        problems = []
        run, bad = r.flow_run, r.bad_run
        if run.get("state", {}).get("type") != "COMPLETED":
            problems.append(f"the approved cycle run ended {run.get('state')}")
        missing = [rel for rel in OUTPUTS if not (self.out / rel).is_file()]
        if missing:
            problems.append(f"the cycle run did not write {', '.join(missing)} under {self.out}")
        if (self.out / "fund.db").exists():
            problems.append("the run wrote fund.db: the worker's FUND_DATABASE_URL did not reach the flow")
        if not r.stages:
            problems.append("no stage rows in the product database")
        other = r.waiting_run.get("state") or {}
        if r.waiting_run and (
            (other.get("type"), other.get("name")) != ("COMPLETED", "AwaitingApproval")
            or "等待审批" not in (other.get("message") or "")
        ):
            problems.append(
                f"a run while another waits for approval should end Completed/AwaitingApproval saying so; it ended {other}"
            )
        if r.active_slots_while_waiting:
            problems.append(f"the deployment's concurrency slot is held while a run waits ({r.active_slots_while_waiting})")
        cycle = r.deployments[CYCLE_DEPLOYMENT]
        limit = (cycle.get("global_concurrency_limit") or {}).get("limit")
        strategy = (cycle.get("concurrency_options") or {}).get("collision_strategy")
        if (limit, strategy) != (1, "ENQUEUE"):
            problems.append(f"the cycle deployment should run one at a time (limit 1, ENQUEUE); it has {limit}, {strategy}")
        if REPORT_DEPLOYMENT in r.deployments:
            schedules = [
                (s["schedule"].get("cron"), s["schedule"].get("timezone"), s["active"])
                for s in r.deployments[REPORT_DEPLOYMENT]["schedules"]
            ]
            if schedules != [("0 8 * * 1", "Asia/Shanghai", True)]:
                problems.append(f"the weekly report should run Mondays 08:00 Asia/Shanghai; its schedules are {schedules}")
            if r.report_run and r.report_run["state"]["type"] != "COMPLETED":
                problems.append(f"the weekly report run ended {r.report_run['state']}")
        if bad and (bad["state"]["type"] != "FAILED" or MISSING_CYCLE not in (bad["state"].get("message") or "")):
            problems.append(
                f"a run on a missing cycle folder should fail naming it; it ended "
                f"{bad['state']['type']}: {bad['state'].get('message')}"
            )
        shown = self.runs_showing_the_database()
        if shown:
            problems.append(f"the product database URL is a visible parameter of the runs {', '.join(shown)}")
        if r.tracebacks:
            problems.append("tracebacks in the logs of ordinary stops:\n  " + "\n  ".join(r.tracebacks[:10]))
        if problems:
            raise CheckFailed("\n".join(problems) + "\n" + self.logs())

    def product_stages(self, product_db: str) -> dict[str, str]:
        import sqlalchemy

        engine = sqlalchemy.create_engine(product_db)
        try:
            with engine.connect() as connection:
                return dict(connection.execute(sqlalchemy.text("SELECT stage, outcome FROM stagerun")).all())
        finally:
            engine.dispose()

    def cleanup(self) -> None:
        problems = []
        for service in reversed(self.services):
            try:
                service.stop()
            except Exception as exc:  # keep cleaning up
                problems.append(f"stopping the {service.name}: {exc}")
        if self.http is not None:
            self.http.close()
        if self.webhook is not None:
            self.webhook.stop()
        try:
            self.drop_databases()
        except Exception as exc:
            problems.append(f"dropping the databases {self.databases}: {exc}")
        if self.tmp is not None:
            if self.keep:
                self.log(f"   kept {self.tmp}")
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)
        if problems:
            self.log("cleanup problems: " + "; ".join(problems))


def run_check(database_url: str, **options) -> Result:
    return LocalCheck(database_url, **options).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("FUND_TEST_DATABASE_URL"),
        help="a PostgreSQL database on the server to use (default: $FUND_TEST_DATABASE_URL); "
        "the check creates and drops its own databases there",
    )
    parser.add_argument("--keep", action="store_true", help="keep the working folder (logs, outputs)")
    parser.add_argument("--no-bad-input", dest="bad_input", action="store_false", help="skip the run on a missing cycle folder")
    args = parser.parse_args(argv)
    if not args.database_url:
        print(
            "set FUND_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) or pass --database-url",
            file=sys.stderr,
        )
        return 2

    def on_sigterm(_signum, _frame):
        raise Interrupted()

    signal.signal(signal.SIGTERM, on_sigterm)
    check = LocalCheck(args.database_url, keep=args.keep, bad_input=args.bad_input)
    try:
        result = check.run()
    except CheckFailed as exc:
        for warning in check.result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print(f"\nFAILED: {exc}", file=sys.stderr)
        print(check.result.table(), file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Interrupted):
        print("\ninterrupted (cleaned up)", file=sys.stderr)
        return 130
    for warning in result.warnings:
        print(f"warning: {warning}")
    print("\nall checks passed; step timings:")
    print(result.table())
    for path in result.outputs:
        print(f"  {'kept' if args.keep else 'checked (since removed)'}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
