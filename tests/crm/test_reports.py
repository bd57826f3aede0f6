"""Statistics on hand-made data: the funnel's stages, Moscow-day buckets, plan against fact."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.calls.events import CallDirection
from crm.calls.models import Call
from crm.clients.models import Client
from crm.contracts.models import Contract, ContractKind, ContractStatus
from crm.core.errors import InvalidInput
from crm.core.periods import Period, PeriodPreset, preset_period
from crm.core.roles import Role
from crm.finance.models import Expense, Payment, PlannedPayment
from crm.reports.grouping import Grouping, default_grouping
from crm.reports.rows import FunnelCounts, FunnelStage, ReportFilter, ReportScope
from crm.reports.services import ReportService
from crm.staff.models import Employee
from crm.visits.models import Visit, VisitOutcome

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
_ids = itertools.count(1)


def utc(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


BOOKED_AT = utc(2026, 11, 10)


@dataclass
class Staff:
    operator: Employee
    other_operator: Employee
    lawyer: Employee
    other_lawyer: Employee
    cashier: Employee


class World:
    """Writes rows straight into the tables, with the dates each test needs."""

    def __init__(self, session: AsyncSession, staff: Staff) -> None:
        self.session = session
        self.staff = staff

    async def client(
        self,
        name: str,
        first_contact_on: date,
        *,
        topic: str | None = "Банкротство",
        source: str | None = "Сайт",
        lawyer: Employee | None = None,
    ) -> Client:
        client = Client(
            full_name=name,
            short_name=name,
            name_key=name.lower(),
            first_contact_on=first_contact_on,
            topic=topic,
            source=source,
            lawyer_id=lawyer.id if lawyer else None,
        )
        self.session.add(client)
        await self.session.flush()
        return client

    async def call(
        self,
        client: Client | None,
        at: datetime,
        *,
        direction: CallDirection = CallDirection.inbound,
        by: Employee | None = None,
        answered: bool = True,
    ) -> Call:
        call = Call(
            linkedid=f"linked-{next(_ids)}",
            direction=direction,
            client_id=client.id if client else None,
            employee_id=by.id if by else None,
            started_at=at,
            answered_at=at + timedelta(seconds=5) if answered else None,
        )
        self.session.add(call)
        await self.session.flush()
        return call

    async def visit(
        self,
        client: Client,
        *,
        booked_at: datetime = BOOKED_AT,
        by: Employee | None = None,
        came_at: datetime | None = None,
        lawyer: Employee | None = None,
    ) -> Visit:
        visit = Visit(
            client_id=client.id,
            booked_by_id=by.id if by else None,
            lawyer_id=lawyer.id if lawyer else None,
            scheduled_at=came_at or booked_at + timedelta(days=1),
            checked_in_at=came_at,
            outcome=VisitOutcome.arrived if came_at else VisitOutcome.booked,
            created_at=booked_at,
        )
        self.session.add(visit)
        await self.session.flush()
        return visit

    async def contract(
        self,
        client: Client,
        signed_on: date,
        amount_kopecks: int,
        *,
        lawyer: Employee | None = None,
        kind: ContractKind = ContractKind.primary,
        status: ContractStatus = ContractStatus.active,
    ) -> Contract:
        contract = Contract(
            number=f"Д-{next(_ids)}",
            client_id=client.id,
            lawyer_id=(lawyer or self.staff.lawyer).id,
            amount_kopecks=amount_kopecks,
            essence="Сопровождение",
            status=status,
            kind=kind,
            signed_on=signed_on,
        )
        self.session.add(contract)
        await self.session.flush()
        return contract

    async def payment(self, contract: Contract, received_on: date, amount_kopecks: int) -> None:
        self.session.add(
            Payment(
                contract_id=contract.id,
                amount_kopecks=amount_kopecks,
                received_on=received_on,
                cashier_id=self.staff.cashier.id,
            )
        )
        await self.session.flush()

    async def plan(self, contract: Contract, due_on: date, amount_kopecks: int) -> None:
        self.session.add(
            PlannedPayment(
                contract_id=contract.id,
                due_on=due_on,
                amount_kopecks=amount_kopecks,
                created_by_id=contract.lawyer_id,
            )
        )
        await self.session.flush()

    async def expense(
        self, spent_on: date, amount_kopecks: int, contract: Contract | None = None
    ) -> None:
        self.session.add(
            Expense(
                spent_on=spent_on,
                amount_kopecks=amount_kopecks,
                payee="Канцтовары",
                purpose="Бумага",
                contract_id=contract.id if contract else None,
                cashier_id=self.staff.cashier.id,
            )
        )
        await self.session.flush()


@pytest.fixture
async def staff(sessionmaker: async_sessionmaker[AsyncSession]) -> Staff:
    people = {
        "operator": ("Оператор Ольга", Role.operator),
        "other_operator": ("Оператор Игорь", Role.operator),
        "lawyer": ("Юрист Пётр", Role.lawyer),
        "other_lawyer": ("Юрист Анна", Role.lawyer),
        "cashier": ("Кассир Вера", Role.cashier),
    }
    async with sessionmaker() as session:
        made = {
            key: Employee(login=key, full_name=name, role=role, password_hash="x")
            for key, (name, role) in people.items()
        }
        session.add_all(made.values())
        await session.commit()
    return Staff(**made)


@pytest.fixture
def reports(sessionmaker: async_sessionmaker[AsyncSession]) -> ReportService:
    return ReportService(sessionmaker)


async def test_the_funnel_counts_each_cohort_client_at_the_furthest_stage_they_reached(
    sessionmaker: async_sessionmaker[AsyncSession], staff: Staff, reports: ReportService
) -> None:
    async with sessionmaker() as session:
        world = World(session, staff)
        day = date(2026, 11, 5)
        await world.client("Только звонок", day)
        booked = await world.client("Записан", day)
        await world.visit(booked, by=staff.operator)
        came = await world.client("Пришёл", day)
        await world.visit(came, by=staff.operator, came_at=utc(2026, 11, 11))
        signed = await world.client("Заключил", day)
        await world.visit(signed, came_at=utc(2026, 11, 12))  # a walk-in: never booked
        await world.contract(signed, date(2026, 11, 12), 50_000_00)
        paid = await world.client("Оплатил", day)
        await world.visit(paid, by=staff.other_operator, came_at=utc(2026, 11, 13))
        await world.payment(await world.contract(paid, date(2026, 11, 13), 80_000_00), day, 1)
        # A contract typed in without any visit on record still counts as a visit reached.
        no_visit = await world.client("Без визита", day)
        await world.contract(no_visit, date(2026, 11, 20), 10_000_00)
        # A draft is not a contract yet.
        draft = await world.client("Черновик", day)
        await world.contract(draft, date(2026, 11, 20), 10_000_00, status=ContractStatus.draft)
        # First contact before the period: not in November's cohort, whatever they did then.
        old = await world.client("Старый", date(2026, 10, 31))
        await world.payment(await world.contract(old, date(2026, 11, 2), 1_00), day, 1_00)
        await session.commit()

    funnel = await reports.funnel(NOVEMBER)

    assert funnel == FunnelCounts(contacts=7, booked=5, visited=4, contracted=3, paid=1)
    steps = funnel.steps()
    assert [step.stage for step in steps] == list(FunnelStage)
    assert steps[0].of_previous is None and steps[0].of_first is None
    assert steps[1].of_previous == pytest.approx(100 * 5 / 7)
    assert steps[3].of_previous == pytest.approx(75.0)
    assert steps[4].of_first == pytest.approx(100 / 7)
    assert funnel.conversion == pytest.approx(300 / 7)


async def test_the_funnel_narrows_by_topic_source_lawyer_and_operator(
    sessionmaker: async_sessionmaker[AsyncSession], staff: Staff, reports: ReportService
) -> None:
    async with sessionmaker() as session:
        world = World(session, staff)
        day = date(2026, 11, 3)
        site = await world.client("Сайт", day, topic="Долги", source="Сайт", lawyer=staff.lawyer)
        await world.call(site, utc(2026, 11, 3), by=staff.operator)
        radio = await world.client("Радио", day, topic="Долги", source="Радио")
        await world.visit(radio, by=staff.other_operator)
        await world.client("Семья", day, topic="Развод", source=None, lawyer=staff.other_lawyer)
        await session.commit()

    async def contacts(cut: ReportFilter) -> int:
        return (await reports.funnel(NOVEMBER, cut)).contacts

    assert await contacts(ReportFilter()) == 3
    assert await contacts(ReportFilter(topic="Долги")) == 2
    assert await contacts(ReportFilter(topic="Долги", source="Радио")) == 1
    assert await contacts(ReportFilter(lawyer_id=staff.lawyer.id)) == 1
    # The operator's clients: talked to on the phone, or booked a visit for.
    assert await contacts(ReportFilter(operator_id=staff.operator.id)) == 1
    assert await contacts(ReportFilter(operator_id=staff.other_operator.id)) == 1
    assert await contacts(ReportFilter(operator_id=staff.operator.id, source="Радио")) == 0

    overview = await reports.overview(NOVEMBER)
    by_topic = {row.key: row.funnel for row in overview.by_topic}
    assert by_topic["Долги"].contacts == 2 and by_topic["Долги"].booked == 1
    assert by_topic["Развод"].contacts == 1
    assert {row.key for row in overview.by_source} == {"Сайт", "Радио", None}


async def test_calls_are_counted_on_the_moscow_day_not_the_utc_one(
    sessionmaker: async_sessionmaker[AsyncSession], staff: Staff, reports: ReportService
) -> None:
    async with sessionmaker() as session:
        world = World(session, staff)
        # 20:59 UTC on the 26th is 23:59 in Moscow, still the 26th;
        # 21:00 UTC on the 26th is already 00:00 on the 27th in Moscow.
        await world.call(None, utc(2026, 11, 26, 20, 59), by=staff.operator)
        await world.call(None, utc(2026, 11, 26, 21, 0), by=staff.operator, answered=False)
        await world.call(None, utc(2026, 11, 27, 20, 59), direction=CallDirection.outbound)
        await world.call(None, utc(2026, 11, 27, 21, 0), by=staff.operator)  # the 28th
        await world.call(None, utc(2026, 11, 27, 10), direction=CallDirection.internal)
        visit_client = await world.client("Визит", date(2026, 11, 26))
        await world.visit(visit_client, by=staff.operator, booked_at=utc(2026, 11, 26, 22, 30))
        await session.commit()

    overview = await reports.overview(
        Period(date(2026, 11, 26), date(2026, 11, 27)), grouping=Grouping.day
    )
    first, second = overview.series
    assert (first.start, first.calls_in, first.calls_missed, first.calls_out) == (
        date(2026, 11, 26),
        1,
        0,
        0,
    )
    assert (second.start, second.calls_in, second.calls_missed, second.calls_out) == (
        date(2026, 11, 27),
        1,
        1,
        1,
    )
    assert (first.visits_booked, second.visits_booked) == (0, 1)
    assert overview.totals.calls_in == 2  # the call at 00:00 on the 28th is not in the period
    (operator,) = overview.operators
    assert operator.employee_id == staff.operator.id
    assert (operator.calls_in, operator.booked) == (1, 1)  # the missed call was not answered


async def test_plan_against_fact_by_week_and_by_lawyer(
    sessionmaker: async_sessionmaker[AsyncSession], staff: Staff, reports: ReportService
) -> None:
    async with sessionmaker() as session:
        world = World(session, staff)
        client = await world.client("Клиент", date(2026, 10, 1))
        contract = await world.contract(client, date(2026, 10, 1), 300_000_00)
        await world.plan(contract, date(2026, 11, 2), 100_000_00)  # week of Mon 2 Nov
        await world.plan(contract, date(2026, 11, 9), 100_000_00)  # week of Mon 9 Nov
        await world.payment(contract, date(2026, 11, 3), 100_000_00)
        await world.payment(contract, date(2026, 11, 12), 40_000_00)
        other = await world.contract(
            client, date(2026, 11, 10), 50_000_00, lawyer=staff.other_lawyer
        )
        await world.plan(other, date(2026, 11, 10), 25_000_00)
        await world.payment(other, date(2026, 11, 10), 25_000_00)
        await world.expense(date(2026, 11, 4), 3_000_00)
        await world.expense(date(2026, 11, 11), 2_000_00, contract=other)
        await session.commit()

    period = Period(date(2026, 11, 2), date(2026, 11, 15))
    overview = await reports.overview(period, grouping=Grouping.week)
    first, second = overview.series
    assert (first.start, first.end) == (date(2026, 11, 2), date(2026, 11, 8))
    assert (first.plan, first.income, first.expenses) == (100_000_00, 100_000_00, 3_000_00)
    assert (second.plan, second.income, second.expenses) == (125_000_00, 65_000_00, 2_000_00)
    assert first.plan_done == pytest.approx(100.0)
    assert second.plan_done == pytest.approx(52.0)
    assert (first.contracts, second.primary_contracts, second.contract_kopecks) == (
        0,
        1,
        50_000_00,
    )

    lawyers = {row.employee_id: row for row in overview.lawyers}
    mine, theirs = lawyers[staff.lawyer.id], lawyers[staff.other_lawyer.id]
    assert (mine.plan, mine.income, mine.contracts) == (200_000_00, 140_000_00, 0)
    assert (theirs.plan, theirs.income, theirs.contract_kopecks) == (
        25_000_00,
        25_000_00,
        50_000_00,
    )
    assert theirs.plan_done == pytest.approx(100.0)

    # Narrowed to a lawyer, an expense counts only when it was recorded under their contract.
    narrowed = await reports.overview(
        period, grouping=Grouping.week, filters=ReportFilter(lawyer_id=staff.other_lawyer.id)
    )
    assert (narrowed.totals.income, narrowed.totals.expenses) == (25_000_00, 2_000_00)


async def test_primary_and_secondary_contracts_by_month(
    sessionmaker: async_sessionmaker[AsyncSession], staff: Staff, reports: ReportService
) -> None:
    async with sessionmaker() as session:
        world = World(session, staff)
        client = await world.client("Постоянный", date(2026, 1, 10))
        await world.contract(client, date(2026, 9, 30), 100_00)
        await world.contract(client, date(2026, 10, 1), 200_00, kind=ContractKind.secondary)
        await world.contract(client, date(2026, 10, 31), 300_00, kind=ContractKind.secondary)
        await world.contract(
            client,
            date(2026, 10, 15),
            999_00,
            kind=ContractKind.secondary,
            status=ContractStatus.draft,
        )
        await session.commit()

    overview = await reports.overview(
        Period(date(2026, 9, 15), date(2026, 10, 31)), grouping=Grouping.month
    )
    september, october = overview.series
    assert (september.start, september.end) == (date(2026, 9, 15), date(2026, 9, 30))
    assert (september.primary_contracts, september.primary_kopecks) == (1, 100_00)
    assert (october.secondary_contracts, october.secondary_kopecks) == (2, 500_00)
    lines = await reports.contract_lines(Period(date(2026, 10, 1), date(2026, 10, 31)))
    assert [line.amount_kopecks for line in lines] == [200_00, 300_00]


async def test_the_call_centre_scope_leaves_money_out(
    sessionmaker: async_sessionmaker[AsyncSession], staff: Staff, reports: ReportService
) -> None:
    async with sessionmaker() as session:
        world = World(session, staff)
        client = await world.client("Клиент", date(2026, 11, 2))
        await world.payment(
            await world.contract(client, date(2026, 11, 2), 10_00), date(2026, 11, 2), 10_00
        )
        await world.call(client, utc(2026, 11, 2), by=staff.operator)
        await session.commit()

    overview = await reports.overview(NOVEMBER, scope=ReportScope.call_centre)
    assert overview.totals.calls_in == 1
    assert overview.totals.income == 0 and overview.totals.contracts == 0
    assert overview.lawyers == [] and overview.by_topic == [] and overview.by_source == []
    assert overview.funnel.paid == 1  # the funnel is counts of clients, no money


def test_period_presets_count_from_the_firms_today() -> None:
    thursday = date(2026, 11, 26)
    assert preset_period(PeriodPreset.day, thursday) == Period(thursday, thursday)
    assert preset_period(PeriodPreset.week, thursday) == Period(
        date(2026, 11, 23), date(2026, 11, 29)
    )
    assert preset_period(PeriodPreset.month, date(2026, 2, 10)) == Period(
        date(2026, 2, 1), date(2026, 2, 28)
    )
    with pytest.raises(InvalidInput):
        preset_period(PeriodPreset.custom, thursday)
    with pytest.raises(InvalidInput):
        Period(date(2026, 11, 2), date(2026, 11, 1))
    with pytest.raises(InvalidInput):
        Period(date(2020, 1, 1), date(2026, 1, 1))
    assert default_grouping(NOVEMBER) is Grouping.day
    assert default_grouping(Period(date(2026, 1, 1), date(2026, 12, 31))) is Grouping.week
    assert default_grouping(Period(date(2025, 1, 1), date(2026, 12, 31))) is Grouping.month


def test_today_is_the_moscow_date_of_the_injected_clock(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    late_evening_utc = utc(2026, 11, 26, 21, 30)  # 00:30 on the 27th in Moscow
    reports = ReportService(sessionmaker, now=lambda: late_evening_utc)
    assert reports.today() == date(2026, 11, 27)
