"""What an administrator sees while `fund run` works: each stage's line the moment the stage
ends (also through a pipe, without terminal control characters), a live display of where
the run is on a terminal, `--quiet`, and what to do next."""

from __future__ import annotations

import datetime as dt
import os
import pty
import re
import select
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fund.cli.cycle import demo_folder

FUND = [sys.executable, "-m", "fund"]
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # anything but tab and newline


@pytest.fixture
def api_environment(prefect_server, tmp_path) -> dict:
    """A `fund` subprocess on the session's test server (no temporary server to wait for)."""
    from prefect.settings import get_current_settings

    return dict(os.environ, PREFECT_API_URL=str(get_current_settings().api.url))


@pytest.fixture
def cycle(tmp_path) -> Path:
    return Path(shutil.copytree(demo_folder(), tmp_path / "cycle"))


def test_piped_lines_arrive_as_each_stage_ends(cycle, tmp_path, api_environment):
    out = tmp_path / "out"
    run = subprocess.Popen(
        FUND + ["run", str(cycle), "--out", str(out)], env=api_environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    arrivals: list[tuple[dt.datetime, bytes]] = []
    for line in iter(run.stdout.readline, b""):
        arrivals.append((dt.datetime.now(dt.timezone.utc), line))
    stderr = run.stderr.read()
    assert run.wait(timeout=600) == 0, stderr
    text = b"".join(line for _, line in arrivals).decode("utf-8")
    assert not CONTROL.search(text) and not CONTROL.search(stderr.decode("utf-8")), repr(text[:200])
    first_stage = next(at for at, line in arrivals if line.decode("utf-8").startswith("✓ 申报受理"))
    with sqlite3.connect(out / "fund.db") as db:  # the report stage starts when tracking has finished
        tracking_done = db.execute("select finished_at from stagerun where stage = 'tracking'").fetchone()[0]
    tracking_done = dt.datetime.strptime(tracking_done, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    assert first_stage < tracking_done - dt.timedelta(seconds=1), (first_stage, tracking_done)
    assert text.rstrip().splitlines()[-1].startswith("下一步：领导报告")


def read_terminal(master: int, process: subprocess.Popen, seconds: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif process.poll() is not None:
            break
    return seen


def test_a_terminal_shows_where_the_run_is(cycle, tmp_path, api_environment):
    master, slave = pty.openpty()
    run = subprocess.Popen(
        FUND + ["run", str(cycle), "--out", str(tmp_path / "out")],
        env=api_environment,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    try:
        screen = read_terminal(master, run, 600).decode("utf-8", errors="replace")
        run.wait(timeout=60)
    finally:
        os.close(master)
    assert run.returncode == 0, screen[-2000:]
    # the live display's own words (never part of a stage line): the stage in progress and its step
    assert "申报受理 · 数据质量检查：proposals（44 行）" in screen, screen[:3000]
    assert "资金分配 · 求解资金分配" in screen
    assert "\x1b[" in screen  # drawn and erased with terminal codes
    assert "✓ 领导报告" in screen and "下一步" in screen


def test_quiet_prints_only_problems_and_what_to_do_next(cycle, tmp_path, api_environment):
    (cycle / "reviewers.csv").unlink()
    done = subprocess.run(
        FUND + ["run", str(cycle), "--out", str(tmp_path / "out"), "--quiet"],
        env=api_environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"下一步：把评审专家名单 reviewers.csv 放入 {cycle}，然后再运行：fund run {cycle} --out {tmp_path / 'out'}"
    ]


def test_next_steps_name_the_reviewers_to_chase(cycle, tmp_path, api_environment):
    (cycle / "scores" / "R02.csv").unlink()
    done = subprocess.run(
        FUND + ["run", str(cycle), "--out", str(tmp_path / "out"), "--lang", "en"],
        env=api_environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    chase = next(line for line in lines if line.startswith("Next: send the sheets in"))
    assert "R02 (" in chase and "/scores/" in chase
    status = subprocess.run(
        FUND + ["status", str(cycle), "--out", str(tmp_path / "out"), "--lang", "en"],
        env=api_environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 0, status.stderr
    assert "waiting for reviewer R02 to score" in status.stdout and "Next: send the sheets in" in status.stdout
