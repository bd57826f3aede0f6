"""The transcription worker as a process of its own, and batch re-runs with a progress bar."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from crm.conversations.models import TranscriptionStatus
from crm.conversations.transcription import TranscriptionQueue
from lexcrm.services import open_services
from lexcrm.settings import Settings
from lexcrm.wiring import build_worker
from recordings.transcriber import ModelUnavailable

log = logging.getLogger(__name__)
STOP_TIMEOUT = 10.0
BAR_WIDTH = 30


async def run_worker(settings: Settings) -> int:
    """`lexcrm worker`: take transcription jobs until SIGTERM or Ctrl+C."""
    async with open_services(settings) as core:
        try:
            worker = await asyncio.to_thread(build_worker, settings, core)
        except ModelUnavailable as error:
            # Calls are still recorded and encrypted; they wait in the queue for a model.
            log.error("распознавание речи не запущено: %s", error)
            return 3
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with asyncio.TaskGroup() as tasks:
            work = tasks.create_task(worker.run(), name="transcription-worker")
            await stop.wait()
            work.cancel()
    return 0


async def transcribe_since(settings: Settings, since: date, out: TextIO = sys.stderr) -> int:
    """`lexcrm transcribe --since DATE`: queue those calls again and do them here, showing
    progress; other workers running meanwhile share the batch."""
    async with open_services(settings) as core:
        try:
            worker = await asyncio.to_thread(build_worker, settings, core)
        except ModelUnavailable as error:
            print(error, file=out)
            return 3
        started = datetime.combine(since, datetime.min.time(), tzinfo=UTC)
        ids = await core.transcriptions.requeue_since(started)
        if not ids:
            print("Нет записей звонков за этот период.", file=out)
            return 0
        async with asyncio.TaskGroup() as tasks:
            work = tasks.create_task(worker.run(), name="transcription-batch")
            try:
                failed = await _show_progress(core.transcriptions, ids, out)
            finally:
                work.cancel()
    print(f"Готово: {len(ids) - failed} из {len(ids)} звонков.", file=out)
    return 1 if failed else 0


async def _show_progress(queue: TranscriptionQueue, ids: list[int], out: TextIO) -> int:
    finished = {TranscriptionStatus.done, TranscriptionStatus.failed}
    while True:
        jobs = await queue.jobs(ids)
        done = sum(1 for job in jobs if job.status in finished)
        running = [job.progress for job in jobs if job.status == TranscriptionStatus.running]
        fraction = (done + sum(running) / 100) / len(ids)
        filled = int(BAR_WIDTH * fraction)
        out.write(
            f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{len(ids)} звонков"
            f" {int(100 * fraction):3d}%"
        )
        out.flush()
        if done == len(ids):
            out.write("\n")
            return sum(1 for job in jobs if job.status == TranscriptionStatus.failed)
        await asyncio.sleep(0.5)


@contextlib.asynccontextmanager
async def worker_process(config_file: Path | None) -> AsyncIterator[None]:
    """The worker as a child process for `lexcrm run`: a long transcription then never holds
    up the call controller or the web pages, which share no interpreter with it."""
    command = [sys.executable, "-m", "lexcrm.cli"]
    if config_file is not None:
        command += ["--config", str(config_file)]
    child = await asyncio.create_subprocess_exec(*command, "worker")
    log.info("transcription worker started (pid %d)", child.pid)
    try:
        yield
    finally:
        if child.returncode is None:
            child.terminate()
            try:
                async with asyncio.timeout(STOP_TIMEOUT):
                    await child.wait()
            except TimeoutError:
                child.kill()
                await child.wait()
        elif child.returncode != 0:
            log.warning("the transcription worker had stopped (exit code %d)", child.returncode)
