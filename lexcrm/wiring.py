"""Builds the long-lived parts of a lexcrm process over its services: web, controller, worker."""

from __future__ import annotations

import contextlib
import errno
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from crm.calls.events import ClickToCallRequested
from lexcrm.asterisk_runtime import AsteriskRuntime
from lexcrm.services import Services
from lexcrm.settings import Settings
from recordings.rules import SpeechRules
from recordings.transcriber import WhisperTranscriber
from recordings.worker import TranscriptionWorker, WorkerConfig
from telephony.ami import AmiConfig
from telephony.ari import AriEndpoint
from telephony.controller import CallController, ControllerConfig
from web.app import create_app
from web.keys import WebConfig

log = logging.getLogger(__name__)


class WebPortTaken(Exception):
    """The web interface's port is used by another program."""


def build_web_app(
    settings: Settings, services: Services, controller: CallController | None = None
) -> web.Application:
    def telephony_health() -> dict[str, str]:
        if controller is None:
            return {}
        health = controller.ami.health()
        return {"asterisk": health.state.value, "asterisk_since": health.since.isoformat()}

    return create_app(
        WebConfig(session_idle_minutes=settings.session_idle_minutes),
        services,
        telephony_health=telephony_health,
    )


def tune_collector_for_serving() -> None:
    """For a serving process only: a page builds hundreds of short-lived rows, and with the
    default thresholds the cyclic collector ran in the middle of many of them, doubling the
    slow pages' p95 at 60,000 clients (benchmarks/pages.py). What start-up made is left out
    of its scans. Not for test processes: frozen objects are never collected."""
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


@contextlib.asynccontextmanager
async def serve_web(
    settings: Settings, core: Services, controller: CallController | None = None
) -> AsyncIterator[str]:
    """Serve the web interface until the block ends; yields its address."""
    runner = web.AppRunner(build_web_app(settings, core, controller), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.web_host, settings.web_port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            raise WebPortTaken(
                f"Порт {settings.web_port} на {settings.web_host} уже занят другой программой. "
                f"Освободите его или задайте другой (настройка web_port)."
            ) from None
        raise
    try:
        yield f"http://{settings.web_host}:{settings.web_port}/"
    finally:
        await runner.cleanup()


def build_controller(settings: Settings, core: Services) -> CallController | None:
    """The call controller for the local Asterisk instance; None if it was never set up."""
    runtime = AsteriskRuntime(settings)
    if not runtime.credentials_file.exists():
        log.warning("Asterisk не настроен (lexcrm asterisk up): звонки не отслеживаются")
        return None
    credentials = runtime.credentials()
    config = ControllerConfig(
        ami=AmiConfig(
            host="127.0.0.1",
            port=settings.ami_port,
            username=credentials.ami_username,
            secret=credentials.ami_secret,
        ),
        ari=AriEndpoint(
            f"http://127.0.0.1:{settings.http_port}",
            credentials.ari_username,
            credentials.ari_password,
        ),
        masks_file=runtime.masks_file,
        host_path=runtime.host_path,
        cdr_file=runtime.cdr_file,
        click_to_call_ring_seconds=settings.ring_seconds + 10,
        recordings_spool=runtime.recordings_dir,
    )
    return CallController(
        config,
        core.calls,
        core.clicks,
        core.bus.publish,
        core.vault.hand_off,
        leftovers=core.vault.leftovers,
    )


async def run_controller(
    settings: Settings, core: Services, controller: CallController | None = None
) -> None:
    """Run the controller until cancelled, fed with the bus's click-to-call requests."""
    controller = controller or build_controller(settings, core)
    if controller is None:
        return
    async with core.bus.subscribe(ClickToCallRequested) as clicks:
        await controller.run(clicks)


def build_worker(settings: Settings, core: Services) -> TranscriptionWorker:
    """The transcription worker, with its model loaded (seconds for a large one)."""
    rules_file = Path(settings.speech_rules_file) if settings.speech_rules_file else None
    transcriber = WhisperTranscriber(
        settings.transcription_model,
        language=settings.transcription_language,
        device=settings.transcription_device,
        compute_type=settings.transcription_compute_type,
        threads=settings.transcription_threads,
    )
    return TranscriptionWorker(
        core.transcriptions,
        core.recording_ledger,
        core.recording_store,
        transcriber,
        SpeechRules.load(rules_file),
        WorkerConfig(
            lease_seconds=float(settings.transcription_lease_seconds),
            retention_days=settings.recording_retention_days,
        ),
    )
