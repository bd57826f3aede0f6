"""The transcription worker: durable jobs from the database, each party's channel on its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from crm.conversations.recordings import RecordingLedger
from crm.conversations.speech import redact_numbers
from crm.conversations.transcription import (
    ClaimedJob,
    SpokenSegment,
    TranscriptDraft,
    TranscriptionQueue,
)
from recordings.analysis import SAMPLE_RATE, Audio, speech_intervals, talk_metrics
from recordings.rules import SpeechRules
from recordings.store import RecordingStore
from recordings.transcriber import Transcriber, decode_wav

log = logging.getLogger(__name__)
SIDES = ("employee", "client")


class ChannelsMissing(Exception):
    """A call recorded without each party's own file: nothing can be said of who spoke."""


@dataclass(frozen=True)
class WorkerConfig:
    lease_seconds: float = 120.0
    poll_seconds: float = 2.0
    retention_days: int = 0  # 0: keep recordings forever


class TranscriptionWorker:
    """Runs in the event loop of its own process; the model runs in a thread beside it."""

    def __init__(
        self,
        jobs: TranscriptionQueue,
        ledger: RecordingLedger,
        store: RecordingStore,
        transcriber: Transcriber,
        rules: SpeechRules,
        config: WorkerConfig,
    ) -> None:
        self._jobs = jobs
        self._ledger = ledger
        self._store = store
        self._transcriber = transcriber
        self._rules = rules
        self._config = config
        self._purged_on: date | None = None

    async def run(self) -> None:
        """Take jobs until cancelled."""
        while True:
            await self._purge_once_a_day()
            if not await self.run_one():
                await asyncio.sleep(self._config.poll_seconds)

    async def run_one(self) -> bool:
        """Do the next job, if there is one; True if there was."""
        job = await self._jobs.claim_job()
        if job is None:
            return False
        log.info("call %s: transcription started (attempt %d)", job.linkedid, job.attempts)
        try:
            draft = await self._with_heartbeat(job)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # Logged with the call's id only: an error message may quote a path, never a
            # number, but the transcript's text never goes to the log.
            log.exception("call %s: transcription failed", job.linkedid)
            await self._jobs.fail_job(job, f"{type(error).__name__}: {error}")
            return True
        if await self._jobs.complete_job(job, draft):
            log.info(
                "call %s: transcribed, %d utterances, %d flags",
                job.linkedid,
                len(draft.segments),
                len(draft.flags),
            )
        else:
            log.warning("call %s: job was taken over meanwhile; result dropped", job.linkedid)
        return True

    async def _with_heartbeat(self, job: ClaimedJob) -> TranscriptDraft:
        progress = Progress()
        work = asyncio.create_task(
            asyncio.to_thread(self.transcribe_call, job, progress), name=f"transcribe-{job.id}"
        )
        try:
            while True:
                done, _ = await asyncio.wait({work}, timeout=self._config.lease_seconds / 4)
                if done:
                    return work.result()
                await self._jobs.heartbeat(job, progress.percent)
        finally:
            if not work.done():
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await work

    def transcribe_call(self, job: ClaimedJob, progress: Progress | None = None) -> TranscriptDraft:
        """Runs in a worker thread: decrypt in memory, measure, transcribe, merge, flag."""
        progress = progress or Progress()
        if not all(side in job.files for side in SIDES):
            raise ChannelsMissing(f"нет отдельных записей сторон: {sorted(job.files)}")
        audio: dict[str, Audio] = {
            side: decode_wav(self._store.decrypt(Path(job.files[side]))) for side in SIDES
        }
        duration_ms = max(int(a.size * 1000 / SAMPLE_RATE) for a in audio.values())
        progress.total = sum(a.size for a in audio.values()) / SAMPLE_RATE
        metrics = talk_metrics(
            speech_intervals(audio["employee"]), speech_intervals(audio["client"]), duration_ms
        )
        segments: list[SpokenSegment] = []
        for side in SIDES:
            offset = progress.done

            def reached(seconds: float, base: float = offset) -> None:
                progress.reached(base + seconds)

            for utterance in self._transcriber.transcribe(audio[side], reached):
                words = redact_numbers(utterance.text.strip())
                if words:
                    segments.append(
                        SpokenSegment(
                            side, int(utterance.start * 1000), int(utterance.end * 1000), words
                        )
                    )
            progress.reached(offset + audio[side].size / SAMPLE_RATE)
        # Merged by time: the conversation reads as it went.
        segments.sort(key=lambda s: (s.start_ms, s.speaker))
        return TranscriptDraft(
            model=self._transcriber.model_name,
            language=self._transcriber.language,
            segments=segments,
            metrics=metrics,
            flags=self._rules.match(segments),
        )

    async def _purge_once_a_day(self) -> None:
        if self._config.retention_days <= 0:
            return
        today = datetime.now(UTC).date()
        if self._purged_on == today:
            return
        cutoff = today - timedelta(days=self._config.retention_days)
        deleted = await asyncio.to_thread(self._store.purge_before, cutoff)
        if deleted:
            await self._ledger.files_deleted([str(path) for path in deleted])
            log.info("retention: %d recordings older than %s deleted", len(deleted), cutoff)
        self._purged_on = today


class Progress:
    """Seconds of audio done out of all of the call's channels; read by the heartbeat."""

    def __init__(self) -> None:
        self.total = 0.0
        self.done = 0.0
        self.updated = time.monotonic()

    def reached(self, seconds: float) -> None:
        self.done = max(self.done, seconds)
        self.updated = time.monotonic()

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0
