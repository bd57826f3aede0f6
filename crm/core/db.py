"""Database plumbing: the async engine (SQLite tuned for it), sessions, Alembic upgrades."""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


# migrations/env.py reads the URL from here rather than from a main option: an option
# goes through configparser, which would choke on a "%" in a password.
DATABASE_URL_ATTRIBUTE = "lexcrm_database_url"


def create_engine(url: str) -> AsyncEngine:
    """An async engine for `url`; for a SQLite file, creates its folder and sets the pragmas."""
    parsed = make_url(url)
    engine = _create_async_engine(parsed)
    if parsed.get_backend_name() == "sqlite":
        _create_sqlite_folder(url)
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
    return engine


def _create_sqlite_folder(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _set_sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # WAL lets the web pages read while the call tracker writes; SQLite leaves foreign keys
    # off unless asked on every connection; busy_timeout makes a writer wait for the lock
    # instead of failing at once with "database is locked".
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
    finally:
        cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (services return them to callers)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    """An Alembic configuration built in code: no alembic.ini is needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes[DATABASE_URL_ATTRIBUTE] = url
    return config


def upgrade_database(url: str) -> None:
    """Bring the database at `url` to the newest schema (Alembic `upgrade head`).

    Safe to call from inside a running event loop: migrations/env.py runs its own loop with
    asyncio.run(), so in that case the upgrade runs in a worker thread, and this call blocks
    until it is done. Async code should prefer `upgrade_database_async`, which does not block.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        _upgrade_head(url)
        return
    with concurrent.futures.ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="alembic"
    ) as executor:
        executor.submit(_upgrade_head, url).result()


async def upgrade_database_async(url: str) -> None:
    """Like `upgrade_database`, for async code; runs in a worker thread so the loop runs on."""
    await asyncio.to_thread(_upgrade_head, url)


def _upgrade_head(url: str) -> None:
    _create_sqlite_folder(url)
    command.upgrade(alembic_config(url), "head")
