"""The Prefect API a `fund` command talks to, and the life of the local server behind it.

In this order:
1. `PREFECT_API_URL` is set (in the environment or the active Prefect profile): a server
   that someone runs (a deployment). It must answer, or the command stops in one sentence.
2. `fund server start` started a long-lived local server for this `PREFECT_HOME` and it
   answers: it is used (runs, artifacts and schedules stay visible in its UI, and a run
   skips the start-up wait).
3. Otherwise the command starts a temporary server of its own (Prefect's API, no UI, marked
   `PREFECT__SERVER_EPHEMERAL=1` like Prefect's own) and stops it when it ends: on a normal
   exit, an error, Ctrl-C or SIGTERM here, and after a SIGKILL of `fund` the server itself
   notices that its parent is gone (`fund.runtime.temporary_server`). The start-up of one
   `PREFECT_HOME` is serialised (a first start migrates Prefect's database), the wait is
   bounded (`FUND_PREFECT_START_TIMEOUT`, default 300 s) and a start that fails or times out
   stops the server and says so in one paragraph.

Nothing here imports Prefect: the server starts first, and Prefect, the stages and Great
Expectations load while it boots.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from fund.runtime.errors import check_writable
from fund.runtime.messages import text

DEFAULT_API_URL = "http://127.0.0.1:4200/api"
RECORD = "fund-server.json"  # the long-lived local server of a PREFECT_HOME
MARKER = {
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_FINAL": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}


class RuntimeProblem(Exception):
    """A runtime condition the user must fix; the message is already in their language.
    `code` is the exit status (1 stopped, 2 bad setting)."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def prefect_home() -> Path:
    return Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()


def start_timeout() -> float:
    from fund.settings import SettingsError, load_settings

    try:
        return load_settings().prefect_start_timeout
    except SettingsError as exc:
        raise RuntimeProblem(exc.text(), 2) from None


