"""Recorded calls: stored files and hashes, transcription jobs, transcripts, flags, search."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    and_,
    case,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from crm.finance import paid_plan_lines
from crm.firm_calendar import firm_date, firm_day_bounds
from crm.models import (
    Call,
    CallDirection,
    CallFlag,
    CallFlagKind,
    Client,
    ClientStatus,
    Contract,
    ContractStatus,
    Employee,
    JournalEntry,
    PlannedPayment,
    RecordingFile,
    Transcript,
    TranscriptionJob,
    TranscriptionStatus,
    TranscriptSegment,
    Visit,
    utc_now,
)
from crm.speech import fold, stems, stems_match

Clock = Callable[[], datetime]
# The FTS5 table of SQLite (PostgreSQL searches an expression index instead); created by the
# migration, unknown to the models: see is_search_index_table.
SEARCH_TABLE = "transcript_search"
MAX_ATTEMPTS = 3
SPEAKERS = ("employee", "client")
LISTEN_ACTION = "listen_recording"
# Listening queue: what makes a call worth a head's time, and how much.
LONG_SILENCE_MS = 15_000
SHORT_CALL = timedelta(seconds=60)
PAYMENT_SOON = timedelta(days=7)
# Ids a query lists in one IN (…): far below SQLite's limit of bound parameters.
IN_LIST_CHUNK = 5000
NO_QUEUE = "без очереди"  # the statistics' row of calls that waited in no queue


def is_search_index_table(name: str | None) -> bool:
    """The full-text table and SQLite's shadow tables behind it (…_data, …_idx, …)."""
    return bool(name) and str(name).startswith(SEARCH_TABLE)


@dataclass(frozen=True)
class StoredRecording:
    """A recording as the store keeps it: where, and the SHA-256 of the original WAV."""

    part: str
    path: str
    sha256: str
    size_bytes: int
    duration_ms: int


@dataclass(frozen=True)
class SpokenSegment:
    speaker: str  # "employee" or "client"
    start_ms: int
    end_ms: int
    text: str


@dataclass(frozen=True)
class TalkMetrics:
    duration_ms: int
    client_talk_ms: int
    employee_talk_ms: int
    longest_silence_ms: int
    overlaps: int
    interruptions: int

    @property
    def employee_share(self) -> float:
        """The employee's part of all talk, 0..1 (0 when nobody spoke)."""
        total = self.client_talk_ms + self.employee_talk_ms
        return self.employee_talk_ms / total if total else 0.0


@dataclass(frozen=True)
class FlagHit:
    kind: CallFlagKind
    rule: str
    phrase: str
    speaker: str
    at_ms: int


@dataclass(frozen=True)
class TranscriptDraft:
    """Everything a worker found in one call, written at once when the job completes."""

    model: str
    language: str
    segments: list[SpokenSegment]
    metrics: TalkMetrics
    flags: list[FlagHit]

    @property
    def text(self) -> str:
        return "\n".join(segment.text for segment in self.segments)


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    linkedid: str
    claim: str
    attempts: int
    # part ("client", "employee", "mix") → stored path
    files: dict[str, str]


@dataclass(frozen=True)
class CallView:
    """A call card: the call, who was on it, its recordings, transcript and flags."""

    call: Call
    client: Client | None
    employee: Employee | None
    files: list[RecordingFile]
    transcript: Transcript | None
    segments: list[TranscriptSegment]
    flags: list[CallFlag]
    job: TranscriptionJob | None

    def label(self, speaker: str) -> str:
        """ "Клиент", or the employee's job ("Юрист", "Оператор КЦ"): how a line is headed."""
        if speaker == "client":
            return "Клиент"
        return self.employee.role.title_ru if self.employee else "Сотрудник"

    def transcript_lines(self) -> list[str]:
        """The conversation as text, one utterance a line: "[0:05] Юрист: Добрый день"."""
        return [f"[{clock(s.start_ms)}] {self.label(s.speaker)}: {s.text}" for s in self.segments]


