"""`fund run`, `fund demo`, `fund approve`, `fund whatif`: the commands of the cycle itself."""

from __future__ import annotations

import os
import shutil
from importlib import resources
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer

from fund.cli import common
from fund.cli.common import CycleDir, DbUrl, Lang, LangOpt, OutDir, console, err, existing_run, fail, load_cycle
from fund.tasks.messages import sentence

app = typer.Typer()

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="only problems and what to do next")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Prefect's own log lines too")]


def prepare(cycle_dir: Path, out: Path, db: str | None, lang: str):
    """The cycle's configuration and its database URL, or a plain stop: cycle.toml (exit 2),
    an output folder that cannot be written, a database that cannot be used."""
    from fund.runtime.database import open_database
    from fund.runtime.errors import check_writable
    from fund.runtime.messages import text
    from fund.runtime.prefect_api import RuntimeProblem

    cfg = load_cycle(cycle_dir, lang)
    reason = check_writable(out)
    if reason:
        fail(1, text("out_not_writable", lang, out=out, reason=reason))
    common.ERROR_LOG_FOLDER = out
    try:
        return cfg, open_database(out, db, lang)
    except RuntimeProblem as problem:
        fail(problem.code, str(problem))


def settled(cycle_dir: Path, out: Path, url: str, lang: str) -> list | None:
    """The outcome of a run with nothing to do, found without Prefect (None: there is work).
    Outputs changed by hand are restored either way."""
    from fund.flows.plans import check_outputs, plan_cycle
    from fund.flows.stage import StageOutcome
    from fund.runtime import progress
    from fund.schemas.codes import Outcome
    from fund.tasks.audit import write_head
    from fund.runtime.messages import text
    from fund.tasks.outputs import remove_stale_temp_files
    from fund.tasks.store import CycleBusy, cycle_lock

    cycle_id = load_cycle(cycle_dir, lang).cycle.id
    try:
        with cycle_lock(url, cycle_id, out):
            remove_stale_temp_files(out)  # left by a run that was killed while writing
            restored = check_outputs(str(cycle_dir), str(out), url, lang, repair=True)
            for result in restored:
                progress.stage_finished(result)
            if restored:
                write_head(url, cycle_id, out)
            plans = plan_cycle(str(cycle_dir), str(out), url, lang)
    except CycleBusy as busy:
        result = StageOutcome("lock", Outcome.STOPPED, text("cycle_busy", lang, cycle=cycle_id, where=str(busy)))
        progress.stage_finished(result)
        return [result]
    if any(plan.runs for plan in plans):
        return None
    for plan in plans:
        progress.stage_finished(plan.result)
    return restored + [plan.result for plan in plans]


def run_cycle(
    cycle_dir: Path,
    out: Path,
    db: str | None,
    lang: str,
    quiet: bool = False,
    verbose: bool = False,
    then: Callable[[], None] | None = None,
) -> int:
    """Run the cycle; Ctrl-C or SIGTERM stops it in one sentence (exit 130): finished stages are kept.
    `then` runs after a cycle that did not stop, with the same Prefect API (the demo's reconciliation)."""
    from fund.runtime.messages import text

    try:
        return run_stages(cycle_dir, out, db, lang, quiet, verbose, then)
    except KeyboardInterrupt:
        err.print(text("interrupted", lang), markup=False)
        return 130


