"""The product database (SQLite by default, PostgreSQL alike) through SQLModel/SQLAlchemy.

Each stage replaces its own rows of the cycle in one transaction, so a rerun never
duplicates anything and a crash leaves the previous state (the audit trail that goes with
each change is `fund.tasks.audit`).
"""

from __future__ import annotations

import hashlib
import fcntl
import os
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import delete, event, insert, select, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, create_engine

from fund.schemas import tables  # noqa: F401  (registers every table on the metadata)
from fund.schemas.migrate import ensure_current

_ENGINES: dict[str, Engine] = {}
CHUNK = 5_000
CONNECT_ARGS = {
    "postgresql+psycopg": {"connect_timeout": 10},
    "postgresql": {"connect_timeout": 10},
    "postgresql+psycopg2": {"connect_timeout": 10},
}


def default_db_url(out_dir: Path) -> str:
    return f"sqlite:///{(Path(out_dir) / 'fund.db').resolve()}"


def schema_url(url: str, schema: str, create: bool = True) -> str:
    """The PostgreSQL database `url` with the product's tables in `schema` (its search path),
    the schema created when missing unless `create` is false: a district of a city kept
    apart from the others in one database. Other databases: `url` unchanged."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return url
    if create:
        engine = create_engine(url, connect_args=CONNECT_ARGS.get(parsed.drivername, {}))
        try:
            with engine.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        finally:
            engine.dispose()
    return parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def engine_for(url: str) -> Engine:
    engine = _ENGINES.get(url)
    if engine is None:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 60})

            @event.listens_for(engine, "connect")
            def _pragmas(connection, _record):
                cursor = connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()
        else:
            engine = create_engine(url, pool_pre_ping=True, connect_args=CONNECT_ARGS.get(make_url(url).drivername, {}))
        try:
            ensure_current(engine)  # created and upgraded by migrations, under the database's own lock
        except BaseException:
            engine.dispose()
            raise
        _ENGINES[url] = engine
    return engine


def dispose_engines() -> None:
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


@contextmanager
def transaction(url: str):
    """One all-or-nothing unit of work."""
    with Session(engine_for(url)) as session:
        with session.begin():
            yield session


def replace_rows(session: Session, table: type[SQLModel], cycle_id: str, rows: list[dict]) -> None:
    session.execute(delete(table).where(table.cycle_id == cycle_id))
    insert_rows(session, table, cycle_id, rows)


def insert_rows(session: Session, table: type[SQLModel], cycle_id: str, rows: list[dict]) -> None:
    columns = set(table.model_fields)
    # rows with the same columns go together: one executemany needs the same keys in every row
    batches: dict[tuple[str, ...], list[dict]] = defaultdict(list)
    for row in rows:
        record = {k: v for k, v in row.items() if k in columns} | {"cycle_id": cycle_id}
        batches[tuple(record)].append(record)
    # a Core insert on the session's connection: the ORM's bulk path costs twice as much per row
    connection = session.connection()
    for batch in batches.values():
        for start in range(0, len(batch), CHUNK):
            connection.execute(insert(table.__table__), batch[start : start + CHUNK])


def load_rows(url: str, table: type[SQLModel], cycle_id: str, order_by: tuple[str, ...] = ()) -> list[dict]:
    columns = [c for c in table.model_fields if c != "cycle_id"]
    statement = select(*(getattr(table, c) for c in columns)).where(table.cycle_id == cycle_id)
    if order_by:
        statement = statement.order_by(*(getattr(table, c) for c in order_by))
    with engine_for(url).connect() as connection:
        return [dict(zip(columns, row)) for row in connection.execute(statement)]


class CycleBusy(Exception):
    """Another run holds the cycle."""


@contextmanager
def cycle_lock(url: str, cycle_id: str, out_dir: Path):
    """One run at a time per output folder and per cycle in the database.

    A second run refuses at once (CycleBusy) instead of interleaving writes. On PostgreSQL
    the lock is an advisory lock that the server keys on its own schema name and the cycle
    id, so every spelling of the URL (host alias, 127.0.0.1 or localhost, another client
    machine) takes the same lock; with SQLite, the database file is locked too when it is
    not the output folder's own. The operating system or the server releases a lock when
    the process holding it dies.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _file_lock(out_dir / ".fund.lock", str(out_dir)):
        engine = engine_for(url)
        if engine.dialect.name == "postgresql":
            key = "SELECT hashtext('fund-cycle:' || current_schema()), hashtext(:cycle)"
            with engine.connect() as connection:
                keys = connection.execute(text(key), {"cycle": cycle_id}).one()
                if not connection.execute(text("SELECT pg_try_advisory_lock(:a, :b)"), {"a": keys[0], "b": keys[1]}).scalar():
                    connection.rollback()
                    raise CycleBusy(cycle_id)
                connection.commit()
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:a, :b)"), {"a": keys[0], "b": keys[1]})
                    connection.commit()
            return
        database = Path(engine.url.database or "")
        if engine.url.database and database.resolve() != (out_dir / "fund.db").resolve() and database.parent.is_dir():
            with _file_lock(database.with_name(f".{database.name}.{cycle_id_digest(cycle_id)}.lock"), str(database)):
                yield
            return
        yield


def cycle_id_digest(cycle_id: str) -> str:
    return hashlib.sha256(cycle_id.encode()).hexdigest()[:16]


@contextmanager
def _file_lock(path: Path, where: str):
    handle = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CycleBusy(where) from None
        yield
    finally:
        os.close(handle)
