"""Options shared by every `fund` command."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer


class Lang(str, Enum):
    zh = "zh"
    en = "en"


CycleDir = Annotated[Path, typer.Argument(help="cycle folder (cycle.toml and the CSV files)", show_default=False)]
OutDir = Annotated[Path, typer.Option("--out", help="output folder", show_default=False)]
DbUrl = Annotated[Optional[str], typer.Option("--db", help="database URL (default: SQLite file in OUT_DIR)")]
LangOpt = Annotated[Lang, typer.Option("--lang", envvar="FUND_LANG", help="language of messages and outputs")]
