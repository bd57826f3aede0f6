"""The listening queue: recorded calls worth a head's time first, each with its reasons."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, literal, or_, select
from sqlalchemy.orm import aliased

from crm.calls.models import Call
from crm.clients.models import Client, ClientStatus
from crm.contracts.models import Contract
from crm.conversations.models import CallFlag, CallFlagKind, Transcript
from crm.core.service import Service
from crm.core.sql import IN_LIST_CHUNK, milliseconds_between
from crm.finance.models import PlannedPayment
from crm.finance.services import paid_plan_lines
from crm.journal.models import JournalEntry
from crm.staff.models import Employee
from crm.visits.models import Visit

LISTEN_ACTION = "listen_recording"


# Listening queue: what makes a call worth a head's time, and how much.
LONG_SILENCE_MS = 15_000


SHORT_CALL = timedelta(seconds=60)


PAYMENT_SOON = timedelta(days=7)


@dataclass(frozen=True)
class QueueItem:
    call: Call
    client: Client | None
    employee: Employee | None
    score: int
    reasons: list[str]


@dataclass
class _QueueSignals:
    """What makes one recent call worth listening to, as the queue's queries found it."""

    call_id: int
    started_at: datetime
    poaching: list[str] = field(default_factory=list)  # the flags' phrases
    risk: list[str] = field(default_factory=list)
    silence_ms: int | None = None  # the longest, when long
    short_before_payment: timedelta | None = None  # the talk time, when short
    first_lead_call: bool = False  # of a lead never booked for a visit

    def assess(self) -> tuple[int, list[str]]:
        """The score and its reasons (0 and none: not worth listening to)."""
        reasons: list[str] = []
        score = 0
        if self.poaching:
            score += 60
            reasons.append("сотрудник уводит клиента: " + _phrases(self.poaching))
        if self.risk:
            score += 40 + 10 * min(len(self.risk) - 1, 3)
            reasons.append("риск расторжения: " + _phrases(self.risk))
        if self.silence_ms is not None and self.silence_ms >= LONG_SILENCE_MS:
            score += 20
            reasons.append(f"долгая пауза {self.silence_ms // 1000} с")
        if self.short_before_payment is not None:
            score += 30
            seconds = int(self.short_before_payment.total_seconds())
            reasons.append(f"короткий звонок ({seconds} с) перед оплатой")
        if self.first_lead_call:
            score += 25
            reasons.append("первый звонок нового клиента без записи на приём")
        return score, reasons


def _phrases(phrases: list[str]) -> str:
    return ", ".join(sorted({f"«{phrase}»" for phrase in phrases}))