def configured_api_url() -> str | None:
    """PREFECT_API_URL as Prefect would see it: already-loaded Prefect settings (tests, a
    flow run), else the environment, else the active profile of PREFECT_HOME."""
    if "prefect.settings" in sys.modules:
        from prefect.settings import get_current_settings

        return get_current_settings().api.url
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    profiles = Path(os.environ.get("PREFECT_PROFILES_PATH") or prefect_home() / "profiles.toml").expanduser()
    try:
        data = tomllib.loads(profiles.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or data.get("active")
    return ((data.get("profiles") or {}).get(active) or {}).get("PREFECT_API_URL")


def normalise_api_url(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/api") else f"{url}/api"


def health(url: str, timeout: float = 5.0) -> str | None:
    """None when a Prefect API answers at `url`, else the reason it does not."""
    import httpx

    try:
        loopback = httpx.URL(url).host in ("127.0.0.1", "localhost", "::1")
        response = httpx.get(f"{url}/health", timeout=timeout, trust_env=not loopback)  # no proxy for loopback
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if response.status_code != 200:
        return f"/health answered HTTP {response.status_code}, this is not a Prefect API"
    return None


def check_api(url: str, lang: str) -> str:
    import httpx

    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise RuntimeProblem(text("api_url_malformed", lang, url=url), 2)
    url = normalise_api_url(url)
    reason = health(url)
    if reason:
        raise RuntimeProblem(text("api_unreachable", lang, url=url, reason=reason))
    return url


def local_server(home: Path | None = None) -> dict | None:
    """The record of the long-lived local server of PREFECT_HOME, when it is alive and answers."""
    home = home or prefect_home()
    try:
        record = json.loads((home / RECORD).read_text(encoding="utf-8"))
        os.kill(int(record["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record if health(record["api_url"], timeout=2.0) is None else None


def check_home(home: Path, lang: str) -> None:
    reason = check_writable(home)
    if reason:
        raise RuntimeProblem(text("home_not_writable", lang, home=home, reason=reason))


class PrefectApi:
    """The API of this command: `url`, and `ready()` to wait for a server still starting."""

    def __init__(self, url: str, server: "TemporaryServer | None" = None):
        self.url, self.server = url, server

    def ready(self) -> str:
        if self.server is not None:
            self.server.wait_until_ready()
            self.server = None
        return self.url


@contextmanager
def prefect_api(lang: str) -> Iterator[PrefectApi]:
    """The Prefect API for this command, with PREFECT_API_URL set for Prefect's client. A
    temporary server is started here (call `ready()` before the first flow: the caller
    loads its modules meanwhile) and stopped when the block ends."""
    configured = configured_api_url()
    if configured:
        yield PrefectApi(check_api(configured, lang))
        return
    home = prefect_home()
    record = local_server(home)
    if record:
        with api_url_in_environment(record["api_url"]):
            yield PrefectApi(record["api_url"])
        return
    check_home(home, lang)
    server = TemporaryServer(home, start_timeout(), lang)
    with server, api_url_in_environment(server.api_url):
        yield PrefectApi(server.api_url, server)


def server_api_url(lang: str) -> str | None:
    """The API of a long-lived Prefect server this command can reach (the configured one, else
    the one `fund server start` started), or None: only a temporary server could be had."""
    configured = configured_api_url()
    if configured:
        return check_api(configured, lang)
    record = local_server(prefect_home())
    return record["api_url"] if record else None


@contextmanager
def api_url_in_environment(url: str) -> Iterator[None]:
    before = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = url
    try:
        yield
    finally:
        drain_prefect_clients()
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before


def drain_prefect_clients() -> None:
    """Let Prefect's background senders (events, API logs) finish while the server is up."""
    if "prefect.events.worker" in sys.modules:
        from prefect.events.worker import EventsWorker

        EventsWorker.drain_all(timeout=5)
    if "prefect.logging.handlers" in sys.modules:
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=5)


class TemporaryServer:
    """Prefect's API for one command, in a process that cannot outlive this one."""

    def __init__(self, home: Path, timeout: float, lang: str):
        self.home, self.timeout, self.lang = home, timeout, lang
        self.log = home / "fund-logs" / f"temporary-server-{os.getpid()}.log"
        self.process: subprocess.Popen | None = None
        self.startup_lock: int | None = None
        self.previous_handlers: dict[int, object] = {}
        self.api_url = ""
        self.deadline = 0.0

    def __enter__(self) -> "TemporaryServer":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        # one start at a time per PREFECT_HOME: a first start migrates Prefect's database
        self.deadline = time.monotonic() + self.timeout
        self.startup_lock = os.open(self.home / ".fund-server-start.lock", os.O_CREAT | os.O_RDWR, 0o644)
        while True:
            try:
                fcntl.flock(self.startup_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > self.deadline:
                    raise RuntimeProblem(
                        text("server_start_timeout", self.lang, seconds=int(self.timeout), log=self.log)
                    ) from None
                time.sleep(0.2)
        listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listening.bind(("127.0.0.1", 0))
        listening.listen(128)
        listening.set_inheritable(True)
        self.api_url = f"http://127.0.0.1:{listening.getsockname()[1]}/api"
        environment = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | MARKER
        self.stop_on_signals()
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "fund.runtime.temporary_server",
                    "--fd",
                    str(listening.fileno()),
                    "--parent",
                    str(os.getpid()),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
                pass_fds=(listening.fileno(),),
                start_new_session=True,
            )  # Ctrl-C reaches fund, which stops it
        listening.close()
        return self

    def wait_until_ready(self) -> None:
        try:
            while (reason := health(self.api_url, timeout=5.0)) is not None:
                if self.process.poll() is not None:
                    raise RuntimeProblem(
                        text("server_exited", self.lang, code=self.process.returncode, tail=self.log_tail(), log=self.log)
                    )
                if time.monotonic() > self.deadline:
                    raise RuntimeProblem(text("server_start_timeout", self.lang, seconds=int(self.timeout), log=self.log))
                time.sleep(0.1 if "ConnectError" in reason else 0.5)
        finally:
            fcntl.flock(self.startup_lock, fcntl.LOCK_UN)

    def log_tail(self) -> str:
        return self.read_tail(self.log)

    @staticmethod
    def read_tail(log: Path) -> str:
        try:
            lines = [line for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
        except OSError:
            return ""
        return " / ".join(lines[-3:])[-600:]

    def stop_on_signals(self) -> None:
        """SIGTERM or SIGHUP to fund end it like Ctrl-C does: through the `finally` blocks."""

        def interrupt(signum, _frame):
            raise KeyboardInterrupt(signal.Signals(signum).name)

        for signum in (signal.SIGTERM, signal.SIGHUP):
            try:
                self.previous_handlers[signum] = signal.signal(signum, interrupt)
            except ValueError:  # not the main thread: the caller handles signals
                pass

    def __exit__(self, *exc_info) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            if exc_info[0] is None:
                process.terminate()  # a graceful stop after a normal run…
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
            else:
                process.kill()  # …and no waiting on a server that failed or was interrupted
            process.wait()
        for signum, handler in self.previous_handlers.items():
            signal.signal(signum, handler)
        if self.startup_lock is not None:
            os.close(self.startup_lock)
            self.startup_lock = None
        if exc_info[0] is None:
            self.log.unlink(missing_ok=True)


# ------------------------------------------------------------------- the long-lived local server


def start_local_server(port: int, lang: str) -> dict:
    """`prefect server start` (with its UI) for this PREFECT_HOME, in the background, recorded
    in PREFECT_HOME so that later fund commands use it; returns its record."""
    home = prefect_home()
    running = local_server(home)
    if running:
        return running
    check_home(home, lang)
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.bind(("127.0.0.1", port))
    except OSError:
        raise RuntimeProblem(text("port_in_use", lang, port=port)) from None
    finally:
        probe.close()
    log = home / "fund-logs" / "local-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    environment = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )
    record = {
        "pid": process.pid,
        "port": port,
        "api_url": f"http://127.0.0.1:{port}/api",
        "ui_url": f"http://127.0.0.1:{port}",
        "log": str(log),
        "home": str(home),
    }
    deadline = time.monotonic() + start_timeout()
    while health(record["api_url"], timeout=5.0) is not None:
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)
            tail = TemporaryServer.read_tail(log)
            raise RuntimeProblem(text("server_start_failed", lang, tail=tail, log=log))
        time.sleep(0.3)
    (home / RECORD).write_text(json.dumps(record, indent=1), encoding="utf-8")
    return record


def stop_local_server() -> dict | None:
    """Stop the long-lived local server of this PREFECT_HOME (its record, or None if none ran)."""
    home = prefect_home()
    path = home / RECORD
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    pid = int(record.get("pid", 0))
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            time.sleep(0.1)
            os.kill(pid, 0)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    path.unlink(missing_ok=True)
    return record
