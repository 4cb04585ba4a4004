#!/usr/bin/env python3
"""Run the cycle deployment for real on this machine, without docker, and clean up.

    FUND_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
        python deploy/local_check.py [--keep] [--no-bad-input]

Steps (each one timed):
  1. create two databases on that PostgreSQL server: fund_prefect_<random> for Prefect and
     fund_product_<random> for the product (as in compose.yaml: one server, two databases);
  2. `prefect server start` on a free loopback port, on the Prefect database, with a
     temporary PREFECT_HOME; wait for its health check;
  3. `prefect work-pool create fund-process --type process`;
  4. `prefect deploy --prefect-file deploy/prefect.yaml --name cycle` (and `weekly-report`
     when fund/flows/report.py exists), with FUND_CYCLE_DIR / FUND_OUT_DIR / FUND_DATABASE_URL
     pointing at a copy of the bundled demo cycle, a temporary output folder and the
     product database;
  5. `prefect worker start --pool fund-process`; wait until it is online;
  6. run the cycle deployment with its default parameters; wait for the flow run;
     check allocation/allocation.csv and allocation/publicity.html, and the stage rows
     in the product database;
  7. run it on a cycle folder that does not exist: the run must fail naming the folder;
  8. stop the worker and the server (their whole process groups) and drop both databases.

Everything is undone on failure or Ctrl-C/SIGTERM too. Exit status 0 when all checks
pass, 1 when one fails (the message says which and shows the server/worker log tails).
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fund.flows.deployments import (  # noqa: E402
    CYCLE_DEPLOYMENT, REPORT_DEPLOYMENT, WORK_POOL, ServerUnreachable, check_server, prefect_file,
)

TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
OUTPUTS = ("allocation/allocation.csv", "allocation/publicity.html")
MISSING_CYCLE = "no-such-cycle"


class CheckFailed(Exception):
    """One of the checks did not pass; the message says which and why."""


class Interrupted(BaseException):
    """SIGTERM: stop and clean up like on Ctrl-C."""


@dataclass
class Result:
    timings: list[tuple[str, float]] = field(default_factory=list)
    api_url: str = ""
    flow_run: dict = field(default_factory=dict)
    bad_run: dict = field(default_factory=dict)
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
        self.process = subprocess.Popen(args, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=self._log_file,
                                        stderr=subprocess.STDOUT, start_new_session=True)

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


class LocalCheck:
    def __init__(self, database_url: str, *, keep: bool = False, bad_input: bool = True, report: bool | None = None,
                 startup_timeout: float = 120.0, run_timeout: float = 150.0, log=print):
        self.database_url = database_url
        self.keep = keep
        self.bad_input = bad_input
        self.report = (ROOT / "flows" / "report.py").is_file() if report is None else report
        self.startup_timeout = startup_timeout
        self.run_timeout = run_timeout
        self.log = log
        self.result = Result()
        self.services: list[Service] = []
        self.databases: list[str] = []
        self.tmp: Path | None = None
        self.http = None

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
        harness, a profile), with a private PREFECT_HOME and telemetry off."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k != "FUND_CRASH_AT"}
        env.update({"PREFECT_HOME": str(self.tmp / "prefect-home"), "DO_NOT_TRACK": "1",
                    "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "False",
                    "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))})
        if self.result.api_url:
            env["PREFECT_API_URL"] = self.result.api_url
        env.update(extra)
        return env

    def prefect(self, *args: str, env: dict[str, str] | None = None, timeout: float = 180.0) -> str:
        """Run one `prefect ...` command of this Python; its output, or CheckFailed."""
        command = [sys.executable, "-m", "prefect", "--no-prompt", *args]
        try:
            done = subprocess.run(command, env=env or self.env(), cwd=ROOT, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise CheckFailed(f"`prefect {' '.join(args)}` did not finish in {timeout:.0f} s") from exc
        output = (done.stdout or "") + (done.stderr or "")
        if done.returncode != 0:
            raise CheckFailed(f"`prefect {' '.join(args)}` failed (exit {done.returncode}):\n{output[-3000:]}")
        return output

    def api(self, method: str, path: str, **kwargs):
        response = self.http.request(method, f"{self.result.api_url}{path}", **kwargs)
        if response.status_code >= 400:
            raise CheckFailed(f"{method} {path} answered HTTP {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None

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
            raise CheckFailed(f"cannot reach PostgreSQL at {base.render_as_string(hide_password=True)}: "
                              f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}") from None
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
        server = Service("server", [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                    "--port", str(port), "--no-ui"],
                         self.env(PREFECT_API_DATABASE_CONNECTION_URL=prefect_db_url),
                         ROOT, self.tmp / "logs" / "server.log")
        self.services.append(server)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if not server.alive():
                raise CheckFailed(f"prefect server exited with {server.process.returncode} before answering:\n{server.tail()}")
            try:
                self.result.api_url = check_server(url, timeout=2)
                return
            except ServerUnreachable as exc:
                if time.monotonic() > deadline:
                    raise CheckFailed(f"{exc}\n(waited {self.startup_timeout:.0f} s)\n{server.tail()}") from None
            time.sleep(0.5)

    def start_worker(self) -> None:
        worker = Service("worker", [sys.executable, "-m", "prefect", "worker", "start", "--pool", WORK_POOL,
                                    "--type", "process", "--name", "local-check-worker"],
                         self.env(PREFECT_WORKER_QUERY_SECONDS="1", PREFECT_WORKER_PREFETCH_SECONDS="5",
                                  PREFECT_WORKER_HEARTBEAT_SECONDS="5"),
                         ROOT, self.tmp / "logs" / "worker.log")
        self.services.append(worker)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if not worker.alive():
                raise CheckFailed(f"prefect worker exited with {worker.process.returncode}:\n{worker.tail()}")
            workers = self.api("POST", f"/work_pools/{WORK_POOL}/workers/filter", json={})
            if any(w.get("name") == "local-check-worker" for w in workers or []):
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

    def run_deployment(self, deployment_id: str, parameters: dict | None = None) -> dict:
        """Create a flow run of the deployment and wait for it to end; the final flow run,
        with `_queued_s` (created → running) and `_running_s` (running → end) added."""
        run = self.api("POST", f"/deployments/{deployment_id}/create_flow_run", json={"parameters": parameters or {}})
        start = time.monotonic()
        started = None
        deadline = start + self.run_timeout
        while True:
            run = self.api("GET", f"/flow_runs/{run['id']}")
            state = (run.get("state") or {}).get("type")
            if state == "RUNNING" and started is None:
                started = time.monotonic()
            if state in TERMINAL:
                end = time.monotonic()
                run["_queued_s"] = (started or end) - start
                run["_running_s"] = end - (started or end)
                return run
            if time.monotonic() > deadline:
                raise CheckFailed(f"flow run {run['name']} still {state} after {self.run_timeout:.0f} s\n{self.logs()}")
            for service in self.services:
                if not service.alive():
                    raise CheckFailed(f"the {service.name} died while flow run {run['name']} was {state}:\n{service.tail()}")
            time.sleep(0.5)

    # -- the whole check -------------------------------------------------------------------
    def run(self) -> Result:
        import httpx

        from fund.cli.cycle import demo_folder

        self.tmp = Path(tempfile.mkdtemp(prefix="fund-local-check-"))
        (self.tmp / "logs").mkdir()
        self.http = httpx.Client(timeout=30, trust_env=False)  # loopback only: never through a proxy
        self.log(f"working folder: {self.tmp}")
        try:
            with self.step("create databases"):
                prefect_db, product_db = self.create_databases()
            with self.step("start prefect server"):
                self.start_server(prefect_db)
                self.log(f"   server at {self.result.api_url}")
            with self.step("create work pool"):
                self.prefect("work-pool", "create", WORK_POOL, "--type", "process", "--overwrite")
            cycle, out = self.tmp / "cycle", self.tmp / "output"
            shutil.copytree(demo_folder(), cycle)
            names = [CYCLE_DEPLOYMENT] + ([REPORT_DEPLOYMENT] if self.report else [])
            with self.step("register deployments (prefect deploy)"):
                before = prefect_file().read_bytes()
                args = ["deploy", "--prefect-file", str(prefect_file().relative_to(ROOT))]
                for name in names:
                    args += ["--name", name]
                self.prefect(*args, env=self.env(FUND_CYCLE_DIR=str(cycle), FUND_OUT_DIR=str(out),
                                                FUND_DATABASE_URL=product_db))
                if prefect_file().read_bytes() != before:
                    raise CheckFailed("prefect deploy rewrote deploy/prefect.yaml")
                for name in names:
                    self.result.deployments[name] = self.deployment(name)
                self.log("   registered " + ", ".join(f"{self.flow_name(d['flow_id'])}/{d['name']}"
                                                     for d in self.result.deployments.values()))
            cycle_deployment = self.result.deployments[CYCLE_DEPLOYMENT]
            expected = {"cycle_dir": str(cycle), "out_dir": str(out), "db_url": product_db, "lang": "zh",
                        "pause_for_approval": True, "approval_timeout_s": 604800}
            if cycle_deployment["parameters"] != expected:
                raise CheckFailed(f"the cycle deployment's parameters are {cycle_deployment['parameters']}, "
                                  f"expected {expected}")
            with self.step("start worker"):
                self.start_worker()
            with self.step("run cycle deployment (demo)"):
                run = self.run_deployment(cycle_deployment["id"])
                self.result.flow_run = run
                self.log(f"   flow run {run['name']}: {run['state']['type']} "
                         f"(picked up after {run['_queued_s']:.1f} s, ran {run['_running_s']:.1f} s)")
            if self.bad_input:
                with self.step("run on a missing cycle folder"):
                    bad = self.run_deployment(cycle_deployment["id"], {"cycle_dir": str(self.tmp / MISSING_CYCLE),
                                                                       "out_dir": str(self.tmp / "bad-output")})
                    self.result.bad_run = bad
                    self.log(f"   flow run {bad['name']}: {bad['state']['type']}: {bad['state'].get('message')}")
            self.verify(out, product_db)
            return self.result
        finally:
            with self.step("shut down and clean up"):
                self.cleanup()

    def verify(self, out: Path, product_db: str) -> None:
        run, bad = self.result.flow_run, self.result.bad_run
        problems = []
        if run["state"]["type"] != "COMPLETED":
            problems.append(f"the cycle run ended {run['state']['type']}: {run['state'].get('message')}")
        missing = [rel for rel in OUTPUTS if not (out / rel).is_file()]
        if missing:
            problems.append(f"the cycle run did not write {', '.join(missing)} under {out}")
        self.result.outputs = [str(out / rel) for rel in OUTPUTS if (out / rel).is_file()]
        if (out / "fund.db").exists():
            problems.append("the run wrote fund.db: the db_url parameter did not reach the flow")
        self.result.stages = self.product_stages(product_db)
        if not self.result.stages:
            problems.append("no stage rows in the product database")
        cycle = self.result.deployments[CYCLE_DEPLOYMENT]
        limit = (cycle.get("global_concurrency_limit") or {}).get("limit")
        strategy = (cycle.get("concurrency_options") or {}).get("collision_strategy")
        if (limit, strategy) != (1, "ENQUEUE"):
            problems.append(f"the cycle deployment should run one at a time (limit 1, ENQUEUE); it has {limit}, {strategy}")
        if REPORT_DEPLOYMENT in self.result.deployments:
            schedules = [(s["schedule"].get("cron"), s["schedule"].get("timezone"), s["active"])
                         for s in self.result.deployments[REPORT_DEPLOYMENT]["schedules"]]
            if schedules != [("0 8 * * 1", "Asia/Shanghai", True)]:
                problems.append(f"the weekly report should run Mondays 08:00 Asia/Shanghai; its schedules are {schedules}")
        if bad and (bad["state"]["type"] != "FAILED" or MISSING_CYCLE not in (bad["state"].get("message") or "")):
            problems.append(f"a run on a missing cycle folder should fail naming it; it ended "
                            f"{bad['state']['type']}: {bad['state'].get('message')}")
        engine_errors = [line.strip() for s in self.services if s.name == "worker"
                         for line in s.log.read_text(encoding="utf-8", errors="replace").splitlines()
                         if "Engine execution exited with unexpected exception" in line]
        if engine_errors:
            # the run's state is right, but the flow-run process ended on a traceback (in the worker log)
            self.result.warnings += [f"worker log: {line}" for line in engine_errors]
        if problems:
            raise CheckFailed("\n".join(problems) + ("\n" + self.logs() if run["state"]["type"] != "COMPLETED" else ""))

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
    parser.add_argument("--database-url", default=os.environ.get("FUND_TEST_DATABASE_URL"),
                        help="a PostgreSQL database on the server to use (default: $FUND_TEST_DATABASE_URL); "
                             "the check creates and drops its own databases there")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (logs, outputs)")
    parser.add_argument("--no-bad-input", dest="bad_input", action="store_false",
                        help="skip the run on a missing cycle folder")
    args = parser.parse_args(argv)
    if not args.database_url:
        print("set FUND_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) "
              "or pass --database-url", file=sys.stderr)
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
