"""A client unreachable through the whole retry ladder is escalated to the lawyer's head."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.calls.events import CallDirection
from crm.calls.models import Call
from crm.clients.models import Client
from crm.contracts.models import Contract, ContractKind, ContractStatus
from crm.core.roles import Role
from crm.reminders.models import ReminderStatus
from crm.reminders.oversight import ReminderOversight
from crm.reminders.rules import ReminderRules, RetryStep
from crm.reminders.services import ReminderService
from crm.staff.models import Employee


async def test_after_the_last_rung_the_head_sees_the_client(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock = [datetime(2026, 11, 24, 9, 0, tzinfo=UTC)]  # a Tuesday, 12:00 in Moscow
    rules = ReminderRules(retry_ladder=(RetryStep(delay=timedelta(hours=2)),))
    reminders = ReminderService(sessionmaker, rules, now=lambda: clock[0])
    oversight = ReminderOversight(sessionmaker, now=lambda: clock[0])
    async with sessionmaker() as session:
        head = Employee(login="head", full_name="Глава", role=Role.lawyer, password_hash="x")
        session.add(head)
        await session.flush()
        lawyer = Employee(
            login="l", full_name="Юрист", role=Role.lawyer, password_hash="x", head_id=head.id
        )
        session.add(lawyer)
        await session.flush()
        client = Client(
            full_name="Неуловимый Клиент",
            short_name="Неуловимый К.",
            name_key="неуловимый клиент",
            first_contact_on=date(2026, 1, 10),
            lawyer_id=lawyer.id,
        )
        session.add(client)
        await session.flush()
        session.add(
            Contract(
                number="E-1",
                client_id=client.id,
                lawyer_id=lawyer.id,
                amount_kopecks=100,
                essence="x",
                status=ContractStatus.active,
                kind=ContractKind.primary,
                signed_on=date(2026, 1, 10),
            )
        )
        await session.commit()
        lawyer_id, head_id, client_id = lawyer.id, head.id, client.id

    assert await reminders.generate() == 1
    for attempt in range(2):
        due = await reminders.due_for(lawyer_id)
        assert due is not None and due.reminder.attempt == attempt
        started = clock[0] + timedelta(minutes=1)
        async with sessionmaker() as session:
            session.add(
                Call(
                    linkedid=f"no-answer-{attempt}",
                    direction=CallDirection.outbound,
                    client_id=client_id,
                    employee_id=lawyer_id,
                    started_at=started,
                    ended_at=started + timedelta(seconds=rules.min_ring_seconds + 5),
                    client_ringing_at=started,
                    comment="не берёт трубку",
                )
            )
            await session.commit()
        clock[0] += timedelta(minutes=5)
        settled = await reminders.settle(lawyer_id)
        assert len(settled) == 1
        clock[0] += timedelta(hours=2)

    assert await reminders.due_for(lawyer_id) is None
    escalated = await oversight.escalated_to(head_id)
    assert [(r.status, c.id) for r, c, _ in escalated] == [(ReminderStatus.escalated, client_id)]
    assert await oversight.escalated_to(lawyer_id) == []
