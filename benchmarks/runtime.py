"""What a `fund run` costs before and around its work, on the bundled demo cycle.

    python benchmarks/runtime.py [--repeat 3] [--out benchmarks/results/runtime.json]

Each measurement is a fresh `fund` process, timed from its first line of Python to its exit
(the interpreter's own start, about 0.05 s, is not included):
- cold demo: a new PREFECT_HOME (Prefect migrates its database) and a new output folder;
- first run: an existing PREFECT_HOME (the temporary server starts on a migrated database);
- first run on a long-lived local server (`fund server start` running);
- rerun with nothing changed, and its ratio to the first run;
- the fixed cost of a run, from the progress events of the first runs: start-up until the
  first stage starts (imports, temporary server), Prefect between the stages (stage
  subflows, artifacts, the quality summary and Data Docs), and shutdown after the last.
The medians go to the JSON file and are printed as a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def child(events_path: str, argv: list[str]) -> None:
    """Run `fund` in this process, writing when each progress event happened."""
    started = time.monotonic()
    from fund.runtime import progress

    events = []

    def note(event):
        events.append(
            {
                "kind": event.kind,
                "stage": event.stage,
                "at": event.at - started,
                "outcome": event.result.outcome if event.result else None,
            }
        )

    sys.argv = ["fund", *argv]
    from fund.cli import main

    try:
        with progress.listening(note):
            main()
    except SystemExit as exit_:
        code = exit_.code
    else:
        code = 0
    events.append({"kind": "exit", "at": time.monotonic() - started, "code": code})
    Path(events_path).write_text(json.dumps(events), encoding="utf-8")
    sys.exit(code or 0)


def timed_run(argv: list[str], env: dict) -> list[dict]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        path = handle.name
    done = subprocess.run([sys.executable, __file__, "--child", path, "--", *argv], env=env, capture_output=True, text=True)
    events = json.loads(Path(path).read_text(encoding="utf-8"))
    os.unlink(path)
    if done.returncode != 0:
        raise SystemExit(f"fund {' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
    return events


def fixed_cost(events: list[dict]) -> dict:
    starts = [e["at"] for e in events if e["kind"] == "stage_started"]
    ends = [e["at"] for e in events if e["kind"] == "stage_finished" and e["stage"] != "outputs"]
    total = events[-1]["at"]
    between = sum(max(0.0, s - e) for s, e in zip(starts[1:], ends))
    return {
        "start_up": starts[0] if starts else total,
        "between_stages": between,
        "shutdown": total - ends[-1] if ends else 0.0,
        "total": total,
    }


def measure(repeat: int) -> dict:
    from fund.cli.cycle import demo_folder

    base = Path(tempfile.mkdtemp(prefix="fund-runtime-bench-"))
    cycle = Path(shutil.copytree(demo_folder(), base / "cycle"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    results: dict[str, list[float]] = {"cold_demo": [], "first_run": [], "first_run_local_server": [], "noop_rerun": []}
    costs = []
    try:
        for i in range(repeat):
            fresh = dict(env, PREFECT_HOME=str(base / f"fresh-home-{i}"))
            results["cold_demo"].append(timed_run(["demo", "--out", str(base / f"demo-{i}"), "-q"], fresh)[-1]["at"])
        home = dict(env, PREFECT_HOME=str(base / "home"))
        timed_run(["run", str(cycle), "--out", str(base / "warm-up"), "-q"], home)
        for i in range(repeat):
            out = base / f"first-{i}"
            events = timed_run(["run", str(cycle), "--out", str(out), "-q"], home)
            results["first_run"].append(events[-1]["at"])
            costs.append(fixed_cost(events))
            results["noop_rerun"].append(timed_run(["run", str(cycle), "--out", str(out), "-q"], home)[-1]["at"])
        subprocess.run(
            [sys.executable, "-m", "fund", "server", "start", "--port", "4377"], env=home, check=True, capture_output=True
        )
        try:
            for i in range(repeat):
                out = base / f"served-{i}"
                results["first_run_local_server"].append(timed_run(["run", str(cycle), "--out", str(out), "-q"], home)[-1]["at"])
        finally:
            subprocess.run([sys.executable, "-m", "fund", "server", "stop"], env=home, capture_output=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    medians = {k: round(statistics.median(v), 2) for k, v in results.items()}
    medians["noop_ratio"] = round(medians["noop_rerun"] / medians["first_run"], 3)
    medians["fixed_cost"] = {k: round(statistics.median(c[k] for c in costs), 2) for k in costs[0]}
    medians["runs"] = {k: [round(x, 2) for x in v] for k, v in results.items()}
    return medians


def main() -> None:
    if "--child" in sys.argv:
        index = sys.argv.index("--child")
        child(sys.argv[index + 1], sys.argv[sys.argv.index("--") + 1 :])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "runtime.json")
    args = parser.parse_args()
    found = measure(args.repeat)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(found, indent=1), encoding="utf-8")
    cost = found["fixed_cost"]
    print("| measurement | seconds (median of %d) |" % args.repeat)
    print("|---|---|")
    for key, label in (
        ("cold_demo", "demo, cold (new PREFECT_HOME)"),
        ("first_run", "first run (temporary server)"),
        ("first_run_local_server", "first run (fund server start)"),
        ("noop_rerun", "rerun, nothing changed"),
    ):
        print(f"| {label} | {found[key]} |")
    print(f"| rerun / first run | {found['noop_ratio']} |")
    print(
        f"| fixed cost: start-up / between stages / shutdown | {cost['start_up']} / {cost['between_stages']} / {cost['shutdown']} |"
    )


if __name__ == "__main__":
    main()