@dataclass(frozen=True)
class SearchHit:
    call: Call
    client: Client | None
    employee: Employee | None
    excerpts: list[TranscriptSegment]


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


@dataclass(frozen=True)
class ContractAtRisk:
    contract: Contract
    client: Client
    flags: int
    last_call: Call


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


class ConversationService:
    """Use-cases of recorded calls; each method is one transaction."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        lease: timedelta = timedelta(minutes=2),
        now: Clock = utc_now,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._lease = lease
        self._now = now

    # --- the store hands a call over ----------------------------------------------------
    async def recording_stored(self, linkedid: str, stored: Sequence[StoredRecording]) -> None:
        """Keep each file's place and hash, and queue the call for transcription (once)."""
        if not stored:
            return
        async with self._sessionmaker() as session:
            for item in stored:
                existing = await session.scalar(
                    select(RecordingFile).where(
                        RecordingFile.linkedid == linkedid, RecordingFile.part == item.part
                    )
                )
                if existing is None:
                    session.add(
                        RecordingFile(
                            linkedid=linkedid,
                            part=item.part,
                            path=item.path,
                            sha256=item.sha256,
                            size_bytes=item.size_bytes,
                            duration_ms=item.duration_ms,
                            created_at=self._now(),
                        )
                    )
            if await _job_of(session, linkedid) is None:
                session.add(TranscriptionJob(linkedid=linkedid, created_at=self._now()))
            await session.commit()

    # --- jobs -----------------------------------------------------------------------------
    async def claim_job(self) -> ClaimedJob | None:
        """The oldest queued job, or one whose worker stopped beating: claimed atomically."""
        now = self._now()
        async with self._sessionmaker() as session:
            candidates = await session.scalars(
                select(TranscriptionJob)
                .where(
                    or_(
                        TranscriptionJob.status == TranscriptionStatus.queued,
                        (TranscriptionJob.status == TranscriptionStatus.running)
                        & (TranscriptionJob.heartbeat_at < now - self._lease),
                    )
                )
                .order_by(TranscriptionJob.id)
                .limit(5)
            )
            for job in list(candidates):
                claim = secrets.token_hex(16)
                # Compare-and-set on the claim seen: of two workers, one wins the row.
                result = await session.execute(
                    update(TranscriptionJob)
                    .where(
                        TranscriptionJob.id == job.id,
                        TranscriptionJob.status == job.status,
                        _same_claim(job.claim),
                    )
                    .values(
                        status=TranscriptionStatus.running,
                        claim=claim,
                        heartbeat_at=now,
                        attempts=TranscriptionJob.attempts + 1,
                        progress=0,
                        error=None,
                    )
                    .execution_options(synchronize_session=False)
                )
                await session.commit()
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    continue
                files = await session.scalars(
                    select(RecordingFile).where(
                        RecordingFile.linkedid == job.linkedid,
                        RecordingFile.deleted_at.is_(None),
                    )
                )
                return ClaimedJob(
                    id=job.id,
                    linkedid=job.linkedid,
                    claim=claim,
                    attempts=job.attempts + 1,
                    files={f.part: f.path for f in files},
                )
        return None

    async def heartbeat(self, job: ClaimedJob, progress: int) -> bool:
        """Keep the lease; False if the job was taken over meanwhile."""
        async with self._sessionmaker() as session:
            result = await session.execute(
                update(TranscriptionJob)
                .where(TranscriptionJob.id == job.id, TranscriptionJob.claim == job.claim)
                .values(heartbeat_at=self._now(), progress=max(0, min(100, progress)))
                .execution_options(synchronize_session=False)
            )
            await session.commit()
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def complete_job(self, job: ClaimedJob, draft: TranscriptDraft) -> bool:
        """Write the transcript, segments, flags and search entry, and close the job: all or
        nothing, and only while this claim holds; False (nothing written) if it does not.
        """
        async with self._sessionmaker() as session:
            result = await session.execute(
                update(TranscriptionJob)
                .where(
                    TranscriptionJob.id == job.id,
                    TranscriptionJob.claim == job.claim,
                    TranscriptionJob.status == TranscriptionStatus.running,
                )
                .values(
                    status=TranscriptionStatus.done,
                    progress=100,
                    finished_at=self._now(),
                    claim=None,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                await session.rollback()
                return False
            # A re-run replaces what an earlier run wrote.
            old = await session.scalar(
                select(Transcript).where(Transcript.linkedid == job.linkedid)
            )
            if old is not None:
                await session.execute(
                    delete(TranscriptSegment).where(TranscriptSegment.transcript_id == old.id)
                )
                await session.delete(old)
            await session.execute(delete(CallFlag).where(CallFlag.linkedid == job.linkedid))
            await session.flush()
            metrics = draft.metrics
            transcript = Transcript(
                linkedid=job.linkedid,
                text=draft.text,
                model=draft.model[:200],
                language=draft.language,
                duration_ms=metrics.duration_ms,
                client_talk_ms=metrics.client_talk_ms,
                employee_talk_ms=metrics.employee_talk_ms,
                longest_silence_ms=metrics.longest_silence_ms,
                overlaps=metrics.overlaps,
                interruptions=metrics.interruptions,
                created_at=self._now(),
            )
            session.add(transcript)
            await session.flush()
            session.add_all(
                TranscriptSegment(
                    transcript_id=transcript.id,
                    speaker=s.speaker,
                    start_ms=s.start_ms,
                    end_ms=s.end_ms,
                    text=s.text,
                )
                for s in draft.segments
            )
            session.add_all(
                CallFlag(
                    linkedid=job.linkedid,
                    kind=hit.kind,
                    rule=hit.rule[:100],
                    phrase=hit.phrase[:200],
                    speaker=hit.speaker,
                    at_ms=hit.at_ms,
                    created_at=self._now(),
                )
                for hit in draft.flags
            )
            await _index_for_search(session, job.linkedid, draft.text)
            await session.commit()
        return True

    async def fail_job(self, job: ClaimedJob, error: str) -> None:
        """Back to the queue for another try, or failed after MAX_ATTEMPTS."""
        status = (
            TranscriptionStatus.failed
            if job.attempts >= MAX_ATTEMPTS
            else TranscriptionStatus.queued
        )
        async with self._sessionmaker() as session:
            await session.execute(
                update(TranscriptionJob)
                .where(TranscriptionJob.id == job.id, TranscriptionJob.claim == job.claim)
                .values(status=status, claim=None, error=error[:500], finished_at=self._now())
                .execution_options(synchronize_session=False)
            )
            await session.commit()

    async def requeue_since(self, since: datetime) -> list[int]:
        """Queue again every recorded call since `since` (a new model, new rules); job ids."""
        async with self._sessionmaker() as session:
            linkedids = set(
                await session.scalars(
                    select(RecordingFile.linkedid).where(
                        RecordingFile.created_at >= since, RecordingFile.deleted_at.is_(None)
                    )
                )
            )
            ids = []
            for linkedid in sorted(linkedids):
                job = await _job_of(session, linkedid)
                if job is None:
                    job = TranscriptionJob(linkedid=linkedid, created_at=self._now())
                    session.add(job)
                elif job.status != TranscriptionStatus.running:
                    job.status = TranscriptionStatus.queued
                    job.attempts = 0
                    job.progress = 0
                    job.error = None
                await session.flush()
                ids.append(job.id)
            await session.commit()
        return ids

    async def jobs(self, ids: Sequence[int]) -> list[TranscriptionJob]:
        async with self._sessionmaker() as session:
            return list(
                await session.scalars(select(TranscriptionJob).where(TranscriptionJob.id.in_(ids)))
            )

    # --- retention ------------------------------------------------------------------------
    async def files_deleted(self, paths: Sequence[str]) -> None:
        async with self._sessionmaker() as session:
            await session.execute(
                update(RecordingFile)
                .where(RecordingFile.path.in_(list(paths)))
                .values(deleted_at=self._now())
                .execution_options(synchronize_session=False)
            )
            await session.commit()

    # --- reading --------------------------------------------------------------------------
    async def recorded(self, linkedids: Collection[str]) -> set[str]:
        """Which of these calls still have a stored recording, in one query per chunk."""
        found: set[str] = set()
        ids = sorted(linkedids)
        async with self._sessionmaker() as session:
            for start in range(0, len(ids), IN_LIST_CHUNK):
                found.update(
                    await session.scalars(
                        select(RecordingFile.linkedid)
                        .where(
                            RecordingFile.linkedid.in_(ids[start : start + IN_LIST_CHUNK]),
                            RecordingFile.deleted_at.is_(None),
                        )
                        .distinct()
                    )
                )
        return found

    async def call_view(self, call_id: int) -> CallView | None:
        async with self._sessionmaker() as session:
            call = await session.get(Call, call_id)
            if call is None:
                return None
            transcript = await session.scalar(
                select(Transcript).where(Transcript.linkedid == call.linkedid)
            )
            segments = (
                list(
                    await session.scalars(
                        select(TranscriptSegment)
                        .where(TranscriptSegment.transcript_id == transcript.id)
                        .order_by(TranscriptSegment.start_ms, TranscriptSegment.id)
                    )
                )
                if transcript
                else []
            )
            return CallView(
                call=call,
                client=await session.get(Client, call.client_id) if call.client_id else None,
                employee=(
                    await session.get(Employee, call.employee_id) if call.employee_id else None
                ),
                files=list(
                    await session.scalars(
                        select(RecordingFile)
                        .where(RecordingFile.linkedid == call.linkedid)
                        .order_by(RecordingFile.part)
                    )
                ),
                transcript=transcript,
                segments=segments,
                flags=list(
                    await session.scalars(
                        select(CallFlag)
                        .where(CallFlag.linkedid == call.linkedid)
                        .order_by(CallFlag.at_ms)
                    )
                ),
                job=await _job_of(session, call.linkedid),
            )

    async def search(
        self, query: str, *, employee_id: int | None = None, limit: int = 50
    ) -> list[SearchHit]:
        """Calls whose transcript has every word of `query` (any form of a Russian word).

        `employee_id`: only that employee's calls (own scope).
        """
        wanted = stems(query)
        if not wanted:
            return []
        async with self._sessionmaker() as session:
            dialect = session.get_bind().dialect.name
            if dialect == "postgresql":
                matches = select(Transcript.linkedid).where(
                    func.to_tsvector("russian", Transcript.text).op("@@")(
                        func.plainto_tsquery("russian", fold(query))
                    )
                )
            else:
                # Stems hold letters and digits only, so quoting cannot break the syntax;
                # a prefix query finds the forms Snowball leaves on a longer stem.
                expression = " ".join(f'"{s}"*' if len(s) >= 4 else f'"{s}"' for s in wanted)
                matches = (
                    select(text("linkedid"))
                    .select_from(text(SEARCH_TABLE))
                    .where(
                        text("transcript_search MATCH :expression").bindparams(
                            expression=expression
                        )
                    )
                )
            statement = (
                select(Call, Client, Employee, Transcript)
                .join(Transcript, Transcript.linkedid == Call.linkedid)
                .outerjoin(Client, Client.id == Call.client_id)
                .outerjoin(Employee, Employee.id == Call.employee_id)
                .where(Call.linkedid.in_(matches))
                .order_by(Call.started_at.desc())
                .limit(limit)
            )
            if employee_id is not None:
                statement = statement.where(Call.employee_id == employee_id)
            rows = (await session.execute(statement)).all()
            hits = []
            for call, client, employee, transcript in rows:
                segments = await session.scalars(
                    select(TranscriptSegment)
                    .where(TranscriptSegment.transcript_id == transcript.id)
                    .order_by(TranscriptSegment.start_ms)
                )
                excerpts = [s for s in segments if _mentions(s.text, wanted)][:3]
                hits.append(SearchHit(call, client, employee, excerpts))
            return hits

    async def listening_queue(self, *, days: int = 30, limit: int = 100) -> list[QueueItem]:
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
            short = _milliseconds(Call.ended_at, Call.answered_at, dialect) < (
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

    async def contracts_at_risk(self, *, days: int = 30) -> list[ContractAtRisk]:
        """Active contracts whose client spoke of leaving on a call lately."""
        since = self._now() - timedelta(days=days)
        async with self._sessionmaker() as session:
            rows = (
                await session.execute(
                    select(Contract, Client, Call, CallFlag)
                    .join(Client, Client.id == Contract.client_id)
                    .join(Call, Call.client_id == Client.id)
                    .join(CallFlag, CallFlag.linkedid == Call.linkedid)
                    .where(
                        Contract.status.in_([ContractStatus.active, ContractStatus.draft]),
                        CallFlag.kind == CallFlagKind.risk,
                        Call.started_at >= since,
                        # Implied by the join, and lets the database start from the flags
                        # rather than read every call of the period.
                        Call.linkedid.in_(
                            select(CallFlag.linkedid).where(CallFlag.kind == CallFlagKind.risk)
                        ),
                    )
                    .order_by(Call.started_at)
                )
            ).all()
        found: dict[int, ContractAtRisk] = {}
        for contract, client, call, _flag in rows:
            previous = found.get(contract.id)
            found[contract.id] = ContractAtRisk(
                contract, client, (previous.flags if previous else 0) + 1, call
            )
        return sorted(found.values(), key=lambda c: -c.last_call.started_at.timestamp())

    async def statistics(self, since: date, until: date) -> CallStatistics:
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
                        _count_if(answered),
                        _count_if(flagged),
                        _count_if(talked),
                        func.sum(
                            case((talked, _milliseconds(Call.ended_at, Call.answered_at, dialect)))
                        ),
                        _count_if(waited),
                        func.sum(
                            case(
                                (
                                    waited,
                                    _milliseconds(waited_until, Call.started_at, dialect),
                                )
                            )
                        ),
                        func.sum(Transcript.employee_talk_ms),
                        func.sum(Transcript.client_talk_ms),
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
            when = _as_date(group_day)
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


def clock(ms: int) -> str:
    """A moment of a call as m:ss ("1:05")."""
    return f"{ms // 60000}:{ms // 1000 % 60:02d}"


def _same_claim(claim: str | None) -> Any:
    if claim is None:
        return TranscriptionJob.claim.is_(None)
    return TranscriptionJob.claim == claim


async def _job_of(session: AsyncSession, linkedid: str) -> TranscriptionJob | None:
    return await session.scalar(
        select(TranscriptionJob).where(TranscriptionJob.linkedid == linkedid)
    )


async def _index_for_search(session: AsyncSession, linkedid: str, spoken: str) -> None:
    if session.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL indexes to_tsvector('russian', text) of the transcripts table
    await session.execute(
        text("DELETE FROM transcript_search WHERE linkedid = :linkedid"), {"linkedid": linkedid}
    )
    await session.execute(
        text("INSERT INTO transcript_search (linkedid, terms) VALUES (:linkedid, :terms)"),
        {"linkedid": linkedid, "terms": " ".join(stems(spoken))},
    )


def _mentions(spoken: str, wanted: list[str]) -> bool:
    said = stems(spoken)
    return any(stems_match(w, s) for w in wanted for s in said)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


def _milliseconds(later: Any, earlier: Any, dialect: str) -> ColumnElement[Any]:
    """Whole milliseconds from `earlier` to `later`, computed by the database."""
    if dialect == "postgresql":
        return func.round(func.extract("epoch", later - earlier) * 1000)
    if dialect == "sqlite":
        return func.round((func.julianday(later) - func.julianday(earlier)) * 86_400_000)
    raise NotImplementedError(f"no duration expression for the {dialect} database")


def _as_date(value: Any) -> date:
    # SQLite hands a date back as text, PostgreSQL as a date.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _phrases(phrases: list[str]) -> str:
    return ", ".join(sorted({f"«{phrase}»" for phrase in phrases}))
