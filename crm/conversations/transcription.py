"""The transcription job queue: durable jobs claimed under a lease, transcripts and flags stored."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.conversations.models import (
    CallFlag,
    CallFlagKind,
    RecordingFile,
    Transcript,
    TranscriptionJob,
    TranscriptionStatus,
    TranscriptSegment,
)
from crm.conversations.speech import stems
from crm.core.clock import Clock, utc_now
from crm.core.service import Service

# The FTS5 table of SQLite (PostgreSQL searches an expression index instead); created by the
# migration, unknown to the models: see is_search_index_table.
SEARCH_TABLE = "transcript_search"


MAX_ATTEMPTS = 3


SPEAKERS = ("employee", "client")


# PostgreSQL's expression index of the transcripts' Russian text, made by hand as well.
SEARCH_INDEX = "ix_transcripts_text_russian"


def is_search_index(name: str | None, type_: str) -> bool:
    """Made by hand in a migration, unknown to the models: the full-text table and SQLite's
    shadow tables of it, or PostgreSQL's index; autogenerate must leave them alone."""
    if type_ == "table":
        return is_search_index_table(name)
    return type_ == "index" and name == SEARCH_INDEX


def is_search_index_table(name: str | None) -> bool:
    """The full-text table and SQLite's shadow tables behind it (…_data, …_idx, …)."""
    return bool(name) and str(name).startswith(SEARCH_TABLE)


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


def _same_claim(claim: str | None) -> Any:
    if claim is None:
        return TranscriptionJob.claim.is_(None)
    return TranscriptionJob.claim == claim


async def job_of(session: AsyncSession, linkedid: str) -> TranscriptionJob | None:
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


class TranscriptionQueue(Service):
    """Jobs of the transcription workers; each method is one transaction."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        lease: timedelta = timedelta(minutes=2),
        now: Clock = utc_now,
    ) -> None:
        super().__init__(sessionmaker, now=now)
        self._lease = lease

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
                job = await job_of(session, linkedid)
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
