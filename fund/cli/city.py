"""`fund city check|run|report`: many districts' cycles on one installation (city.toml)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from fund.cli.common import LangOpt, Lang, console, fail
from fund.flows.deployments import CITY_CYCLE_DEPLOYMENT
from fund.tasks.messages import sentence

app = typer.Typer(help="城市：多个区县的周期 / a city: many districts' cycles", no_args_is_help=True)

CityFile = Annotated[Path, typer.Argument(help="city.toml: the districts, their cycle and output folders", show_default=False)]


def load(city_file: Path, lang: str):
    """The city file, or exit 2 naming the problem (nothing is started)."""
    from fund.schemas.city import CityError, load_city

    try:
        return load_city(city_file)
    except CityError as exc:
        fail(2, exc.text(lang) + "\n" + sentence("city_nothing_started", lang))


@app.command()
def check(city_file: CityFile, lang: LangOpt = Lang.zh):
    """检查城市配置文件 / check the city file: folders, cycle.toml files, unique districts and cycle ids."""
    city = load(city_file, lang.value)
    for district in city.districts:
        console.print(
            sentence("city_district_line", lang.value, mark="✓", n=district.name, c=district.cycle_id, s=district.cycle_dir),
            markup=False,
        )


@app.command()
def run(
    city_file: CityFile,
    deployment: Annotated[
        str, typer.Option("--deployment", help="the cycle deployment the districts run as")
    ] = CITY_CYCLE_DEPLOYMENT,
    wait: Annotated[int, typer.Option("--wait", help="seconds to follow the runs (they go on after)", min=0)] = 21600,
    lang: LangOpt = Lang.zh,
):
    """在 Prefect 服务器上同时运行各区县的周期 / run every district's cycle at once through the deployment."""
    from fund.flows.city import city_summary, district_line, start_districts, wait_districts
    from fund.runtime.prefect_api import RuntimeProblem, api_url_in_environment, server_api_url

    city = load(city_file, lang.value)
    try:
        url = server_api_url(lang.value)
    except RuntimeProblem as problem:
        fail(problem.code, str(problem))
    if url is None:
        fail(1, sentence("city_no_server", lang.value, d=deployment))
    began = time.monotonic()
    with api_url_in_environment(url):
        from prefect.client.orchestration import get_client
        from prefect.exceptions import ObjectNotFound

        try:
            with get_client(sync_client=True) as client:
                client.read_deployment_by_name(deployment)
        except ObjectNotFound:
            fail(1, sentence("city_needs_server", lang.value, d=deployment, p=url))
        runs = start_districts(city, lang.value, deployment)
        console.print(sentence("city_started", lang.value, n=len(runs), d=deployment), markup=False)
        wait_districts(runs, wait, on_finished=lambda r: console.print(district_line(r, lang.value), markup=False))
    for unfinished in (r for r in runs if not r.finished):
        console.print(district_line(unfinished, lang.value), markup=False)
    console.print(city_summary(city, runs, time.monotonic() - began, lang.value), markup=False)
    if any(r.outcome in ("stopped", "running") for r in runs):
        raise typer.Exit(1)


@app.command()
def report(
    city_file: CityFile,
    out: Annotated[Path, typer.Option("--out", help="folder of the city overview", show_default=False)],
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="date of the figures (YYYY-MM-DD)")] = None,
    lang: LangOpt = Lang.zh,
):
    """写城市总览（index.html、districts.csv）/ write the city overview of every district's cycle."""
    from fund.flows.city import write_city_overview
    from fund.tasks.tracking import TrackingConfigError

    city = load(city_file, lang.value)
    try:
        page = write_city_overview(city, out, lang.value, as_of)
    except TrackingConfigError as exc:
        fail(2, f"{exc}")
    console.print(sentence("city_report_written", lang.value, p=page), markup=False)
