"""Statistics: the sales funnel, money, calls and visits over time, figures by lawyer, operator,
topic and source, for a period and any combination of those cuts."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    Select,
    and_,
    case,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from crm.errors import InvalidInput
from crm.firm_calendar import firm_date, firm_day_bounds
from crm.formatting import FIRM_TIMEZONE
from crm.models import (
    Call,
    CallDirection,
    Client,
    Contract,
    ContractKind,
    ContractStatus,
    Employee,
    Expense,
    Payment,
    PlannedPayment,
    Visit,
    utc_now,
)
from crm.roles import Role
from crm.visits import BOOKING_HORIZON

Clock = Callable[[], datetime]
# Longest period one report covers: three years of daily rows is still a quick query, and
# anything longer is more likely a typo in the year than a question anyone asks.
MAX_PERIOD_DAYS = 3 * 366
# Who counts as the call centre in the figures by operator.
CALL_CENTRE_ROLES = (Role.operator, Role.call_centre_head)
CONTRACT_LIST_LIMIT = 100_000
AnySelect = Select[*tuple[Any, ...]]
_Select = TypeVar("_Select", bound=AnySelect)


class Grouping(StrEnum):
    day = "day"
    week = "week"
    month = "month"


class PeriodPreset(StrEnum):
    day = "day"  # today
    week = "week"  # this calendar week, Monday to Sunday
    month = "month"  # this calendar month
    custom = "custom"


class ReportScope(StrEnum):
    firm = "firm"  # everything: money, lawyers, topics and sources (the director)
    call_centre = "call_centre"  # calls, bookings and the funnel, never money


class FunnelStage(StrEnum):
    contact = "contact"
    booked = "booked"
    visited = "visited"
    contract = "contract"
    paid = "paid"


FUNNEL_STAGES = tuple(FunnelStage)


@dataclass(frozen=True)
class Period:
    """Firm calendar days from `start` to `end`, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput("Конец периода раньше его начала")
        if self.days > MAX_PERIOD_DAYS:
            raise InvalidInput("Период длиннее трёх лет: выберите период короче")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as an instant range [from, to) on the firm's clock."""
        return firm_day_bounds(self.start)[0], firm_day_bounds(self.end)[1]


def preset_period(preset: PeriodPreset, today: date) -> Period:
    """Today, this week (Monday to Sunday) or this month; `custom` has no preset."""
    if preset is PeriodPreset.day:
        return Period(today, today)
    if preset is PeriodPreset.week:
        monday = today - timedelta(days=today.weekday())
        return Period(monday, monday + timedelta(days=6))
    if preset is PeriodPreset.month:
        last = calendar.monthrange(today.year, today.month)[1]
        return Period(today.replace(day=1), today.replace(day=last))
    raise InvalidInput("Для своего периода укажите даты начала и конца")


def default_grouping(period: Period) -> Grouping:
    """Days for up to three months, weeks for up to a year, months beyond."""
    if period.days <= 92:
        return Grouping.day
    if period.days <= 366:
        return Grouping.week
    return Grouping.month


def bucket_start(day: date, grouping: Grouping) -> date:
    """The first day of the day, ISO week (Monday) or calendar month holding `day`."""
    if grouping is Grouping.week:
        return day - timedelta(days=day.weekday())
    if grouping is Grouping.month:
        return day.replace(day=1)
    return day


def _next_bucket(start: date, grouping: Grouping) -> date:
    if grouping is Grouping.week:
        return start + timedelta(days=7)
    if grouping is Grouping.month:
        return (start + timedelta(days=32)).replace(day=1)
    return start + timedelta(days=1)


@dataclass(frozen=True)
class ReportFilter:
    """The cuts a report can be narrowed to; None means any.

    - operator: the funnel keeps clients the operator talked to or booked a visit for;
      calls, bookings and the figures by operator keep the operator's own. Money is not
      counted per operator.
    - lawyer: the funnel keeps the lawyer's clients (Client.lawyer_id); money and contracts
      keep the lawyer's contracts (Contract.lawyer_id); calls keep the lawyer's calls;
      visits keep those with the lawyer.
    - topic, source: the client's, wherever a figure belongs to a client (an expense only
      when it was recorded under a contract).
    """

    operator_id: int | None = None
    lawyer_id: int | None = None
    topic: str | None = None
    source: str | None = None

    @property
    def by_client(self) -> bool:
        return self.topic is not None or self.source is not None


