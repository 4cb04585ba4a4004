"""Alembic's environment for the fund database: migrations run on the connection that
`fund.schemas.migrate` hands over (in its transaction, under its lock)."""

from alembic import context
from sqlmodel import SQLModel

from fund.schemas import tables  # noqa: F401  (the metadata, for `alembic revision --autogenerate`)

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
