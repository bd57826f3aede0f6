"""The call log: filters by direction, Moscow day, employee and client; comments on calls."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.calls.errors import NoSuchCall
from crm.calls.events import CallDirection
from crm.calls.log import CallLogService
from crm.calls.models import Call
from crm.clients.models import Client
from crm.core.errors import InvalidInput
from crm.core.roles import Role
from crm.staff.models import Employee
from crm.visits.models import VisitOutcome
from crm.visits.services import VisitService

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
# 23:30 UTC is already 02:30 of the next day in Moscow, where the call centre works.
LATE_EVENING_UTC = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
HTML = '<script>alert("x")</script><b>перезвонить</b> & Co'


class Firm:
    def __init__(self, operator: int, lawyer: int, reception: int, client: int, other: int):
        self.operator = operator
        self.lawyer = lawyer
        self.reception = reception
        self.client = client
        self.other = other


@pytest.fixture
async def firm(sessionmaker: async_sessionmaker[AsyncSession]) -> Firm:
    async with sessionmaker() as session:
        people = [
            Employee(login=login, full_name=login.title(), role=role, password_hash="x")
            for login, role in (
                ("operator", Role.operator),
                ("lawyer", Role.lawyer),
                ("reception", Role.reception),
            )
        ]
        session.add_all(people)
        await session.flush()
        client = Client(
            full_name="Клиент",
            short_name="Клиент",
            first_contact_on=date(2026, 1, 1),
            lawyer_id=people[1].id,
        )
        other = Client(full_name="Другой", short_name="Другой", first_contact_on=date(2026, 1, 1))
        session.add_all([client, other])
        await session.commit()
    return Firm(people[0].id, people[1].id, people[2].id, client.id, other.id)


async def _call(
    sessionmaker: async_sessionmaker[AsyncSession],
    started_at: datetime,
    *,
    direction: CallDirection = CallDirection.inbound,
    client_id: int | None = None,
    employee_id: int | None = None,
    talk: timedelta | None = None,
) -> int:
    async with sessionmaker() as session:
        call = Call(
            linkedid=f"{started_at.timestamp():.0f}.{client_id}.{employee_id}",
            direction=direction,
            client_id=client_id,
            employee_id=employee_id,
            started_at=started_at,
            answered_at=started_at + timedelta(seconds=5) if talk is not None else None,
            ended_at=started_at + timedelta(seconds=5) + talk if talk is not None else None,
        )
        session.add(call)
        await session.commit()
        return call.id


async def _calls(sessionmaker: async_sessionmaker[AsyncSession]) -> list[tuple[Any, ...]]:
    async with sessionmaker() as session:
        return [tuple(row) for row in (await session.execute(select(Call.__table__))).all()]


async def test_calls_by_moscow_day_direction_employee_and_client(
    sessionmaker: async_sessionmaker[AsyncSession], firm: Firm
) -> None:
    log = CallLogService(sessionmaker)
    late = await _call(
        sessionmaker,
        LATE_EVENING_UTC,
        client_id=firm.client,
        employee_id=firm.operator,
        talk=timedelta(minutes=2, seconds=5),
    )
    last_minute = await _call(
        sessionmaker,
        datetime(2026, 11, 27, 20, 59, tzinfo=UTC),  # 23:59 in Moscow
        direction=CallDirection.outbound,
        client_id=firm.other,
        employee_id=firm.lawyer,
    )
    unknown = await _call(sessionmaker, datetime(2026, 11, 28, 8, 0, tzinfo=UTC))

    on_27th = await log.calls(day_from=date(2026, 11, 27), day_to=date(2026, 11, 27))
    on_28th = await log.calls(day_from=date(2026, 11, 28), day_to=date(2026, 11, 28))
    assert [row.call.id for row in on_27th] == [last_minute]
    assert [row.call.id for row in on_28th] == [unknown, late]  # newest first
    assert [row.call.id for row in await log.calls()] == [unknown, late, last_minute]

    late_row = on_28th[1]
    assert late_row.client is not None and late_row.client.id == firm.client
    assert late_row.employee is not None and late_row.employee.id == firm.operator
    assert late_row.talk_seconds == 125
    unknown_row = on_28th[0]
    assert (unknown_row.client, unknown_row.employee, unknown_row.talk_seconds) == (
        None,
        None,
        None,
    )

    outbound = await log.calls(direction=CallDirection.outbound)
    assert [row.call.id for row in outbound] == [last_minute]
    assert [row.call.id for row in await log.calls(employee_id=firm.operator)] == [late]
    assert [row.call.id for row in await log.calls(client_id=firm.other)] == [last_minute]
    # The lawyer's clients' calls, whoever took them.
    assert [row.call.id for row in await log.calls(client_lawyer_id=firm.lawyer)] == [late]
    assert len(await log.calls(limit=2)) == 2


async def test_a_call_shows_when_its_client_last_came(
    sessionmaker: async_sessionmaker[AsyncSession], firm: Firm
) -> None:
    call = await _call(sessionmaker, NOW, client_id=firm.client, employee_id=firm.operator)
    other_call = await _call(sessionmaker, NOW, client_id=firm.other)
    log = CallLogService(sessionmaker)
    (row,) = await log.calls(client_id=firm.client)
    assert row.came_at is None
    first = VisitService(sessionmaker, now=lambda: NOW + timedelta(days=1))
    visit = await first.walk_in(firm.client, reception_id=firm.reception, lawyer_id=firm.lawyer)
    await first.close(visit.id, VisitOutcome.no_contract)
    booked = await first.book(
        firm.client, booked_by_id=firm.operator, scheduled_at=NOW + timedelta(days=2)
    )
    second = VisitService(sessionmaker, now=lambda: NOW + timedelta(days=2))
    await second.check_in(booked.id, reception_id=firm.reception)
    rows = {row.call.id: row for row in await log.calls()}
    assert rows[call].came_at == NOW + timedelta(days=2)
    assert rows[other_call].came_at is None


async def test_comment_on_a_call(
    sessionmaker: async_sessionmaker[AsyncSession], firm: Firm
) -> None:
    call_id = await _call(sessionmaker, NOW, client_id=firm.client, employee_id=firm.operator)
    log = CallLogService(sessionmaker)
    first = await log.set_comment(call_id, "  Просит перезвонить\r\nпосле 18:00   \n")
    assert first.comment == "Просит перезвонить\nпосле 18:00"
    replaced = await log.set_comment(call_id, HTML)
    assert replaced.comment == HTML
    stored = await log.get(call_id)
    assert stored is not None and stored.comment == HTML
    assert (await log.set_comment(call_id, "к" * 2000)).comment == "к" * 2000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Комментарий к звонку"),
        ("  \t ", "Комментарий к звонку"),
        ("\r\n\r\n", "Комментарий к звонку"),
        ("к" * 2001, "длиннее 2000"),
        ("к" * 10_000, "длиннее 2000"),
    ],
)
async def test_a_bad_comment_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], firm: Firm, text: str, message: str
) -> None:
    call_id = await _call(sessionmaker, NOW, client_id=firm.client, employee_id=firm.operator)
    log = CallLogService(sessionmaker)
    await log.set_comment(call_id, "Было")
    before = await _calls(sessionmaker)
    with pytest.raises(InvalidInput, match=message):
        await log.set_comment(call_id, text)
    assert await _calls(sessionmaker) == before


async def test_a_comment_on_a_call_that_does_not_exist(
    sessionmaker: async_sessionmaker[AsyncSession], firm: Firm
) -> None:
    await _call(sessionmaker, NOW, client_id=firm.client)
    log = CallLogService(sessionmaker)
    before = await _calls(sessionmaker)
    with pytest.raises(NoSuchCall, match="Звонок не найден"):
        await log.set_comment(999, "Текст")
    assert await _calls(sessionmaker) == before
    assert await log.get(999) is None
