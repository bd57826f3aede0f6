"""Builds every long-lived object of a lexcrm process from the settings and passes it down."""

from __future__ import annotations

import contextlib
import errno
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from crm.crypto import KeyRing, PersonalDataCipher
from crm.db import create_engine, create_sessionmaker, upgrade_database_async
from crm.services import ClientService, EmployeeService, WebSessionService
from lexcrm.settings import Settings
from web.app import create_app
from web.keys import WebConfig, WebServices

log = logging.getLogger(__name__)


class WebPortTaken(Exception):
    """The web interface's port is used by another program."""


@dataclass(frozen=True)
class Core:
    """The database and the CRM services of one process."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    employees: EmployeeService
    clients: ClientService
    sessions: WebSessionService


@contextlib.asynccontextmanager
async def open_core(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Core]:
    """The CRM core, with the key file loaded first so that a missing key stops everything."""
    keyring = KeyRing.load(settings.key_file)
    if migrate:
        await upgrade_database_async(settings.database)
    engine = create_engine(settings.database)
    sessionmaker = create_sessionmaker(engine)
    try:
        yield Core(
            engine=engine,
            sessionmaker=sessionmaker,
            employees=EmployeeService(sessionmaker),
            clients=ClientService(
                sessionmaker, PersonalDataCipher(keyring), phone_region=settings.phone_region
            ),
            sessions=WebSessionService(sessionmaker),
        )
    finally:
        await engine.dispose()


def build_web_app(settings: Settings, core: Core) -> web.Application:
    return create_app(
        WebConfig(session_idle_minutes=settings.session_idle_minutes),
        WebServices(employees=core.employees, sessions=core.sessions),
    )


@contextlib.asynccontextmanager
async def serve_web(settings: Settings, core: Core) -> AsyncIterator[str]:
    """Serve the web interface until the block ends; yields its address."""
    runner = web.AppRunner(build_web_app(settings, core), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.web_host, settings.web_port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            raise WebPortTaken(
                f"Порт {settings.web_port} на {settings.web_host} уже занят другой программой. "
                f"Освободите его или задайте другой (настройка web_port)."
            ) from None
        raise
    try:
        yield f"http://{settings.web_host}:{settings.web_port}/"
    finally:
        await runner.cleanup()
