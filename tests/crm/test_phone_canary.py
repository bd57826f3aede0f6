"""The canary: once a client is saved, no form of their number is in the database's files."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from crm.clients.services import ClientService
from crm.core.crypto import PersonalDataCipher
from tests.crm.conftest import postgresql_only, sqlite_only
from tests.support.postgres import PostgresCluster

FORMS_OF_THE_NUMBER = ["9215554321", "79215554321", "89215554321", "555-43-21", "5554321"]
# Stored in plain text on purpose: proves the bytes read below really hold the new rows.
NAME_MARKER = "Канарейкин Пётр Птицевич"


def _database_bytes(database_path: Path) -> bytes:
    contents = b""
    for suffix in ("", "-wal", "-journal"):
        path = database_path.with_name(database_path.name + suffix)
        if path.exists():
            contents += path.read_bytes()
    return contents


async def _save_the_canary(
    sessionmaker: async_sessionmaker[AsyncSession], cipher: PersonalDataCipher
) -> None:
    clients = ClientService(sessionmaker, cipher)
    client = await clients.add_client(NAME_MARKER, ["+7 921 555-43-21"], topic="Наследство")
    await clients.add_phone(client.id, "8 (921) 555-43-21")
    assert await clients.find_clients_by_phone("89215554321") != []


@sqlite_only  # it reads the SQLite file itself
async def test_no_trace_of_the_number_in_the_database_files(
    sessionmaker: async_sessionmaker[AsyncSession],
    cipher: PersonalDataCipher,
    database_path: Path,
) -> None:
    await _save_the_canary(sessionmaker, cipher)
    _assert_no_number_in(_database_bytes(database_path))


@postgresql_only  # it reads the cluster's files
async def test_no_trace_of_the_number_in_the_postgresql_files(
    sessionmaker: async_sessionmaker[AsyncSession],
    cipher: PersonalDataCipher,
    engine: AsyncEngine,
    postgres: PostgresCluster,
) -> None:
    await _save_the_canary(sessionmaker, cipher)
    async with engine.connect() as connection:
        # Written out of the shared buffers into the table files, and the log with it.
        await connection.execute(text("CHECKPOINT"))
        oid = await connection.scalar(
            text("SELECT oid FROM pg_database WHERE datname = current_database()")
        )
    files = [*(postgres.data / "base" / str(oid)).iterdir(), *(postgres.data / "pg_wal").iterdir()]
    _assert_no_number_in(b"".join(path.read_bytes() for path in files if path.is_file()))


def _assert_no_number_in(contents: bytes) -> None:
    assert NAME_MARKER.encode() in contents
    # A list of leaks rather than `assert ... not in contents`: pytest would print the
    # whole database file on failure.
    leaks = [
        (form, encoding)
        # UTF-16 too, in case some layer ever stores text that way.
        for encoding in ("utf-8", "utf-16-le")
        for form in FORMS_OF_THE_NUMBER
        if form.encode(encoding) in contents
    ]
    assert leaks == []
