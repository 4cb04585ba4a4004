"""Benchmarks `fund run` end to end against a bare pandas/HiGHS baseline.

    python benchmarks/run.py [--sizes 1000 10000 100000] [--seed 2026] [--timeout 900]

For each size: generate a cycle (cached under benchmarks/results/cycles/), time
`fund run CYCLE --out OUT` in a subprocess with Prefect in its ephemeral mode and a
fresh PREFECT_HOME, measure its peak RSS, read the per-stage times and the number of
Prefect task runs from the ephemeral server's own database (it stays in PREFECT_HOME
after the run), then time `benchmarks/baseline.py` on the same folder and check that
both give the same final scores and the same funded set. The cold start is measured
separately on the bundled demo cycle, and the task-run count is cross-checked in
process under `prefect_test_harness` for the two smallest sizes.

Writes benchmarks/results/results.{csv,md,json}; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
CYCLES = RESULTS / "cycles"
RUNS = RESULTS / "runs"
STAGES = ("intake", "assignment", "scoring", "allocation", "publication")
PAGE = os.sysconf("SC_PAGE_SIZE")
SETTLE_SECONDS = 60.0  # wait at most this long for a quiet machine before each timed run


# ---------------------------------------------------------------- commands and environment


def fund_command() -> list[str]:
    """`fund` from the interpreter's environment (the project installed), else `python -m fund`."""
    script = Path(sys.executable).with_name("fund")
    return [str(script)] if script.exists() else [sys.executable, "-m", "fund"]


