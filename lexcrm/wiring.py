"""Builds every long-lived object of a lexcrm process from the settings and passes it down."""

from __future__ import annotations

import contextlib
import errno
import gc
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from crm.call_log import CallLogService
from crm.calls import CallService, ClickToCallService
from crm.contracts import ContractService
from crm.conversations import ConversationService
from crm.courts import HearingService
from crm.crypto import KeyRing, PersonalDataCipher
from crm.db import create_engine, create_sessionmaker, upgrade_database_async
from crm.events import ClickToCallRequested
from crm.finance import FinanceService
from crm.journal import JournalService
from crm.masking import AsteriskMaskingSecrets
from crm.notes import NoteService
from crm.reminders import (
    ReminderRules,
    ReminderService,
    parse_hours,
    parse_ladder,
    parse_topic_periods,
    parse_work_days,
)
from crm.reports import ReportService
from crm.services import ClientService, EmployeeService, WebSessionService
from crm.staff import StaffService
from crm.visits import VisitService
from lexcrm.asterisk_runtime import AsteriskRuntime
from lexcrm.bus import EventBus
from lexcrm.settings import Settings
from recordings.cipher import RecordingCipher
from recordings.rules import SpeechRules
from recordings.store import RecordingStore
from recordings.transcriber import WhisperTranscriber
from recordings.vault import RecordingVault
from recordings.worker import TranscriptionWorker, WorkerConfig
from telephony.ami import AmiConfig
from telephony.ari import AriEndpoint
from telephony.controller import CallController, ControllerConfig
from web.app import create_app
from web.keys import WebConfig, WebServices

log = logging.getLogger(__name__)


class WebPortTaken(Exception):
    """The web interface's port is used by another program."""


@dataclass(frozen=True)
class Core:
    """The database and the CRM services of one process."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    employees: EmployeeService
    clients: ClientService
    sessions: WebSessionService
    calls: CallService
    clicks: ClickToCallService
    bus: EventBus
    journal: JournalService
    contracts: ContractService
    finance: FinanceService
    visits: VisitService
    hearings: HearingService
    notes: NoteService
    call_log: CallLogService
    staff: StaffService
    reminders: ReminderService
    conversations: ConversationService
    recordings: RecordingStore
    vault: RecordingVault


def reminder_rules(settings: Settings) -> ReminderRules:
    """The reminder rules from the settings (checked when the settings were loaded)."""
    work_start, work_end = parse_hours(settings.reminder_work_hours)
    return ReminderRules(
        period_days=settings.reminder_period_days,
        topic_period_days=parse_topic_periods(settings.reminder_topic_periods),
        min_ring_seconds=settings.reminder_min_ring_seconds,
        retry_ladder=parse_ladder(settings.reminder_retry_ladder),
        work_start=work_start,
        work_end=work_end,
        work_days=parse_work_days(settings.reminder_work_days),
        briefing_days_before=settings.reminder_hearing_days,
        # The debrief is the day after, whatever the briefing's lead: the result is fresh.
        debrief_days_after=1,
    )


@contextlib.asynccontextmanager
async def open_core(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Core]:
    """The CRM core, with the key file loaded first so that a missing key stops everything."""
    keyring = KeyRing.load(settings.key_file)
    if migrate:
        await upgrade_database_async(settings.database)
    engine = create_engine(settings.database)
    sessionmaker = create_sessionmaker(engine)
    clients = ClientService(
        sessionmaker, PersonalDataCipher(keyring), phone_region=settings.phone_region
    )
    conversations = ConversationService(
        sessionmaker, lease=timedelta(seconds=settings.transcription_lease_seconds)
    )
    store = RecordingStore(settings.data_dir / "recordings", RecordingCipher.derive(keyring))
    try:
        yield Core(
            engine=engine,
            sessionmaker=sessionmaker,
            employees=EmployeeService(sessionmaker),
            clients=clients,
            sessions=WebSessionService(sessionmaker),
            calls=CallService(sessionmaker, clients, AsteriskMaskingSecrets.derive(keyring)),
            clicks=ClickToCallService(sessionmaker),
            bus=EventBus(),
            journal=JournalService(sessionmaker),
            contracts=ContractService(sessionmaker),
            finance=FinanceService(sessionmaker),
            visits=VisitService(sessionmaker),
            hearings=HearingService(sessionmaker),
            notes=NoteService(sessionmaker),
            call_log=CallLogService(sessionmaker),
            staff=StaffService(sessionmaker),
            reminders=ReminderService(sessionmaker, reminder_rules(settings)),
            conversations=conversations,
            recordings=store,
            vault=RecordingVault(store, conversations),
        )
    finally:
        await engine.dispose()


def build_web_app(
    settings: Settings, core: Core, controller: CallController | None = None
) -> web.Application:
    def telephony_health() -> dict[str, str]:
        if controller is None:
            return {}
        health = controller.ami.health()
        return {"asterisk": health.state.value, "asterisk_since": health.since.isoformat()}

    return create_app(
        WebConfig(session_idle_minutes=settings.session_idle_minutes),
        WebServices(
            employees=core.employees,
            sessions=core.sessions,
            clients=core.clients,
            calls=core.calls,
            clicks=core.clicks,
            bus=core.bus,
            journal=core.journal,
            contracts=core.contracts,
            finance=core.finance,
            visits=core.visits,
            hearings=core.hearings,
            notes=core.notes,
            call_log=core.call_log,
            staff=core.staff,
            reminders=core.reminders,
            reports=ReportService(core.sessionmaker),
            telephony_health=telephony_health,
            conversations=core.conversations,
            recordings=core.vault,
        ),
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
    settings: Settings, core: Core, controller: CallController | None = None
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


def build_controller(settings: Settings, core: Core) -> CallController | None:
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
    settings: Settings, core: Core, controller: CallController | None = None
) -> None:
    """Run the controller until cancelled, fed with the bus's click-to-call requests."""
    controller = controller or build_controller(settings, core)
    if controller is None:
        return
    async with core.bus.subscribe(ClickToCallRequested) as clicks:
        await controller.run(clicks)


def build_worker(settings: Settings, core: Core) -> TranscriptionWorker:
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
        core.conversations,
        core.recordings,
        transcriber,
        SpeechRules.load(rules_file),
        WorkerConfig(
            lease_seconds=float(settings.transcription_lease_seconds),
            retention_days=settings.recording_retention_days,
        ),
    )