def run_stages(
    cycle_dir: Path, out: Path, db: str | None, lang: str, quiet: bool, verbose: bool, then: Callable[[], None] | None = None
) -> int:
    from fund.cli.display import RunDisplay
    from fund.cli.next_steps import next_steps
    from fund.runtime import progress
    from fund.runtime.prefect_api import RuntimeProblem, prefect_api

    _, url = prepare(cycle_dir, out, db, lang)
    if verbose:
        for key in (
            "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL",
            "PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL",
            "PREFECT_LOGGING_HANDLERS_CONSOLE_TASK_RUNS_LEVEL",
        ):
            os.environ[key] = "INFO"
    with RunDisplay(lang, quiet) as display:
        progress.startup("checking")
        results = settled(cycle_dir, out, url, lang)
        if results is None:
            try:
                with prefect_api(lang) as api:
                    progress.startup("loading")
                    from fund.flows.cycle import cycle_flow
                    from fund.flows.stage import stage_results
                    from fund.tasks.quality import load_great_expectations

                    load_great_expectations()
                    progress.startup("waiting_server")
                    api.ready()
                    state = cycle_flow(str(cycle_dir), str(out), db, lang, return_state=True)
                    results = stage_results(state)
                    if then is not None and not results[-1].failed:
                        then()
            except RuntimeProblem as problem:
                display.__exit__(None, None, None)
                fail(problem.code, str(problem))
        display.show(results)
    for line in next_steps(results, cycle_dir, out, url, lang):
        console.print(line, markup=False)
    return 1 if results[-1].failed else 0


@app.command()
def run(
    cycle_dir: CycleDir, out: OutDir, db: DbUrl = None, lang: LangOpt = Lang.zh, quiet: Quiet = False, verbose: Verbose = False
):
    """运行一个资助周期的全部可运行阶段 / run every stage whose inputs are present."""
    raise typer.Exit(run_cycle(cycle_dir, out, db, lang.value, quiet, verbose))


@app.command()
def status(cycle_dir: CycleDir, out: OutDir, db: DbUrl = None, lang: LangOpt = Lang.zh):
    """各阶段状态与等待事项（只读数据库，不运行任何阶段）/ each stage's state and what it waits for."""
    from fund.cli.display import print_result, stage_name
    from fund.cli.next_steps import next_steps
    from fund.flows.plans import STAGES, check_outputs, plan_cycle
    from fund.flows.stage import Stage
    from fund.flows.plans import last_status

    lang_ = lang.value
    cfg = load_cycle(cycle_dir, lang_)
    existing_run(out, db, lang_)
    _, url = prepare(cycle_dir, out, db, lang_)
    plans = {plan.stage: plan for plan in plan_cycle(str(cycle_dir), str(out), url, lang_)}
    console.print(sentence("cycle_name_and_id", lang_, n=cfg.cycle.name, c=cfg.cycle.id), markup=False)
    shown = []
    for name in STAGES:
        last = last_status(Stage.open(name, str(cycle_dir), str(out), url, lang_))
        plan = plans.get(name)
        if last is None:
            if plan is not None and plan.runs:
                console.print(f"○ {stage_name(name, lang_)}: " + sentence("not_run_yet_inputs", lang_), markup=False)
            continue
        print_result(last, lang_)
        if plan is not None and plan.runs:
            console.print("  " + sentence("inputs_changed_since_last", lang_), markup=False)
        shown.append(last)
    for difference in check_outputs(str(cycle_dir), str(out), url, lang_, repair=False):
        print_result(difference, lang_)
    for line in next_steps(shown, cycle_dir, out, url, lang_):
        console.print(line, markup=False)


@app.command()
def approve(
    cycle_dir: CycleDir,
    out: OutDir,
    by: Annotated[str, typer.Option("--by", help="who decides (name)", show_default=False)],
    reject: Annotated[Optional[str], typer.Option("--reject", help="reject, with this reason")] = None,
    db: DbUrl = None,
    lang: LangOpt = Lang.zh,
):
    """审批当前分配结果 / record an administrator's decision on the current allocation."""
    from fund.flows.allocation import record_approval
    from fund.tasks.audit import write_head

    lang_ = lang.value
    cfg = load_cycle(cycle_dir, lang_)
    if not by.strip():
        fail(2, sentence("approve_needs_approver_name", lang_))
    url = existing_run(out, db, lang_)
    awards = record_approval(url, cfg.cycle.id, by.strip(), reject)
    write_head(url, cfg.cycle.id, out)
    if not awards:
        fail(1, sentence("there_no_allocation_approve", lang_))
    funded = [a for a in awards if a["status"] == "funded"]
    if reject:
        console.print(sentence("allocation_rejected_nothing_will", lang_, r=reject), markup=False)
    else:
        console.print(sentence("allocation_approved_funded_run", lang_, n=len(funded)), markup=False)


