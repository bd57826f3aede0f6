"""Call statistics: calls by day, employee and queue, answered and waiting times, talk share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import case, exists, func, literal, select

from crm.calls.events import CallDirection
from crm.calls.models import Call
from crm.conversations.models import CallFlag, Transcript
from crm.core.firm_calendar import firm_date, firm_day_bounds
from crm.core.service import Service
from crm.core.sql import as_date, count_if, milliseconds_between, sum_of
from crm.staff.models import Employee

NO_QUEUE = "без очереди"  # the statistics' row of calls that waited in no queue


@dataclass
class CountRow:
    label: str
    total: int = 0
    answered: int = 0
    flagged: int = 0
    talk_seconds: float = 0.0
    employee_talk_ms: int = 0
    all_talk_ms: int = 0

    @property
    def missed(self) -> int:
        return self.total - self.answered

    @property
    def average_talk_seconds(self) -> float:
        return self.talk_seconds / self.answered if self.answered else 0.0

    @property
    def talk_share(self) -> float | None:
        return self.employee_talk_ms / self.all_talk_ms if self.all_talk_ms else None


@dataclass
class CallStatistics:
    since: date
    until: date
    by_day: list[CountRow] = field(default_factory=list)
    by_employee: list[CountRow] = field(default_factory=list)
    by_queue: list[CountRow] = field(default_factory=list)
    total: int = 0
    answered: int = 0
    flagged: int = 0
    average_wait_seconds: float = 0.0  # of inbound callers, those who gave up included
    average_talk_seconds: float = 0.0


class CallStatisticsService(Service):
    """Counts of calls over a period of the firm's days."""

    async def of_period(self, since: date, until: date) -> CallStatistics:
        """Calls from `since` to `until` (inclusive, the firm's days) by day, employee and
        queue; the average wait is the callers': until answered, or until they gave up.

        One GROUP BY in the database by the firm's day, employee and queue; the three cuts and the
        totals are added up here from those few hundred rows.
        """
        start, _ = firm_day_bounds(since)
        _, end = firm_day_bounds(until)
        async with self._sessionmaker() as session:
            dialect = session.get_bind().dialect.name
            day = firm_date(Call.started_at, dialect).label("day")
            answered = Call.answered_at.is_not(None)
            talked = answered & Call.ended_at.is_not(None)
            # Callers' wait: until answered, or until they gave up.
            waited = (Call.direction == CallDirection.inbound) & (
                answered | Call.ended_at.is_not(None)
            )
            waited_until = case((answered, Call.answered_at), else_=Call.ended_at)
            flagged = exists(select(literal(1)).where(CallFlag.linkedid == Call.linkedid))
            first = func.min(Call.started_at)
            groups = (
                await session.execute(
                    select(
                        day,
                        Call.employee_id,
                        Call.queue,
                        func.count(),
                        count_if(answered),
                        count_if(flagged),
                        count_if(talked),
                        sum_of(
                            case(
                                (
                                    talked,
                                    milliseconds_between(Call.ended_at, Call.answered_at, dialect),
                                )
                            )
                        ),
                        count_if(waited),
                        sum_of(
                            case(
                                (
                                    waited,
                                    milliseconds_between(waited_until, Call.started_at, dialect),
                                )
                            )
                        ),
                        sum_of(Transcript.employee_talk_ms),
                        sum_of(Transcript.client_talk_ms),
                    )
                    .outerjoin(Transcript, Transcript.linkedid == Call.linkedid)
                    .where(Call.started_at >= start, Call.started_at < end)
                    .group_by(day, Call.employee_id, Call.queue)
                    # Rows first seen first, as a pass over the calls in time would meet them:
                    # equal totals keep that order below.
                    .order_by(first)
                )
            ).all()
            names = dict((await session.execute(select(Employee.id, Employee.full_name))).all())
        stats = CallStatistics(since=since, until=until)
        days: dict[str, CountRow] = {}
        day_of = since
        while day_of <= until:
            days[day_of.isoformat()] = CountRow(day_of.strftime("%d.%m"))
            day_of += timedelta(days=1)
        employees: dict[str, CountRow] = {}
        queues: dict[str, CountRow] = {}
        waits_ms = waits = talks_ms = talks = 0
        for (
            group_day,
            employee_id,
            queue,
            total,
            answered_count,
            flagged_count,
            talk_count,
            talk_ms,
            wait_count,
            wait_ms,
            employee_talk_ms,
            client_talk_ms,
        ) in groups:
            when = as_date(group_day)
            who = names.get(employee_id, "—") if employee_id is not None else "—"
            talk_seconds = int(talk_ms or 0) / 1000
            rows_to_count = [
                days.setdefault(when.isoformat(), CountRow(when.strftime("%d.%m"))),
                employees.setdefault(who, CountRow(who)),
                queues.setdefault(queue or NO_QUEUE, CountRow(queue or NO_QUEUE)),
            ]
            for row in rows_to_count:
                row.total += int(total)
                row.answered += int(answered_count or 0)
                row.flagged += int(flagged_count or 0)
                row.talk_seconds += talk_seconds
            if employee_talk_ms is not None:
                employees[who].employee_talk_ms += int(employee_talk_ms)
                employees[who].all_talk_ms += int(employee_talk_ms) + int(client_talk_ms or 0)
            stats.total += int(total)
            stats.answered += int(answered_count or 0)
            stats.flagged += int(flagged_count or 0)
            waits_ms += int(wait_ms or 0)
            waits += int(wait_count or 0)
            talks_ms += int(talk_ms or 0)
            talks += int(talk_count or 0)
        stats.by_day = list(days.values())
        stats.by_employee = sorted(employees.values(), key=lambda r: -r.total)
        stats.by_queue = sorted(queues.values(), key=lambda r: -r.total)
        stats.average_wait_seconds = waits_ms / 1000 / waits if waits else 0.0
        stats.average_talk_seconds = talks_ms / 1000 / talks if talks else 0.0
        return stats
