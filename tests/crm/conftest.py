"""Fixtures of the CRM tests: a real, migrated SQLite file per test and a key file per test."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from crm.core.crypto import KeyRing, PersonalDataCipher
from crm.core.db import create_engine, create_sessionmaker, upgrade_database


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file brought to `head` by the real migrations, once per session."""
    path = tmp_path_factory.mktemp("template") / "crm.sqlite3"
    upgrade_database(sqlite_url(path))
    # The copy below takes only the main file; a WAL left behind would hold part of the schema.
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture
def database_path(tmp_path: Path, migrated_template: Path) -> Path:
    # A copy of the migrated template rather than a migration per test: same schema (the
    # migrations are what made it), a fraction of the time, and every test starts empty.
    path = tmp_path / "db" / "crm.sqlite3"
    path.parent.mkdir()
    shutil.copyfile(migrated_template, path)
    return path


@pytest.fixture
async def engine(database_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(sqlite_url(database_path))
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "secret" / "lexcrm.keys"


@pytest.fixture
def keyring(key_file: Path) -> KeyRing:
    KeyRing.create_file(key_file)
    # Loaded back from disk, as lexcrm does, so the file format is in every service test.
    return KeyRing.load(key_file)


@pytest.fixture
def cipher(keyring: KeyRing) -> PersonalDataCipher:
    return PersonalDataCipher(keyring)
