"""Reminders to call clients: the monthly cadence and other occasions, settled by real calls."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.errors import InvalidInput, NoSuchClient
from crm.finance import paid_plan_lines
from crm.formatting import FIRM_TIMEZONE
from crm.inputs import required_text
from crm.models import (
    Call,
    CallDirection,
    Client,
    Contract,
    ContractStatus,
    Employee,
    Hearing,
    PlannedPayment,
    Reminder,
    ReminderKind,
    ReminderStatus,
    utc_now,
)
from crm.permissions import Action, scope_of

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class RetryStep:
    """One rung of the no-answer ladder: a delay, or "the next working day"."""

    delay: timedelta | None = None
    next_working_day: bool = False

    @classmethod
    def parse(cls, text: str) -> RetryStep:
        """ "2h", "30m", "3d" or "next-day" (the next working day, at the start of work)."""
        text = text.strip().lower()
        if text in {"next-day", "next-working-day"}:
            return cls(next_working_day=True)
        units = {"m": "minutes", "h": "hours", "d": "days"}
        if len(text) >= 2 and text[-1] in units and text[:-1].isdigit() and int(text[:-1]) > 0:
            return cls(delay=timedelta(**{units[text[-1]]: int(text[:-1])}))
        raise ValueError(f"step {text!r}: expected e.g. 2h, 3d or next-day")


@dataclass(frozen=True)
class ReminderRules:
    """The firm's rules (from the settings): how often, when, and how hard to insist."""

    period_days: int = 30
    topic_period_days: dict[str, int] = field(default_factory=dict)
    # An unanswered call counts once it rang this long and the employee wrote a comment.
    min_ring_seconds: int = 20
    retry_ladder: tuple[RetryStep, ...] = (
        RetryStep(delay=timedelta(hours=2)),
        RetryStep(next_working_day=True),
        RetryStep(delay=timedelta(days=3)),
    )
    work_start: time = time(9, 0)
    work_end: time = time(19, 0)
    work_days: frozenset[int] = frozenset(range(5))  # Monday = 0
    briefing_days_before: int = 1
    debrief_days_after: int = 1
    timezone: tzinfo = FIRM_TIMEZONE

    def period_for(self, contract: Contract, client: Client) -> timedelta:
        """The contract's own period, else the topic's, else the firm's."""
        return self.period_of(contract.call_period_days, client.topic)

    def period_of(self, call_period_days: int | None, topic: str | None) -> timedelta:
        if call_period_days:
            return timedelta(days=call_period_days)
        if topic and topic in self.topic_period_days:
            return timedelta(days=self.topic_period_days[topic])
        return timedelta(days=self.period_days)

    def is_working_time(self, at: datetime) -> bool:
        local = at.astimezone(self.timezone)
        return local.weekday() in self.work_days and self.work_start <= local.time() < self.work_end

    def next_work_start(self, after: datetime) -> datetime:
        """The start of the first working day after `after`'s day."""
        day = after.astimezone(self.timezone).date()
        for _ in range(14):
            day += timedelta(days=1)
            if day.weekday() in self.work_days:
                return datetime.combine(day, self.work_start, tzinfo=self.timezone)
        raise ValueError("no working day within two weeks: check the working days setting")

    def work_start_on(self, day: date) -> datetime:
        return datetime.combine(day, self.work_start, tzinfo=self.timezone)

    def working_day_on_or_before(self, day: date) -> date:
        """`day` if the firm works then, else the last working day before it."""
        for _ in range(14):
            if day.weekday() in self.work_days:
                return day
            day -= timedelta(days=1)
        raise ValueError("no working day within two weeks: check the working days setting")


@dataclass(frozen=True)
class DueReminder:
    """What the blocking window shows: the reminder, its client, and an unanswered call of
    theirs still waiting for the comment that would let it count."""

    reminder: Reminder
    client: Client
    waiting_comment_call: Call | None
    queued: int  # how many more are due after this one


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


