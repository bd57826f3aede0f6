"""The services container: every service of a lexcrm process, built by one function."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import crm.models  # noqa: F401 - every table in the metadata before the first flush
from crm.auth.services import WebSessionService
from crm.calls.log import CallLogService
from crm.calls.masking import AsteriskMaskingSecrets
from crm.calls.services import CallService, ClickToCallService
from crm.calls.statistics import CallStatisticsService
from crm.clients.services import ClientService
from crm.contracts.services import ContractService
from crm.conversations.listening import ListeningQueue
from crm.conversations.recordings import RecordingLedger
from crm.conversations.risk import ContractRisk
from crm.conversations.search import ConversationSearch
from crm.conversations.transcription import TranscriptionQueue
from crm.core.crypto import KeyRing, PersonalDataCipher
from crm.core.db import create_engine, create_sessionmaker, upgrade_database_async
from crm.courts.services import CourtService
from crm.finance.services import FinanceService
from crm.journal.services import JournalService
from crm.notes.services import NoteService
from crm.reminders.oversight import ReminderOversight
from crm.reminders.rules import (
    ReminderRules,
    parse_hours,
    parse_ladder,
    parse_topic_periods,
    parse_work_days,
)
from crm.reminders.services import ReminderService
from crm.reports.services import ReportService
from crm.staff.services import StaffService
from crm.visits.services import VisitService
from lexcrm.bus import EventBus
from lexcrm.settings import Settings
from recordings.cipher import RecordingCipher
from recordings.store import RecordingStore
from recordings.vault import RecordingVault


@dataclass(frozen=True)
class Services:
    """The database and every service of one process, each built once and passed down."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bus: EventBus
    staff: StaffService
    sessions: WebSessionService
    clients: ClientService
    calls: CallService
    clicks: ClickToCallService
    call_log: CallLogService
    call_statistics: CallStatisticsService
    journal: JournalService
    contracts: ContractService
    finance: FinanceService
    visits: VisitService
    courts: CourtService
    notes: NoteService
    reminders: ReminderService
    reminder_oversight: ReminderOversight
    reports: ReportService
    recording_ledger: RecordingLedger
    transcriptions: TranscriptionQueue
    conversation_search: ConversationSearch
    listening_queue: ListeningQueue
    contract_risk: ContractRisk
    recording_store: RecordingStore
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


def build_services(settings: Settings, engine: AsyncEngine, keyring: KeyRing) -> Services:
    """Every service over `engine`, configured by `settings`; the one place they are made."""
    sessionmaker = create_sessionmaker(engine)
    clients = ClientService(
        sessionmaker, PersonalDataCipher(keyring), phone_region=settings.phone_region
    )
    recording_ledger = RecordingLedger(sessionmaker)
    recording_store = RecordingStore(
        settings.data_dir / "recordings", RecordingCipher.derive(keyring)
    )
    rules = reminder_rules(settings)
    return Services(
        engine=engine,
        sessionmaker=sessionmaker,
        bus=EventBus(),
        staff=StaffService(sessionmaker),
        sessions=WebSessionService(sessionmaker),
        clients=clients,
        calls=CallService(sessionmaker, clients, AsteriskMaskingSecrets.derive(keyring)),
        clicks=ClickToCallService(sessionmaker),
        call_log=CallLogService(sessionmaker),
        call_statistics=CallStatisticsService(sessionmaker),
        journal=JournalService(sessionmaker),
        contracts=ContractService(sessionmaker),
        finance=FinanceService(sessionmaker),
        visits=VisitService(sessionmaker),
        courts=CourtService(sessionmaker),
        notes=NoteService(sessionmaker),
        reminders=ReminderService(sessionmaker, rules),
        reminder_oversight=ReminderOversight(sessionmaker),
        reports=ReportService(sessionmaker),
        recording_ledger=recording_ledger,
        transcriptions=TranscriptionQueue(
            sessionmaker, lease=timedelta(seconds=settings.transcription_lease_seconds)
        ),
        conversation_search=ConversationSearch(sessionmaker),
        listening_queue=ListeningQueue(sessionmaker),
        contract_risk=ContractRisk(sessionmaker),
        recording_store=recording_store,
        vault=RecordingVault(recording_store, recording_ledger),
    )


@contextlib.asynccontextmanager
async def open_services(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Services]:
    """The services of a process, with the key file loaded first so that a missing key stops
    everything; the database engine is closed when the block ends."""
    keyring = KeyRing.load(settings.key_file)
    if migrate:
        await upgrade_database_async(settings.database)
    engine = create_engine(settings.database)
    try:
        yield build_services(settings, engine, keyring)
    finally:
        await engine.dispose()
