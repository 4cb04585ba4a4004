"""Profiles one `fund run` and lists where the time goes.

    python benchmarks/hotspots.py [--size 10000] [--seed 2026] [--tool cprofile|pyinstrument] [--top 30]

Runs `fund run` on the cached generated cycle of that size (generated when missing) in a
subprocess with a fresh PREFECT_HOME, under cProfile (stdlib, the default) or
pyinstrument (when installed; a sampling profiler with much less overhead). Writes to
benchmarks/results/: `profile-n<size>.prof` (cProfile data, open with `python -m pstats`
or snakeviz) or `profile-n<size>.pyinstrument.txt` (the call tree), and
`hotspots-n<size>.md`: for cProfile, the functions that take the most cumulative time,
the project's own first.

cProfile adds overhead to every Python call, so its seconds are inflated (about 2× for
this code) and only the main thread is profiled (the Prefect server is another process,
the API client's event loop another thread); read them as shares of the profiled total.
"""

from __future__ import annotations

import argparse
import pstats
import re
import shutil
import sys
import tempfile
from pathlib import Path

from run import RESULTS, ROOT, RUNS, code_state, ensure_cycle, fresh_env, measure

PROJECT = ("fund/",)
NOISE = (
    "<built-in method builtins.exec>",
    "<frozen runpy>",
    "typer/",
    "click/",
    "contextlib.py",
    "<string>",
    "<built-in method builtins.next>",
    "<built-in method builtins.__build_class__>",
)


def where(func: tuple[str, int, str]) -> str:
    path, line, name = func
    text = path.replace("\\", "/")
    if "site-packages/" in text:
        text = text.split("site-packages/", 1)[1]
    elif re.search(r"/lib/python3\.\d+/", text):
        text = re.split(r"/lib/python3\.\d+/", text, maxsplit=1)[1]
    else:
        try:
            text = str(Path(path).resolve().relative_to(ROOT))
        except ValueError:
            pass
    return f"{text}:{line}" if line else text


def project_frame(path: str) -> bool:
    try:
        rel = str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return False
    return rel.startswith(PROJECT)


def cprofile_report(prof: Path, top: int, wall: float) -> str:
    """Tables of the heaviest functions. A function that only passes its time on (one callee
    takes >= 90 % of it) is a wrapper and left out, so each row is a place where time splits
    or is spent."""
    stats = pstats.Stats(str(prof))
    total = stats.total_tt
    biggest_child: dict = {}
    for child, (_, _, _, _, callers) in stats.stats.items():
        for parent, edge in callers.items():
            if child != parent:
                biggest_child[parent] = max(biggest_child.get(parent, 0.0), edge[3])
    rows = [
        (func, nc, tt, ct)
        for func, (cc, nc, tt, ct, _) in stats.stats.items()
        if not any(n in func[0] or n in func[2] for n in NOISE)
    ]
    spots = [r for r in rows if biggest_child.get(r[0], 0.0) < 0.9 * r[3]]
    lines = [f"cProfile total (main thread, with profiler overhead): {total:.1f} s; wall {wall:.1f} s", ""]

    def table(title: str, picked: list) -> None:
        lines.extend(
            [
                f"### {title}",
                "",
                "| function | file:line | calls | cumulative s | own s | share of total |",
                "|---|---|---|---|---|---|",
            ]
        )
        for func, nc, tt, ct in picked:
            lines.append(f"| `{func[2]}` | {where(func)} | {nc} | {ct:.1f} | {tt:.1f} | {ct / total:.0%} |")
        lines.append("")

    table(
        "Project functions by cumulative time (wrappers left out)",
        sorted((r for r in spots if project_frame(r[0][0])), key=lambda r: -r[3])[:top],
    )
    table(
        "Library functions by cumulative time (wrappers left out)",
        sorted((r for r in spots if not project_frame(r[0][0])), key=lambda r: -r[3])[:top],
    )
    table("All functions by own time", sorted(rows, key=lambda r: -r[2])[:top])
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--tool", choices=("cprofile", "pyinstrument"), default="cprofile")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    cycle, _ = ensure_cycle(args.size, args.seed)
    out = RUNS / f"profile-n{args.size}"
    shutil.rmtree(out, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    fund = ["-m", "fund", "run", str(cycle), "--out", str(out / "fund"), "--lang", "en"]
    if args.tool == "cprofile":
        target = RESULTS / f"profile-n{args.size}.prof"
        command = [sys.executable, "-m", "cProfile", "-o", str(target), *fund]
    else:
        target = RESULTS / f"profile-n{args.size}.pyinstrument.txt"
        command = [sys.executable, "-m", "pyinstrument", "--renderer", "text", "--no-color", "-o", str(target), *fund]
    home = Path(tempfile.mkdtemp(prefix="fund-bench-prefect-"))
    try:
        print(f"profiling fund run on {cycle.relative_to(ROOT)} with {args.tool} …", flush=True)
        result = measure(command, fresh_env(home), out / "fund.log", args.timeout, ROOT)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(f"  {result['seconds']:.1f} s under the profiler, rc {result['rc']}", flush=True)
    if result["rc"] != 0:
        print((out / "fund.log").read_text(encoding="utf-8", errors="replace")[-2000:])
        return 1
    header = f"# Hotspots of `fund run` at {args.size} proposals ({args.tool})\n\nCode: {code_state()}\n\n"
    if args.tool == "cprofile":
        body = cprofile_report(target, args.top, result["seconds"])
    else:
        body = (
            f"wall {result['seconds']:.1f} s under pyinstrument (main thread)\n\n```\n"
            + target.read_text(encoding="utf-8")
            + "```\n"
        )
    report = RESULTS / f"hotspots-n{args.size}.md"
    report.write_text(header + body + "\n", encoding="utf-8")
    print(body)
    print(f"written: {report.relative_to(ROOT)}, {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
