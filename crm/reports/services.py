"""Statistics: the sales funnel, money, calls and visits over time, figures by employee."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from crm.clients.models import Client
from crm.core.formatting import FIRM_TIMEZONE
from crm.core.periods import Period
from crm.core.roles import Role
from crm.core.service import Service
from crm.reports.grouping import Grouping, default_grouping
from crm.reports.queries import CALL_CENTRE_ROLES, ReportQueries, breakdown, funnel_of
from crm.reports.rows import (
    ContractLine,
    FilterChoices,
    FunnelCounts,
    Overview,
    ReportFilter,
    ReportScope,
    SeriesRow,
)
from crm.staff.models import Employee

CONTRACT_LIST_LIMIT = 100_000


class ReportService(Service):
    """Read-only statistics over the CRM; every figure is aggregated by the database."""

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
            query = ReportQueries(session, period, filters)
            extra: dict[str, Any] = {}
            if scope is ReportScope.firm:
                # One pass over the cohort gives the funnel and both breakdowns.
                stages = await query.stage_counts(Client.topic, Client.source)
                extra["by_topic"] = breakdown(stages, 0)
                extra["by_source"] = breakdown(stages, 1)
                extra["lawyers"] = await query.lawyers()
            else:
                stages = await query.stage_counts()
            funnel = funnel_of(stages)
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
            return funnel_of(await ReportQueries(session, period, filters).stage_counts())

    async def contract_lines(
        self,
        period: Period,
        filters: ReportFilter = ReportFilter(),
        *,
        limit: int = CONTRACT_LIST_LIMIT,
    ) -> list[ContractLine]:
        """Contracts concluded in the period (signed, not drafts), oldest first."""
        async with self._sessionmaker() as session:
            return await ReportQueries(session, period, filters).contract_lines(limit)

    async def choices(self, period: Period) -> FilterChoices:
        """Operators, lawyers, and the topics and sources of the clients who first contacted
        the firm in the period (a topic nobody came with then would only give empty pages)."""
        async with self._sessionmaker() as session:
            staff = list(
                await session.scalars(
                    select(Employee)
                    .where(Employee.role.in_((*CALL_CENTRE_ROLES, Role.lawyer)))
                    .order_by(Employee.full_name, Employee.id)
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
