"""`fund`: the command administrators run (CONTRACT.md, "Command").

Exit status: 0 when the run did what the inputs allow (rejected rows and waiting for
people are normal business); 2 for a bad command line or cycle.toml; 1 when a stage
stopped, with a one-paragraph message and never a bare traceback.

The commands live in one module per concern (cycle, tracking, audit); this module only
assembles them, so no command module imports another.
"""
from __future__ import annotations

import sys
import tempfile
import traceback
from pathlib import Path

import typer

from fund.cli import audit, cycle, tracking
from fund.cli.common import check_settings, err

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="公益创投资金管理 / public-benefit venture fund cycles")
for commands in (cycle.app, tracking.app):
    app.registered_commands += commands.registered_commands
app.add_typer(audit.app, name="audit")
app.callback()(check_settings)   # before any command: a bad FUND_* variable is exit 2, named


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # a defect: one paragraph for the user, the details in a log file
        log = Path(tempfile.gettempdir()) / "fund-error.log"
        log.write_text(traceback.format_exc(), encoding="utf-8")
        err.print(f"fund stopped on an internal error ({type(exc).__name__}: {exc}). Details: {log}", markup=False)
        sys.exit(1)
