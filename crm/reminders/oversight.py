"""Oversight of reminders for whoever heads people: overdue per employee, neglected clients."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from crm.calls.models import Call
from crm.clients.models import Client
from crm.core.service import Service
from crm.reminders.models import Reminder, ReminderKind, ReminderStatus
from crm.staff.models import Employee


@dataclass(frozen=True)
class LawyerOverdue:
    employee: Employee
    overdue: int
    oldest_due_at: datetime | None


@dataclass(frozen=True)
class NeglectedClient:
    client: Client
    lawyer: Employee
    last_call_at: datetime | None


class ReminderOversight(Service):
    """What heads see of their people's reminders: overdue, neglected clients, history."""

    async def team_of(self, head_id: int) -> set[int]:
        """The employees whose head this is (active or not), empty for someone who heads nobody."""
        async with self._sessionmaker() as session:
            return set(
                await session.scalars(select(Employee.id).where(Employee.head_id == head_id))
            )

    async def overdue_by_employee(
        self, *, team: Collection[int] | None = None
    ) -> list[LawyerOverdue]:
        """Per employee (of `team` if given): open reminders past due, and since when the
        oldest waits."""
        now = self._now()
        async with self._sessionmaker() as session:
            statement = (
                select(Employee, func.count(Reminder.id), func.min(Reminder.due_at))
                .join(Reminder, Reminder.employee_id == Employee.id)
                .where(Reminder.status == ReminderStatus.open, Reminder.due_at <= now)
                .group_by(Employee.id)
                .order_by(func.count(Reminder.id).desc())
            )
            if team is not None:
                statement = statement.where(Reminder.employee_id.in_(team))
            rows = (await session.execute(statement)).all()
        return [LawyerOverdue(employee, count, oldest) for employee, count, oldest in rows]

    async def neglected_clients(
        self, *, limit: int = 200, team: Collection[int] | None = None
    ) -> list[NeglectedClient]:
        """Clients with an active contract their lawyer (of `team` if given) has not talked
        to for longer than the period: the open cadence reminders past due (the generator
        keeps them up to date, so this page does not recompute the rule over every
        contract), longest waiting first."""
        now = self._now()
        async with self._sessionmaker() as session:
            statement = (
                select(Reminder, Client, Employee)
                .join(Client, Client.id == Reminder.client_id)
                .join(Employee, Employee.id == Reminder.employee_id)
                .where(
                    Reminder.status == ReminderStatus.open,
                    Reminder.kind == ReminderKind.cadence,
                    Reminder.due_at <= now,
                )
                .order_by(Reminder.due_at, Reminder.id)
                .limit(limit)
            )
            if team is not None:
                statement = statement.where(Reminder.employee_id.in_(team))
            rows = (await session.execute(statement)).all()
            last_calls: dict[int | None, datetime] = {
                client_id: at
                for client_id, at in await session.execute(
                    select(Call.client_id, func.max(Call.started_at))
                    .where(
                        Call.answered_at.is_not(None),
                        Call.client_id.in_({client.id for _r, client, _e in rows}),
                    )
                    .group_by(Call.client_id)
                )
            }
        neglected, seen = [], set()
        for _reminder, client, lawyer in rows:
            if client.id not in seen:
                seen.add(client.id)
                neglected.append(NeglectedClient(client, lawyer, last_calls.get(client.id)))
        return neglected

    async def history(
        self,
        *,
        employee_id: int | None = None,
        team: Collection[int] | None = None,
        limit: int = 200,
    ) -> list[tuple[Reminder, Client, Employee, Call | None]]:
        """Closed reminders (of one employee, or of `team`): shown when, settled by which
        call, how long it took."""
        async with self._sessionmaker() as session:
            statement = (
                select(Reminder, Client, Employee, Call)
                .join(Client, Client.id == Reminder.client_id)
                .join(Employee, Employee.id == Reminder.employee_id)
                .outerjoin(Call, Call.id == Reminder.call_id)
                .where(Reminder.status != ReminderStatus.open)
                .order_by(Reminder.done_at.desc(), Reminder.id.desc())
                .limit(limit)
            )
            if employee_id is not None:
                statement = statement.where(Reminder.employee_id == employee_id)
            if team is not None:
                statement = statement.where(Reminder.employee_id.in_(team))
            rows = (await session.execute(statement)).all()
        return [(reminder, client, employee, call) for reminder, client, employee, call in rows]

    async def escalated_to(
        self, head_id: int, *, days: int = 30
    ) -> list[tuple[Reminder, Client, Employee]]:
        """Clients the head's people could not reach through the whole ladder lately."""
        since = self._now() - timedelta(days=days)
        async with self._sessionmaker() as session:
            rows = (
                await session.execute(
                    select(Reminder, Client, Employee)
                    .join(Client, Client.id == Reminder.client_id)
                    .join(Employee, Employee.id == Reminder.employee_id)
                    .where(
                        Employee.head_id == head_id,
                        Reminder.status == ReminderStatus.escalated,
                        Reminder.done_at >= since,
                    )
                    .order_by(Reminder.done_at.desc(), Reminder.id.desc())
                    .limit(100)
                )
            ).all()
        return [(reminder, client, employee) for reminder, client, employee in rows]
