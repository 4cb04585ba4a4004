"""Test set-up: a quiet, isolated Prefect (one test harness for the session, a temporary
PREFECT_HOME) and PostgreSQL when FUND_TEST_DATABASE_URL names one."""

from __future__ import annotations

import os
from contextlib import contextmanager
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

_HOME = tempfile.mkdtemp(prefix="fund-prefect-")
for key, value in {
    "PREFECT_HOME": _HOME,
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "False",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
}.items():
    os.environ[key] = value


@pytest.fixture(scope="session")
def prefect_server():
    """One Prefect test server for every flow test of the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, prefect_server):
    """The bundled demo run once to completion with `fund run`; tests read its outputs
    (the cycle tests and the browser tests share it)."""
    from typer.testing import CliRunner

    from fund.cli import app
    from fund.cli.cycle import demo_folder

    base = tmp_path_factory.mktemp("demo")
    cycle = Path(shutil.copytree(demo_folder(), base / "cycle"))
    result = CliRunner().invoke(app, ["run", str(cycle), "--out", str(base / "out")])
    text = result.stdout + (result.stderr or "")
    assert result.exit_code == 0, text
    return cycle, base / "out", text


@contextmanager
def postgres_schema():
    """A fresh schema in the test PostgreSQL (its URL), dropped afterwards; skipped (or failed
    in CI) without one."""
    base = os.environ.get("FUND_TEST_DATABASE_URL")
    if not base:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL tests: set FUND_TEST_DATABASE_URL")
        pytest.skip("no PostgreSQL: set FUND_TEST_DATABASE_URL=postgresql+psycopg://user@host:5432/db to run")
    import sqlalchemy

    schema = f"fund_test_{uuid.uuid4().hex[:10]}"
    engine = sqlalchemy.create_engine(base)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        from fund.tasks.store import dispose_engines

        dispose_engines()
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def postgres_url():
    with postgres_schema() as url:
        yield url


# The longest test files first: each worker takes whole files (pyproject.toml), so a long file
# started last would leave the other worker idle at the end.
LONGEST_FIRST = (
    "test_city_deployed.py",
    "test_cycle.py",
    "test_city.py",
    "test_reliability.py",
    "test_runtime.py",
    "test_deploy.py",
    "test_migrations.py",
    "test_report.py",
    "test_publication.py",
    "test_progress.py",
    "test_integrity.py",
    "test_ledger.py",
    "test_needs_cycle.py",
    "test_workbooks.py",
)


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file's own order is kept
