"""Alembic environment of the CRM: runs migrations through the async engine lexcrm uses."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from crm.conversations.transcription import is_search_index
from crm.core.db import DATABASE_URL_ATTRIBUTE
from crm.core.tables import UtcDateTime
from crm.models import Base

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    # crm.core.db.upgrade_database passes the URL as an attribute; an alembic.ini someone writes
    # by hand can still give sqlalchemy.url.
    url = config.attributes.get(DATABASE_URL_ATTRIBUTE) or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL given to the migrations")
    return str(url)


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations must not import crm.models (a later model change would change an old
    # migration); UtcDateTime is a plain timezone-aware DateTime as far as the schema goes.
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    # The full-text search of transcripts is made by hand in a migration (a table on SQLite,
    # an index on PostgreSQL); autogenerate must not offer to drop it.
    return not is_search_index(name, type_)


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite can alter almost nothing in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        include_name=include_name,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    # Not crm.core.db.create_engine: its connections turn SQLite's foreign keys on, and then the
    # table copy of a batch migration would fire ON DELETE CASCADE when it drops the old table.
    engine = create_async_engine(database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=database_url().startswith("sqlite"),
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_async_migrations())
