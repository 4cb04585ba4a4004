"""City scale: every district of a city file (`city.toml`, `fund.schemas.city`) on one
installation.

- `start_districts` starts each district's cycle as a run of the deployment `city-cycle`
  (`run_deployment`), so the work pool's workers run them side by side; `wait_districts`
  follows them to the end. `fund city run` does both; the `city` deployment (`city_flow`)
  only starts them, daily, and ends: it must not hold a worker's slot while the districts
  wait for one. A district's runs never overlap (its cycle lock); one district's stop never
  stops the others.
- `write_city_overview` writes the city overview (index.html, districts.csv) from every
  district's database, with the numbers the district's own leadership report uses;
  `city_report_flow` is what the weekly `city-report` deployment runs.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.states import Completed, Failed

from fund.flows.deployments import CITY_CYCLE_DEPLOYMENT
from fund.flows.report import cycle_figures
from fund.runtime import quiet_stops
from fund.runtime.database import deployed_database
from fund.schemas.city import City, CityError, District, load_city
from fund.schemas.codes import SHANGHAI
from fund.schemas.tables import StageRun, StageStatus
from fund.settings import load_settings
from fund.tasks.messages import sentence
from fund.tasks.outputs import write_csv, write_text
from fund.tasks.report.city import (
    DISTRICTS_HEADER,
    city_context,
    district_table,
    empty_headline,
    overview_record,
    render_city_html,
)
from fund.tasks.store import default_db_url, load_rows, schema_url
from fund.tasks.tracking import resolve_as_of
from fund.tasks.writers import STAGE_ORDER

FINISHED = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
OVERVIEW = "index.html"
DISTRICTS = "districts.csv"
RECORD = "overview.json"  # the figures of this overview: what the next one compares with


@dataclass
class DistrictRun:
    """One district's run of the cycle deployment, as the server last said."""

    district: District
    flow_run_id: str
    flow_run_name: str
    state_type: str = "SCHEDULED"
    state_name: str = "Scheduled"
    message: str = ""

    @property
    def waiting(self) -> bool:
        """Suspended for an approval, or ended saying it waits for one."""
        return self.state_type == "PAUSED" or self.state_name == "AwaitingApproval"

    @property
    def finished(self) -> bool:
        return self.waiting or self.state_type in FINISHED

    @property
    def outcome(self) -> str:
        """done, waiting (for an approval), stopped, or running (not finished when the wait ended)."""
        if self.waiting:
            return "waiting"
        if not self.finished:
            return "running"
        return "done" if self.state_type == "COMPLETED" else "stopped"

    def describe(self, lang: str) -> str:
        if self.waiting:
            return sentence("city_run_waiting_approval", lang)
        first = (self.message or "").strip().splitlines()[0] if (self.message or "").strip() else ""
        if self.state_type == "COMPLETED":
            return first or sentence("city_run_completed", lang)
        if not self.finished:
            return sentence("city_run_not_finished", lang, s=self.state_name)
        return sentence("city_run_ended", lang, s=self.state_name, m=first)


def start_districts(city: City, lang: str, deployment: str = CITY_CYCLE_DEPLOYMENT) -> list[DistrictRun]:
    """One run of the cycle deployment per district, all scheduled now (none waited for)."""
    from prefect.deployments import run_deployment

    runs = []
    for district in city.districts:
        flow_run = run_deployment(
            deployment,
            parameters={"cycle_dir": str(district.cycle_dir), "out_dir": str(district.out_dir), "lang": lang}
            | ({"db_schema": district.schema} if district.schema else {}),
            flow_run_name=district.cycle_id,
            tags=["city", f"district:{district.name}"],
            timeout=0,
        )
        runs.append(DistrictRun(district, str(flow_run.id), flow_run.name))
    return runs


def wait_districts(
    runs: list[DistrictRun], timeout_s: float, poll_s: float = 2.0, on_finished: Callable[[DistrictRun], None] = lambda run: None
) -> list[DistrictRun]:
    """Follow the runs until each has finished (or waits for an approval) or `timeout_s` has
    passed; `on_finished` is called once per run, in the order they finish."""
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout_s
    pending = list(runs)
    with get_client(sync_client=True) as client:
        while pending:
            for run in list(pending):
                state = client.read_flow_run(run.flow_run_id).state
                if state is not None:
                    run.state_type, run.state_name, run.message = state.type.value, state.name, state.message or ""
                if run.finished:
                    pending.remove(run)
                    on_finished(run)
            if pending and time.monotonic() > deadline:
                break
            if pending:
                time.sleep(poll_s)
    return runs


