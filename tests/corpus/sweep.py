"""Every corpus case through the real command, end to end: `fund run` on the baseline cycle
with the case's input in place, on one temporary Prefect server.

    python tests/corpus/sweep.py [--only NAME_PART] [--list]

For each case it checks the exit code (`Case.exit_code`: 2 for a bad cycle.toml or FUND_*
variable, 1 when the input stops its stage, 0 otherwise) and that no traceback or internal
error reached the user, and prints the counts. Row accounting (every row accepted or
rejected, none silently dropped) is checked per case, exactly, by tests/test_corpus.py.
Slow (a few seconds per case), so it is not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="fund-sweep-prefect-"))
for key, value in {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "False",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
}.items():
    os.environ[key] = value

from typer.testing import CliRunner  # noqa: E402

from corpus.cases import CASES  # noqa: E402
from test_corpus import build_cycle  # noqa: E402

TRACEBACK_SIGNS = ("Traceback (most recent call last)", "internal error", "内部错误")


def say(text: str) -> None:
    """To the real stdout (the command runner swaps sys.stdout while a case runs)."""
    sys.__stdout__.write(text + "\n")
    sys.__stdout__.flush()


def run_case(case, base: Path) -> dict:
    from fund.cli import app

    cycle = build_cycle(base, case)
    saved = {k: os.environ.get(k) for k in (case.env or {})}
    os.environ.update(case.env or {})
    try:
        result = CliRunner().invoke(app, ["run", str(cycle), "--out", str(base / "out")])
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    text = result.stdout + (result.stderr or "")
    uncaught = result.exception is not None and not isinstance(result.exception, SystemExit)
    return {"exit": result.exit_code, "traceback": uncaught or any(s in text for s in TRACEBACK_SIGNS), "text": text}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only cases whose name contains this")
    parser.add_argument("--list", action="store_true", help="print every case's outcome")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or args.only in c.name]
    from prefect.testing.utilities import prefect_test_harness

    wrong, tracebacks, started = [], [], time.perf_counter()
    with prefect_test_harness(server_startup_timeout=120):
        for case in cases:
            with tempfile.TemporaryDirectory(prefix="fund-sweep-") as folder:
                outcome = run_case(case, Path(folder))
            if outcome["exit"] != case.exit_code:
                wrong.append((case.name, case.exit_code, outcome["exit"], outcome["text"][-300:]))
            if outcome["traceback"]:
                tracebacks.append((case.name, outcome["text"][-300:]))
            if args.list:
                say(f"{case.name}: exit {outcome['exit']} (expected {case.exit_code})")
    for name, expected, got, text in wrong:
        say(f"WRONG EXIT {name}: expected {expected}, got {got}\n{text}\n")
    for name, text in tracebacks:
        say(f"TRACEBACK {name}\n{text}\n")
    say(
        f"{len(cases)} cases in {time.perf_counter() - started:.0f} s: {len(tracebacks)} with a traceback or internal "
        f"error, {len(wrong)} with a wrong exit code"
    )
    return 1 if wrong or tracebacks else 0


if __name__ == "__main__":
    sys.exit(main())
