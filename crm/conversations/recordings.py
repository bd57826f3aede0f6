"""The recording ledger: each stored file of a call, its hash, and whether it is still kept."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update

from crm.conversations.models import RecordingFile, TranscriptionJob
from crm.conversations.transcription import job_of
from crm.core.service import Service
from crm.core.sql import IN_LIST_CHUNK


@dataclass(frozen=True)
class StoredRecording:
    """A recording as the store keeps it: where, and the SHA-256 of the original WAV."""

    part: str
    path: str
    sha256: str
    size_bytes: int
    duration_ms: int


class RecordingLedger(Service):
    """The files the store keeps for each call; each method is one transaction."""

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
            if await job_of(session, linkedid) is None:
                session.add(TranscriptionJob(linkedid=linkedid, created_at=self._now()))
            await session.commit()

    async def files_deleted(self, paths: Sequence[str]) -> None:
        async with self._sessionmaker() as session:
            await session.execute(
                update(RecordingFile)
                .where(RecordingFile.path.in_(list(paths)))
                .values(deleted_at=self._now())
                .execution_options(synchronize_session=False)
            )
            await session.commit()

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
