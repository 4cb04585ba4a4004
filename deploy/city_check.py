#!/usr/bin/env python3
"""Many districts at once, for real, on this machine (no docker) — and clean up.

    FUND_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python deploy/city_check.py [--districts 4] [--proposals 30] [--workers 2] [--limit 1] [--keep]

Steps (each timed), on the building blocks of deploy/local_check.py:
  1. two new databases on that PostgreSQL server (Prefect's and the product's), a Prefect
     server on the first, the process work pool `fund-process`;
  2. a generated city: `--districts` cycles of `--proposals` proposals each (score sheets,
     ratings, tracking files), their city.toml;
  3. `prefect deploy --name city-cycle --name city-report`, then `--workers` process workers, each running at
     most `--limit` flow runs at once, with the product database in their environment only;
  4. `fund city run city.toml`: every district started at once through the deployment; while
     it runs, the PostgreSQL connections and each worker's memory (with its flow-run
     processes) are sampled;
  5. optionally (`run_solo`), each district alone with `fund run` (SQLite), one after another:
     the byte comparison of the test, and the sequential baseline of benchmarks/city.py;
  6. the `city-report` deployment's run on a worker: the city overview from the product database;
  7. stop the workers and the server, drop both databases.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_check import CheckFailed, LocalCheck, children_of  # noqa: E402

CITY_CYCLE_DEPLOYMENT = "city-cycle"
CITY_REPORT_DEPLOYMENT = "city-report"


@dataclass
class CityRun:
    returncode: int = -1
    output: str = ""
    seconds: float = 0.0
    peak_connections: int = 0
    peak_worker_rss_mb: dict[str, float] = field(default_factory=dict)
    database_mb: dict[str, float] = field(default_factory=dict)  # each database's size after the run


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (Linux /proc)."""
    total = 0
    for each in [pid, *children_of(pid)]:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


