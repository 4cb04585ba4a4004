"""The runtime as a user lives it: `fund run` in processes of its own, each starting its own
temporary Prefect server, on a busy machine; killed, interrupted, given a folder or a
database it cannot use. Nothing may print a traceback or leave a server running."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fund.cli.cycle import demo_folder

FUND = [sys.executable, "-m", "fund"]


def server_processes(home: Path | None = None) -> set[int]:
    """Temporary Prefect servers started by fund (any parent; of one PREFECT_HOME when given)."""
    found = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                command = (proc / "cmdline").read_bytes().split(b"\0")
                environment = (proc / "environ").read_bytes().split(b"\0") if home else []
            except OSError:
                continue
            if b"fund.runtime.temporary_server" in command and (home is None or f"PREFECT_HOME={home}".encode() in environment):
                found.add(int(proc.name))
    return found


def no_server_left(before: set[int], within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not server_processes() - before:
            return True
        time.sleep(0.2)
    return False


def own_environment(home: Path, **extra) -> dict:
    """A `fund` of its own: no PREFECT_API_URL (it starts its temporary server), this PREFECT_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update({"PREFECT_HOME": str(home), "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "1"}, **extra)
    return env


@pytest.fixture(scope="module")
def cycle(tmp_path_factory) -> Path:
    """The demo's intake only (no reviewer list yet): what is tested here is Prefect's start-up
    and stop around a run, not the stages."""
    folder = Path(shutil.copytree(demo_folder(), tmp_path_factory.mktemp("runtime") / "cycle"))
    (folder / "reviewers.csv").unlink()
    return folder


@pytest.fixture(scope="module")
def warm_home(tmp_path_factory) -> Path:
    """A PREFECT_HOME whose database is already migrated (the first start is the slow one)."""
    from fund.runtime.prefect_api import TemporaryServer

    home = tmp_path_factory.mktemp("prefect-home")
    with TemporaryServer(home, 600, "en") as server:
        server.wait_until_ready()
    return home


def test_three_runs_at_once_on_a_busy_machine(cycle, tmp_path):
    """Three first runs, each with a fresh PREFECT_HOME (Prefect migrates its database),
    while two processes keep both cores busy: all finish, no traceback, no server left."""
    before = server_processes()
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        runs = [
            subprocess.Popen(
                FUND + ["run", str(cycle), "--out", str(tmp_path / f"out{i}")],
                env=own_environment(tmp_path / f"home{i}"),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for i in range(3)
        ]
        outputs = [run.communicate(timeout=900)[0] for run in runs]
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    for run, output in zip(runs, outputs):
        assert run.returncode == 0, output
        assert "Traceback" not in output and "✓ 申报受理" in output and "等待评审专家名单" in output, output
    assert no_server_left(before)
    first = (tmp_path / "out0" / "validation" / "rejected.csv").read_bytes()
    assert all((tmp_path / f"out{i}" / "validation" / "rejected.csv").read_bytes() == first for i in (1, 2))


def start_run(cycle: Path, out: Path, home: Path) -> subprocess.Popen:
    return subprocess.Popen(
        FUND + ["run", str(cycle), "--out", str(out)],
        env=own_environment(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_server(before: set[int], run: subprocess.Popen) -> int:
    for _ in range(600):
        new = server_processes() - before
        if new:
            return new.pop()
        assert run.poll() is None, run.stdout.read()
        time.sleep(0.1)
    raise AssertionError("no temporary server started")


def test_a_killed_fund_leaves_no_server(cycle, tmp_path, warm_home):
    before = server_processes()
    run = start_run(cycle, tmp_path / "out", warm_home)
    server = wait_for_server(before, run)
    time.sleep(1)
    run.kill()  # SIGKILL: fund cannot clean up; the server notices
    run.wait()
    assert no_server_left(before, within=10), f"server {server} outlived its parent"


@pytest.fixture(scope="module")
def long_cycle(tmp_path_factory) -> Path:
    """3,000 proposals and no reviewer list: intake alone takes seconds, so a signal sent once
    its quality gate has begun lands inside the stage, however fast the machine."""
    from fund.data.generate import generate_cycle

    folder = generate_cycle(tmp_path_factory.mktemp("long") / "cycle", proposals=3000, seed=7, scores=False)
    (folder / "reviewers.csv").unlink()
    return folder


def test_sigterm_stops_the_run_in_one_sentence(long_cycle, tmp_path, warm_home):
    before = server_processes()
    out = tmp_path / "out"
    run = start_run(long_cycle, out, warm_home)
    for _ in range(1200):  # intake's quality gate writes quality/ mid-stage
        if (out / "quality").exists() or run.poll() is not None:
            break
        time.sleep(0.05)
    assert run.poll() is None, run.stdout.read()
    run.send_signal(signal.SIGTERM)
    output = run.communicate(timeout=60)[0]
    assert run.returncode == 130, output
    assert "已中断" in output and "Traceback" not in output and "✓ 申报受理" not in output, output
    assert no_server_left(before)
    rerun = start_run(long_cycle, out, warm_home)  # and the next run finishes what was interrupted
    output = rerun.communicate(timeout=600)[0]
    assert rerun.returncode == 0 and "✓ 申报受理: 申报 3000 项：受理 3000 项" in output, output
    assert no_server_left(before)


def test_server_start_that_times_out_is_one_paragraph(cycle, tmp_path):
    """A server that does not answer within the bound (5 s; here it sleeps 30 s before it starts,
    as a first start on a very busy machine may): the wait ends, the server is stopped."""
    slow = tmp_path / "slow-server"
    slow.mkdir()
    (slow / "sitecustomize.py").write_text(
        "import os, time\nif os.environ.get('PREFECT__SERVER_EPHEMERAL') == '1':\n    time.sleep(30)\n", encoding="utf-8"
    )
    pythonpath = os.pathsep.join(filter(None, [str(slow), os.environ.get("PYTHONPATH")]))
    before = server_processes()
    done = subprocess.run(
        FUND + ["run", str(cycle), "--out", str(tmp_path / "out"), "--lang", "en"],
        capture_output=True,
        text=True,
        env=own_environment(tmp_path / "fresh", FUND_PREFECT_START_TIMEOUT="5", PYTHONPATH=pythonpath),
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "was not ready within 5 s" in done.stderr and "Traceback" not in done.stdout + done.stderr
    assert no_server_left(before)


# -- what the user cannot use: one sentence, the right exit code, nothing left behind --------------


def fund_quick(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(FUND + list(args), capture_output=True, text=True, env=env, timeout=300)


def test_an_output_folder_that_cannot_be_written(cycle, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    done = fund_quick("run", str(cycle), "--out", str(blocker / "out"), "--lang", "en")
    assert done.returncode == 1
    assert done.stderr.startswith(f"The output folder {blocker / 'out'} cannot be written")
    assert "Traceback" not in done.stderr


def test_a_prefect_home_that_cannot_be_written(cycle, tmp_path):
    blocker = tmp_path / "home-file"
    blocker.write_text("x")
    before = server_processes()
    done = fund_quick("run", str(cycle), "--out", str(tmp_path / "out"), "--lang", "en", env=own_environment(blocker / "home"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "The Prefect home folder" in done.stderr and "cannot be written" in done.stderr
    assert no_server_left(before)


@pytest.mark.parametrize(
    "url, code, words",
    [
        ("not a url", 2, "--db is not a usable database URL"),
        ("nosuchdb://x/y", 2, "--db is not a usable database URL"),
        ("postgresql+psycopg://nobody:secret@127.0.0.1:1/none", 1, "Cannot connect to the database"),
    ],
)
def test_a_database_that_cannot_be_used(cycle, tmp_path, url, code, words):
    done = fund_quick("run", str(cycle), "--out", str(tmp_path / "out"), "--db", url, "--lang", "en")
    assert done.returncode == code, done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr
    assert "secret" not in done.stderr  # never the password


@pytest.mark.parametrize(
    "api, code, words",
    [
        ("http://127.0.0.1:1/api", 1, "does not answer"),
        ("not-a-url", 2, "PREFECT_API_URL is not a usable address"),
    ],
)
def test_a_prefect_api_that_does_not_answer(cycle, tmp_path, api, code, words):
    done = fund_quick(
        "run",
        str(cycle),
        "--out",
        str(tmp_path / "out"),
        "--lang",
        "en",
        env=own_environment(tmp_path / "home", PREFECT_API_URL=api),
    )
    assert done.returncode == code, done.stdout + done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "validation").exists()  # nothing was run


def test_local_server_on_a_port_in_use(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        done = fund_quick(
            "server", "start", "--port", str(taken.getsockname()[1]), "--lang", "en", env=own_environment(tmp_path / "home")
        )
    finally:
        taken.close()
    assert done.returncode == 1 and "is already in use" in done.stderr


def test_an_internal_error_stays_with_its_run(cycle, tmp_path, monkeypatch):
    """A defect's details go into the run's own output folder, in a file of its own (main() is
    what the console script runs)."""
    from fund.cli import main

    def broken(*_args, **_kwargs):
        raise RuntimeError("a defect")

    monkeypatch.setattr("fund.cli.cycle.settled", broken)
    monkeypatch.setattr(sys, "argv", ["fund", "run", str(cycle), "--out", str(tmp_path / "out"), "--lang", "en"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 1
    logs = list((tmp_path / "out" / "logs").glob("fund-error-*.log"))
    assert len(logs) == 1 and "RuntimeError: a defect" in logs[0].read_text(encoding="utf-8")
