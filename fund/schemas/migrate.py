"""The database schema, created and upgraded by versioned Alembic migrations
(`fund/schemas/migrations/versions/`), never by `create_all`.

`ensure_current(engine)` runs whenever the product opens a database: a database at `HEAD`
costs one query; an empty one, or one from an earlier release, is upgraded under a lock
that the database itself holds (PostgreSQL: an advisory lock in the target database;
SQLite: a lock file beside the database file), so two first runs never create tables at
the same time, whatever URL spelling each used. `fund db upgrade` and `fund db current`
are the same functions from the command line.

A new release that changes a table adds a revision (`alembic revision --autogenerate`
against a database at HEAD, from this folder's `env.py`), sets `HEAD`, and the upgrade
test (tests/test_migrations.py) builds the previous release's schema, fills it, upgrades
it and runs a cycle on it.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

HEAD = "0004"
REVISIONS = ("0001", "0002", "0003", "0004")
SCRIPTS = Path(__file__).resolve().parent / "migrations"


class SchemaTooNew(Exception):
    """The database was upgraded by a newer release of fund."""

    def __init__(self, found: str):
        super().__init__(found)
        self.found = found


def current(connection: Connection) -> str | None:
    """The revision a database is at (None: no fund schema, or one made before migrations)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_current(engine: Engine) -> None:
    with engine.connect() as connection:
        found = current(connection)
    if found == HEAD:
        return
    if found is not None and found not in REVISIONS:
        raise SchemaTooNew(found)
    upgrade(engine)


def upgrade(engine: Engine, target: str = "head") -> None:
    from alembic import command

    with schema_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # held until this transaction ends
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('fund-schema'), hashtext(current_schema()))"))
        command.upgrade(alembic_config(connection), target)


def downgrade(engine: Engine, target: str) -> None:
    """For the upgrade tests: back to an earlier release's schema (rows of kept tables stay)."""
    from alembic import command

    with schema_lock(engine), engine.begin() as connection:
        command.downgrade(alembic_config(connection), target)


def alembic_config(connection: Connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


@contextmanager
def schema_lock(engine: Engine):
    """SQLite has no advisory locks: a lock file beside the database serialises upgrades."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    path = Path(database)
    handle = os.open(path.with_name(f".{path.name}.schema-lock"), os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)