class CityCheck(LocalCheck):
    def __init__(
        self, database_url: str, *, districts: int = 4, proposals: int = 30, workers: int = 2, limit: int = 1, **options
    ):
        super().__init__(database_url, **options)
        self.districts, self.proposals, self.workers, self.limit = districts, proposals, workers, limit
        self.city_file: Path | None = None
        self.server_engine = None  # server_query's connection

    def cleanup(self) -> None:
        if self.server_engine is not None:
            self.server_engine.dispose()
        super().cleanup()

    def start(self) -> None:
        from fund.data.generate import generate_city

        self.start_server_and_pool()
        with self.step(f"generate a city of {self.districts} districts × {self.proposals} proposals"):
            self.city_file = generate_city(self.tmp / "city", self.districts, self.proposals)
        self.overview = self.tmp / "overview"
        self.register(
            [CITY_CYCLE_DEPLOYMENT, CITY_REPORT_DEPLOYMENT],
            FUND_CITY_FILE=str(self.city_file),
            FUND_CITY_OUT_DIR=str(self.overview),
        )
        with self.step(f"start {self.workers} workers (at most {self.limit} runs each)"):
            for number in range(1, self.workers + 1):
                self.start_worker(f"city-worker-{number}", limit=self.limit)

    def fund(self, *args: str, timeout: float, **environment: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "fund", *args],
            env=self.env(**environment),
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def server_query(self, sql: str, **parameters):
        """One query on the PostgreSQL server through the database it was given (neither of the
        check's two), on one connection kept for the sampling; `cleanup` closes it."""
        import sqlalchemy
        from sqlalchemy.engine import make_url

        if self.server_engine is None:
            url = make_url(self.database_url).set(drivername="postgresql+psycopg")
            self.server_engine = sqlalchemy.create_engine(url, pool_size=1)
        with self.server_engine.connect() as connection:
            return connection.execute(sqlalchemy.text(sql), parameters).all()

    def connections(self) -> int:
        """Connections to this check's two databases now (pg_stat_activity)."""
        return self.server_query("SELECT count(*) FROM pg_stat_activity WHERE datname = ANY(:names)", names=self.databases)[0][0]

    def database_sizes(self) -> dict[str, float]:
        """Prefect's and the product's database sizes in MB."""
        sizes = self.server_query(
            "SELECT datname, pg_database_size(datname) FROM pg_database WHERE datname = ANY(:names)", names=self.databases
        )
        return {("prefect" if "prefect" in name else "product"): round(size / 2**20, 1) for name, size in sizes}

    def run_city(self, timeout: float = 1800.0) -> CityRun:
        """`fund city run` on the server, with the peaks of connections and worker memory."""
        result, done = CityRun(), threading.Event()
        workers = [s for s in self.services if s.name.startswith("city-worker")]

        def sample() -> None:
            while not done.is_set():
                try:
                    result.peak_connections = max(result.peak_connections, self.connections())
                except Exception:  # a sample that fails is not a measurement
                    pass
                for worker in workers:
                    rss = tree_rss_mb(worker.process.pid)
                    result.peak_worker_rss_mb[worker.name] = max(result.peak_worker_rss_mb.get(worker.name, 0.0), rss)
                done.wait(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        with self.step(f"fund city run ({self.districts} districts, {self.workers} workers)"):
            sampler.start()
            began = time.monotonic()
            try:
                finished = self.fund("city", "run", str(self.city_file), "--wait", str(int(timeout)), timeout=timeout + 60)
            finally:
                done.set()
                sampler.join()
            result.seconds = time.monotonic() - began
        result.returncode, result.output = finished.returncode, finished.stdout + finished.stderr
        result.database_mb = self.database_sizes()
        self.log(result.output)
        return result

    def run_solo(self, out_root: Path, timeout: float = 600.0, database: str | None = None, at_once: int = 1) -> dict[str, Path]:
        """Each district alone: `fund run` (the flows in its own process, on this check's Prefect
        server) with SQLite in the district's output folder, or `database`; `at_once` districts
        at a time (1: one after another, the benchmark's baseline)."""
        from concurrent.futures import ThreadPoolExecutor

        from fund.schemas.city import load_city

        districts = load_city(self.city_file).districts
        database_option = ["--db", database] if database else []

        def alone(district) -> Path:
            out = out_root / district.out_dir.parent.name
            done = self.fund("run", str(district.cycle_dir), "--out", str(out), "--quiet", *database_option, timeout=timeout)
            if done.returncode != 0:
                raise CheckFailed(f"fund run of {district.name} alone failed:\n{done.stdout}{done.stderr}")
            return out

        with self.step("each district alone (fund run)"), ThreadPoolExecutor(max_workers=at_once) as pool:
            return dict(zip((d.name for d in districts), pool.map(alone, districts)))

    def city_report(self) -> dict:
        """A run of the weekly `city-report` deployment on a worker (the overview into `self.overview`)."""
        with self.step("run the city-report deployment"):
            return self.run_deployment(CITY_REPORT_DEPLOYMENT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("FUND_TEST_DATABASE_URL"))
    parser.add_argument("--districts", type=int, default=4)
    parser.add_argument("--proposals", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=1, help="flow runs at once per worker")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (logs, outputs)")
    args = parser.parse_args(argv)
    if not args.database_url:
        print("set FUND_TEST_DATABASE_URL or pass --database-url", file=sys.stderr)
        return 2
    check = CityCheck(
        args.database_url,
        districts=args.districts,
        proposals=args.proposals,
        workers=args.workers,
        limit=args.limit,
        keep=args.keep,
    )
    try:
        check.start()
        run = check.run_city()
        report = check.city_report()
        print(f"city report: {report['state']['type']} {report['state'].get('message')}")
        print(
            f"city run: exit {run.returncode} in {run.seconds:.1f} s; peak connections {run.peak_connections}; "
            f"peak worker memory {run.peak_worker_rss_mb}"
        )
        return 0 if run.returncode == 0 else 1
    except CheckFailed as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        check.cleanup()
        print(check.result.table())


if __name__ == "__main__":
    sys.exit(main())
