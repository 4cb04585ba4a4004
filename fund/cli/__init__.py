"""`fund`: the command administrators run (CONTRACT.md, "Command").

Exit status: 0 when the run did what the inputs allow (rejected rows and waiting for
people are normal business); 2 for a bad command line or cycle.toml; 1 when a stage
stopped, with a one-paragraph message and never a bare traceback.

The commands live in one module per concern (cycle, tracking, audit); this module only
assembles them, so no command module imports another.
"""

from __future__ import annotations

import os
import sys
import traceback

import typer

from fund.cli import audit, city, common, cycle, db, server, tracking
from fund.cli.common import check_settings, err
from fund.settings import Settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="公益创投资金管理 / public-benefit venture fund cycles",
)
for commands in (cycle.app, tracking.app):
    app.registered_commands += commands.registered_commands
app.add_typer(audit.app, name="audit")
app.add_typer(server.app, name="server")
app.add_typer(db.app, name="db")
app.add_typer(city.app, name="city")


def command_language(args: list[str]) -> str:
    """The language asked for (`--lang en` or FUND_LANG), for messages printed outside a command."""
    asked = args[args.index("--lang") + 1] if "--lang" in args[:-1] else os.environ.get(Settings.variable("lang"), "zh")
    return "en" if asked == "en" else "zh"


app.callback()(check_settings)  # before any command: a bad FUND_* variable is exit 2, named


def main() -> None:
    from fund.runtime.errors import write_error_log
    from fund.runtime.messages import text

    lang = command_language(sys.argv[1:])
    try:
        app()
    except KeyboardInterrupt:
        err.print(text("interrupted", lang), markup=False)
        sys.exit(130)
    except Exception as exc:  # a defect: one paragraph for the user, the details in a log file of this run
        log = write_error_log(common.ERROR_LOG_FOLDER, traceback.format_exc())
        err.print(text("internal_error", lang, error=f"{type(exc).__name__}: {exc}", log=log), markup=False)
        sys.exit(1)
