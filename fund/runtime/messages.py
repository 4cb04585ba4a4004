"""The sentences of the runtime (Prefect server, database, locks, output folder), in
Chinese and English: key → (zh, en), rendered by `text`."""

from __future__ import annotations

RUNTIME: dict[str, tuple[str, str]] = {
    "api_unreachable": (
        "Prefect 服务器 {url} 没有响应（{reason}）。请确认它已启动（prefect server start，或 fund server start），"
        "或取消 PREFECT_API_URL 的设置，让 fund 自行启动临时服务器。",
        "The Prefect server at {url} does not answer ({reason}). Check that it is running (prefect server start, or "
        "fund server start), or unset PREFECT_API_URL so that fund starts a temporary server itself.",
    ),
    "api_url_malformed": ("PREFECT_API_URL 不是有效的网址：{url}", "PREFECT_API_URL is not a usable address: {url}"),
    "server_start_timeout": (
        "临时 Prefect 服务器在 {seconds} 秒内没有就绪（本机可能过于繁忙），已将其停止，本次未做任何改动。"
        "请稍后重试；如需更长等待，设置 FUND_PREFECT_START_TIMEOUT（秒）。服务器日志：{log}",
        "The temporary Prefect server was not ready within {seconds} s (the machine may be too busy); it was stopped and "
        "nothing was changed. Try again later, or allow longer with FUND_PREFECT_START_TIMEOUT (seconds). Server log: {log}",
    ),
    "server_exited": (
        "临时 Prefect 服务器启动失败（退出码 {code}），本次未做任何改动：{tail}（完整日志：{log}）",
        "The temporary Prefect server could not start (exit code {code}); nothing was changed: {tail} (full log: {log})",
    ),
    "home_not_writable": (
        "Prefect 数据目录 {home} 无法写入（{reason}）。请设置可写的 PREFECT_HOME，例如 export PREFECT_HOME=$HOME/.prefect",
        "The Prefect home folder {home} cannot be written ({reason}). Set PREFECT_HOME to a folder you can write, "
        "e.g. export PREFECT_HOME=$HOME/.prefect",
    ),
    "out_not_writable": (
        "输出文件夹 {out} 无法写入（{reason}），本次未做任何改动。请换一个可写的文件夹（--out），或检查磁盘空间与权限。",
        "The output folder {out} cannot be written ({reason}); nothing was changed. Choose a folder you can write "
        "(--out), or check the disk space and permissions.",
    ),
    "db_url_malformed": (
        "--db 不是有效的数据库地址：{url}（示例：postgresql+psycopg://用户@主机:5432/库名）",
        "--db is not a usable database URL: {url} (e.g. postgresql+psycopg://user@host:5432/dbname)",
    ),
    "db_unreachable": (
        "无法连接数据库 {url}：{reason}。本次未做任何改动。",
        "Cannot connect to the database {url}: {reason}. Nothing was changed.",
    ),
    "db_newer": (
        "数据库 {url} 的结构版本 {found} 比本程序（{ours}）新：请升级 fund 后再运行。",
        "The database {url} has schema version {found}, newer than this fund ({ours}): upgrade fund first.",
    ),
    "cycle_busy": (
        "周期 {cycle} 正在由另一个运行处理（{where}），本次未做任何改动；请等它结束后再运行。",
        "Cycle {cycle} is being run by another process ({where}); nothing was changed. Run again when it has finished.",
    ),
    "internal_error": (
        "fund 因内部错误停止（{error}）。详细信息已写入 {log}，请联系技术支持。",
        "fund stopped on an internal error ({error}). The details are in {log}.",
    ),
    "interrupted": (
        "已中断：已完成的阶段保留，下次运行从中断处继续。",
        "Interrupted: finished stages are kept; the next run continues from here.",
    ),
    "server_started": (
        "本机 Prefect 服务器已启动：{ui}（进程 {pid}，数据目录 {home}）。之后的 fund 命令都会使用它；停止：fund server stop",
        "The local Prefect server is running: {ui} (process {pid}, home {home}). Later fund commands use "
        "it; stop it with fund server stop",
    ),
    "server_running": (
        "本机 Prefect 服务器正在运行：{ui}（进程 {pid}，数据目录 {home}）",
        "The local Prefect server is running: {ui} (process {pid}, home {home})",
    ),
    "server_none": (
        "本机没有由 fund 启动的 Prefect 服务器（数据目录 {home}）；每次 fund 命令会自行启动临时服务器。",
        "No local Prefect server started by fund is running (home {home}); each fund command starts a temporary one of its own.",
    ),
    "server_stopped": ("已停止本机 Prefect 服务器（进程 {pid}）。", "The local Prefect server (process {pid}) is stopped."),
    "port_in_use": (
        "端口 {port} 已被其他程序占用：请用 --port 另选一个端口。",
        "Port {port} is already in use: choose another with --port.",
    ),
    "server_start_failed": (
        "本机 Prefect 服务器未能启动：{tail}（日志：{log}）",
        "The local Prefect server did not start: {tail} (log: {log})",
    ),
    "file_io": (
        "文件 {path} 无法读写（{reason}）：请检查磁盘空间与权限后重新运行。",
        "The file {path} could not be read or written ({reason}): check the disk space and permissions, then run again.",
    ),
}


def text(key: str, lang: str, **params) -> str:
    zh, en = RUNTIME[key]
    return (en if lang == "en" else zh).format(**params)
