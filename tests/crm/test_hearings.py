"""Court hearings: scheduled by representatives under contracts, results after, lists by day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.clients.models import Client
from crm.contracts.models import Contract
from crm.contracts.services import ContractService
from crm.core.errors import InvalidInput
from crm.core.formatting import search_key
from crm.core.roles import Role
from crm.courts.errors import NoSuchHearing
from crm.courts.models import Hearing
from crm.courts.services import CourtService
from crm.staff.models import Employee

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
# 23:30 UTC is already 02:30 of the next day in Moscow, where the courts sit.
LATE_EVENING_UTC = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
HTML = '<script>alert("x")</script><b>решение</b> & Co'


class Firm:
    def __init__(self, lawyer: int, defender: int, client: int, contract: int) -> None:
        self.lawyer = lawyer
        self.defender = defender
        self.client = client
        self.contract = contract


@pytest.fixture
def hearings(sessionmaker: async_sessionmaker[AsyncSession]) -> CourtService:
    return CourtService(sessionmaker, now=lambda: NOW)


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


async def _contract(
    sessionmaker: async_sessionmaker[AsyncSession], lawyer: int, name: str, number: str
) -> tuple[int, int]:
    async with sessionmaker() as session:
        client = Client(
            full_name=name,
            short_name=name,
            name_key=search_key(name),
            first_contact_on=date(2026, 11, 1),
        )
        session.add(client)
        await session.commit()
    contract = await ContractService(sessionmaker, now=lambda: NOW).add_contract(
        client_id=client.id, lawyer_id=lawyer, number=number, amount="1000", essence="Иск"
    )
    return client.id, contract.id


@pytest.fixture
async def firm(sessionmaker: async_sessionmaker[AsyncSession]) -> Firm:
    lawyer = await _employee(sessionmaker, "lawyer", Role.lawyer)
    defender = await _employee(sessionmaker, "defender", Role.court_representative)
    client, contract = await _contract(sessionmaker, lawyer, "Ёлкина Анна Петровна", "Д-1")
    return Firm(lawyer, defender, client, contract)


async def _snapshot(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, list[Any]]:
    async with sessionmaker() as session:
        return {
            model.__tablename__: [
                tuple(row) for row in (await session.execute(select(model.__table__))).all()
            ]
            for model in (Hearing, Contract, Client)
        }


async def _schedule(
    hearings: CourtService, firm: Firm, *, starts_at: datetime = NOW, **changes: Any
) -> Hearing:
    values: dict[str, Any] = {
        "court": "Куйбышевский районный суд",
        "case_number": "2-1234/2026",
        "representative_id": firm.defender,
        "by_employee_id": firm.defender,
    }
    values.update(changes)
    return await hearings.schedule(firm.contract, starts_at=starts_at, **values)


async def test_schedule_and_record_the_result(
    sessionmaker: async_sessionmaker[AsyncSession], hearings: CourtService, firm: Firm
) -> None:
    hearing = await _schedule(
        hearings,
        firm,
        court="  Куйбышевский   районный суд ",
        case_number=" А40-12345/2026  (№ 3) ",
        starts_at=NOW + timedelta(days=3),
    )
    assert hearing.court == "Куйбышевский районный суд"
    assert hearing.case_number == "А40-12345/2026 (№ 3)"
    assert hearing.result is None and hearing.created_at == NOW
    assert await hearings.represents(firm.defender, firm.client)
    assert not await hearings.represents(firm.lawyer, firm.client)

    after = CourtService(sessionmaker, now=lambda: NOW + timedelta(days=3, hours=2))
    text = "Отложено на 15.12.\r\nИстец не явился.   \n" + HTML
    recorded = await after.record_result(hearing.id, text)
    assert recorded.result == "Отложено на 15.12.\nИстец не явился.\n" + HTML
    assert recorded.result_recorded_at == NOW + timedelta(days=3, hours=2)
    stored = await hearings.get(hearing.id)
    assert stored is not None and stored.result == recorded.result
    # A result can be corrected later: the newest text stands.
    corrected = await after.record_result(hearing.id, "Иск удовлетворён")
    assert corrected.result == "Иск удовлетворён"


async def test_a_hearing_late_in_the_utc_evening_is_on_the_next_moscow_day(
    sessionmaker: async_sessionmaker[AsyncSession], hearings: CourtService, firm: Firm
) -> None:
    other_defender = await _employee(sessionmaker, "other", Role.court_representative)
    other_client, other_contract = await _contract(sessionmaker, firm.lawyer, "Петров", "Д-2")
    late = await _schedule(hearings, firm, starts_at=LATE_EVENING_UTC)
    morning = await hearings.schedule(
        other_contract,
        court="Арбитражный суд",
        case_number="А56-1/2026",
        starts_at=datetime(2026, 11, 28, 6, 0, tzinfo=UTC),
        representative_id=other_defender,
        by_employee_id=firm.lawyer,
    )
    last_minute = await _schedule(
        hearings, firm, starts_at=datetime(2026, 11, 27, 20, 59, tzinfo=UTC)
    )
    on_27th = await hearings.hearings(day_from=date(2026, 11, 27), day_to=date(2026, 11, 27))
    on_28th = await hearings.hearings(day_from=date(2026, 11, 28), day_to=date(2026, 11, 28))
    assert [row.hearing.id for row in on_27th] == [last_minute.id]
    assert [row.hearing.id for row in on_28th] == [late.id, morning.id]
    row = on_28th[1]
    assert (row.contract.id, row.client.id, row.representative.id) == (
        other_contract,
        other_client,
        other_defender,
    )
    assert [r.hearing.id for r in await hearings.hearings(representative_id=other_defender)] == [
        morning.id
    ]
    assert {r.hearing.id for r in await hearings.hearings(client_id=firm.client)} == {
        late.id,
        last_minute.id,
    }
    assert [r.hearing.id for r in await hearings.hearings(contract_id=other_contract)] == [
        morning.id
    ]
    assert len(await hearings.hearings(lawyer_id=firm.lawyer)) == 3
    assert await hearings.hearings(lawyer_id=firm.defender) == []
    assert len(await hearings.hearings(limit=1)) == 1


async def test_contracts_by_representative_and_client_name(
    sessionmaker: async_sessionmaker[AsyncSession], hearings: CourtService, firm: Firm
) -> None:
    _, other_contract = await _contract(sessionmaker, firm.lawyer, "Петров Пётр", "Д-2")
    await _schedule(hearings, firm)
    await _schedule(hearings, firm, starts_at=NOW + timedelta(days=1))  # a second sitting
    contracts = ContractService(sessionmaker, now=lambda: NOW)
    mine = await contracts.search(representative_id=firm.defender)
    assert [row.contract.id for row in mine] == [firm.contract]  # once, however many sittings
    assert await contracts.search(representative_id=firm.lawyer) == []
    # Case and ё do not matter, nor extra spaces; a LIKE wildcard is just a character.
    for typed in ("елкина", "ЁЛКИНА  анна", " кина "):
        assert [r.contract.id for r in await contracts.search(client_name=typed)] == [firm.contract]
    assert [r.contract.id for r in await contracts.search(client_name="петров пётр")] == [
        other_contract
    ]
    assert await contracts.search(client_name="%") == []
    assert await contracts.search(client_name="_") == []
    assert len(await contracts.search(client_name="   ")) == 2  # blank: no filter
    assert await contracts.search(client_name="к" * 10_000) == []
    assert await contracts.search(client_name=HTML) == []


# --- refusals: each leaves the database as it was --------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"court": ""}, "Суд"),
        ({"court": " \t\n "}, "Суд"),
        ({"court": "с" * 201}, "Суд"),
        ({"court": "с" * 10_000}, "Суд"),
        ({"case_number": ""}, "Номер дела"),
        ({"case_number": "   "}, "Номер дела"),
        ({"case_number": "1" * 65}, "Номер дела"),
        ({"case_number": "1" * 10_000}, "Номер дела"),
        ({"case_number": "<script>1</script>"}, "Номер дела"),
        ({"case_number": "2-1; DROP TABLE hearings"}, "Номер дела"),
        ({"starts_at": NOW - timedelta(days=367)}, "Дата заседания"),
        ({"starts_at": NOW + timedelta(days=733)}, "Дата заседания"),
        ({"starts_at": datetime(1, 1, 1, tzinfo=UTC)}, "Дата заседания"),
        ({"starts_at": datetime(9999, 12, 31, tzinfo=UTC)}, "Дата заседания"),
        ({"representative_id": "lawyer"}, "не защитник"),
        ({"representative_id": "inactive"}, "не защитник"),
        ({"representative_id": 999}, "не защитник"),
    ],
)
async def test_a_bad_hearing_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
    hearings: CourtService,
    firm: Firm,
    change: dict[str, Any],
    message: str,
) -> None:
    gone = await _employee(sessionmaker, "gone", Role.court_representative, active=False)
    people = {"lawyer": firm.lawyer, "inactive": gone}
    if "representative_id" in change:
        change = {"representative_id": people.get(change["representative_id"], 999)}
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match=message):
        await _schedule(hearings, firm, **change)
    assert await _snapshot(sessionmaker) == before


async def test_court_name_keeps_markup_as_text(hearings: CourtService, firm: Firm) -> None:
    hearing = await _schedule(hearings, firm, court=HTML)
    stored = await hearings.get(hearing.id)
    assert stored is not None and stored.court == HTML


async def test_a_hearing_under_a_contract_that_does_not_exist(
    sessionmaker: async_sessionmaker[AsyncSession], hearings: CourtService, firm: Firm
) -> None:
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match="Договор не найден"):
        await hearings.schedule(
            999,
            court="Суд",
            case_number="1",
            starts_at=NOW,
            representative_id=firm.defender,
            by_employee_id=firm.defender,
        )
    assert await _snapshot(sessionmaker) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Результат"),
        (" \r\n\t \n", "Результат"),
        ("р" * 5001, "длиннее 5000"),
        ("р" * 10_000, "длиннее 5000"),
    ],
)
async def test_a_bad_result_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
    hearings: CourtService,
    firm: Firm,
    text: str,
    message: str,
) -> None:
    hearing = await _schedule(hearings, firm, starts_at=NOW - timedelta(hours=1))
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match=message):
        await hearings.record_result(hearing.id, text)
    assert await _snapshot(sessionmaker) == before


async def test_no_result_before_the_hearing_nor_for_an_unknown_one(
    sessionmaker: async_sessionmaker[AsyncSession], hearings: CourtService, firm: Firm
) -> None:
    hearing = await _schedule(hearings, firm, starts_at=NOW + timedelta(minutes=1))
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match="после заседания"):
        await hearings.record_result(hearing.id, "Выиграли")
    with pytest.raises(NoSuchHearing, match="Заседание не найдено"):
        await hearings.record_result(999, "Выиграли")
    assert await _snapshot(sessionmaker) == before
    assert await hearings.get(999) is None
