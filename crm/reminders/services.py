"""Reminders to call clients: made by rules or by hand, shown when due, settled by real calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.calls.events import CallDirection
from crm.calls.models import Call
from crm.clients.errors import NoSuchClient
from crm.clients.models import Client
from crm.core.clock import Clock, utc_now
from crm.core.errors import N_, InvalidInput
from crm.core.inputs import required_text
from crm.core.permissions import Action, scope_of
from crm.core.service import Service
from crm.reminders.generation import add_due_reminders
from crm.reminders.models import Reminder, ReminderKind, ReminderStatus
from crm.reminders.rules import ReminderRules
from crm.reminders.settling import counts, rang_long_enough, reminder_windows, retry_or_escalate
from crm.staff.models import Employee


@dataclass(frozen=True)
class DueReminder:
    """What the blocking window shows: the reminder, its client, and an unanswered call of
    theirs still waiting for the comment that would let it count."""

    reminder: Reminder
    client: Client
    waiting_comment_call: Call | None
    queued: int  # how many more are due after this one


class ReminderService(Service):
    """Reminders of one firm: made by the rules or by hand, shown when due, settled by calls."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        rules: ReminderRules | None = None,
        *,
        now: Clock = utc_now,
    ) -> None:
        super().__init__(sessionmaker, now=now)
        self.rules = rules or ReminderRules()

    async def add_manual(
        self,
        *,
        employee_id: int,
        client_id: int,
        due_at: datetime,
        reason: str,
        created_by_id: int,
        contract_id: int | None = None,
    ) -> Reminder:
        text = required_text(reason, N_("О чём напомнить"), 500)
        now = self._now()
        if not now - timedelta(days=1) <= due_at <= now + timedelta(days=366):
            raise InvalidInput(N_("Напоминание: не раньше вчерашнего дня и не позже чем через год"))
        async with self._sessionmaker() as session:
            if await session.get(Client, client_id) is None:
                raise NoSuchClient()
            employee = await session.get(Employee, employee_id)
            if (
                employee is None
                or not employee.is_active
                or scope_of(employee.role, Action.call_client) is None
            ):
                # The window would block someone who could never settle it (a director
                # setting one on a client without a lawyer, a lawyer who has left).
                raise InvalidInput(
                    N_(
                        "Напоминание некому адресовать: у клиента нет юриста, "
                        "который может ему позвонить"
                    )
                )
            reminder = Reminder(
                employee_id=employee_id,
                client_id=client_id,
                contract_id=contract_id,
                kind=ReminderKind.manual,
                reason=text,
                due_at=due_at,
                created_by_id=created_by_id,
                created_at=now,
            )
            session.add(reminder)
            await session.commit()
        return reminder

    async def generate(self) -> int:
        """Create the reminders every rule asks for by now; safe to run any number of times.

        Returns how many new reminders were made.
        """
        now = self._now()
        async with self._sessionmaker() as session:
            made = await add_due_reminders(session, self.rules, now)
            await session.commit()
        return made

    async def due_for(self, employee_id: int) -> DueReminder | None:
        """The reminder the employee must deal with now, marked as shown; None outside their
        working hours or when nothing is due. Settles what real calls have satisfied first."""
        now = self._now()
        await self.settle(employee_id)
        if not self.rules.is_working_time(now):
            return None
        async with self._sessionmaker() as session:
            due = list(
                await session.scalars(
                    select(Reminder)
                    .where(
                        Reminder.employee_id == employee_id,
                        Reminder.status == ReminderStatus.open,
                        Reminder.due_at <= now,
                    )
                    .order_by(Reminder.due_at, Reminder.id)
                    .limit(50)
                )
            )
            if not due:
                return None
            first = due[0]
            if first.shown_at is None:
                first.shown_at = now
                await session.commit()
            client = await session.get(Client, first.client_id)
            assert client is not None  # a foreign key
            # Only a call that a comment would make count: the window promises as much.
            unanswered = await session.scalars(
                select(Call)
                .where(
                    Call.employee_id == employee_id,
                    Call.client_id == first.client_id,
                    Call.direction == CallDirection.outbound,
                    Call.started_at >= first.shown_at,
                    Call.ended_at.is_not(None),
                    Call.answered_at.is_(None),
                )
                .order_by(Call.started_at.desc(), Call.id.desc())
                .limit(20)
            )
            waiting = next(
                (
                    call
                    for call in unanswered
                    if not (call.comment or "").strip() and rang_long_enough(self.rules, call)
                ),
                None,
            )
            return DueReminder(first, client, waiting, len(due) - 1)

    async def settle(self, employee_id: int) -> list[Reminder]:
        """Close the employee's open reminders that a real call satisfies: a call by them
        with the client (either way) after the reminder was shown (or fell due), answered;
        or unanswered after ringing long enough and commented, which also books a retry
        on the ladder or, past its last rung, escalates to the employee's head.

        A retry waits for the client to be reached: a talk since it was booked (the client
        calling back, say) settles it even before it falls due; another unanswered try
        counts only once it is due, like for any reminder."""
        now = self._now()
        settled = []
        async with self._sessionmaker() as session:
            reminders = list(
                await session.scalars(
                    select(Reminder).where(
                        Reminder.employee_id == employee_id,
                        Reminder.status == ReminderStatus.open,
                        or_(Reminder.due_at <= now, Reminder.kind == ReminderKind.retry),
                    )
                )
            )
            windows = {reminder.id: reminder_windows(reminder) for reminder in reminders}
            # Every call that could settle one of them, in one query (a lawyer with dozens
            # of due reminders must not cost dozens of queries per poll of the window).
            by_client: dict[int, list[Call]] = {}
            if reminders:
                earliest = min(min(window) for window in windows.values())
                for found in await session.scalars(
                    select(Call)
                    .where(
                        Call.employee_id == employee_id,
                        Call.client_id.in_({r.client_id for r in reminders}),
                        Call.ended_at.is_not(None),
                        Call.started_at >= earliest,
                        or_(
                            Call.answered_at.is_not(None),
                            and_(
                                Call.direction == CallDirection.outbound,
                                Call.comment.is_not(None),
                            ),
                        ),
                    )
                    .order_by(Call.answered_at.is_(None), Call.started_at, Call.id)
                ):
                    assert found.client_id is not None  # the query asked for these clients
                    by_client.setdefault(found.client_id, []).append(found)
            # Unanswered tries settle reminders client by client: one ladder a client, not
            # one for each of their reminders (the cadence and a payment, say).
            unanswered: dict[int, tuple[list[Call], list[Reminder]]] = {}
            for reminder in reminders:
                since, talked_since = windows[reminder.id]
                calls = [
                    c
                    for c in by_client.get(reminder.client_id, [])
                    if (c.answered_at is not None and c.started_at >= talked_since)
                    or (c.answered_at is None and c.started_at >= since)
                ]
                call = next((c for c in calls if counts(self.rules, c)), None)
                if call is None:
                    continue
                # Claimed with a conditional write: the call's end and the window's poll
                # settle at the same moment, and only one of them may book the retry.
                claimed = await session.scalar(
                    update(Reminder)
                    .where(Reminder.id == reminder.id, Reminder.status == ReminderStatus.open)
                    .values(status=ReminderStatus.done, done_at=now, call_id=call.id)
                    .returning(Reminder.id)
                )
                if claimed is None:
                    continue
                settled.append(reminder)
                if call.answered_at is None:
                    calls_tried, tried = unanswered.setdefault(reminder.client_id, ([], []))
                    calls_tried.append(call)
                    tried.append(reminder)
            for client_id, (calls_tried, tried) in unanswered.items():
                pending = next(
                    (
                        r
                        for r in reminders
                        if r.client_id == client_id
                        and r.kind is ReminderKind.retry
                        and r not in tried
                    ),
                    None,
                )
                latest = max(calls_tried, key=lambda c: c.ended_at or now)
                retry_or_escalate(self.rules, session, tried, pending, latest, now)
            await session.commit()
        return settled

    async def of_employee(
        self, employee_id: int, *, limit: int = 200
    ) -> list[tuple[Reminder, Client]]:
        """The employee's open reminders (due first, then upcoming), with the client."""
        async with self._sessionmaker() as session:
            rows = (
                await session.execute(
                    select(Reminder, Client)
                    .join(Client, Client.id == Reminder.client_id)
                    .where(
                        Reminder.employee_id == employee_id,
                        Reminder.status == ReminderStatus.open,
                    )
                    .order_by(Reminder.due_at, Reminder.id)
                    .limit(limit)
                )
            ).all()
        return [(reminder, client) for reminder, client in rows]

    async def get(self, reminder_id: int) -> Reminder | None:
        async with self._sessionmaker() as session:
            return await session.get(Reminder, reminder_id)