@app.command()
def whatif(
    cycle_dir: CycleDir,
    out: OutDir,
    budget: Annotated[Optional[str], typer.Option(help="total budget in yuan")] = None,
    threshold: Annotated[Optional[str], typer.Option(help="score threshold")] = None,
    policy: Annotated[Optional[str], typer.Option(help="merit or optimal")] = None,
    max_funded_per_org: Annotated[Optional[int], typer.Option(help="funded proposals per organization")] = None,
    cover_every_street: Annotated[Optional[bool], typer.Option(help="optimal policy: cover every street")] = None,
    cover_urgent: Annotated[
        Optional[bool], typer.Option(help="optimal policy: fund an answer to every urgent need of needs.csv")
    ] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="any rule, e.g. priorities.elderly=0.3")] = None,
    db: DbUrl = None,
    lang: LangOpt = Lang.zh,
):
    """假设分析：改变规则重新分配，只显示差异，不改动已发布结果 / rerun the allocation with changed rules."""
    from fund.flows.whatif import what_if

    lang_ = lang.value
    cfg = load_cycle(cycle_dir, lang_)
    overrides: dict[str, object] = {}
    for key, value in (
        ("cycle.budget", budget),
        ("rules.score_threshold", threshold),
        ("allocation.policy", policy),
        ("rules.max_funded_per_org", max_funded_per_org),
        ("allocation.cover_every_street", cover_every_street),
        ("needs.cover_urgent", cover_urgent),
    ):
        if value is not None:
            overrides[key] = value
    for item in set_ or []:
        key, sep, value = item.partition("=")
        if not sep:
            fail(2, sentence("set_takes_key_value", lang_))
        overrides[key.strip()] = value.strip()
    raise typer.Exit(what_if(cfg, overrides, out, db, lang_, console, err))


def demo_folder() -> Path:
    return Path(str(resources.files("fund.data") / "demo"))


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("fund-demo"),
    lang: LangOpt = Lang.zh,
    quiet: Quiet = False,
    verbose: Verbose = False,
):
    """运行内置的示例周期 / run the bundled demo cycle end to end."""
    lang_ = lang.value
    source = demo_folder()
    cycle = out / "cycle"
    if cycle.exists():
        shutil.rmtree(cycle)
    shutil.copytree(source, cycle)
    results_dir = out / "output"
    if results_dir.exists():
        shutil.rmtree(results_dir)
    reconciled: list[str] = []
    code = run_cycle(
        cycle, results_dir, None, lang_, quiet, verbose, then=lambda: reconciled.extend(reconcile_demo(cycle, results_dir, lang_))
    )
    console.print(sentence("demo_cycle_results", lang_, c=cycle, o=results_dir), markup=False)
    for rel in (
        "validation/rejected.csv",
        "review/assignments.csv",
        "review/sheets/",
        "evaluation/scores.csv",
        "allocation/allocation.csv",
        "allocation/comparison.csv",
        "allocation/publicity.html",
        "allocation/letters/",
        "tracking/tranches.csv",
        "tracking/ledger.csv",
        "tracking/reconciliation.csv",
        "reports/index.html",
        "quality/index.html",
    ):
        if (results_dir / rel).exists():
            console.print(f"  {results_dir / rel}" + ("/" if rel.endswith("/") else ""), markup=False)
    for line in reconciled:
        console.print(line, markup=False)
    raise typer.Exit(code)


def reconcile_demo(cycle: Path, out: Path, lang: str) -> list[str]:
    """The demo's finance office statement reconciled with its ledger, as `fund reconcile` does
    (run by the cycle's run, on its Prefect API): the closing note's lines."""
    from fund.flows.reconciliation import reconciliation_flow
    from fund.flows.stage import stage_results
    from fund.tasks.messages import render

    statement = cycle / "statement.csv"
    if not statement.is_file():
        return []
    result = stage_results(reconciliation_flow(str(cycle), str(out), str(statement), None, lang, return_state=True))[0]
    return ["\n" + render("demo_reconciliation", {"cycle": cycle, "out": out, "statement": statement}, lang), result.message]