class ReminderService:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        rules: ReminderRules | None = None,
        *,
        now: Clock = utc_now,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.rules = rules or ReminderRules()
        self._now = now

    # --- making reminders -------------------------------------------------------------

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
        text = required_text(reason, "О чём напомнить", 500)
        now = self._now()
        if not now - timedelta(days=1) <= due_at <= now + timedelta(days=366):
            raise InvalidInput("Напоминание: не раньше вчерашнего дня и не позже чем через год")
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
                    "Напоминание некому адресовать: у клиента нет юриста, "
                    "который может ему позвонить"
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
        made = 0
        async with self._sessionmaker() as session:
            candidates = [
                *await self._cadence_candidates(session, now),
                *await self._payment_candidates(session, now),
                *await self._hearing_candidates(session, now),
            ]
            existing = await _existing_occasions(session, [c.occasion or "" for c in candidates])
            for candidate in candidates:
                if candidate.occasion not in existing:
                    made += await _add_once(session, candidate)
            await self._cancel_closed(session, now)
            await _cancel_paid(session, now)
            await session.commit()
        return made

    async def _cadence_candidates(self, session: AsyncSession, now: datetime) -> list[Reminder]:
        """Every client with an active contract whose lawyer has not talked to them within
        the period: the last call counts whichever side made it, if it was answered."""
        last_call = (
            select(Call.client_id, Call.employee_id, func.max(Call.started_at).label("at"))
            .where(Call.answered_at.is_not(None))
            .group_by(Call.client_id, Call.employee_id)
            .subquery()
        )
        # The shortest period any contract can have: contracts talked about more recently
        # than that cannot be due, and the database leaves them out (most of a big firm's).
        shortest = min(
            [
                self.rules.period_days,
                *self.rules.topic_period_days.values(),
                int(await session.scalar(select(func.min(Contract.call_period_days))) or 10**6),
            ]
        )
        cutoff = now - timedelta(days=shortest)
        rows = (
            await session.execute(
                select(
                    Contract.id,
                    Contract.client_id,
                    Contract.lawyer_id,
                    Contract.signed_on,
                    Contract.created_at,
                    Contract.call_period_days,
                    Client.topic,
                    last_call.c.at,
                )
                .join(Client, Client.id == Contract.client_id)
                .outerjoin(
                    last_call,
                    and_(
                        last_call.c.client_id == Contract.client_id,
                        last_call.c.employee_id == Contract.lawyer_id,
                    ),
                )
                .where(
                    Contract.status == ContractStatus.active,
                    or_(
                        last_call.c.at <= cutoff,
                        and_(
                            last_call.c.at.is_(None),
                            or_(
                                Contract.signed_on <= cutoff.astimezone(self.rules.timezone).date(),
                                Contract.signed_on.is_(None),
                            ),
                        ),
                    ),
                )
                .order_by(Contract.id)
            )
        ).all()
        # One reminder per client and lawyer, under the strictest of their contracts.
        due: dict[tuple[int, int], tuple[datetime, int]] = {}
        for row in rows:
            day = row.signed_on or row.created_at.astimezone(self.rules.timezone).date()
            since = row.at or datetime.combine(day, time(0, 0), tzinfo=self.rules.timezone)
            due_at = since + self.rules.period_of(row.call_period_days, row.topic)
            key = (row.client_id, row.lawyer_id)
            if key not in due or due_at < due[key][0]:
                due[key] = (due_at, row.id)
        # A pair whose cadence reminder is still open needs nothing new until a call closes it.
        waiting = set(
            (
                await session.execute(
                    select(Reminder.client_id, Reminder.employee_id).where(
                        Reminder.status == ReminderStatus.open,
                        Reminder.kind == ReminderKind.cadence,
                    )
                )
            ).all()
        )
        candidates = []
        for (client_id, lawyer_id), (due_at, contract_id) in due.items():
            if due_at > now or (client_id, lawyer_id) in waiting:
                continue
            candidates.append(
                Reminder(
                    employee_id=lawyer_id,
                    client_id=client_id,
                    contract_id=contract_id,
                    kind=ReminderKind.cadence,
                    reason="Плановый звонок: клиенту давно не звонили",
                    due_at=due_at,
                    # The period's due date makes the occasion: a call resets it, and
                    # the next period's reminder is a new occasion.
                    occasion=f"cadence:{client_id}:{lawyer_id}:{due_at:%Y%m%d}",
                    created_at=now,
                )
            )
        return candidates

    async def _payment_candidates(self, session: AsyncSession, now: datetime) -> list[Reminder]:
        """A planned payment falling due today and not yet paid: the lawyer calls the client
        about it."""
        today = now.astimezone(self.rules.timezone).date()
        rows = (
            await session.execute(
                select(PlannedPayment, Contract)
                .join(Contract, Contract.id == PlannedPayment.contract_id)
                .where(
                    PlannedPayment.due_on <= today,
                    PlannedPayment.due_on >= today - timedelta(days=7),
                    Contract.status == ContractStatus.active,
                )
            )
        ).all()
        paid = await paid_plan_lines(session, {contract.id for _planned, contract in rows})
        return [
            Reminder(
                employee_id=contract.lawyer_id,
                client_id=contract.client_id,
                contract_id=contract.id,
                kind=ReminderKind.payment,
                reason=f"Платёж по договору № {contract.number} по плану {planned.due_on:%d.%m.%Y}",
                due_at=self.rules.work_start_on(planned.due_on),
                occasion=f"payment:{planned.id}",
                created_at=now,
            )
            for planned, contract in rows
            if planned.id not in paid
        ]

    async def _hearing_candidates(self, session: AsyncSession, now: datetime) -> list[Reminder]:
        """The representative calls the client before a hearing, and again after it."""
        before = timedelta(days=self.rules.briefing_days_before)
        after = timedelta(days=self.rules.debrief_days_after)
        rows = (
            await session.execute(
                select(Hearing, Contract)
                .join(Contract, Contract.id == Hearing.contract_id)
                .where(
                    # Two weeks of slack: a briefing that falls on a day off moves back.
                    Hearing.starts_at <= now + before + timedelta(days=15),
                    Hearing.starts_at >= now - after - timedelta(days=7),
                )
            )
        ).all()
        candidates = []
        for hearing, contract in rows:
            local_start = hearing.starts_at.astimezone(self.rules.timezone)
            day = local_start.date()
            # A Monday hearing is briefed on the Friday, not on a Sunday nobody works.
            briefing_at = self.rules.work_start_on(
                self.rules.working_day_on_or_before(day - before)
            )
            debrief_at = self.rules.work_start_on(day + after)
            if debrief_at <= hearing.starts_at:
                # With no days after, the morning of the hearing day precedes the hearing.
                debrief_at = self.rules.next_work_start(hearing.starts_at)
            for kind, at, reason in (
                (ReminderKind.briefing, briefing_at, "Перед заседанием"),
                (ReminderKind.debrief, debrief_at, "После заседания"),
            ):
                if at > now:
                    continue
                if kind is ReminderKind.briefing and hearing.starts_at <= now:
                    continue  # entered after it began: too late to brief the client
                candidates.append(
                    Reminder(
                        employee_id=hearing.representative_id,
                        client_id=contract.client_id,
                        contract_id=contract.id,
                        kind=kind,
                        reason=f"{reason} {local_start:%d.%m.%Y %H:%M}, {hearing.court}, "
                        f"дело {hearing.case_number}",
                        due_at=at,
                        occasion=f"{kind.value}:{hearing.id}",
                        created_at=now,
                    )
                )
        return candidates

    async def _cancel_closed(self, session: AsyncSession, now: datetime) -> None:
        """Cadence and payment reminders of contracts no longer active have nothing to ask.

        The cadence is per client and lawyer, not per contract: it stays while the client
        has any active contract with that lawyer (closing the strictest one must not end
        it, and its occasion would keep a new one from being made).
        """
        with_the_lawyer = (
            select(Contract.id)
            .where(
                Contract.client_id == Reminder.client_id,
                Contract.lawyer_id == Reminder.employee_id,
                Contract.status == ContractStatus.active,
            )
            .exists()
        )
        closed = select(Contract.id).where(Contract.status != ContractStatus.active)
        stale = await session.scalars(
            select(Reminder).where(
                Reminder.status == ReminderStatus.open,
                or_(
                    and_(Reminder.kind == ReminderKind.cadence, ~with_the_lawyer),
                    and_(Reminder.kind == ReminderKind.payment, Reminder.contract_id.in_(closed)),
                ),
            )
        )
        for reminder in stale:
            reminder.status = ReminderStatus.cancelled
            reminder.done_at = now

    # --- the blocking window ------------------------------------------------------------

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
                .order_by(Call.started_at.desc())
                .limit(20)
            )
            waiting = next(
                (
                    call
                    for call in unanswered
                    if not (call.comment or "").strip() and self._rang_long_enough(call)
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
            windows = {reminder.id: _windows(reminder) for reminder in reminders}
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
                    .order_by(Call.answered_at.is_(None), Call.started_at)
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
                call = next((c for c in calls if self._counts(c)), None)
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
                self._retry_or_escalate(session, tried, pending, latest, now)
            await session.commit()
        return settled

    def _counts(self, call: Call) -> bool:
        if call.answered_at is not None:
            return True
        return self._rang_long_enough(call) and bool((call.comment or "").strip())

    def _rang_long_enough(self, call: Call) -> bool:
        # The client's phone, not the employee's: a click-to-call rings the employee first,
        # and letting one's own phone ring out must not pass for trying the client.
        if call.ended_at is None or call.client_ringing_at is None:
            return False
        rang = (call.ended_at - call.client_ringing_at).total_seconds()
        return rang >= self.rules.min_ring_seconds

    def _retry_or_escalate(
        self,
        session: AsyncSession,
        tried: list[Reminder],
        pending: Reminder | None,
        call: Call,
        now: datetime,
    ) -> None:
        """After unanswered calls settled `tried` (one client's; `call` the latest): the
        next rung of the furthest ladder among them, joined to the client's retry already
        waiting if there is one; past the last rung, the head."""
        ladder = self.rules.retry_ladder
        tried.sort(key=lambda r: (r.due_at, r.id))
        reminder = max(tried, key=lambda r: r.attempt)
        if reminder.attempt >= len(ladder):
            # The ladder is used up: the client is out of reach, and the head must know,
            # with every reason these reminders had.
            for each in tried:
                each.status = ReminderStatus.escalated
            return
        if pending is not None:
            pending.reason = _retry_reason([pending, *tried])
            pending.attempt = max(pending.attempt, reminder.attempt + 1)
            return
        step = ladder[reminder.attempt]
        # "In two hours" counts from the unanswered call, not from when it was noticed
        # (a settle may run long after, e.g. at the next login).
        tried_at = call.ended_at or now
        if step.next_working_day:
            due_at = self.rules.next_work_start(tried_at)
        else:
            assert step.delay is not None
            due_at = tried_at + step.delay
        session.add(
            Reminder(
                employee_id=reminder.employee_id,
                client_id=reminder.client_id,
                contract_id=reminder.contract_id,
                kind=ReminderKind.retry,
                reason=_retry_reason(tried),
                due_at=due_at,
                attempt=reminder.attempt + 1,
                created_at=now,
            )
        )

    # --- oversight ----------------------------------------------------------------------

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
                    .order_by(Reminder.due_at)
                    .limit(limit)
                )
            ).all()
        return [(reminder, client) for reminder, client in rows]

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
                .order_by(Reminder.done_at.desc())
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
                    .order_by(Reminder.done_at.desc())
                    .limit(100)
                )
            ).all()
        return [(reminder, client, employee) for reminder, client, employee in rows]

    async def get(self, reminder_id: int) -> Reminder | None:
        async with self._sessionmaker() as session:
            return await session.get(Reminder, reminder_id)


