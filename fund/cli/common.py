"""What every `fund` command shares: its options, its two consoles, how it stops, and how
it finds the cycle and its database."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from rich.console import Console

from fund.settings import Settings
from fund.tasks.messages import sentence

for _key, _value in {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "False",
    # Prefect's own console lines are for the Prefect UI; the administrator reads ours
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_TASK_RUNS_LEVEL": "CRITICAL",
}.items():
    os.environ.setdefault(_key, _value)


class Lang(str, Enum):
    zh = "zh"
    en = "en"


CycleDir = Annotated[Path, typer.Argument(help="cycle folder (cycle.toml and the CSV files)", show_default=False)]
OutDir = Annotated[Path, typer.Option("--out", help="output folder", show_default=False)]
DbUrl = Annotated[Optional[str], typer.Option("--db", help="database URL (default: SQLite file in OUT_DIR)")]
# the default comes from FUND_LANG (fund.settings; checked with every FUND_* variable before a command runs)
LangOpt = Annotated[Lang, typer.Option("--lang", envvar=Settings.variable("lang"), help="language of messages and outputs")]

ERROR_LOG_FOLDER: Path | None = None  # the output folder of the running command, for an internal error's details
console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(code: int, message: str) -> NoReturn:
    """Stop the command: one paragraph on stderr, exit `code` (1 stopped, 2 bad command line)."""
    err.print(message, markup=False)
    raise typer.Exit(code)


def check_settings() -> None:
    """Every FUND_* variable within its range, or exit 2 with one sentence naming the bad one."""
    from fund.settings import SettingsError, load_settings

    try:
        load_settings()
    except SettingsError as exc:
        fail(2, exc.text())


def load_cycle(cycle_dir: Path, lang: str):
    """The cycle's configuration; exit 2 naming the key when cycle.toml is not usable."""
    from fund.schemas.config import ConfigError, load_config

    if not cycle_dir.is_dir():
        fail(2, sentence("no_such_cycle_folder", lang, d=cycle_dir))
    try:
        return load_config(cycle_dir)
    except ConfigError as exc:
        fail(2, sentence("cycle_toml_not_usable", lang, k=exc.key, p=exc.problem))


def existing_run(out: Path, db: str | None, lang: str) -> str:
    """The database URL of a cycle that has run; exit 1 when nothing ran in OUT_DIR yet."""
    from fund.tasks.store import default_db_url

    if db is None and not (out / "fund.db").exists():
        fail(1, sentence("no_run_found_run", lang, o=out))
    return db or default_db_url(out)


def with_prefect(lang: str, body):
    """Run `body` (which runs flows) with this command's Prefect API: the configured or local
    server, else a temporary one for the command; a server that cannot be had is one paragraph."""
    from fund.runtime.prefect_api import RuntimeProblem, prefect_api

    try:
        with prefect_api(lang) as api:
            api.ready()
            return body()
    except RuntimeProblem as problem:
        fail(problem.code, str(problem))