@dataclass(frozen=True)
class FunnelStep:
    stage: FunnelStage
    count: int
    of_previous: float | None  # percent of the stage before; None for the first or after 0
    of_first: float | None  # percent of first contacts


@dataclass(frozen=True)
class FunnelCounts:
    """How many clients of a cohort reached each stage (a later stage implies the earlier)."""

    contacts: int = 0
    booked: int = 0
    visited: int = 0
    contracted: int = 0
    paid: int = 0

    @classmethod
    def from_furthest(cls, furthest: Mapping[int, int]) -> FunnelCounts:
        """From {furthest stage index reached: clients} to the clients at or past each stage."""
        at_or_past = [sum(n for stage, n in furthest.items() if stage >= i) for i in range(5)]
        return cls(*at_or_past)

    def counts(self) -> tuple[int, ...]:
        return (self.contacts, self.booked, self.visited, self.contracted, self.paid)

    def steps(self) -> list[FunnelStep]:
        result, previous = [], None
        for stage, count in zip(FUNNEL_STAGES, self.counts(), strict=True):
            result.append(
                FunnelStep(
                    stage,
                    count,
                    None if previous is None else percent(count, previous),
                    percent(count, self.contacts) if stage is not FunnelStage.contact else None,
                )
            )
            previous = count
        return result

    @property
    def conversion(self) -> float | None:
        """First contact to contract, percent."""
        return percent(self.contracted, self.contacts)


def percent(part: int, whole: int | None) -> float | None:
    """`part` as a percent of `whole`, None when there is no whole to speak of."""
    if not whole:
        return None
    return 100.0 * part / whole


@dataclass
class SeriesRow:
    """Figures of one day, week or month (a bucket cut to the period at its ends)."""

    start: date
    end: date
    income: int = 0  # kopecks received (the plan's fact)
    expenses: int = 0
    plan: int = 0  # kopecks due under the income plan
    primary_contracts: int = 0
    secondary_contracts: int = 0
    primary_kopecks: int = 0
    secondary_kopecks: int = 0
    calls_in: int = 0
    calls_out: int = 0
    calls_missed: int = 0
    visits_booked: int = 0
    visits_attended: int = 0

    @property
    def contracts(self) -> int:
        return self.primary_contracts + self.secondary_contracts

    @property
    def contract_kopecks(self) -> int:
        return self.primary_kopecks + self.secondary_kopecks

    @property
    def plan_done(self) -> float | None:
        """Income as a percent of the plan."""
        return percent(self.income, self.plan)

    def add(self, other: SeriesRow) -> None:
        for item in fields(self):
            if item.name not in {"start", "end"}:
                setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


@dataclass(frozen=True)
class BreakdownRow:
    """The funnel of one topic, source or lawyer's clients."""

    key: str | None  # the topic or source itself; None: not filled in
    label: str
    funnel: FunnelCounts


@dataclass
class OperatorRow:
    """An operator's calls and the visits they booked in the period, and how those went."""

    employee_id: int
    name: str
    calls_in: int = 0  # inbound calls the operator answered
    calls_out: int = 0
    booked: int = 0  # clients the operator booked a visit for
    came: int = 0  # of them: came to one of those visits
    contracted: int = 0  # of them: have a contract
    paid: int = 0  # of them: have paid

    @property
    def booking_rate(self) -> float | None:
        """Clients booked per answered inbound call, percent."""
        return percent(self.booked, self.calls_in)

    @property
    def came_rate(self) -> float | None:
        return percent(self.came, self.booked)

    @property
    def contract_rate(self) -> float | None:
        return percent(self.contracted, self.booked)


@dataclass
class LawyerRow:
    """A lawyer's visits, contracts and money in the period."""

    employee_id: int
    name: str
    visits: int = 0  # visits with the lawyer that the client came to
    primary_contracts: int = 0
    secondary_contracts: int = 0
    contract_kopecks: int = 0
    plan: int = 0
    income: int = 0

    @property
    def contracts(self) -> int:
        return self.primary_contracts + self.secondary_contracts

    @property
    def plan_done(self) -> float | None:
        return percent(self.income, self.plan)


