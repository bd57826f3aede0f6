"""Settling reminders by real calls: which call counts, and the no-answer retry ladder."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from crm.calls.models import Call
from crm.reminders.models import Reminder, ReminderKind, ReminderStatus
from crm.reminders.rules import ReminderRules


def counts(rules: ReminderRules, call: Call) -> bool:
    if call.answered_at is not None:
        return True
    return rang_long_enough(rules, call) and bool((call.comment or "").strip())


def rang_long_enough(rules: ReminderRules, call: Call) -> bool:
    # The client's phone, not the employee's: a click-to-call rings the employee first,
    # and letting one's own phone ring out must not pass for trying the client.
    if call.ended_at is None or call.client_ringing_at is None:
        return False
    rang = (call.ended_at - call.client_ringing_at).total_seconds()
    return rang >= rules.min_ring_seconds


def retry_or_escalate(
    rules: ReminderRules,
    session: AsyncSession,
    tried: list[Reminder],
    pending: Reminder | None,
    call: Call,
    now: datetime,
) -> None:
    """After unanswered calls settled `tried` (one client's; `call` the latest): the
    next rung of the furthest ladder among them, joined to the client's retry already
    waiting if there is one; past the last rung, the head."""
    ladder = rules.retry_ladder
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
        due_at = rules.next_work_start(tried_at)
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


def reminder_windows(reminder: Reminder) -> tuple[datetime, datetime]:
    """(since, talked_since): calls from `since` count for the reminder; a talk counts from
    `talked_since`, which for a retry is as early as the moment it was booked."""
    since = reminder.shown_at or reminder.due_at
    if reminder.kind is ReminderKind.retry:
        return since, min(since, reminder.created_at)
    return since, since
