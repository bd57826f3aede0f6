"""The «Запись» link on a call row: to the call's recording page, for who may listen to it."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.calls.events import CallDirection
from crm.calls.models import Call
from crm.conversations.recordings import RecordingLedger, StoredRecording
from crm.core.clock import utc_now
from crm.core.roles import Role
from crm.staff.models import Employee
from lexcrm.services import Services
from tests.support.canaries import canaries_in
from tests.web.conftest import (
    LAWYER_LOGIN,
    LAWYER_PASSWORD,
    Client,
    ClientFactory,
    browsers_on,
    log_in,
)
from web.keys import WebServices

PASSWORD = "пароль сотрудника"
CANARY = "+79215551177"
_linkedids = itertools.count(1)
_LINK = re.compile(r'<a href="(/recordings/\d+)">Запись</a>')


@dataclass
class Calls:
    client: int
    recorded: int  # the lawyer's call, its recording stored
    colleagues: int  # an operator's call to the same client, recorded too
    unrecorded: int  # the lawyer's call without a recording
    expired: int  # the lawyer's call whose recording the retention period removed


@pytest.fixture
def ledger(web_services: Services) -> RecordingLedger:
    return web_services.recording_ledger


@pytest.fixture
async def browsers(web_services: Services) -> AsyncIterator[ClientFactory]:
    async with browsers_on(web_services) as open_client:
        yield open_client


async def _call(
    sessionmaker: async_sessionmaker[AsyncSession], *, employee: int, client: int
) -> tuple[int, str]:
    started = utc_now() - timedelta(hours=1)
    linkedid = f"link-call-{next(_linkedids)}"
    async with sessionmaker() as session:
        call = Call(
            linkedid=linkedid,
            direction=CallDirection.inbound,
            client_id=client,
            employee_id=employee,
            started_at=started,
            answered_at=started + timedelta(seconds=5),
            ended_at=started + timedelta(seconds=95),
        )
        session.add(call)
        await session.commit()
        return call.id, linkedid


async def _store(ledger: RecordingLedger, linkedid: str) -> str:
    path = f"2026/03/10/{linkedid}-mix.wav.enc"
    await ledger.recording_stored(
        linkedid,
        [
            StoredRecording(
                part="mix", path=path, sha256="0" * 64, size_bytes=16000, duration_ms=1000
            )
        ],
    )
    return path


@pytest.fixture
async def calls(
    web_services: WebServices,
    sessionmaker: async_sessionmaker[AsyncSession],
    ledger: RecordingLedger,
    lawyer: Employee,
) -> Calls:
    operator = await web_services.staff.create_employee(
        "operator1", "Оператор Ольга", Role.operator, PASSWORD
    )
    for login, role in [("boss", Role.director), ("desk", Role.reception)]:
        await web_services.staff.create_employee(login, f"Сотрудник {login}", role, PASSWORD)
    client = await web_services.clients.add_client(
        "Слушаемая Анна", [CANARY], lawyer_id=lawyer.id, topic="Наследство"
    )
    recorded, linkedid = await _call(sessionmaker, employee=lawyer.id, client=client.id)
    await _store(ledger, linkedid)
    colleagues, linkedid = await _call(sessionmaker, employee=operator.id, client=client.id)
    await _store(ledger, linkedid)
    unrecorded, _linkedid = await _call(sessionmaker, employee=lawyer.id, client=client.id)
    expired, linkedid = await _call(sessionmaker, employee=lawyer.id, client=client.id)
    await ledger.files_deleted([await _store(ledger, linkedid)])
    return Calls(client.id, recorded, colleagues, unrecorded, expired)


async def _links(browser: Client, path: str) -> set[str]:
    response = await browser.get(path)
    assert response.status == 200
    page = await response.text()
    assert canaries_in(page, [CANARY]) == []
    return set(_LINK.findall(page))


async def _as(browsers: ClientFactory, login: str, password: str = PASSWORD) -> Client:
    browser = await browsers()
    await log_in(browser, login, password)
    return browser


async def test_the_lawyer_gets_the_link_to_their_own_recorded_call_only(
    browsers: ClientFactory, calls: Calls
) -> None:
    lawyer = await _as(browsers, LAWYER_LOGIN, LAWYER_PASSWORD)
    expected = {f"/recordings/{calls.recorded}"}
    # The client's card lists the operator's call too, but its recording is not the lawyer's
    # to hear; a call without a recording, or whose recording expired, has no link.
    assert await _links(lawyer, f"/clients/{calls.client}") == expected
    assert await _links(lawyer, "/calls") == expected
    card = await lawyer.get(f"/recordings/{calls.recorded}")
    assert card.status == 200
    assert (await lawyer.get(f"/recordings/{calls.colleagues}")).status == 403


async def test_the_director_gets_a_link_for_every_stored_recording(
    browsers: ClientFactory, calls: Calls
) -> None:
    director = await _as(browsers, "boss")
    expected = {f"/recordings/{calls.recorded}", f"/recordings/{calls.colleagues}"}
    assert await _links(director, f"/clients/{calls.client}") == expected
    assert await _links(director, "/calls") == expected
    for link in expected:
        assert (await director.get(link)).status == 200


async def test_a_job_that_may_not_listen_gets_no_link(
    browsers: ClientFactory, calls: Calls
) -> None:
    reception = await _as(browsers, "desk")
    page = await (await reception.get(f"/clients/{calls.client}")).text()
    assert "Слушаемая Анна" in page and "/recordings/" not in page
    assert (await reception.get(f"/recordings/{calls.recorded}")).status == 403


async def test_call_statistics_name_the_call_centres_queue(
    browsers: ClientFactory, calls: Calls, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from sqlalchemy import update

    from crm.calls.services import CALL_CENTRE_QUEUE

    async with sessionmaker() as session:
        await session.execute(
            update(Call).where(Call.id == calls.recorded).values(queue=CALL_CENTRE_QUEUE)
        )
        await session.commit()
    director = await _as(browsers, "boss")
    page = await (await director.get("/call-statistics")).text()
    assert "<td>Колл-центр</td>" in page and "<td>Без очереди</td>" in page
    assert CALL_CENTRE_QUEUE not in page  # the dialplan's name is not shown
