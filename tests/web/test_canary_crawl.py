"""Every page, as every job, over a generated firm: no client's number in any page, export,
log line or journal entry."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from crm.calls.models import Call
from crm.clients.models import Client
from crm.contracts.models import Contract
from crm.core.crypto import KeyRing
from crm.core.roles import Role
from crm.journal.models import JournalEntry
from crm.staff.models import Employee
from lexcrm.demo_data.generator import generate_firm
from lexcrm.demo_data.plan import FirmPlan
from lexcrm.services import Services, open_services
from lexcrm.settings import Settings
from lexcrm.wiring import build_web_app
from tests.support.canaries import canaries_in
from tests.web.conftest import log_in

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
EXPORT_KINDS = ("funnel", "series", "operators", "lawyers", "topics", "sources", "contracts")
LIST_QUERIES = (
    "period=year",
    "period=month",
    "q=а",
    "direction=outbound&period=year",
    "direction=inbound&period=year",
)


@pytest.fixture
async def crawled_core(tmp_path: Path) -> AsyncIterator[tuple[Services, Settings, str]]:
    settings = Settings(data_dir=tmp_path / "var", key_file=tmp_path / "keys" / "lexcrm.keys")
    KeyRing.create_file(settings.key_file)
    async with open_services(settings) as core:
        summary = await generate_firm(core, FirmPlan(clients=60, seed=11, now=NOW))
        yield core, settings, summary.password


async def test_no_number_anywhere_on_any_page_as_any_job(
    crawled_core: tuple[Services, Settings, str], caplog: pytest.LogCaptureFixture
) -> None:
    core, settings, password = crawled_core
    numbers = sorted({number for _client, number in await core.clients.all_phone_numbers()})
    assert len(numbers) >= 60
    # The hunt itself works: a number written the way a person would is found.
    national = numbers[0].removeprefix("+7")
    assert canaries_in(f"тел. 8 ({national[:3]}) {national[3:6]}-{national[6:]}", numbers)
    ids = await _object_ids(core)
    app = build_web_app(settings, core)
    server = TestServer(app)
    caplog.set_level(logging.INFO)
    for ours in ("lexcrm", "web", "crm", "telephony", "recordings"):
        caplog.set_level(logging.DEBUG, logger=ours)
    seen_pages = 0
    await server.start_server()
    opened: list[TestClient[web.Request, web.Application]] = []
    try:
        for role in Role:
            login = await _login_of(core, role)
            # Closing a test client closes its server too: all are closed at the end.
            client: TestClient[web.Request, web.Application] = TestClient(server)
            await client.start_server()
            opened.append(client)
            await log_in(client, login, password)
            for path in _pages(app, ids):
                response = await client.get(path, allow_redirects=False)
                assert response.status < 500, (role, path, response.status)
                body = await response.read()
                found = canaries_in(_text_of(body, response.content_type), numbers)
                assert not found, (role, path, found)
                seen_pages += 1
    finally:
        for client in opened:
            await client.close()
        await server.close()
    assert seen_pages > 8 * 40
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert not canaries_in(logged, numbers)
    async with core.sessionmaker() as session:
        journal = " ".join(
            f"{entry.action} {entry.object_id} {entry.detail}"
            for entry in await session.scalars(select(JournalEntry))
        )
    assert not canaries_in(journal, numbers)


def _pages(app: web.Application, ids: dict[str, list[int]]) -> list[str]:
    """Every GET route of the app, with real ids (own and others') and the heaviest lists."""
    pages: list[str] = []
    for route in app.router.routes():
        if route.method != "GET" or route.resource is None:
            continue
        info = route.resource.get_info()
        path = info.get("formatter") or info.get("path")
        if not path or path in {"/ws", "/login"}:
            continue
        names = re.findall(r"\{(\w+)\}", path)
        if not names:
            pages.append(path)
            pages.extend(f"{path}?{query}" for query in LIST_QUERIES)
            continue
        for value in ids.get(names[0], [])[:4]:
            pages.append(path.replace("{" + names[0] + "}", str(value)))
    pages.extend(
        f"/reports/export?period=year&kind={kind}&format={fmt}"
        for kind in EXPORT_KINDS
        for fmt in ("csv", "xlsx")
    )
    return pages


def _text_of(body: bytes, content_type: str) -> str:
    """What a person could read in the response: an XLSX is a zip of XML sheets."""
    if body.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return "\n".join(
                archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
            )
    return (
        body.decode("utf-8", "replace")
        if content_type.startswith("text") or "json" in content_type
        else body.decode("latin-1")
    )


async def _object_ids(core: Services) -> dict[str, list[int]]:
    async with core.sessionmaker() as session:
        clients = list(await session.scalars(select(Client.id).order_by(Client.id).limit(6)))
        contracts = list(await session.scalars(select(Contract.id).order_by(Contract.id).limit(6)))
        calls = list(await session.scalars(select(Call.id).order_by(Call.id).limit(4)))
        lawyers = list(
            await session.scalars(
                select(Employee.id).where(Employee.role == Role.lawyer).order_by(Employee.id)
            )
        )
    return {
        "client_id": clients,
        "contract_id": contracts,
        "call_id": calls,
        "lawyer_id": lawyers,
    }


async def _login_of(core: Services, role: Role) -> str:
    async with core.sessionmaker() as session:
        login = await session.scalar(
            select(Employee.login)
            .where(Employee.role == role, Employee.is_active)
            .order_by(Employee.id)
            .limit(1)
        )
    assert login is not None, role
    return login