def _retry_reason(tried: list[Reminder]) -> str:
    """Why the retry: each reminder's reason, said once however many rungs down (a retry's
    reason says it already); the column holds 500 characters."""
    reasons: list[str] = []
    for reminder in tried:
        reason = (
            reminder.reason
            if reminder.kind is ReminderKind.retry
            else f"Клиент не ответил ({reminder.reason})"
        )
        if reason not in reasons:
            reasons.append(reason)
    return "; ".join(reasons)[:500]


def _windows(reminder: Reminder) -> tuple[datetime, datetime]:
    """(since, talked_since): calls from `since` count for the reminder; a talk counts from
    `talked_since`, which for a retry is as early as the moment it was booked."""
    since = reminder.shown_at or reminder.due_at
    if reminder.kind is ReminderKind.retry:
        return since, min(since, reminder.created_at)
    return since, since


def _start_of(contract: Contract, rules: ReminderRules) -> datetime:
    """A contract never called about counts from its signing (the firm's day start)."""
    day = contract.signed_on or contract.created_at.astimezone(rules.timezone).date()
    return datetime.combine(day, time(0, 0), tzinfo=rules.timezone)


async def _cancel_paid(session: AsyncSession, now: datetime) -> None:
    """A payment reminder still open when the client has paid has nothing left to ask."""
    waiting = list(
        await session.scalars(
            select(Reminder).where(
                Reminder.status == ReminderStatus.open,
                Reminder.kind == ReminderKind.payment,
                Reminder.contract_id.is_not(None),
            )
        )
    )
    if not waiting:
        return
    paid = await paid_plan_lines(session, {r.contract_id for r in waiting if r.contract_id})
    paid_occasions = {f"payment:{line}" for line in paid}
    for reminder in waiting:
        if reminder.occasion in paid_occasions:
            reminder.status = ReminderStatus.cancelled
            reminder.done_at = now


