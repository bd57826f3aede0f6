"""Fixtures of the web tests: the real app on a migrated SQLite copy, served to a test client."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from crm.auth.services import WebSessionService
from crm.core.crypto import KeyRing
from crm.core.db import upgrade_database_async
from crm.core.roles import Role
from crm.staff.models import Employee
from crm.staff.services import StaffService
from lexcrm.services import Services, build_services
from lexcrm.settings import Settings

# Each web test runs on both databases, on the CRM tests' databases (one fixture for both).
from tests.crm.conftest import (  # noqa: F401 - fixtures shared with the CRM tests
    database_path,
    database_url,
    engine,
    migrated_template,
    sessionmaker,
)
from web.app import create_app
from web.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from web.keys import WebConfig, WebServices

IDLE_MINUTES = 30
LAWYER_LOGIN = "petrov"
LAWYER_PASSWORD = "верный пароль юриста"
LAWYER_NAME = "Петров Пётр Петрович"

Client = TestClient[web.Request, web.Application]
ClientFactory = Callable[[], Awaitable[Client]]

_CSRF_FIELD = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]*)">')


class ManualClock:
    """A clock that moves only when told: idle timeouts are tested without sleeping."""

    def __init__(self) -> None:
        self.current = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, minutes: float) -> None:
        self.current += timedelta(minutes=minutes)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
async def web_migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file brought to `head` by the real migrations, once per session."""
    path = tmp_path_factory.mktemp("web-template") / "crm.sqlite3"
    await upgrade_database_async(sqlite_url(path))
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def employees(web_services: Services) -> StaffService:
    return web_services.staff


@pytest.fixture
def sessions(
    sessionmaker: async_sessionmaker[AsyncSession],  # noqa: F811 - the fixture imported above
    clock: ManualClock,
) -> WebSessionService:
    return WebSessionService(sessionmaker, now=clock)


@pytest.fixture
async def lawyer(employees: StaffService) -> Employee:
    return await employees.create_employee(LAWYER_LOGIN, LAWYER_NAME, Role.lawyer, LAWYER_PASSWORD)


@pytest.fixture
def web_services(
    engine: AsyncEngine,  # noqa: F811 - the fixture imported above
    sessions: WebSessionService,
    tmp_path: Path,
) -> Services:
    """The process's services, built by the one function that builds them, on the test
    database with a real bus and a real key ring."""
    keyring = KeyRing.create_file(tmp_path / "keys" / "lexcrm.keys")
    # Working hours round the clock: the tests run at any hour.
    settings = Settings(
        data_dir=tmp_path / "var", reminder_work_hours="00:00-24:00", reminder_work_days="1-7"
    )
    services = build_services(settings, engine, keyring)
    # The sessions on the test's manual clock, so idle timeouts are tested without sleeping.
    return dataclasses.replace(services, sessions=sessions)


@contextlib.asynccontextmanager
async def browsers_on(services: WebServices) -> AsyncIterator[ClientFactory]:
    """Opens browsers (each its own cookie jar) on one app over `services`; all are closed
    at the end."""
    server = TestServer(create_app(WebConfig(session_idle_minutes=IDLE_MINUTES), services))
    await server.start_server()
    opened: list[Client] = []

    async def open_client() -> Client:
        client: Client = TestClient(server)
        await client.start_server()
        opened.append(client)
        return client

    try:
        yield open_client
    finally:
        for client in opened:
            await client.close()
        await server.close()


@pytest.fixture
async def new_client(web_services: WebServices) -> AsyncIterator[ClientFactory]:
    """Opens another browser (own cookie jar) on the same app; all are closed at the end."""
    async with browsers_on(web_services) as open_client:
        yield open_client


@pytest.fixture
async def client(new_client: ClientFactory) -> Client:
    return await new_client()


def csrf_field(html: str) -> str:
    """The value of the page's hidden csrf_token field."""
    match = _CSRF_FIELD.search(html)
    assert match is not None, "the page has no hidden csrf_token field"
    return match.group(1)


def cookie(client: Client, name: str) -> str | None:
    """The value the client's cookie jar would send to the app for `name`."""
    morsel = client.session.cookie_jar.filter_cookies(client.make_url("/")).get(name)
    return morsel.value if morsel is not None else None


def plant_cookie(client: Client, name: str, value: str) -> None:
    client.session.cookie_jar.update_cookies({name: value}, client.make_url("/"))


async def login_form_csrf(client: Client) -> str:
    """Opens the login page, as a browser does before submitting it; returns its CSRF token."""
    response = await client.get("/login", allow_redirects=False)
    assert response.status == 200
    token = csrf_field(await response.text())
    assert cookie(client, LOGIN_CSRF_COOKIE) == token
    return token


async def submit_login(client: Client, login: str, password: str) -> ClientResponse:
    """Opens the login page and submits it with the given credentials."""
    token = await login_form_csrf(client)
    return await client.post(
        "/login",
        data={"csrf_token": token, "login": login, "password": password},
        allow_redirects=False,
    )


async def log_in(client: Client, login: str = LAWYER_LOGIN, password: str = LAWYER_PASSWORD) -> str:
    """Logs in successfully; returns the session token the browser now holds."""
    response = await submit_login(client, login, password)
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == "/"
    token = cookie(client, SESSION_COOKIE)
    assert token
    return token
