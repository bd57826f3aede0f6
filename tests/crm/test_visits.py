"""Office visits: booking, check-in, walk-ins and outcomes, the client's status, the Moscow day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.calls.events import CallDirection
from crm.calls.models import Call
from crm.clients.errors import NoSuchClient
from crm.clients.models import Client, ClientStatus
from crm.contracts.models import Contract, ContractStatus
from crm.contracts.services import ContractService
from crm.core.errors import InvalidInput
from crm.core.firm_calendar import firm_day_bounds
from crm.core.roles import Role
from crm.staff.models import Employee
from crm.visits.errors import NoSuchVisit
from crm.visits.models import Visit, VisitOutcome
from crm.visits.services import VisitService

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
# 23:30 UTC is already 02:30 of the next day in Moscow, where the firm works.
LATE_EVENING_UTC = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
HTML = '<script>alert("x")</script><b>Иванов</b> & Co'


@pytest.fixture
def visits(sessionmaker: async_sessionmaker[AsyncSession]) -> VisitService:
    return VisitService(sessionmaker, now=lambda: NOW)


async def _employee(
    sessionmaker: async_sessionmaker[AsyncSession], login: str, role: Role, *, active: bool = True
) -> int:
    async with sessionmaker() as session:
        employee = Employee(
            login=login, full_name=login.title(), role=role, password_hash="x", is_active=active
        )
        session.add(employee)
        await session.commit()
        return employee.id


async def _client(sessionmaker: async_sessionmaker[AsyncSession], name: str = "Клиент") -> int:
    async with sessionmaker() as session:
        client = Client(full_name=name, short_name=name, first_contact_on=date(2026, 11, 1))
        session.add(client)
        await session.commit()
        return client.id


async def _snapshot(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, list[Any]]:
    """Every row a visit can touch, to show that a refused request changed nothing."""
    async with sessionmaker() as session:
        return {
            model.__tablename__: [
                tuple(row) for row in (await session.execute(select(model.__table__))).all()
            ]
            for model in (Visit, Client, Contract, Call)
        }


async def _all_visits(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Visit]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(Visit)))


async def _client_of(sessionmaker: async_sessionmaker[AsyncSession], client_id: int) -> Client:
    async with sessionmaker() as session:
        client = await session.get(Client, client_id)
        assert client is not None
        return client


def test_firm_day_is_the_moscow_day() -> None:
    start, end = firm_day_bounds(date(2026, 11, 28))
    assert start.astimezone(UTC) == datetime(2026, 11, 27, 21, 0, tzinfo=UTC)
    assert end - start == timedelta(days=1)
    assert start <= LATE_EVENING_UTC < end


async def test_lead_visits_signs_a_contract_and_becomes_former(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService
) -> None:
    operator = await _employee(sessionmaker, "operator", Role.operator)
    reception = await _employee(sessionmaker, "reception", Role.reception)
    lawyer = await _employee(sessionmaker, "lawyer", Role.lawyer)
    client_id = await _client(sessionmaker)

    visit = await visits.book(
        client_id, booked_by_id=operator, scheduled_at=NOW + timedelta(days=1), comment=" к 10 "
    )
    assert visit.outcome is VisitOutcome.booked and visit.comment == "к 10"
    assert (await _client_of(sessionmaker, client_id)).status is ClientStatus.lead

    visit = await visits.check_in(visit.id, reception_id=reception, lawyer_id=lawyer)
    assert visit.outcome is VisitOutcome.arrived
    assert visit.checked_in_at == NOW and visit.checked_in_by_id == reception
    client = await _client_of(sessionmaker, client_id)
    assert client.status is ClientStatus.visited and client.lawyer_id == lawyer

    contracts = ContractService(sessionmaker, now=lambda: NOW)
    contract = await contracts.add_contract(
        client_id=client_id, lawyer_id=lawyer, number="Д-1", amount="1000", essence="Иск"
    )
    # The contract is how the visit ended.
    stored = await visits.get(visit.id)
    assert stored is not None and stored.outcome is VisitOutcome.contract
    assert (await _client_of(sessionmaker, client_id)).status is ClientStatus.contracted

    await contracts.set_status(contract.id, ContractStatus.terminated)
    assert (await _client_of(sessionmaker, client_id)).status is ClientStatus.former
    await contracts.set_status(contract.id, ContractStatus.active)  # reopened
    assert (await _client_of(sessionmaker, client_id)).status is ClientStatus.contracted
    await contracts.set_status(contract.id, ContractStatus.completed)
    assert (await _client_of(sessionmaker, client_id)).status is ClientStatus.former
    found = await contracts.search(status=ContractStatus.completed)
    assert [row.contract.id for row in found] == [contract.id]
    assert await contracts.search(status=ContractStatus.active) == []


async def test_a_second_active_contract_keeps_the_client_contracted(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    lawyer = await _employee(sessionmaker, "lawyer", Role.lawyer)
    client_id = await _client(sessionmaker)
    contracts = ContractService(sessionmaker, now=lambda: NOW)
    first = await contracts.add_contract(
        client_id=client_id, lawyer_id=lawyer, number="Д-1", amount="1000", essence="Иск"
    )
    await contracts.add_contract(
        client_id=client_id, lawyer_id=lawyer, number="Д-2", amount="1000", essence="Ещё иск"
    )
    await contracts.set_status(first.id, ContractStatus.terminated)
    assert (await _client_of(sessionmaker, client_id)).status is ClientStatus.contracted


async def test_a_contract_closes_only_the_visit_the_client_is_on(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService
) -> None:
    reception = await _employee(sessionmaker, "reception", Role.reception)
    lawyer = await _employee(sessionmaker, "lawyer", Role.lawyer)
    client_id = await _client(sessionmaker)
    other_client = await _client(sessionmaker, "Другой")
    next_week = await visits.book(
        client_id, booked_by_id=reception, scheduled_at=NOW + timedelta(days=7)
    )
    other = await visits.walk_in(other_client, reception_id=reception, lawyer_id=lawyer)
    today = await visits.walk_in(client_id, reception_id=reception, lawyer_id=lawyer)
    await ContractService(sessionmaker, now=lambda: NOW).add_contract(
        client_id=client_id, lawyer_id=lawyer, number="Д-1", amount="1000", essence="Иск"
    )
    outcomes = {v.id: v.outcome for v in await _all_visits(sessionmaker)}
    assert outcomes == {
        next_week.id: VisitOutcome.booked,
        other.id: VisitOutcome.arrived,
        today.id: VisitOutcome.contract,
    }


async def test_check_in_keeps_the_clients_own_lawyer(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService
) -> None:
    reception = await _employee(sessionmaker, "reception", Role.reception)
    own = await _employee(sessionmaker, "own", Role.lawyer)
    duty = await _employee(sessionmaker, "duty", Role.lawyer)
    client_id = await _client(sessionmaker)
    async with sessionmaker() as session:
        client = await session.get(Client, client_id)
        assert client is not None
        client.lawyer_id, client.status = own, ClientStatus.former
        await session.commit()
    visit = await visits.book(client_id, booked_by_id=own, scheduled_at=NOW, lawyer_id=own)
    visit = await visits.check_in(visit.id, reception_id=reception, lawyer_id=duty)
    assert visit.lawyer_id == duty  # who holds this meeting
    client = await _client_of(sessionmaker, client_id)
    # The client stays with their lawyer, and a former client is not a new "visited" one.
    assert client.lawyer_id == own and client.status is ClientStatus.former


async def test_walk_in_starts_checked_in(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService
) -> None:
    reception = await _employee(sessionmaker, "reception", Role.reception)
    lawyer = await _employee(sessionmaker, "lawyer", Role.lawyer)
    client_id = await _client(sessionmaker)
    visit = await visits.walk_in(client_id, reception_id=reception, lawyer_id=lawyer)
    assert visit.outcome is VisitOutcome.arrived
    assert visit.scheduled_at == visit.checked_in_at == NOW and visit.booked_by_id is None
    client = await _client_of(sessionmaker, client_id)
    assert client.status is ClientStatus.visited and client.lawyer_id == lawyer
    closed = await visits.close(visit.id, VisitOutcome.no_contract)
    assert closed.outcome is VisitOutcome.no_contract


async def test_a_booked_client_who_did_not_come(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService
) -> None:
    operator = await _employee(sessionmaker, "operator", Role.operator)
    client_id = await _client(sessionmaker)
    visit = await visits.book(client_id, booked_by_id=operator, scheduled_at=NOW)
    assert (await visits.close(visit.id, VisitOutcome.no_show)).outcome is VisitOutcome.no_show
    assert (await _client_of(sessionmaker, client_id)).status is ClientStatus.lead


async def test_visit_html_is_stored_as_typed(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService
) -> None:
    operator = await _employee(sessionmaker, "operator", Role.operator)
    client_id = await _client(sessionmaker)
    visit = await visits.book(client_id, booked_by_id=operator, scheduled_at=NOW, comment=HTML)
    stored = await visits.get(visit.id)
    assert stored is not None and stored.comment == HTML
    blank = await visits.book(client_id, booked_by_id=operator, scheduled_at=NOW, comment="  \t ")
    assert blank.comment is None


async def test_a_late_evening_visit_is_on_the_next_moscow_day(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService
) -> None:
    operator = await _employee(sessionmaker, "operator", Role.operator)
    lawyer = await _employee(sessionmaker, "lawyer", Role.lawyer)
    client_id = await _client(sessionmaker)
    evening = await visits.book(
        client_id, booked_by_id=operator, scheduled_at=LATE_EVENING_UTC, lawyer_id=lawyer
    )
    # 20:59 UTC is 23:59 in Moscow: the last minute of the 27th.
    last_minute = await visits.book(
        client_id, booked_by_id=operator, scheduled_at=datetime(2026, 11, 27, 20, 59, tzinfo=UTC)
    )
    morning = await visits.book(
        client_id, booked_by_id=operator, scheduled_at=datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    )
    on_27th = await visits.visits(day_from=date(2026, 11, 27), day_to=date(2026, 11, 27))
    on_28th = await visits.visits(day_from=date(2026, 11, 28), day_to=date(2026, 11, 28))
    assert [row.visit.id for row in on_27th] == [last_minute.id]
    # One day reads like a timetable: earliest first.
    assert [row.visit.id for row in on_28th] == [evening.id, morning.id]
    both = await visits.visits(day_from=date(2026, 11, 27), day_to=date(2026, 11, 28))
    assert [row.visit.id for row in both] == [morning.id, evening.id, last_minute.id]
    mine = await visits.visits(lawyer_id=lawyer)
    assert [(row.visit.id, row.lawyer and row.lawyer.id) for row in mine] == [(evening.id, lawyer)]
    assert {row.visit.id for row in await visits.visits(booked_by_id=operator)} == {
        evening.id,
        last_minute.id,
        morning.id,
    }
    assert await visits.visits(client_id=client_id + 1) == []
    assert len(await visits.visits(limit=2)) == 2


# --- refusals: each leaves the database as it was --------------------------------------


@pytest.mark.parametrize(
    ("at", "comment", "message"),
    [
        (NOW - timedelta(minutes=31), "", "прошло"),
        (datetime(1, 1, 1, tzinfo=UTC), "", "прошло"),
        (NOW + timedelta(days=120, minutes=1), "", "120 дней"),
        (datetime(9999, 12, 31, tzinfo=UTC), "", "120 дней"),
        (NOW, "к" * 2001, "длиннее 2000"),
        (NOW, "к" * 10_000, "длиннее 2000"),
    ],
)
async def test_a_bad_booking_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
    visits: VisitService,
    at: datetime,
    comment: str,
    message: str,
) -> None:
    operator = await _employee(sessionmaker, "operator", Role.operator)
    client_id = await _client(sessionmaker)
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match=message):
        await visits.book(client_id, booked_by_id=operator, scheduled_at=at, comment=comment)
    assert await _snapshot(sessionmaker) == before


async def test_booking_within_half_an_hour_late_is_accepted(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService
) -> None:
    operator = await _employee(sessionmaker, "operator", Role.operator)
    client_id = await _client(sessionmaker)
    visit = await visits.book(
        client_id, booked_by_id=operator, scheduled_at=NOW - timedelta(minutes=30)
    )
    assert visit.id is not None


async def test_booking_for_a_client_who_does_not_exist(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService
) -> None:
    operator = await _employee(sessionmaker, "operator", Role.operator)
    before = await _snapshot(sessionmaker)
    with pytest.raises(NoSuchClient, match="Клиент не найден"):
        await visits.book(999, booked_by_id=operator, scheduled_at=NOW)
    assert await _snapshot(sessionmaker) == before


@pytest.mark.parametrize("who", ["operator", "inactive lawyer", "missing"])
async def test_a_visit_is_only_with_an_active_lawyer(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService, who: str
) -> None:
    operator = await _employee(sessionmaker, "operator", Role.operator)
    reception = await _employee(sessionmaker, "reception", Role.reception)
    gone = await _employee(sessionmaker, "gone", Role.lawyer, active=False)
    wrong = {"operator": operator, "inactive lawyer": gone, "missing": 999}[who]
    client_id = await _client(sessionmaker)
    booked = await visits.book(client_id, booked_by_id=operator, scheduled_at=NOW)
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match="не юрист"):
        await visits.book(client_id, booked_by_id=operator, scheduled_at=NOW, lawyer_id=wrong)
    with pytest.raises(InvalidInput, match="не юрист"):
        await visits.check_in(booked.id, reception_id=reception, lawyer_id=wrong)
    with pytest.raises(InvalidInput, match="не юрист"):
        await visits.walk_in(client_id, reception_id=reception, lawyer_id=wrong)
    assert await _snapshot(sessionmaker) == before


async def test_booking_during_a_call_that_does_not_exist(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService
) -> None:
    operator = await _employee(sessionmaker, "operator", Role.operator)
    client_id = await _client(sessionmaker)
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match="Звонок не найден"):
        await visits.book(client_id, booked_by_id=operator, scheduled_at=NOW, call_id=999)
    assert await _snapshot(sessionmaker) == before


async def test_booking_during_a_call_links_the_call(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService
) -> None:
    operator = await _employee(sessionmaker, "operator", Role.operator)
    client_id = await _client(sessionmaker)
    async with sessionmaker() as session:
        call = Call(
            linkedid="1764234000.1",
            direction=CallDirection.outbound,
            client_id=client_id,
            employee_id=operator,
            started_at=NOW,
        )
        session.add(call)
        await session.commit()
    visit = await visits.book(client_id, booked_by_id=operator, scheduled_at=NOW, call_id=call.id)
    assert visit.call_id == call.id
    other_client = await _client(sessionmaker, "Другой")
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match="Звонок не найден"):
        await visits.book(other_client, booked_by_id=operator, scheduled_at=NOW, call_id=call.id)
    assert await _snapshot(sessionmaker) == before


async def test_check_in_twice_and_unknown_visit(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService
) -> None:
    reception = await _employee(sessionmaker, "reception", Role.reception)
    lawyer = await _employee(sessionmaker, "lawyer", Role.lawyer)
    client_id = await _client(sessionmaker)
    visit = await visits.book(client_id, booked_by_id=reception, scheduled_at=NOW)
    await visits.check_in(visit.id, reception_id=reception, lawyer_id=lawyer)
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match="уже отмечен"):
        await visits.check_in(visit.id, reception_id=reception, lawyer_id=lawyer)
    with pytest.raises(NoSuchVisit, match="Визит не найден"):
        await visits.check_in(999, reception_id=reception)
    await visits.close(visit.id, VisitOutcome.no_contract)
    closed = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match="уже отмечен"):
        await visits.check_in(visit.id, reception_id=reception)
    assert await _snapshot(sessionmaker) == closed
    assert before != closed


async def test_a_walk_in_while_already_in_the_office_is_refused(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService
) -> None:
    reception = await _employee(sessionmaker, "reception", Role.reception)
    lawyer = await _employee(sessionmaker, "lawyer", Role.lawyer)
    client_id = await _client(sessionmaker)
    visit = await visits.walk_in(client_id, reception_id=reception, lawyer_id=lawyer)
    before = await _snapshot(sessionmaker)
    # A second press of the button must not count the client as having come twice.
    with pytest.raises(InvalidInput, match="уже в офисе"):
        await visits.walk_in(client_id, reception_id=reception, lawyer_id=lawyer)
    assert await _snapshot(sessionmaker) == before
    await visits.close(visit.id, VisitOutcome.no_contract)
    again = await visits.walk_in(client_id, reception_id=reception, lawyer_id=lawyer)
    assert again.id != visit.id


async def test_walk_in_of_a_client_who_does_not_exist(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService
) -> None:
    reception = await _employee(sessionmaker, "reception", Role.reception)
    lawyer = await _employee(sessionmaker, "lawyer", Role.lawyer)
    before = await _snapshot(sessionmaker)
    with pytest.raises(NoSuchClient):
        await visits.walk_in(999, reception_id=reception, lawyer_id=lawyer)
    assert await _snapshot(sessionmaker) == before


@pytest.mark.parametrize("outcome", [VisitOutcome.booked, VisitOutcome.arrived])
async def test_a_visit_cannot_be_closed_as_still_going_on(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService, outcome: VisitOutcome
) -> None:
    operator = await _employee(sessionmaker, "operator", Role.operator)
    client_id = await _client(sessionmaker)
    visit = await visits.book(client_id, booked_by_id=operator, scheduled_at=NOW)
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match="Неверный итог визита"):
        await visits.close(visit.id, outcome)
    assert await _snapshot(sessionmaker) == before


async def test_closing_twice_and_unknown_visit(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService
) -> None:
    reception = await _employee(sessionmaker, "reception", Role.reception)
    lawyer = await _employee(sessionmaker, "lawyer", Role.lawyer)
    client_id = await _client(sessionmaker)
    visit = await visits.walk_in(client_id, reception_id=reception, lawyer_id=lawyer)
    await visits.close(visit.id, VisitOutcome.no_contract)
    before = await _snapshot(sessionmaker)
    for outcome in (VisitOutcome.no_contract, VisitOutcome.contract, VisitOutcome.no_show):
        with pytest.raises(InvalidInput, match="уже записан"):
            await visits.close(visit.id, outcome)
    with pytest.raises(NoSuchVisit):
        await visits.close(999, VisitOutcome.no_show)
    assert await _snapshot(sessionmaker) == before


async def test_a_client_who_came_is_not_a_no_show(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService
) -> None:
    reception = await _employee(sessionmaker, "reception", Role.reception)
    lawyer = await _employee(sessionmaker, "lawyer", Role.lawyer)
    client_id = await _client(sessionmaker)
    visit = await visits.walk_in(client_id, reception_id=reception, lawyer_id=lawyer)
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match="пришедший"):
        await visits.close(visit.id, VisitOutcome.no_show)
    assert await _snapshot(sessionmaker) == before


@pytest.mark.parametrize("outcome", [VisitOutcome.contract, VisitOutcome.no_contract])
async def test_a_client_who_was_not_checked_in_did_not_talk_to_a_lawyer(
    sessionmaker: async_sessionmaker[AsyncSession], visits: VisitService, outcome: VisitOutcome
) -> None:
    operator = await _employee(sessionmaker, "operator", Role.operator)
    client_id = await _client(sessionmaker)
    visit = await visits.book(client_id, booked_by_id=operator, scheduled_at=NOW)
    before = await _snapshot(sessionmaker)
    # Otherwise the visit would say "came" while the client is still a lead who never came.
    with pytest.raises(InvalidInput, match="приход"):
        await visits.close(visit.id, outcome)
    assert await _snapshot(sessionmaker) == before


async def test_a_contract_signed_late_in_the_utc_evening_is_dated_by_the_moscow_day(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    lawyer = await _employee(sessionmaker, "lawyer", Role.lawyer)
    client_id = await _client(sessionmaker)
    contract = await ContractService(sessionmaker, now=lambda: LATE_EVENING_UTC).add_contract(
        client_id=client_id, lawyer_id=lawyer, number="Д-1", amount="1000", essence="Иск"
    )
    assert contract.signed_on == date(2026, 11, 28)