async def _existing_occasions(session: AsyncSession, occasions: list[str]) -> set[str]:
    """Which of these occasions already have their reminder (asked in chunks: SQLite
    limits the number of parameters of one statement)."""
    found: set[str] = set()
    for start in range(0, len(occasions), 500):
        chunk = occasions[start : start + 500]
        found.update(
            occasion
            for occasion in await session.scalars(
                select(Reminder.occasion).where(Reminder.occasion.in_(chunk))
            )
            if occasion
        )
    return found


async def _add_once(session: AsyncSession, candidate: Reminder) -> int:
    """Insert in a savepoint: if another process made it meanwhile, the race loses quietly."""
    try:
        async with session.begin_nested():
            session.add(candidate)
    except IntegrityError:
        return 0
    return 1


def parse_topic_periods(text: str) -> dict[str, int]:
    """ "банкротство=14; ДТП=21" → {"банкротство": 14, "ДТП": 21}."""
    periods: dict[str, int] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        topic, sep, days = part.partition("=")
        if not sep or not days.strip().isdigit() or int(days) <= 0 or not topic.strip():
            raise ValueError(f"{part.strip()!r}: expected topic=days, e.g. банкротство=14")
        periods[topic.strip()] = int(days)
    return periods


def parse_ladder(text: str) -> tuple[RetryStep, ...]:
    return tuple(RetryStep.parse(step) for step in text.split(",") if step.strip())


