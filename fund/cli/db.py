"""`fund db upgrade|current`: the schema version of the product's database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from fund.cli.common import DbUrl, Lang, LangOpt, console, fail
from fund.tasks.messages import sentence

app = typer.Typer(help="数据库结构版本 / the database schema", no_args_is_help=True)
OutOpt = Annotated[Optional[Path], typer.Option("--out", help="output folder whose fund.db to use (or --db)")]


def database_url(out: Path | None, db: str | None, lang: str) -> str:
    if db is None and out is None:
        fail(2, sentence("name_database_db_or", lang))
    if db is None and not (out / "fund.db").exists():
        fail(1, sentence("there_no_fund_db", lang, o=out))
    from fund.tasks.store import default_db_url

    return db or default_db_url(out)


@app.command()
def upgrade(out: OutOpt = None, db: DbUrl = None, lang: LangOpt = Lang.zh):
    """把数据库升级到本程序的结构版本（fund run 也会自动升级）/ bring the database to this release's schema."""
    from fund.runtime.database import open_database, shown
    from fund.runtime.prefect_api import RuntimeProblem
    from fund.schemas.migrate import HEAD

    url = database_url(out, db, lang.value)
    try:
        open_database(out or Path("."), url, lang.value)
    except RuntimeProblem as problem:
        fail(problem.code, str(problem))
    console.print(sentence("database_schema_version_current", lang.value, u=shown(url), v=HEAD), markup=False)


@app.command()
def current(out: OutOpt = None, db: DbUrl = None, lang: LangOpt = Lang.zh):
    """显示数据库的结构版本（不做改动）/ show the database's schema version, changing nothing."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    from fund.runtime.database import shown
    from fund.schemas.migrate import HEAD, current as revision

    url = database_url(out, db, lang.value)
    try:
        engine = create_engine(url)
        with engine.connect() as connection:
            found = revision(connection)
        engine.dispose()
    except (SQLAlchemyError, OSError) as exc:
        fail(1, sentence("cannot_read_database", lang.value, u=shown(url), e=str(exc).splitlines()[0]))
    if found is None:
        console.print(sentence("database_has_no_schema", lang.value, u=shown(url), h=HEAD), markup=False)
        return
    state = sentence("current", lang.value) if found == HEAD else sentence("this_release", lang.value, h=HEAD)
    console.print(sentence("database_schema_version_found", lang.value, u=shown(url), v=found, s=state), markup=False)
