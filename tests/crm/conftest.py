"""Fixtures of the CRM tests: a migrated database per test, SQLite and PostgreSQL; a key file."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from crm.core.crypto import KeyRing, PersonalDataCipher
from crm.core.db import create_engine, create_sessionmaker, upgrade_database
from tests.support.postgres import PostgresCluster

DATABASES = ("sqlite", "postgresql")
# For a test that means something on SQLite alone (its file, its pragmas).
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# For a test of what only PostgreSQL does (row locks that other transactions wait on).
postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


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


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each test runs on both databases: a copy of the migrated SQLite file, or a PostgreSQL
    database made from the migrated template (dropped after the test)."""
    if request.param == "sqlite":
        yield sqlite_url(request.getfixturevalue("database_path"))
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    name = cluster.new_database(request.getfixturevalue("postgres_template"))
    yield cluster.url(name)
    cluster.drop_database(name)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
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