@dataclass(frozen=True)
class ContractLine:
    """A contract concluded in the period, as the contract list export shows it."""

    number: str
    signed_on: date  # never None here: drafts, the only unsigned ones, are left out
    client_name: str
    lawyer_name: str
    kind: ContractKind
    status: ContractStatus
    amount_kopecks: int


@dataclass(frozen=True)
class FilterChoices:
    """What the report's filters offer."""

    operators: list[Employee]
    lawyers: list[Employee]
    topics: list[str]
    sources: list[str]


@dataclass(frozen=True)
class Overview:
    """Everything the statistics page shows for one period and filter."""

    scope: ReportScope
    period: Period
    grouping: Grouping
    filters: ReportFilter
    funnel: FunnelCounts
    series: list[SeriesRow]
    totals: SeriesRow
    operators: list[OperatorRow]
    # Firm scope only (empty for the call centre):
    lawyers: list[LawyerRow] = field(default_factory=list)
    by_topic: list[BreakdownRow] = field(default_factory=list)
    by_source: list[BreakdownRow] = field(default_factory=list)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _funnel_of(stages: Sequence[tuple[Any, ...]]) -> FunnelCounts:
    """The whole cohort's funnel from `stage_counts` rows, whatever columns they carry."""
    furthest: dict[int, int] = {}
    for *_columns, stage, count in stages:
        furthest[int(stage)] = furthest.get(int(stage), 0) + int(count)
    return FunnelCounts.from_furthest(furthest)


def _breakdown(stages: Sequence[tuple[Any, ...]], column: int) -> list[BreakdownRow]:
    """The funnel per value of one column of `stage_counts` rows, largest cohort first."""
    furthest: dict[str | None, dict[int, int]] = {}
    for row in stages:
        key, stage, count = row[column], int(row[-2]), int(row[-1])
        counts = furthest.setdefault(key, {})
        counts[stage] = counts.get(stage, 0) + int(count)
    rows = [
        BreakdownRow(key, key or "", FunnelCounts.from_furthest(counts))
        for key, counts in furthest.items()
    ]
    rows.sort(key=lambda row: (-row.funnel.contacts, row.key is None, row.label))
    return rows


class ReportService:
    """Read-only statistics over the CRM; every figure is aggregated by the database."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, now: Clock = utc_now
    ) -> None:
        self._sessionmaker = sessionmaker
        self._now = now

    def today(self) -> date:
        """Today on the firm's clock: what the period presets count from."""
        return self._now().astimezone(FIRM_TIMEZONE).date()

    async def overview(
        self,
        period: Period,
        *,
        filters: ReportFilter = ReportFilter(),
        grouping: Grouping | None = None,
        scope: ReportScope = ReportScope.firm,
    ) -> Overview:
        """The funnel, the series, the totals and the tables a scope may see."""
        grouping = grouping or default_grouping(period)
        async with self._sessionmaker() as session:
            query = _Queries(session, period, filters)
            extra: dict[str, Any] = {}
            if scope is ReportScope.firm:
                # One pass over the cohort gives the funnel and both breakdowns.
                stages = await query.stage_counts(Client.topic, Client.source)
                extra["by_topic"] = _breakdown(stages, 0)
                extra["by_source"] = _breakdown(stages, 1)
                extra["lawyers"] = await query.lawyers()
            else:
                stages = await query.stage_counts()
            funnel = _funnel_of(stages)
            series = await query.series(grouping, money=scope is ReportScope.firm)
            operators = await query.operators()
        totals = SeriesRow(period.start, period.end)
        for row in series:
            totals.add(row)
        return Overview(
            scope, period, grouping, filters, funnel, series, totals, operators, **extra
        )

    async def funnel(
        self,
        period: Period,
        filters: ReportFilter = ReportFilter(),
    ) -> FunnelCounts:
        async with self._sessionmaker() as session:
            return _funnel_of(await _Queries(session, period, filters).stage_counts())

    async def contract_lines(
        self,
        period: Period,
        filters: ReportFilter = ReportFilter(),
        *,
        limit: int = CONTRACT_LIST_LIMIT,
    ) -> list[ContractLine]:
        """Contracts concluded in the period (signed, not drafts), oldest first."""
        async with self._sessionmaker() as session:
            return await _Queries(session, period, filters).contract_lines(limit)

    async def choices(self, period: Period) -> FilterChoices:
        """Operators, lawyers, and the topics and sources of the clients who first contacted
        the firm in the period (a topic nobody came with then would only give empty pages)."""
        async with self._sessionmaker() as session:
            staff = list(
                await session.scalars(
                    select(Employee)
                    .where(Employee.role.in_((*CALL_CENTRE_ROLES, Role.lawyer)))
                    .order_by(Employee.full_name)
                )
            )
            pairs = (
                await session.execute(
                    select(Client.topic, Client.source)
                    .where(
                        Client.first_contact_on >= period.start,
                        Client.first_contact_on <= period.end,
                    )
                    .distinct()
                )
            ).all()
            return FilterChoices(
                operators=[e for e in staff if e.role in CALL_CENTRE_ROLES],
                lawyers=[e for e in staff if e.role is Role.lawyer],
                topics=sorted({topic for topic, _source in pairs if topic}),
                sources=sorted({source for _topic, source in pairs if source}),
            )


