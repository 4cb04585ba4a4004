"""The schema is created and upgraded by Alembic migrations: they build exactly the tables
that `fund.schemas` defines, a database made by the previous release (by `create_all`, with
no version) is upgraded and runs a cycle, and two first runs never create tables at once."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel
from typer.testing import CliRunner

from fund.cli import app
from fund.cli.cycle import demo_folder
from fund.schemas import migrate
from fund.tasks.store import default_db_url, dispose_engines

runner = CliRunner()


def fund(*args) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request, tmp_path) -> str:
    if request.param == "sqlite":
        return default_db_url(tmp_path / "out")
    return request.getfixturevalue("postgres_url")


def test_migrations_build_the_tables_the_schemas_define(database, tmp_path):
    (tmp_path / "out").mkdir(exist_ok=True)
    engine = sqlalchemy.create_engine(database)
    migrate.ensure_current(engine)
    with engine.connect() as connection:
        assert migrate.current(connection) == migrate.HEAD
        differences = [
            d
            for d in compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
            if not (d[0] == "remove_table" and d[1].name == "alembic_version")
        ]
    engine.dispose()
    assert differences == []


def test_head_is_the_last_revision():
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(migrate.SCRIPTS))
    assert scripts.get_current_head() == migrate.HEAD
    assert tuple(reversed([s.revision for s in scripts.walk_revisions()])) == migrate.REVISIONS


def test_a_previous_release_database_is_upgraded_and_runs(database, tmp_path, prefect_server):
    """Fill a database through a whole cycle, take it back to the previous release's schema
    as that release left it (no version table), then run the current release on it."""
    cycle = Path(shutil.copytree(demo_folder(), tmp_path / "cycle"))
    one_payment_per_tranche(cycle / "payments.csv")
    out = tmp_path / "out"
    code, text = fund("run", cycle, "--out", out, "--db", database)
    assert code == 0, text
    before = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*.csv"))}
    engine = sqlalchemy.create_engine(database)
    migrate.downgrade(engine, "0001")
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("DROP TABLE alembic_version"))
        tables = set(sqlalchemy.inspect(connection).get_table_names())
        proposals = connection.execute(sqlalchemy.text("SELECT count(*) FROM proposal")).scalar()
    engine.dispose()
    dispose_engines()
    assert "stagestatus" not in tables and "outputfile" not in tables and proposals == 61

    code, text = fund("db", "current", "--db", database, "--lang", "en")
    assert code == 0 and "has no schema version" in text, text
    (cycle / "scores" / "R02.csv").write_text(
        (cycle / "scores" / "R02.csv").read_text(encoding="utf-8-sig").replace("\n", "\r\n"), encoding="utf-8"
    )  # the same scores, edited
    code, text = fund("run", cycle, "--out", out, "--db", database)
    assert code == 0, text
    assert "✓ 评分与双评" in text and "· 专家分配" in text  # kept what it had, redid what changed
    assert "✓ 申报受理" in text  # and the intake, which fills the tables of the needs lists (0003)
    assert {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*.csv"))} == before
    code, text = fund("db", "current", "--db", database, "--lang", "en")
    assert code == 0 and f"schema version {migrate.HEAD} (current)" in text, text


def one_payment_per_tranche(path: Path) -> None:
    """The ledger as the previous release could keep it: one payment per tranche, no reversals."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    count = Counter((r[0], r[1]) for r in rows)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([header] + [r for r in rows if count[(r[0], r[1])] == 1 and not r[6]])


@pytest.mark.postgres
def test_two_first_runs_on_an_empty_database_do_not_collide(postgres_url, tmp_path, prefect_server):
    """Two first runs of one cycle, at once, through two spellings of the same server: the
    schema is made once, one run completes, the other refuses in one sentence."""
    from prefect.settings import get_current_settings

    cycle = Path(shutil.copytree(demo_folder(), tmp_path / "cycle"))
    spellings = [postgres_url, postgres_url.replace("127.0.0.1", "localhost")]
    assert spellings[0] != spellings[1]
    env = dict(os.environ, PREFECT_API_URL=str(get_current_settings().api.url))
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "fund", "run", str(cycle), "--out", str(tmp_path / f"out{i}"), "--db", url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i, url in enumerate(spellings)
    ]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    codes = sorted(run.returncode for run in runs)
    for output in outputs:
        assert "Traceback" not in output and "Error" not in output, output
    assert codes in ([0, 0], [0, 1]), outputs
    if codes == [0, 1]:
        refused = outputs[[run.returncode for run in runs].index(1)]
        assert "正在由另一个运行处理" in refused and "2026-nanguan" in refused, refused
    done = outputs[[run.returncode for run in runs].index(0)]
    assert "✓ 领导报告" in done
