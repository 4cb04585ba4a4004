"""City scale: many districts' cycles at once on one Prefect server, PostgreSQL and a pool of
process workers, against the same districts run one after another.

    FUND_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python benchmarks/city.py [--districts 12] [--proposals 500] [--workers 1 2 4] [--limit 1]

For each worker count: fresh databases (Prefect's and the product's) and a fresh Prefect
server on that PostgreSQL, the `city-cycle` deployment, that many process workers (each at
most `--limit` flow runs at once), a generated city (same seed every time: filled score
sheets, community ratings, tracking files), then `fund city run` (every district started at
once through the deployment) timed, with the peak connections to the two databases and each
worker's peak memory (the worker and its flow-run processes) sampled every 0.5 s. The
baseline: the same districts with `fund run` one after another on the same kind of setup
(its server, the product database on PostgreSQL). Everything is cleaned up after each row
(deploy/city_check.py). Writes benchmarks/results/city.md and city.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
sys.path.insert(0, str(ROOT / "deploy"))

from city_check import CheckFailed, CityCheck  # noqa: E402


def row_of(
    label: str, workers: int, seconds: float, districts: int, failures: int, connections: int, rss: dict, sizes: dict
) -> dict:
    return {
        "setup": label,
        "workers": workers,
        "seconds": round(seconds, 1),
        "cycles_per_hour": round(districts * 3600 / seconds, 1) if seconds else None,
        "peak_connections": connections,
        "peak_worker_rss_mb": round(max(rss.values()), 0) if rss else None,
        "failures": failures,
        "product_db_mb": sizes.get("product"),
        "prefect_db_mb": sizes.get("prefect"),
    }


def concurrent(url: str, districts: int, proposals: int, workers: int, limit: int) -> dict:
    check = CityCheck(url, districts=districts, proposals=proposals, workers=workers, limit=limit, log=lambda *_: None)
    try:
        check.start()
        run = check.run_city(timeout=7200)
        failures = districts - run.output.count("✓") if run.returncode in (0, 1) else districts
        return row_of(
            f"{workers} worker(s) × {limit}",
            workers,
            run.seconds,
            districts,
            failures,
            run.peak_connections,
            run.peak_worker_rss_mb,
            run.database_mb,
        )
    finally:
        check.cleanup()


def sequential(url: str, districts: int, proposals: int) -> dict:
    """The baseline: `fund run` of each district, one after another, on the product database."""
    check = CityCheck(url, districts=districts, proposals=proposals, workers=0, log=lambda *_: None)
    try:
        check.start()
        began = time.monotonic()
        failures = 0
        try:
            check.run_solo(check.tmp / "one-by-one", database=check.product_db)
        except CheckFailed as exc:
            print(exc, file=sys.stderr)
            failures = 1
        seconds = time.monotonic() - began
        return row_of("one after another (fund run)", 0, seconds, districts, failures, 0, {}, check.database_sizes())
    finally:
        check.cleanup()


def table(rows: list[dict]) -> str:
    lines = [
        "| setup | wall s | cycles per hour | peak PostgreSQL connections | peak RSS per worker MB | product / Prefect database MB | failures |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['setup']} | {r['seconds']} | {r['cycles_per_hour']} | {r['peak_connections'] or '—'} | "
            f"{r['peak_worker_rss_mb'] or '—'} | {r['product_db_mb']} / {r['prefect_db_mb']} | {r['failures']} |"
        )
    return "\n".join(lines)


def interrupted(_signum, _frame) -> None:
    raise KeyboardInterrupt  # killed: the checks' `finally` stops their servers and drops their databases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("FUND_TEST_DATABASE_URL"))
    parser.add_argument("--districts", type=int, default=12)
    parser.add_argument("--proposals", type=int, default=500)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--limit", type=int, default=1, help="flow runs at once per worker")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    args = parser.parse_args()
    if not args.database_url:
        print("set FUND_TEST_DATABASE_URL or pass --database-url", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, interrupted)
    rows = []
    if args.baseline:
        rows.append(sequential(args.database_url, args.districts, args.proposals))
        print(table(rows[-1:]), flush=True)
    for workers in args.workers:
        rows.append(concurrent(args.database_url, args.districts, args.proposals, workers, args.limit))
        print(table(rows[-1:]), flush=True)
    RESULTS.mkdir(exist_ok=True)
    header = (
        f"{args.districts} districts × {args.proposals} proposals, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}\n\n"
    )
    (RESULTS / "city.md").write_text(header + table(rows) + "\n", encoding="utf-8")
    (RESULTS / "city.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print(header + table(rows))
    return 0 if all(r["failures"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
