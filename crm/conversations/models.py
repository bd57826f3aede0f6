"""Tables of recorded calls: stored files, transcription jobs, transcripts, flags."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.clock import utc_now
from crm.core.tables import Base, string_enum


class RecordingFile(Base):
    """One encrypted recording of a call (the mix or one party's channel) and its SHA-256."""

    __tablename__ = "recording_files"
    __table_args__ = (UniqueConstraint("linkedid", "part"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The call's linkedid rather than a foreign key: a recording may be stored before the
    # controller has the call's record (a call rebuilt from CDRs later).
    linkedid: Mapped[str] = mapped_column(String(64), index=True)
    part: Mapped[str] = mapped_column(String(16))  # mix, client, employee
    path: Mapped[str] = mapped_column(Text)
    # Of the WAV as Asterisk wrote it, taken before encryption: evidence in a dispute.
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    duration_ms: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    # Set when the retention period removed the file; the hash stays as a record.
    deleted_at: Mapped[datetime | None]


class TranscriptionStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class TranscriptionJob(Base):
    """A call to transcribe. Kept in the database so a worker that dies leaves it to the next."""

    __tablename__ = "transcription_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[TranscriptionStatus] = mapped_column(
        string_enum(TranscriptionStatus), default=TranscriptionStatus.queued, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    progress: Mapped[int] = mapped_column(default=0)  # percent
    # Who holds the job: a token per claim, so a worker whose lease ran out cannot finish it.
    claim: Mapped[str | None] = mapped_column(String(64))
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Transcript(Base):
    """What was said on a call, and how: talk time of each side, silences, overlaps."""

    __tablename__ = "transcripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    # The spoken words in time order, numbers removed: what search and rules read.
    text: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16))
    duration_ms: Mapped[int] = mapped_column()
    client_talk_ms: Mapped[int] = mapped_column()
    employee_talk_ms: Mapped[int] = mapped_column()
    longest_silence_ms: Mapped[int] = mapped_column()
    overlaps: Mapped[int] = mapped_column()
    interruptions: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)


class TranscriptSegment(Base):
    """One utterance of one side, from that side's own channel: no guessing who spoke."""

    __tablename__ = "transcript_segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(
        ForeignKey("transcripts.id", ondelete="CASCADE"), index=True
    )
    speaker: Mapped[str] = mapped_column(String(16))  # client, employee
    start_ms: Mapped[int] = mapped_column()
    end_ms: Mapped[int] = mapped_column()
    text: Mapped[str] = mapped_column(Text)


class CallFlagKind(StrEnum):
    risk = "risk"  # the client speaks of ending the contract, refunds, complaints
    poaching = "poaching"  # the employee takes the client off the firm's channels


class CallFlag(Base):
    """A keyword rule that matched a call's transcript."""

    __tablename__ = "call_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[CallFlagKind] = mapped_column(string_enum(CallFlagKind))
    rule: Mapped[str] = mapped_column(String(100))
    phrase: Mapped[str] = mapped_column(String(200))
    speaker: Mapped[str] = mapped_column(String(16))
    at_ms: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