def fresh_env(prefect_home: Path) -> dict[str, str]:
    """The caller's environment with a private PREFECT_HOME and Prefect forced into its
    ephemeral mode (a temporary local server started and stopped by the run itself)."""
    env = dict(os.environ)
    for key in ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH"):
        env.pop(key, None)
    env.update(
        {
            "PREFECT_HOME": str(prefect_home),
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "GX_ANALYTICS_ENABLED": "False",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def generator_fingerprint() -> str:
    source = ROOT / "data" / "generate.py"
    return hashlib.sha256(source.read_bytes()).hexdigest()[:16] if source.exists() else "unknown"


def ensure_cycle(size: int, seed: int, regenerate: bool = False) -> tuple[Path, float | None]:
    """The cached cycle folder for (size, seed), generated when missing. Returns (folder,
    seconds spent generating or None when cached)."""
    folder = CYCLES / f"n{size}-s{seed}"
    stamp = CYCLES / f"n{size}-s{seed}.generator"
    if folder.is_dir() and not regenerate:
        if stamp.exists() and stamp.read_text().strip() != generator_fingerprint():
            print(f"  note: {folder.name} was made by another version of data/generate.py; --regenerate to refresh")
        return folder, None
    CYCLES.mkdir(parents=True, exist_ok=True)
    temp = CYCLES / f".tmp-n{size}-s{seed}"
    shutil.rmtree(temp, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "fund.data.generate", str(temp), "--proposals", str(size), "--seed", str(seed)],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - started
    shutil.rmtree(folder, ignore_errors=True)
    temp.rename(folder)
    stamp.write_text(generator_fingerprint() + "\n")
    return folder, seconds


# ---------------------------------------------------------------- measuring one subprocess


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as handle:
        v = [int(x) for x in handle.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) / os.sysconf("SC_CLK_TCK")


def settle(max_wait: float, quiet: float = 0.8) -> float:
    """Wait (at most max_wait s) for the 1-minute load average to fall below `quiet`; returns it."""
    deadline = time.monotonic() + max_wait
    while os.getloadavg()[0] >= quiet and time.monotonic() < deadline:
        time.sleep(5)
    return round(os.getloadavg()[0], 2)


def source_fingerprint() -> str:
    """Identifies the product code a run imports (its .py files), to spot edits between runs."""
    digest = hashlib.sha256()
    for folder in ("flows", "tasks", "schemas", "data"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def tree_rss(root: int) -> int:
    """Resident bytes of a process and all its descendants, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


def measure(command: list[str], env: dict[str, str], log: Path, timeout: float | None, cwd: Path) -> dict:
    """Run one command in its own session; wall seconds, exit status, peak RSS.

    `peak_rss_mb` is ru_maxrss from wait4() on the child: the largest peak of any single
    process in its tree (what getrusage(RUSAGE_CHILDREN) reports). `tree_rss_mb` is the
    largest sum over the whole tree (the fund process and Prefect's server subprocess),
    sampled from /proc every 0.2 s. `other_cpu_seconds` is the CPU time the rest of the machine
    used meanwhile (anything well above zero means the timing shared the cores)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    load_before = settle(SETTLE_SECONDS)
    busy_before = busy_cpu_seconds()
    peak_tree = 0
    done = threading.Event()
    timed_out = threading.Event()
    with log.open("wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True)

        def sample() -> None:
            nonlocal peak_tree
            while not done.wait(0.2):
                peak_tree = max(peak_tree, tree_rss(process.pid))

        def kill() -> None:
            timed_out.set()
            for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 0)):
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    return
                if done.wait(grace):
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        if timer:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        sampler.join()
    own_cpu = usage.ru_utime + usage.ru_stime
    return {
        "seconds": round(seconds, 2),
        "rc": process.returncode,
        "timed_out": timed_out.is_set(),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "tree_rss_mb": round(peak_tree / 2**20, 1),
        "cpu_seconds": round(own_cpu, 1),
        "other_cpu_seconds": round(max(busy_cpu_seconds() - busy_before - own_cpu, 0), 1),
        "load_before": load_before,
    }


# ---------------------------------------------------------------- what the run recorded


def _when(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def prefect_record(prefect_home: Path, stopped_at: dt.datetime | None = None) -> dict:
    """Flow runs, task runs and their times from the ephemeral server's database."""
    path = prefect_home / "prefect.db"
    if not path.exists():
        return {}
    connection = sqlite3.connect(path)
    try:
        flows = connection.execute(
            "select f.name, r.id, r.start_time, r.end_time, r.state_type, r.parent_task_run_id "
            "from flow_run r join flow f on f.id = r.flow_id order by r.start_time"
        ).fetchall()
        tasks = connection.execute(
            "select id, name, start_time, end_time, state_type, flow_run_id from task_run order by start_time"
        ).fetchall()
    except sqlite3.Error as exc:
        return {"error": str(exc)}
    finally:
        connection.close()
    now = stopped_at or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    wrappers = {row[5] for row in flows if row[5]}
    stages: dict[str, dict] = {}
    cycle = None
    flow_names = {row[1]: row[0] for row in flows}
    for name, run_id, start, end, state, _ in flows:
        start_at, end_at = _when(start), _when(end)
        entry = {
            "seconds": round(((end_at or now) - start_at).total_seconds(), 2) if start_at else None,
            "state": state,
            "finished": end_at is not None,
            "task_seconds": 0.0,
            "tasks": 0,
        }
        if name == "fund-cycle":
            cycle = entry
        else:
            stages[name] = entry
    by_name: dict[str, int] = {}
    for run_id, name, start, end, state, flow_run_id in tasks:
        if run_id in wrappers:
            continue
        base = name.rsplit("-", 1)[0]
        by_name[base] = by_name.get(base, 0) + 1
        stage = stages.get(flow_names.get(flow_run_id, ""), None)
        if stage is not None and start:
            stage["tasks"] += 1
            stage["task_seconds"] = round(stage["task_seconds"] + ((_when(end) or now) - _when(start)).total_seconds(), 2)
    return {
        "flow_runs": len(flows),
        "task_runs": len(tasks),
        "subflow_task_runs": len(wrappers),
        "tasks_by_name": by_name,
        "cycle": cycle,
        "stages": stages,
    }


def stage_outcomes(out_dir: Path) -> dict[str, str]:
    """Outcome per stage from the product's own StageRun table."""
    path = out_dir / "fund.db"
    if not path.exists():
        return {}
    connection = sqlite3.connect(path)
    try:
        return dict(connection.execute("select stage, outcome from stagerun").fetchall())
    except sqlite3.Error:
        return {}
    finally:
        connection.close()


def read_csv_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def same_result(fund_out: Path, base_out: Path) -> str:
    """'yes' when both give the same final score for every proposal and the same funded set."""
    try:
        scores = [
            {r["proposal_id"]: r["final_score"] for r in read_csv_rows(o / "evaluation" / "scores.csv")}
            for o in (fund_out, base_out)
        ]
        funded = [
            {r["proposal_id"] for r in read_csv_rows(o / "allocation" / "allocation.csv") if r["status"] == "funded"}
            for o in (fund_out, base_out)
        ]
    except (OSError, KeyError) as exc:
        return f"n/a ({type(exc).__name__})"
    if scores[0] != scores[1]:
        return f"no: {sum(scores[0].get(k) != v for k, v in scores[1].items())} scores differ"
    if funded[0] != funded[1]:
        return f"no: funded sets differ by {len(funded[0] ^ funded[1])}"
    return "yes"


# ---------------------------------------------------------------- one benchmark


def run_fund(cycle: Path, out: Path, timeout: float | None, label: str) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    home = Path(tempfile.mkdtemp(prefix="fund-bench-prefect-"))
    source = source_fingerprint()
    try:
        result = measure(
            [*fund_command(), "run", str(cycle), "--out", str(out), "--lang", "en"],
            fresh_env(home),
            out.parent / f"{label}.log",
            timeout,
            ROOT,
        )
        result["prefect"] = prefect_record(home, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    result["outcomes"] = stage_outcomes(out)
    result["source"] = source if source == source_fingerprint() else f"{source} (changed during the run)"
    cycle_seconds = (result["prefect"].get("cycle") or {}).get("seconds")
    result["overhead_seconds"] = round(result["seconds"] - cycle_seconds, 2) if cycle_seconds else None
    result["complete"] = result["rc"] == 0 and all(result["outcomes"].get(s) == "done" for s in STAGES)
    return result


def run_baseline(cycle: Path, out: Path, timeout: float | None) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    log = out.parent / "baseline.log"
    result = measure(
        [sys.executable, str(BENCH / "baseline.py"), str(cycle), "--out", str(out)], dict(os.environ), log, timeout, ROOT
    )
    try:
        result["stages"] = json.loads(log.read_text(encoding="utf-8").strip().splitlines()[-1])["seconds"]
    except (OSError, ValueError, IndexError, KeyError):
        result["stages"] = {}
    return result


def harness_counts(cycles: list[Path], timeout: float | None) -> dict:
    """Task runs per cycle counted through the Prefect API, in process (benchmarks/taskruns.py)."""
    if not cycles:
        return {}
    home = Path(tempfile.mkdtemp(prefix="fund-bench-harness-"))
    try:
        done = subprocess.run(
            [sys.executable, str(BENCH / "taskruns.py"), *map(str, cycles)],
            env=fresh_env(home),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        return {str(c): {"error": "timeout"} for c in cycles}
    finally:
        shutil.rmtree(home, ignore_errors=True)
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {str(c): {"error": (done.stderr or done.stdout)[-500:]} for c in cycles}


# ---------------------------------------------------------------- report


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return ""
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def stage_names(rows: list[dict]) -> list[str]:
    """The five contract stages, then any other stage subflow the runs had, in run order."""
    names = list(STAGES)
    for r in rows:
        for name in (r["fund"].get("prefect") or {}).get("stages") or {}:
            if name not in names:
                names.append(name)
    return names


def table_rows(rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    names = stage_names(rows)
    header = [
        "size",
        "fund s",
        "baseline s",
        "ratio",
        "fund peak RSS MB",
        "fund tree RSS MB",
        "baseline peak RSS MB",
        *[f"{s} s" for s in names],
        "between stages s",
        "startup+shutdown s",
        "task runs",
        "flow runs",
        "same result",
        "other CPU s",
        "code",
    ]
    body = []
    for r in rows:
        f, b = r["fund"], r.get("baseline") or {}
        stages = (f.get("prefect") or {}).get("stages", {})
        status = "" if f["complete"] else (" (timeout)" if f["timed_out"] else f" (rc {f['rc']})")
        ratio = f["seconds"] / b["seconds"] if b.get("seconds") and f["complete"] else None
        cycle = ((f.get("prefect") or {}).get("cycle") or {}).get("seconds")
        between = cycle - sum((v or {}).get("seconds") or 0 for v in stages.values()) if cycle else None
        body.append(
            [
                str(r["size"]),
                f"{f['seconds']:.1f}{status}",
                fmt(b.get("seconds")),
                fmt(ratio, 2),
                fmt(f["peak_rss_mb"], 0),
                fmt(f["tree_rss_mb"], 0),
                fmt(b.get("peak_rss_mb"), 0),
                *[
                    fmt((stages.get(s) or {}).get("seconds")) + ("" if (stages.get(s) or {}).get("finished", True) else "+")
                    for s in names
                ],
                fmt(between),
                fmt(f.get("overhead_seconds")),
                fmt((f.get("prefect") or {}).get("task_runs")),
                fmt((f.get("prefect") or {}).get("flow_runs")),
                r.get("same_result", ""),
                fmt(f.get("other_cpu_seconds")),
                f.get("source", ""),
            ]
        )
    return header, body


def markdown_table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def code_state() -> str:
    """The commit measured and the product files changed since (read-only git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=30
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "--", "flows", "tasks", "schemas", "data"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    changed = sorted(line[3:] for line in dirty if line.strip())
    return head + (f" with uncommitted changes in {', '.join(changed)}" if changed else "")


def versions() -> dict:
    info = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    for name in ("prefect", "pandas", "great_expectations", "highspy", "scipy", "sqlalchemy"):
        try:
            from importlib.metadata import version

            info[name] = version(name.replace("_", "-"))
        except Exception:  # noqa: BLE001 - informative only
            info[name] = "?"
    return info


def report(rows: list[dict], cold: dict | None, harness: dict, args) -> str:
    header, body = table_rows(rows)
    parts = [
        f"# fund benchmark, {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}",
        "",
        "Environment: " + ", ".join(f"{k} {v}" for k, v in versions().items()) + f"; seed {args.seed}",
        "",
        f"Code: {args.code_state}",
        "",
    ]
    if cold:
        p = cold.get("prefect") or {}
        parts += [
            f"Cold start (bundled demo cycle, fresh PREFECT_HOME): **{cold['seconds']:.1f} s** wall, of which "
            f"{fmt((p.get('cycle') or {}).get('seconds'))} s inside the cycle flow and "
            f"{fmt(cold.get('overhead_seconds'))} s process start, imports, ephemeral Prefect server start and "
            f"shutdown; peak RSS {cold['peak_rss_mb']:.0f} MB (tree {cold['tree_rss_mb']:.0f} MB); "
            f"{p.get('task_runs')} task runs, {p.get('flow_runs')} flow runs.",
            "",
        ]
    sources = {r["fund"].get("source") for r in rows}
    if len(sources) > 1 or any("changed" in (s or "") for s in sources):
        parts += [
            "**Warning:** the product code changed between or during these runs (see the code column); the rows "
            "do not measure one version.",
            "",
        ]
    parts += [
        markdown_table(header, body),
        "",
        "fund s: wall time of `fund run` (ephemeral Prefect, SQLite, Great Expectations, all five stages). "
        "Stage seconds: the stage subflow runs as recorded by Prefect ('+' = still running when stopped). "
        "between stages: inside the cycle flow but outside the stage subflows (subflow start/end, quality summary, "
        "artifact). startup+shutdown: wall time outside the cycle flow run. Peak RSS: ru_maxrss of the largest single "
        "process; tree RSS: largest sampled sum over the fund process and the Prefect server. Task runs: rows "
        "in the ephemeral server's task_run table (including one per stage subflow). other CPU s: CPU time used by "
        "other processes on the machine during the fund run (noise). code: fingerprint of the product's .py "
        "files the run imported.",
        "",
    ]
    done = [r for r in rows if r["fund"]["complete"]]
    growth = []
    for a, b in zip(done, done[1:]):
        line = (
            f"- {a['size']} → {b['size']} proposals (×{b['size'] / a['size']:.3g}): fund time "
            f"×{b['fund']['seconds'] / a['fund']['seconds']:.1f}"
        )
        if a.get("baseline") and b.get("baseline"):
            line += f", baseline time ×{b['baseline']['seconds'] / a['baseline']['seconds']:.1f}"
        growth.append(line)
    if growth:
        parts += ["Growth:", "", *growth, ""]
    parts += ["Per stage (seconds): fund stage subflow / of which inside its task runs, vs the baseline's stage:", ""]
    names = stage_names(rows)
    stage_header = ["size", *names]
    stage_body = []
    for r in rows:
        stages = (r["fund"].get("prefect") or {}).get("stages", {})
        base = (r.get("baseline") or {}).get("stages", {})
        stage_body.append(
            [str(r["size"])]
            + [
                f"{fmt((stages.get(s) or {}).get('seconds'))} / {fmt((stages.get(s) or {}).get('task_seconds'))} vs "
                f"{fmt(base.get(s), 2)}"
                for s in names
            ]
        )
    parts += [markdown_table(stage_header, stage_body), ""]
    counts = [(r["size"], (r["fund"].get("prefect") or {}).get("tasks_by_name")) for r in rows]
    parts += ["Task runs per cycle by task (from each measured run):", ""]
    parts += [f"- {size}: {json.dumps(c, ensure_ascii=False, sort_keys=True)}" for size, c in counts if c]
    if harness:
        parts += [
            "",
            "Cross-check in process under `prefect_test_harness`, counted with "
            "`get_client().read_task_runs()` / `read_flow_runs()` (benchmarks/taskruns.py):",
            "",
        ]
        parts += [f"- {Path(k).name}: {json.dumps(v, ensure_ascii=False, sort_keys=True)}" for k, v in harness.items()]
    parts += [
        "",
        "Targets (2-core machine): 100k full cycle ≤ 3× baseline and ≤ 2 GB peak RSS; 10k → 100k time growth "
        "≤ 12×; task runs per cycle independent of N.",
        "",
    ]
    parts += target_lines(rows)
    return "\n".join(parts) + "\n"


def target_lines(rows: list[dict]) -> list[str]:
    lines = []
    by_size = {r["size"]: r for r in rows}
    big = by_size.get(100000)
    if big:
        f = big["fund"]
        if f["complete"] and big.get("baseline"):
            ratio = f["seconds"] / big["baseline"]["seconds"]
            lines.append(f"- 100k time vs baseline: {ratio:.1f}× ({'met' if ratio <= 3 else 'NOT met'})")
        else:
            lines.append(
                f"- 100k did not complete ({'timeout' if f['timed_out'] else 'rc ' + str(f['rc'])} after "
                f"{f['seconds']:.0f} s): NOT met"
            )
        peak = max(f["peak_rss_mb"], f["tree_rss_mb"])
        lines.append(f"- 100k peak RSS: {peak:.0f} MB ({'met' if peak <= 2048 and f['complete'] else 'NOT met'})")
        small = by_size.get(10000)
        if small and small["fund"]["complete"] and f["complete"]:
            g = f["seconds"] / small["fund"]["seconds"]
            lines.append(f"- 10k → 100k growth: ×{g:.1f} ({'met' if g <= 12 else 'NOT met'})")
    counts = {r["size"]: (r["fund"].get("prefect") or {}).get("task_runs") for r in rows if r["fund"]["complete"]}
    if len(set(counts.values())) == 1 and counts:
        lines.append(f"- task runs per cycle: {next(iter(counts.values()))} at every size ({', '.join(map(str, counts))}): met")
    elif counts:
        lines.append(f"- task runs per cycle differ by size: {counts}: NOT met")
    return lines


def write_outputs(rows: list[dict], cold: dict | None, harness: dict, args) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    header, body = table_rows(rows)
    with (RESULTS / "results.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(body)
    (RESULTS / "results.md").write_text(report(rows, cold, harness, args), encoding="utf-8")
    (RESULTS / "results.json").write_text(
        json.dumps(
            {"sizes": rows, "cold_start": cold, "harness": harness, "versions": versions(), "code": args.code_state},
            indent=2,
            default=str,
        ),
        encoding="utf-8",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], help="proposals per cycle")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed for one `fund run` (0: none)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; the median is reported")
    parser.add_argument("--regenerate", action="store_true", help="generate the cycles again even when cached")
    parser.add_argument("--no-cold-start", action="store_true", help="skip the demo cold-start run")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-harness", action="store_true", help="skip the in-process task-run cross-check")
    parser.add_argument(
        "--settle", type=float, default=60.0, help="wait at most this many seconds for a quiet machine before each timed run"
    )
    args = parser.parse_args()
    global SETTLE_SECONDS  # noqa: PLW0603 - one knob for measure()
    SETTLE_SECONDS = args.settle
    timeout = args.timeout or None
    args.code_state = code_state()
    print(f"code: {args.code_state}", flush=True)

    cold = None
    if not args.no_cold_start:
        from fund.cli.cycle import demo_folder

        print("cold start: fund run on the bundled demo …", flush=True)
        cold = run_fund(demo_folder(), RUNS / "demo" / "fund", timeout, "fund")
        print(
            f"  {cold['seconds']:.1f} s (outside the flow: {fmt(cold.get('overhead_seconds'))} s), "
            f"peak RSS {cold['peak_rss_mb']:.0f} MB",
            flush=True,
        )

    rows = []
    for size in sorted(args.sizes):
        cycle, generated = ensure_cycle(size, args.seed, args.regenerate)
        print(
            f"size {size}: cycle {cycle.relative_to(ROOT)}"
            + (f" (generated in {generated:.0f} s)" if generated else " (cached)"),
            flush=True,
        )
        out = RUNS / f"n{size}"
        fund_runs, base_runs = [], []
        for attempt in range(args.repeat):
            fund_runs.append(run_fund(cycle, out / "fund", timeout, "fund"))
            f = fund_runs[-1]
            print(
                f"  fund run: {f['seconds']:.1f} s, rc {f['rc']}{' TIMEOUT' if f['timed_out'] else ''}, peak RSS "
                f"{f['peak_rss_mb']:.0f} MB (tree {f['tree_rss_mb']:.0f} MB), "
                f"{(f.get('prefect') or {}).get('task_runs')} task runs",
                flush=True,
            )
            if not args.no_baseline:
                base_runs.append(run_baseline(cycle, out / "baseline", timeout))
                b = base_runs[-1]
                print(f"  baseline: {b['seconds']:.1f} s, rc {b['rc']}, peak RSS {b['peak_rss_mb']:.0f} MB", flush=True)
            if f["timed_out"] or not f["complete"]:
                break
        fund = sorted(fund_runs, key=lambda r: r["seconds"])[len(fund_runs) // 2]
        row = {
            "size": size,
            "cycle": str(cycle.relative_to(ROOT)),
            "generated_seconds": generated,
            "fund": fund,
            "fund_seconds_all": [r["seconds"] for r in fund_runs],
        }
        if base_runs:
            row["baseline"] = sorted(base_runs, key=lambda r: r["seconds"])[len(base_runs) // 2]
            row["baseline_seconds_all"] = [r["seconds"] for r in base_runs]
            row["same_result"] = same_result(out / "fund", out / "baseline") if fund["complete"] else "n/a"
            print(f"  same result: {row['same_result']}", flush=True)
        if len(fund_runs) > 1:
            row["fund_seconds_median"] = statistics.median(row["fund_seconds_all"])
        rows.append(row)
        write_outputs(rows, cold, {}, args)

    harness = {}
    if not args.no_harness:
        small = [CYCLES / f"n{s}-s{args.seed}" for s in sorted(args.sizes)[:2]]
        print(f"task-run cross-check in process: {', '.join(p.name for p in small)} …", flush=True)
        harness = harness_counts(small, timeout * len(small) if timeout else None)
        for name, counts in harness.items():
            print(f"  {Path(name).name}: {counts}", flush=True)
    write_outputs(rows, cold, harness, args)
    header, body = table_rows(rows)
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(header)]
    print()
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for r in body:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    print(f"\nwritten: {(RESULTS / 'results.md').relative_to(ROOT)}, results.csv, results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
