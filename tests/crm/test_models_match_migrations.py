"""The migrations build exactly the schema the models describe, and the database is set up right."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.conversations.transcription import is_search_index
from crm.core.db import alembic_config, create_engine, upgrade_database, upgrade_database_async
from crm.models import Base
from tests.crm.conftest import sqlite_only


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _differences(connection: Connection) -> list[Any]:
    # The full-text search of transcripts is made by hand in its migration, not by a model.
    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        return not is_search_index(name, type_)

    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": include_name}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_models_and_migrations_agree(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_comparison_can_see_a_difference(engine: AsyncEngine) -> None:
    # The check above is worth something only if a schema that differs is reported.
    async with engine.begin() as connection:
        await connection.exec_driver_sql("DROP INDEX ix_client_phones_number_index")
        differences = await connection.run_sync(_differences)
    assert [diff[0] for diff in differences] == ["add_index"]


async def test_no_table_holds_a_plaintext_number(engine: AsyncEngine) -> None:
    def columns(connection: Connection) -> list[str]:
        return [column["name"] for column in inspect(connection).get_columns("client_phones")]

    async with engine.connect() as connection:
        assert await connection.run_sync(columns) == [
            "id",
            "client_id",
            "number_ciphertext",
            "number_index",
            "label",
            "created_at",
        ]


@sqlite_only  # the pragmas of SQLite connections
async def test_sqlite_connections_get_the_pragmas(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        for pragma, expected in [
            ("journal_mode", "wal"),
            ("foreign_keys", 1),
            ("busy_timeout", 5000),
        ]:
            result = await connection.exec_driver_sql(f"PRAGMA {pragma}")
            assert result.scalar_one() == expected, pragma


async def _assert_schema_is_current(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()


async def test_upgrade_called_inside_the_event_loop(tmp_path: Path) -> None:
    # `lexcrm run` may upgrade with its loop already running; env.py runs a loop of its own.
    url = sqlite_url(tmp_path / "not" / "yet" / "there" / "crm.sqlite3")
    upgrade_database(url)
    await _assert_schema_is_current(url)
    # Again, on an up-to-date database: changes nothing, fails nothing.
    upgrade_database(url)
    await _assert_schema_is_current(url)


async def test_upgrade_database_async(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "new" / "crm.sqlite3")
    await upgrade_database_async(url)
    await _assert_schema_is_current(url)


def test_downgrade_to_base_and_up_again(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    upgrade_database(sqlite_url(path))
    command.downgrade(alembic_config(sqlite_url(path)), "base")
    connection = sqlite3.connect(path)
    try:
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    finally:
        connection.close()
    assert tables == {"alembic_version"}
    upgrade_database(sqlite_url(path))


def test_recordings_move_to_the_ledger_and_back(tmp_path: Path) -> None:
    """0011 keeps a call's files that only the call listed, and its downgrade lists them again."""
    path = tmp_path / "crm.sqlite3"
    config = alembic_config(sqlite_url(path))
    command.upgrade(config, "0010")
    connection = sqlite3.connect(path)
    try:
        for linkedid, files in (
            ("old", "/store/old-mix.wav.enc\n/store/old-client.wav.enc"),
            ("known", "/store/known-mix.wav.enc"),
        ):
            connection.execute(
                "INSERT INTO calls (linkedid, direction, started_at, recording_files, reconciled)"
                " VALUES (?, 'inbound', '2026-01-05 10:00:00', ?, 0)",
                (linkedid, files),
            )
        # The ledger already has this one: it is not written twice.
        connection.execute(
            "INSERT INTO recording_files (linkedid, part, path, sha256, size_bytes, "
            "duration_ms, created_at) VALUES ('known', 'mix', '/store/known-mix.wav.enc', "
            "?, 16000, 1000, '2026-01-05 10:01:00')",
            ("a" * 64,),
        )
        connection.commit()
    finally:
        connection.close()

    command.upgrade(config, "head")
    connection = sqlite3.connect(path)
    try:
        ledger = connection.execute(
            "SELECT linkedid, part, path, sha256 FROM recording_files ORDER BY id"
        ).fetchall()
        columns = [row[1] for row in connection.execute("PRAGMA table_info(calls)")]
    finally:
        connection.close()
    assert ledger == [
        ("known", "mix", "/store/known-mix.wav.enc", "a" * 64),
        ("old", "mix", "/store/old-mix.wav.enc", ""),
        ("old", "client", "/store/old-client.wav.enc", ""),
    ]
    assert "recording_files" not in columns

    command.downgrade(config, "0010")
    connection = sqlite3.connect(path)
    try:
        listed = dict(connection.execute("SELECT linkedid, recording_files FROM calls"))
    finally:
        connection.close()
    assert listed == {
        "old": "/store/old-mix.wav.enc\n/store/old-client.wav.enc",
        "known": "/store/known-mix.wav.enc",
    }
