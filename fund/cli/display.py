"""What an administrator sees while `fund run` works and when it ends.

Each stage's line is printed the moment the stage ends (also into a pipe or a file, a line
at a time). On a terminal a live line below them shows where the run is: start-up, the
stage in progress, its step and the time it has taken; it disappears at the end. `--quiet`
keeps only problems and what to do next; `--verbose` adds Prefect's own log lines.
"""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner

from fund.cli.common import console, err
from fund.flows.stage import StageOutcome
from fund.runtime import progress
from fund.schemas.codes import Outcome
from fund.tasks.run_messages import STAGE_LABELS

MARKS = {
    Outcome.DONE: "✓",
    Outcome.SKIPPED: "·",
    Outcome.WAITING: "…",
    Outcome.STOPPED: "✗",
    Outcome.ERROR: "✗",
    Outcome.RESTORED: "↺",
    Outcome.CHANGED: "!",
}
PROBLEMS = (Outcome.STOPPED, Outcome.ERROR, Outcome.CHANGED)

STEPS = {
    "starting_server": ("启动 Prefect 临时服务器", "starting a temporary Prefect server"),
    "loading": ("加载各阶段与数据质量检查", "loading the stages and the quality checks"),
    "waiting_server": ("等待 Prefect 服务器就绪", "waiting for the Prefect server"),
    "checking": ("检查输入与输出文件", "checking inputs and outputs"),
    "running": ("运行中", "running"),
    "reading": ("读取 {files}", "reading {files}"),
    "validating": ("校验 {rows} 行", "validating {rows} rows"),
    "assigning": ("为 {proposals} 个项目分配评审专家", "assigning reviewers to {proposals} proposals"),
    "scoring": ("计算 {proposals} 个项目的双评得分", "double evaluation of {proposals} proposals"),
    "solving": ("求解资金分配（{proposals} 个项目）", "solving the allocation ({proposals} proposals)"),
    "gap": ("求解资金分配：最优性差距 {gap}", "solving the allocation: optimality gap {gap}"),
    "gate": ("数据质量检查：{table}（{rows} 行）", "quality gate: {table} ({rows} rows)"),
    "storing": ("写入数据库", "storing"),
    "writing": ("写出文件", "writing the files"),
    "writing_sheets": ("生成 {reviewers} 位专家的评分表", "writing the sheets of {reviewers} reviewers"),
    "needs": ("需求覆盖与资源台账", "needs coverage and the resource ledger"),
}


def stage_name(stage: str | None, lang: str) -> str:
    zh, en = STAGE_LABELS.get(stage or "", ("运行", "run"))
    return en if lang == "en" else zh


def step_text(step: str, params: dict, lang: str) -> str:
    zh, en = STEPS.get(step, (step, step))
    try:
        return (en if lang == "en" else zh).format(**params)
    except (KeyError, IndexError):
        return en if lang == "en" else zh


def result_line(result: StageOutcome, lang: str) -> str:
    return f"{MARKS.get(result.outcome, '?')} {stage_name(result.stage, lang)}: {result.message}"


def print_result(result: StageOutcome, lang: str, quiet: bool = False) -> None:
    problem = result.outcome in PROBLEMS
    if quiet and not problem:
        return
    (err if problem else console).print(result_line(result, lang), markup=False)


class RunDisplay:
    """Listens to the run's progress: prints stage lines at once, and on a terminal keeps a
    live line of where the run is (on stderr, with both streams printed above it)."""

    def __init__(self, lang: str, quiet: bool = False):
        self.lang, self.quiet = lang, quiet
        self.live: Live | None = None
        self.spinner = Spinner("dots", text="")
        self.stage: str | None = None
        self.stage_started = self.started = time.monotonic()
        self.activity = ""
        self.printed: list[StageOutcome] = []

    @staticmethod
    def interactive() -> bool:
        return sys.stdout.isatty() and sys.stderr.isatty() and not Console(stderr=True).is_dumb_terminal

    def __enter__(self) -> "RunDisplay":
        if not self.quiet and self.interactive():
            self.live = Live(
                self.spinner,
                console=err,
                transient=True,
                refresh_per_second=8,
                redirect_stdout=True,
                redirect_stderr=True,
                get_renderable=self.renderable,
            )
            self.live.start()
        self._listening = progress.listening(self.on_event)
        self._listening.__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        self._listening.__exit__(*exc_info)
        if self.live is not None:
            self.live.stop()
            self.live = None

    def renderable(self):
        now = time.monotonic()
        if self.stage:
            where = (
                f"{stage_name(self.stage, self.lang)} · {self.activity}" if self.activity else stage_name(self.stage, self.lang)
            )
            self.spinner.update(text=f"{where}  {now - self.stage_started:.1f} s")
        else:
            activity = self.activity or step_text("running", {}, self.lang)
            self.spinner.update(text=f"{activity}  {now - self.started:.1f} s")
        return self.spinner

    def on_event(self, event: progress.Event) -> None:
        if event.kind == "startup":
            self.stage, self.activity = None, step_text(event.step, event.params, self.lang)
        elif event.kind == "stage_started":
            self.stage, self.activity, self.stage_started = event.stage, "", event.at
        elif event.kind == "step":
            self.activity = step_text(event.step, event.params, self.lang)
        elif event.kind == "stage_finished":
            self.stage, self.activity = None, ""
            self.printed.append(event.result)
            print_result(event.result, self.lang, self.quiet)
            return
        if self.live is not None:  # drawn now, so a step shorter than the refresh period is seen too
            self.live.refresh()

    def show(self, results: list[StageOutcome]) -> None:
        """Print the results that no progress event has shown (e.g. a run that could not start)."""
        for result in results:
            if not any(result is shown or result == shown for shown in self.printed):
                self.printed.append(result)
                print_result(result, self.lang, self.quiet)