def parse_work_days(text: str) -> frozenset[int]:
    """ "1-5" (Monday to Friday) or "1,2,3,4,5,6" → weekday numbers counted from 0."""
    days: set[int] = set()
    for part in text.split(","):
        first, sep, last = part.strip().partition("-")
        if not first.isdigit() or (sep and not last.isdigit()):
            raise ValueError(f"{part.strip()!r}: expected 1-5 or 1,2,3 (1 is Monday)")
        start, end = int(first), int(last) if sep else int(first)
        if not 1 <= start <= end <= 7:
            raise ValueError(f"{part.strip()!r}: days are 1 (Monday) to 7 (Sunday)")
        days.update(range(start - 1, end))
    return frozenset(days)


def parse_hours(text: str) -> tuple[time, time]:
    """ "09:00-19:00" → (09:00, 19:00); "00:00-24:00" means the whole day."""
    start_text, sep, end_text = text.partition("-")
    try:
        start = datetime.strptime(start_text.strip(), "%H:%M").time()
        end = (
            time.max
            if end_text.strip() == "24:00"
            else datetime.strptime(end_text.strip(), "%H:%M").time()
        )
    except ValueError:
        raise ValueError(f"{text!r}: expected HH:MM-HH:MM, e.g. 09:00-19:00") from None
    if not sep or start >= end:
        raise ValueError(f"{text!r}: the end of the working day must be after its start")
    return start, end