class ListeningQueue(Service):
    """The calls to listen to, scored by what was said and how the call went."""

    async def calls(self, *, days: int = 30, limit: int = 100) -> list[QueueItem]:
        """Recent calls worth a head's listening, most at risk first, with the reasons.

        Each reason is its own query over the period's calls that reads only the calls it
        picks, a few columns each: flagged, a long silence, short before a payment, a lead's
        first call. They are scored here and only the `limit` best are loaded whole.
        """
        since = self._now() - timedelta(days=days)
        recent = (Call.started_at >= since, Call.ended_at.is_not(None))
        found: dict[int, _QueueSignals] = {}

        def signals(call_id: int, started_at: datetime) -> _QueueSignals:
            if call_id not in found:
                found[call_id] = _QueueSignals(call_id, started_at)
            return found[call_id]

        async with self._sessionmaker() as session:
            dialect = session.get_bind().dialect.name
            wanted_kinds = (CallFlagKind.risk, CallFlagKind.poaching)
            flagged = await session.execute(
                select(Call.id, Call.started_at, CallFlag.kind, CallFlag.phrase)
                .join(CallFlag, CallFlag.linkedid == Call.linkedid)
                .where(
                    *recent,
                    CallFlag.kind.in_(wanted_kinds),
                    # Implied by the join, and lets the database start from the flags when
                    # they are fewer than the period's calls.
                    Call.linkedid.in_(
                        select(CallFlag.linkedid).where(CallFlag.kind.in_(wanted_kinds))
                    ),
                )
            )
            for call_id, started_at, kind, phrase in flagged:
                found_for = signals(call_id, started_at)
                (found_for.poaching if kind == CallFlagKind.poaching else found_for.risk).append(
                    phrase
                )
            # Long silences, short talks and leads' first calls in one pass over the period's
            # calls. The database rounds a talk to the millisecond, so it picks calls a second
            # longer too; the exact check is made here on the times themselves.
            short = milliseconds_between(Call.ended_at, Call.answered_at, dialect) < (
                (SHORT_CALL + timedelta(seconds=1)).total_seconds() * 1000
            )
            earlier = aliased(Call)
            first_lead_call = and_(
                Call.client_id.is_not(None),
                # The cheap index look-ups first: most calls are not a client's first.
                ~exists(
                    select(literal(1)).where(
                        earlier.client_id == Call.client_id, earlier.id < Call.id
                    )
                ),
                ~exists(select(literal(1)).where(Visit.client_id == Call.client_id)),
                exists(
                    select(literal(1)).where(
                        Client.id == Call.client_id, Client.status == ClientStatus.lead
                    )
                ),
            )
            timed = await session.execute(
                select(
                    Call.id,
                    Call.started_at,
                    Call.client_id,
                    Call.answered_at,
                    Call.ended_at,
                    Transcript.longest_silence_ms,
                    # Worked out again only for the calls picked.
                    case((first_lead_call, True), else_=False),
                )
                .outerjoin(Transcript, Transcript.linkedid == Call.linkedid)
                .where(
                    *recent,
                    or_(
                        Transcript.longest_silence_ms >= LONG_SILENCE_MS,
                        Call.client_id.is_not(None) & Call.answered_at.is_not(None) & short,
                        first_lead_call,
                    ),
                )
            )
            short_talks: list[tuple[int, datetime, int, timedelta]] = []
            for row in timed:
                call_id, started_at, caller_id, answered_at, ended_at, silence_ms, first = row
                if silence_ms is not None and silence_ms >= LONG_SILENCE_MS:
                    signals(call_id, started_at).silence_ms = silence_ms
                if first:
                    signals(call_id, started_at).first_lead_call = True
                if caller_id is not None and answered_at is not None and ended_at is not None:
                    talk = ended_at - answered_at
                    if talk < SHORT_CALL:
                        short_talks.append((call_id, started_at, caller_id, talk))
            due_dates: dict[int, list[date]] = defaultdict(list)
            callers = sorted({caller_id for _id, _started, caller_id, _talk in short_talks})
            for chunk in range(0, len(callers), IN_LIST_CHUNK):
                payments = (
                    await session.execute(
                        select(
                            Contract.client_id,
                            PlannedPayment.contract_id,
                            PlannedPayment.id,
                            PlannedPayment.due_on,
                        )
                        .join(PlannedPayment, PlannedPayment.contract_id == Contract.id)
                        .where(
                            Contract.client_id.in_(callers[chunk : chunk + IN_LIST_CHUNK]),
                            PlannedPayment.due_on >= since.date(),
                        )
                    )
                ).all()
                # A payment already made is nothing to worry about before its date.
                paid = await paid_plan_lines(session, {row.contract_id for row in payments})
                for client_id, _contract_id, line_id, due_on in payments:
                    if line_id not in paid:
                        due_dates[client_id].append(due_on)
            for call_id, started_at, caller_id, talk in short_talks:
                if any(
                    started_at.date() <= due <= (started_at + PAYMENT_SOON).date()
                    for due in due_dates.get(caller_id, [])
                ):
                    signals(call_id, started_at).short_before_payment = talk
            listened = set(
                await session.scalars(
                    select(JournalEntry.object_id).where(
                        JournalEntry.action == LISTEN_ACTION, JournalEntry.at >= since
                    )
                )
            )
            scored = []
            for found_for in found.values():
                score, reasons = found_for.assess()
                if score == 0:
                    continue
                if str(found_for.call_id) in listened:
                    score //= 2  # someone has heard it already: others first
                scored.append((score, reasons, found_for))
            scored.sort(key=lambda s: (-s[0], -s[2].started_at.timestamp(), s[2].call_id))
            scored = scored[:limit]
            loaded = {
                call.id: (call, client, employee)
                for call, client, employee in (
                    await session.execute(
                        select(Call, Client, Employee)
                        .outerjoin(Client, Client.id == Call.client_id)
                        .outerjoin(Employee, Employee.id == Call.employee_id)
                        .where(Call.id.in_([s[2].call_id for s in scored]))
                    )
                ).all()
            }
        return [
            QueueItem(*loaded[found_for.call_id], score, reasons)
            for score, reasons, found_for in scored
        ]
