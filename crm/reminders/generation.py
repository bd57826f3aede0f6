"""Making reminders: who is due a call by the cadence, a planned payment or a hearing, once each."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm.calls.models import Call
from crm.clients.models import Client
from crm.contracts.models import Contract, ContractStatus
from crm.courts.models import Hearing
from crm.finance.models import PlannedPayment
from crm.finance.services import paid_plan_lines
from crm.reminders.models import Reminder, ReminderKind, ReminderStatus
from crm.reminders.rules import ReminderRules


async def add_due_reminders(session: AsyncSession, rules: ReminderRules, now: datetime) -> int:
    """Add the reminders every rule asks for by `now`, once each, and cancel those nothing
    asks for any more; returns how many were made. The caller commits."""
    made = 0
    candidates = [
        *await cadence_candidates(rules, session, now),
        *await payment_candidates(rules, session, now),
        *await hearing_candidates(rules, session, now),
    ]
    existing = await _existing_occasions(session, [c.occasion or "" for c in candidates])
    for candidate in candidates:
        if candidate.occasion not in existing:
            made += await _add_once(session, candidate)
    await cancel_closed(session, now)
    await _cancel_paid(session, now)
    return made


async def cadence_candidates(
    rules: ReminderRules, session: AsyncSession, now: datetime
) -> list[Reminder]:
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
            rules.period_days,
            *rules.topic_period_days.values(),
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
                            Contract.signed_on <= cutoff.astimezone(rules.timezone).date(),
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
        day = row.signed_on or row.created_at.astimezone(rules.timezone).date()
        since = row.at or datetime.combine(day, time(0, 0), tzinfo=rules.timezone)
        due_at = since + rules.period_of(row.call_period_days, row.topic)
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


async def payment_candidates(
    rules: ReminderRules, session: AsyncSession, now: datetime
) -> list[Reminder]:
    """A planned payment falling due today and not yet paid: the lawyer calls the client
    about it."""
    today = now.astimezone(rules.timezone).date()
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
            due_at=rules.work_start_on(planned.due_on),
            occasion=f"payment:{planned.id}",
            created_at=now,
        )
        for planned, contract in rows
        if planned.id not in paid
    ]


async def hearing_candidates(
    rules: ReminderRules, session: AsyncSession, now: datetime
) -> list[Reminder]:
    """The representative calls the client before a hearing, and again after it."""
    before = timedelta(days=rules.briefing_days_before)
    after = timedelta(days=rules.debrief_days_after)
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
        local_start = hearing.starts_at.astimezone(rules.timezone)
        day = local_start.date()
        # A Monday hearing is briefed on the Friday, not on a Sunday nobody works.
        briefing_at = rules.work_start_on(rules.working_day_on_or_before(day - before))
        debrief_at = rules.work_start_on(day + after)
        if debrief_at <= hearing.starts_at:
            # With no days after, the morning of the hearing day precedes the hearing.
            debrief_at = rules.next_work_start(hearing.starts_at)
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


async def cancel_closed(session: AsyncSession, now: datetime) -> None:
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
