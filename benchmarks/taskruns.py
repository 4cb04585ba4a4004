"""Counts the Prefect task runs and flow runs of one cycle run, through the Prefect API.

    python benchmarks/taskruns.py CYCLE_DIR [CYCLE_DIR ...]

Each cycle runs in process (`flows.cycle.cycle_flow`) inside its own
`prefect.testing.utilities.prefect_test_harness()`, so the harness's temporary server
holds that run alone; then `get_client().read_task_runs()` and `read_flow_runs()` count
what it recorded. Task-run records reach the server asynchronously, so the count is
read until it stops changing. The last line on stdout is JSON:
{cycle_dir: {"task_runs": n, "flow_runs": m, "by_name": {...}}}.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

for _key, _value in {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "False",
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_TASK_RUNS_LEVEL": "CRITICAL",
}.items():
    os.environ.setdefault(_key, _value)


def read_all(read, page: int = 200) -> list:
    found, offset = [], 0
    while True:
        batch = read(limit=page, offset=offset)
        found += batch
        if len(batch) < page:
            return found
        offset += page


def count_runs() -> dict:
    from prefect.client.orchestration import get_client

    previous, stable_since = None, time.monotonic()
    deadline = time.monotonic() + 60
    while True:
        with get_client(sync_client=True) as client:
            tasks = read_all(client.read_task_runs)
            flows = read_all(client.read_flow_runs)
        current = (len(tasks), len(flows))
        if current != previous:
            previous, stable_since = current, time.monotonic()
        elif time.monotonic() - stable_since >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    subflow_parents = {f.parent_task_run_id for f in flows if f.parent_task_run_id}
    by_name: dict[str, int] = {}
    for t in tasks:
        if t.id in subflow_parents:
            continue
        base = t.name.rsplit("-", 1)[0]
        by_name[base] = by_name.get(base, 0) + 1
    return {"task_runs": len(tasks), "flow_runs": len(flows), "subflow_task_runs": len(subflow_parents), "by_name": by_name}


def main() -> int:
    from prefect.testing.utilities import prefect_test_harness

    from fund.flows.cycle import cycle_flow
    from fund.flows.stage import stage_results

    counts = {}
    for cycle in sys.argv[1:]:
        out = Path(tempfile.mkdtemp(prefix="fund-taskruns-"))
        try:
            with prefect_test_harness(server_startup_timeout=120):
                started = time.perf_counter()
                state = cycle_flow(cycle, str(out), None, "en", return_state=True)
                seconds = time.perf_counter() - started
                outcomes = [r.outcome for r in stage_results(state)]
                counts[cycle] = {**count_runs(), "outcomes": outcomes, "seconds_in_process": round(seconds, 1)}
        finally:
            from fund.tasks.store import dispose_engines

            dispose_engines()
            shutil.rmtree(out, ignore_errors=True)
        print(f"{Path(cycle).name}: {counts[cycle]}", file=sys.stderr, flush=True)
    print(json.dumps(counts, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
