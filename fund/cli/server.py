"""`fund server start|status|stop`: a long-lived local Prefect server with its UI.

Without it, every fund command starts a temporary server of its own (no UI) and stops it
when it ends. With it, later commands on this machine (same PREFECT_HOME) use it: runs,
artifacts and schedules stay visible at its address, and a run skips the start-up wait.
"""

from __future__ import annotations

from typing import Annotated

import typer

from fund.cli.common import Lang, LangOpt, console, fail
from fund.runtime.messages import text

app = typer.Typer(help="本机 Prefect 服务器（含界面）/ the local Prefect server with its UI", no_args_is_help=True)


@app.command()
def start(
    port: Annotated[int, typer.Option("--port", help="port of the server and its UI", min=1024, max=65535)] = 4200,
    lang: LangOpt = Lang.zh,
):
    """启动本机 Prefect 服务器（之后的 fund 命令自动使用）/ start it; later fund commands use it."""
    from fund.runtime.prefect_api import RuntimeProblem, start_local_server

    try:
        record = start_local_server(port, lang.value)
    except RuntimeProblem as problem:
        fail(problem.code, str(problem))
    console.print(text("server_started", lang.value, ui=record["ui_url"], pid=record["pid"], home=record["home"]), markup=False)


@app.command()
def status(lang: LangOpt = Lang.zh):
    """本机 Prefect 服务器是否在运行 / whether it runs, and where."""
    from fund.runtime.prefect_api import local_server, prefect_home

    record = local_server()
    if record is None:
        console.print(text("server_none", lang.value, home=prefect_home()), markup=False)
        raise typer.Exit(1)
    console.print(text("server_running", lang.value, ui=record["ui_url"], pid=record["pid"], home=record["home"]), markup=False)


@app.command()
def stop(lang: LangOpt = Lang.zh):
    """停止本机 Prefect 服务器 / stop it."""
    from fund.runtime.prefect_api import prefect_home, stop_local_server

    record = stop_local_server()
    if record is None:
        console.print(text("server_none", lang.value, home=prefect_home()), markup=False)
        return
    console.print(text("server_stopped", lang.value, pid=record["pid"]), markup=False)