def city_summary(city: City, runs: list[DistrictRun], seconds: float, lang: str) -> str:
    count = {o: sum(1 for r in runs if r.outcome == o) for o in ("done", "waiting", "stopped", "running")}
    return sentence(
        "city_summary",
        lang,
        city=city.name,
        n=len(runs),
        done=count["done"],
        waiting=count["waiting"],
        stopped=count["stopped"],
        running=count["running"],
        t=f"{seconds:.0f}",
    )


def district_line(run: DistrictRun, lang: str) -> str:
    mark = {"done": "✓", "waiting": "…", "stopped": "✗", "running": "?"}[run.outcome]
    return sentence("city_district_line", lang, mark=mark, n=run.district.name, c=run.district.cycle_id, s=run.describe(lang))


quiet_stops.install()


@flow(name="fund-city")
def city_flow(city_file: str, lang: str = "zh", deployment: str = CITY_CYCLE_DEPLOYMENT):
    """Start every district's cycle (the daily `city` deployment); the runs go on without it."""
    try:
        city = load_city(Path(city_file))
    except CityError as exc:
        return Failed(message=exc.text(lang))
    runs = start_districts(city, lang, deployment)
    create_markdown_artifact(
        markdown="\n".join(
            ["| district | cycle | flow run |", "|---|---|---|"]
            + [f"| {r.district.name} | {r.district.cycle_id} | {r.flow_run_name} |" for r in runs]
        ),
        description=f"the district runs {city.name}'s city run started",
    )
    return Completed(message=sentence("city_runs_started", lang, n=len(runs), d=deployment))


# ---------------------------------------------------------------- the city overview


def district_database(district: District) -> str:
    """Where a district's cycle keeps its data: the deployment's or the environment's product
    database (FUND_DATABASE_URL, shared by all districts, each under its own cycle id, and in
    its own schema when city.toml gives one), else the SQLite file in its output folder."""
    configured = load_settings().database_url
    shared = deployed_database() or (configured.get_secret_value() if configured is not None else None)
    if shared is None:
        return default_db_url(district.out_dir)
    return schema_url(shared, district.schema, create=False) if district.schema else shared


def district_figures(district: District, as_of_text: str | None) -> dict:
    """The district's headline numbers, project statuses and latest stage status ("ran" False,
    zeros, when its cycle has not run: no database yet, or no row of its cycle in it)."""
    url = district_database(district)
    figures = {
        "name": district.name,
        "cycle_id": district.cycle_id,
        "cycle_name": district.cfg.cycle.name,
        "contact": district.contact,
        "phone": district.phone,
        "email": district.email,
        "ran": False,
        "head": empty_headline(district.cfg.budget_fen),
        "rows": [],
        "last": None,
    }
    if url.startswith("sqlite") and not (district.out_dir / "fund.db").is_file():
        return figures
    from sqlalchemy.exc import SQLAlchemyError

    try:
        if not load_rows(url, StageRun, district.cycle_id):
            return figures
        rows, _, head = cycle_figures(url, district.cfg, district.cycle_id, resolve_as_of(district.cfg, as_of_text))
        statuses = load_rows(url, StageStatus, district.cycle_id)
    except SQLAlchemyError:  # a database the product never migrated: nothing ran there
        return figures
    last = max(statuses, key=lambda s: STAGE_ORDER.index(s["stage"]) if s["stage"] in STAGE_ORDER else -1, default=None)
    return {**figures, "ran": True, "head": head, "rows": rows, "last": last}


def write_city_overview(city: City, out_dir: Path, lang: str, as_of_text: str | None = None) -> Path:
    """index.html, districts.csv and overview.json in out_dir; the page's path."""
    out_dir = Path(out_dir)
    districts = [district_figures(d, as_of_text) for d in city.districts]
    as_of = as_of_text or str(load_settings().as_of or dt.datetime.now(SHANGHAI).date())
    previous_path = out_dir / RECORD
    previous = json.loads(previous_path.read_text(encoding="utf-8")) if previous_path.is_file() else None
    generated = dt.datetime.now(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    write_text(out_dir / OVERVIEW, render_city_html(city_context(city.name, as_of, generated, districts, previous, lang)))
    write_csv(out_dir / DISTRICTS, DISTRICTS_HEADER, district_table(districts))
    write_text(previous_path, json.dumps(overview_record(as_of, districts), ensure_ascii=False, sort_keys=True, indent=1))
    return out_dir / OVERVIEW


@flow(name="fund-city-report")
def city_report_flow(city_file: str, out_dir: str, lang: str = "zh", as_of: str | None = None):
    """The weekly city overview (the `city-report` deployment)."""
    try:
        city = load_city(Path(city_file))
    except CityError as exc:
        return Failed(message=exc.text(lang))
    page = write_city_overview(city, Path(out_dir), lang, as_of)
    return Completed(message=sentence("city_report_written", lang, p=page))
