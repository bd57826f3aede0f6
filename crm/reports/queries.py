"""The statistics' SQL: funnel stages per client, daily series, figures by operator and lawyer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, and_, case, distinct, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from crm.calls.events import CallDirection
from crm.calls.models import Call
from crm.clients.models import Client
from crm.contracts.models import Contract, ContractKind, ContractStatus
from crm.core.firm_calendar import firm_date
from crm.core.periods import Period
from crm.core.roles import Role
from crm.core.sql import as_date, sum_of
from crm.finance.models import Expense, Payment, PlannedPayment
from crm.reports.grouping import Grouping, bucket_start, next_bucket
from crm.reports.rows import (
    BreakdownRow,
    ContractLine,
    FunnelCounts,
    LawyerRow,
    OperatorRow,
    ReportFilter,
    SeriesRow,
)
from crm.staff.models import Employee
from crm.visits.models import Visit
from crm.visits.services import BOOKING_HORIZON

# Who counts as the call centre in the figures by operator.
CALL_CENTRE_ROLES = (Role.operator, Role.call_centre_head)


AnySelect = Select[*tuple[Any, ...]]


_Select = TypeVar("_Select", bound=AnySelect)


def funnel_of(stages: Sequence[tuple[Any, ...]]) -> FunnelCounts:
    """The whole cohort's funnel from `stage_counts` rows, whatever columns they carry."""
    furthest: dict[int, int] = {}
    for *_columns, stage, count in stages:
        furthest[int(stage)] = furthest.get(int(stage), 0) + int(count)
    return FunnelCounts.from_furthest(furthest)


def breakdown(stages: Sequence[tuple[Any, ...]], column: int) -> list[BreakdownRow]:
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


class ReportQueries:
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
            following = next_bucket(start, grouping)
            end = min(following - timedelta(days=1), self._period.end)
            buckets[start] = SeriesRow(max(start, self._period.start), end)
            start = following

        def add(day: Any, name: str, value: Any) -> None:
            row = buckets[bucket_start(as_date(day), grouping)]
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
            select(day, sum_of(table.amount_kopecks))
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
                sum_of(Contract.amount_kopecks),
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
            answered = sum_of(case((Call.answered_at.is_not(None), 1), else_=0))
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
                sum_of(Contract.amount_kopecks),
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
                select(Contract.lawyer_id, sum_of(table.amount_kopecks))
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