class _Queries:
    """The report's queries over one session: each one a GROUP BY in the database."""

    def __init__(self, session: AsyncSession, period: Period, filters: ReportFilter) -> None:
        self._session = session
        self._period = period
        self._filters = filters
        self._dialect = session.get_bind().dialect.name
        self._call_rows: Sequence[Any] | None = None

    # The funnel ----------------------------------------------------------------------------

    def _furthest_stage(self) -> ColumnElement[int]:
        """The furthest funnel stage a client reached (0 contact … 4 paid), per client row.

        A client's stages are counted over all time, not only inside the period: the cohort
        is who first contacted the firm in the period, and the funnel follows them to today.
        A stage counts as reached when the client has it or any later one (a walk-in client
        never booked, yet came), so each stage holds the next and the rates stay ≤ 100 %.
        The CASEs stop at the first match and ask first whether the client has any visit:
        most leads have none, and cost two index look-ups.
        """
        signed = and_(Contract.client_id == Client.id, Contract.status != ContractStatus.draft)
        paid = exists(
            select(literal(1))
            .select_from(Payment)
            .join(Contract, Contract.id == Payment.contract_id)
            .where(signed)
        )
        contracted = exists(select(literal(1)).select_from(Contract).where(signed))
        came = exists(
            select(literal(1))
            .select_from(Visit)
            .where(Visit.client_id == Client.id, Visit.checked_in_at.is_not(None))
        )
        booked = exists(select(literal(1)).select_from(Visit).where(Visit.client_id == Client.id))
        signed_stage = case((paid, 4), else_=3)
        return case(
            (~booked, case((contracted, signed_stage), else_=0)),
            (contracted, signed_stage),
            (came, 2),
            else_=1,
        )

    def _cohort(self, statement: _Select) -> _Select:
        """Clients whose first contact falls in the period, narrowed by the filters."""
        filters = self._filters
        statement = statement.where(
            Client.first_contact_on >= self._period.start,
            Client.first_contact_on <= self._period.end,
        )
        if filters.lawyer_id is not None:
            statement = statement.where(Client.lawyer_id == filters.lawyer_id)
        if filters.operator_id is not None:
            operator = filters.operator_id
            # Uncorrelated IN rather than EXISTS per client: SQLite answered the EXISTS
            # through the index on the employee, reading all the operator's calls again for
            # every client of the cohort (half a minute at 60,000 clients).
            statement = statement.where(
                or_(
                    Client.id.in_(select(Call.client_id).where(Call.employee_id == operator)),
                    Client.id.in_(select(Visit.client_id).where(Visit.booked_by_id == operator)),
                )
            )
        return self._client_cut(statement)

    def _client_cut(self, statement: _Select) -> _Select:
        if self._filters.topic is not None:
            statement = statement.where(Client.topic == self._filters.topic)
        if self._filters.source is not None:
            statement = statement.where(Client.source == self._filters.source)
        return statement

    async def stage_counts(self, *columns: Any) -> list[tuple[Any, ...]]:
        """The sales funnel of the clients who first contacted the firm in the period, as rows
        of (*columns, furthest stage reached, clients): GROUP BY in the database.

        Each stage counts clients of that cohort (see `_furthest_stage` for "reached"):
        1. contact: every client whose first contact (Client.first_contact_on, a firm
           calendar date) falls in the period; a first contact is a call or a walk-in;
        2. booked: has a visit on record (booked by anyone, or a walk-in);
        3. visited: came to a visit (reception checked them in);
        4. contract: has a contract that is not a draft (signed, whatever its status now);
        5. paid: has made a first payment under one of their contracts.
        """
        stage = self._furthest_stage().label("stage")
        statement = self._cohort(
            select(*columns, stage, func.count()).select_from(Client)
        ).group_by(*columns, stage)
        return [tuple(row) for row in await self._all(statement)]

    # Series --------------------------------------------------------------------------------

    async def series(self, grouping: Grouping, *, money: bool) -> list[SeriesRow]:
        """Rows per day, week or month; queries return daily sums that are bucketed here."""
        buckets: dict[date, SeriesRow] = {}
        start = bucket_start(self._period.start, grouping)
        while start <= self._period.end:
            following = _next_bucket(start, grouping)
            end = min(following - timedelta(days=1), self._period.end)
            buckets[start] = SeriesRow(max(start, self._period.start), end)
            start = following

        def add(day: Any, name: str, value: Any) -> None:
            row = buckets[bucket_start(_as_date(day), grouping)]
            setattr(row, name, getattr(row, name) + int(value or 0))

        if money:
            for day, total in await self._daily_money(Payment.received_on, Payment):
                add(day, "income", total)
            for day, total in await self._daily_money(Expense.spent_on, Expense):
                add(day, "expenses", total)
            for day, total in await self._daily_money(PlannedPayment.due_on, PlannedPayment):
                add(day, "plan", total)
            for day, kind, count, total in await self._daily_contracts():
                prefix = "primary" if kind == ContractKind.primary else "secondary"
                add(day, f"{prefix}_contracts", count)
                add(day, f"{prefix}_kopecks", total)
        for day, _employee, direction, count, answered in await self._call_counts():
            if direction == CallDirection.inbound:
                add(day, "calls_in", count)
                add(day, "calls_missed", count - answered)
            else:
                add(day, "calls_out", count)
        for day, count in await self._daily_visits(booked=True):
            add(day, "visits_booked", count)
        for day, count in await self._daily_visits(booked=False):
            add(day, "visits_attended", count)
        return list(buckets.values())

    def _contract_cut(self, statement: _Select, contract_id: Any) -> _Select:
        """Narrow a money query by the contract's lawyer and the client's topic and source."""
        filters = self._filters
        if filters.lawyer_id is None and not filters.by_client:
            return statement
        statement = statement.join(Contract, Contract.id == contract_id)
        if filters.lawyer_id is not None:
            statement = statement.where(Contract.lawyer_id == filters.lawyer_id)
        if filters.by_client:
            statement = self._client_cut(statement.join(Client, Client.id == Contract.client_id))
        return statement

    async def _daily_money(self, day: Any, table: Any) -> Sequence[Any]:
        statement = (
            select(day, func.sum(table.amount_kopecks))
            .where(day >= self._period.start, day <= self._period.end)
            .group_by(day)
        )
        statement = self._contract_cut(statement, table.contract_id)
        return (await self._session.execute(statement)).all()

    async def _daily_contracts(self) -> Sequence[Any]:
        statement = (
            select(
                Contract.signed_on,
                Contract.kind,
                func.count(),
                func.sum(Contract.amount_kopecks),
            )
            .where(
                Contract.signed_on >= self._period.start,
                Contract.signed_on <= self._period.end,
                Contract.status != ContractStatus.draft,
            )
            .group_by(Contract.signed_on, Contract.kind)
        )
        if self._filters.lawyer_id is not None:
            statement = statement.where(Contract.lawyer_id == self._filters.lawyer_id)
        if self._filters.by_client:
            statement = self._client_cut(statement.join(Client, Client.id == Contract.client_id))
        return (await self._session.execute(statement)).all()

    def _calls(self, statement: _Select) -> _Select:
        """External calls in the period, narrowed by the employee and the client's cuts."""
        start, end = self._period.bounds()
        statement = statement.where(
            Call.started_at >= start,
            Call.started_at < end,
            Call.direction != CallDirection.internal,
        )
        for employee in (self._filters.operator_id, self._filters.lawyer_id):
            if employee is not None:
                statement = statement.where(Call.employee_id == employee)
        if self._filters.by_client:
            statement = self._client_cut(statement.join(Client, Client.id == Call.client_id))
        return statement

    async def _call_counts(self) -> Sequence[Any]:
        """(firm date, employee, direction, calls, answered calls) rows: one pass over the
        period's calls, read by both the series and the figures by operator."""
        if self._call_rows is None:
            day = firm_date(Call.started_at, self._dialect).label("day")
            answered = func.sum(case((Call.answered_at.is_not(None), 1), else_=0))
            statement = self._calls(
                select(day, Call.employee_id, Call.direction, func.count(), answered).group_by(
                    day, Call.employee_id, Call.direction
                )
            )
            self._call_rows = await self._all(statement)
        return self._call_rows

    def _visits_booked(self, statement: _Select) -> _Select:
        """Visits booked in the period (by the time of booking), narrowed by the filters.

        The time of booking has no index, the visit's own time has one: a visit is booked
        for no earlier than half an hour before and no later than BOOKING_HORIZON after the
        booking (crm.visits; a walk-in is "booked" for the moment it starts), so the period
        widened by that lets the database find the visits through that index.
        """
        start, end = self._period.bounds()
        statement = statement.where(
            Visit.created_at >= start,
            Visit.created_at < end,
            Visit.scheduled_at >= start - timedelta(minutes=30),
            Visit.scheduled_at <= end + BOOKING_HORIZON,
        )
        return self._visit_cut(statement)

    def _visits_held(self, statement: _Select) -> _Select:
        """Visits due in the period (by the visit's time) that the client came to."""
        start, end = self._period.bounds()
        statement = statement.where(
            Visit.scheduled_at >= start, Visit.scheduled_at < end, Visit.checked_in_at.is_not(None)
        )
        return self._visit_cut(statement)

    def _visit_cut(self, statement: _Select) -> _Select:
        if self._filters.operator_id is not None:
            statement = statement.where(Visit.booked_by_id == self._filters.operator_id)
        if self._filters.lawyer_id is not None:
            statement = statement.where(Visit.lawyer_id == self._filters.lawyer_id)
        if self._filters.by_client:
            statement = self._client_cut(statement.join(Client, Client.id == Visit.client_id))
        return statement

    async def _daily_visits(self, *, booked: bool) -> Sequence[Any]:
        """Visits booked by an employee (on the day of booking; walk-ins are not booked), or
        visits held (on the day they were due, when the client came), per firm day."""
        if booked:
            day = firm_date(Visit.created_at, self._dialect).label("day")
            statement = self._visits_booked(select(day, func.count()).group_by(day))
            statement = statement.where(Visit.booked_by_id.is_not(None))
        else:
            day = firm_date(Visit.scheduled_at, self._dialect).label("day")
            statement = self._visits_held(select(day, func.count()).group_by(day))
        return await self._all(statement)

    # Tables --------------------------------------------------------------------------------

    async def operators(self) -> list[OperatorRow]:
        """The funnel by operator: calls in the period, then the clients the operator booked
        a visit for in the period (by booking time), how many came to one of those visits,
        how many have a contract and how many have paid (over all time)."""
        # Grouped by every employee and kept for operators here: narrowing to operators in
        # SQL would steer SQLite to the employee index instead of the period's.
        names = await self._names(CALL_CENTRE_ROLES)
        rows: dict[int, OperatorRow] = {}

        def row(employee_id: int | None) -> OperatorRow | None:
            if employee_id not in names:
                return None
            if employee_id not in rows:
                rows[employee_id] = OperatorRow(employee_id, names.get(employee_id, ""))
            return rows[employee_id]

        for _day, employee_id, direction, count, answered in await self._call_counts():
            if (target := row(employee_id)) is None:
                continue
            if direction == CallDirection.inbound:
                target.calls_in += int(answered or 0)
            else:
                target.calls_out += int(count)

        signed = and_(
            Contract.client_id == Visit.client_id, Contract.status != ContractStatus.draft
        )
        has_contract = exists(select(literal(1)).select_from(Contract).where(signed))
        has_paid = exists(
            select(literal(1))
            .select_from(Payment)
            .join(Contract, Contract.id == Payment.contract_id)
            .where(signed)
        )
        visits = self._visits_booked(
            select(
                Visit.booked_by_id,
                func.count(distinct(Visit.client_id)),
                func.count(distinct(case((Visit.checked_in_at.is_not(None), Visit.client_id)))),
                func.count(distinct(case((has_contract, Visit.client_id)))),
                func.count(distinct(case((has_paid, Visit.client_id)))),
            ).group_by(Visit.booked_by_id)
        )
        for employee_id, booked, came, contracted, paid in await self._all(visits):
            if (target := row(employee_id)) is None:
                continue
            target.booked, target.came = int(booked), int(came)
            target.contracted, target.paid = int(contracted), int(paid)
        return sorted(rows.values(), key=lambda r: (-r.booked, -r.calls_in, r.name))

    async def lawyers(self) -> list[LawyerRow]:
        """Per lawyer: visits the client came to, contracts signed (primary and secondary,
        with their sum), the income plan due and the money received in the period."""
        # Every employee: a contract stays its lawyer's after they change jobs.
        names = await self._names(tuple(Role))
        rows: dict[int, LawyerRow] = {}

        def row(employee_id: int | None) -> LawyerRow | None:
            if employee_id not in names:
                return None
            if employee_id not in rows:
                rows[employee_id] = LawyerRow(employee_id, names.get(employee_id, ""))
            return rows[employee_id]

        visits = self._visits_held(select(Visit.lawyer_id, func.count()).group_by(Visit.lawyer_id))
        for employee_id, count in await self._all(visits):
            if (target := row(employee_id)) is not None:
                target.visits = int(count)

        contracts = (
            select(
                Contract.lawyer_id,
                Contract.kind,
                func.count(),
                func.sum(Contract.amount_kopecks),
            )
            .where(
                Contract.signed_on >= self._period.start,
                Contract.signed_on <= self._period.end,
                Contract.status != ContractStatus.draft,
            )
            .group_by(Contract.lawyer_id, Contract.kind)
        )
        if self._filters.lawyer_id is not None:
            contracts = contracts.where(Contract.lawyer_id == self._filters.lawyer_id)
        if self._filters.by_client:
            contracts = self._client_cut(contracts.join(Client, Client.id == Contract.client_id))
        for employee_id, kind, count, total in await self._all(contracts):
            if (target := row(employee_id)) is None:
                continue
            if kind == ContractKind.primary:
                target.primary_contracts += int(count)
            else:
                target.secondary_contracts += int(count)
            target.contract_kopecks += int(total or 0)

        for name, table, day in (
            ("income", Payment, Payment.received_on),
            ("plan", PlannedPayment, PlannedPayment.due_on),
        ):
            statement = (
                select(Contract.lawyer_id, func.sum(table.amount_kopecks))
                .join(Contract, Contract.id == table.contract_id)
                .where(day >= self._period.start, day <= self._period.end)
                .group_by(Contract.lawyer_id)
            )
            if self._filters.lawyer_id is not None:
                statement = statement.where(Contract.lawyer_id == self._filters.lawyer_id)
            if self._filters.by_client:
                statement = self._client_cut(
                    statement.join(Client, Client.id == Contract.client_id)
                )
            for employee_id, total in await self._all(statement):
                if (target := row(employee_id)) is not None:
                    setattr(target, name, int(total or 0))
        return sorted(rows.values(), key=lambda r: (-r.contract_kopecks, -r.income, r.name))

    async def contract_lines(self, limit: int) -> list[ContractLine]:
        # Columns, not Contract objects: an export of a year is tens of thousands of rows.
        statement = (
            select(
                Contract.number,
                Contract.signed_on,
                Client.full_name,
                Employee.full_name,
                Contract.kind,
                Contract.status,
                Contract.amount_kopecks,
            )
            .join(Client, Client.id == Contract.client_id)
            .join(Employee, Employee.id == Contract.lawyer_id)
            .where(
                Contract.signed_on >= self._period.start,
                Contract.signed_on <= self._period.end,
                Contract.status != ContractStatus.draft,
            )
            .order_by(Contract.signed_on, Contract.id)
            .limit(limit)
        )
        if self._filters.lawyer_id is not None:
            statement = statement.where(Contract.lawyer_id == self._filters.lawyer_id)
        statement = self._client_cut(statement)
        return [ContractLine(*row) for row in await self._all(statement)]

    async def _names(self, roles: Sequence[Role]) -> dict[int, str]:
        statement = select(Employee.id, Employee.full_name).where(Employee.role.in_(roles))
        return {employee_id: name for employee_id, name in await self._all(statement)}

    async def _all(self, statement: AnySelect) -> Sequence[Any]:
        return (await self._session.execute(statement)).all()
