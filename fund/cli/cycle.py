"""`fund run`, `fund demo`, `fund approve`, `fund whatif`: the commands of the cycle itself."""
from __future__ import annotations

import shutil
import threading
from importlib import resources
from pathlib import Path
from typing import Annotated, Optional

import typer

from fund.cli.common import CycleDir, DbUrl, Lang, LangOpt, OutDir, console, err, existing_run, fail, load_cycle
from fund.tasks.messages import say

app = typer.Typer()

STAGE_NAMES = {"intake": ("申报受理", "intake"), "assignment": ("专家分配", "assignment"),
               "scoring": ("评分与双评", "scoring"), "allocation": ("资金分配", "allocation"),
               "publication": ("公示", "publication"), "tracking": ("项目跟踪", "tracking"),
               "report": ("领导报告", "report")}
MARKS = {"done": "✓", "skipped": "·", "waiting": "…", "stopped": "✗", "error": "✗"}


def start_prefect_server() -> threading.Thread | None:
    """Without PREFECT_API_URL, Prefect runs the flows on a temporary local server that takes
    seconds to start in a process of its own. Start it now, in the background, so that this
    process loads the stages meanwhile; join the thread before the first flow call."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return None
    from prefect.server.api.server import SubprocessASGIServer

    # the instance Prefect's client uses too; if this start fails, the client's own start reports it
    starting = threading.Thread(target=SubprocessASGIServer().start, name="prefect-server-start", daemon=True)
    starting.start()
    return starting


def run_cycle(cycle_dir: Path, out: Path, db: str | None, lang: str) -> int:
    load_cycle(cycle_dir, lang)
    out.mkdir(parents=True, exist_ok=True)
    starting = start_prefect_server()
    from fund.flows.cycle import cycle_flow
    from fund.flows.stage import stage_results
    from fund.tasks.quality import load_great_expectations

    load_great_expectations()
    if starting is not None:
        starting.join()

    state = cycle_flow(str(cycle_dir), str(out), db, lang, return_state=True)
    try:
        results = stage_results(state)
    except BaseException as error:
        fail(1, say(lang, "运行中断：{e}", "the run stopped: {e}", e=error))
    for result in results:
        zh, en = STAGE_NAMES.get(result["stage"], ("运行", "run"))
        name = zh if lang == "zh" else en
        target = err if result["outcome"] in ("stopped", "error") else console
        target.print(f"{MARKS.get(result['outcome'], '?')} {name}: {result['message']}", markup=False)
    last = results[-1]
    if last["outcome"] == "error":
        err.print(say(lang, "这是程序内部错误，详细信息已写入 {log}，请联系技术支持。",
                       "This is an internal error; details are in {log}.", log=last["summary"].get("log")), markup=False)
    return 1 if last["outcome"] in ("stopped", "error") else 0


@app.command()
def run(cycle_dir: CycleDir, out: OutDir, db: DbUrl = None, lang: LangOpt = Lang.zh):
    """运行一个资助周期的全部可运行阶段 / run every stage whose inputs are present."""
    raise typer.Exit(run_cycle(cycle_dir, out, db, lang.value))


@app.command()
def approve(cycle_dir: CycleDir, out: OutDir,
            by: Annotated[str, typer.Option("--by", help="who decides (name)", show_default=False)],
            reject: Annotated[Optional[str], typer.Option("--reject", help="reject, with this reason")] = None,
            db: DbUrl = None, lang: LangOpt = Lang.zh):
    """审批当前分配结果 / record an administrator's decision on the current allocation."""
    from fund.flows.allocation import record_approval

    lang_ = lang.value
    cfg = load_cycle(cycle_dir, lang_)
    if not by.strip():
        fail(2, say(lang_, "--by 需要填写审批人姓名", "--by needs the approver's name"))
    awards = record_approval(existing_run(out, db, lang_), cfg.cycle.id, by.strip(), reject)
    if not awards:
        fail(1, say(lang_, "还没有可审批的分配结果：请先运行 fund run 完成评分与分配",
                      "there is no allocation to approve yet: fund run must finish scoring and allocation first"))
    funded = [a for a in awards if a["status"] == "funded"]
    if reject:
        console.print(say(lang_, "已驳回分配结果（{r}），不会发布公示。", "allocation rejected ({r}); nothing will be published.",
                           r=reject), markup=False)
    else:
        console.print(say(lang_, "已批准分配结果（资助 {n} 项）。运行 fund run 发布公示。",
                           "allocation approved ({n} funded). Run fund run to publish the notice.", n=len(funded)),
                      markup=False)


@app.command()
def whatif(cycle_dir: CycleDir, out: OutDir,
           budget: Annotated[Optional[str], typer.Option(help="total budget in yuan")] = None,
           threshold: Annotated[Optional[str], typer.Option(help="score threshold")] = None,
           policy: Annotated[Optional[str], typer.Option(help="merit or optimal")] = None,
           max_funded_per_org: Annotated[Optional[int], typer.Option(help="funded proposals per organization")] = None,
           cover_every_street: Annotated[Optional[bool], typer.Option(help="optimal policy: cover every street")] = None,
           set_: Annotated[Optional[list[str]], typer.Option("--set", help="any rule, e.g. priorities.elderly=0.3")] = None,
           db: DbUrl = None, lang: LangOpt = Lang.zh):
    """假设分析：改变规则重新分配，只显示差异，不改动已发布结果 / rerun the allocation with changed rules."""
    from fund.flows.whatif import what_if

    lang_ = lang.value
    cfg = load_cycle(cycle_dir, lang_)
    overrides: dict[str, object] = {}
    for key, value in (("cycle.budget", budget), ("rules.score_threshold", threshold), ("allocation.policy", policy),
                       ("rules.max_funded_per_org", max_funded_per_org), ("allocation.cover_every_street", cover_every_street)):
        if value is not None:
            overrides[key] = value
    for item in set_ or []:
        key, sep, value = item.partition("=")
        if not sep:
            fail(2, say(lang_, "--set 的格式为 键=值，例如 priorities.elderly=0.3", "--set takes key=value, e.g. priorities.elderly=0.3"))
        overrides[key.strip()] = value.strip()
    raise typer.Exit(what_if(cfg, overrides, out, db, lang_, console, err))


def demo_folder() -> Path:
    return Path(str(resources.files("fund.data") / "demo"))


@app.command()
def demo(out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("fund-demo"),
         lang: LangOpt = Lang.zh):
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
    code = run_cycle(cycle, results_dir, None, lang_)
    console.print(say(lang_, "\n示例周期的输入在 {c}，结果在 {o}：", "\nThe demo cycle is in {c}; its results are in {o}:",
                       c=cycle, o=results_dir), markup=False)
    for rel in ("validation/rejected.csv", "review/assignments.csv", "review/sheets/", "evaluation/scores.csv",
                "allocation/allocation.csv", "allocation/comparison.csv", "allocation/publicity.html", "allocation/letters/",
                "reports/index.html", "quality/index.html"):
        if (results_dir / rel).exists():
            console.print(f"  {results_dir / rel}" + ("/" if rel.endswith("/") else ""), markup=False)
    raise typer.Exit(code)
