"""Typed keys of what the web application and each request carry, and the types behind them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

import jinja2
from aiohttp import web

from crm.call_log import CallLogService
from crm.calls import CallService, ClickToCallService
from crm.contracts import ContractService
from crm.conversations import CallView, ConversationService
from crm.courts import HearingService
from crm.finance import FinanceService
from crm.journal import JournalService
from crm.models import Employee, WebSession
from crm.notes import NoteService
from crm.reminders import ReminderService
from crm.reports import ReportService
from crm.services import ClientService, EmployeeService, WebSessionService
from crm.staff import StaffService
from crm.visits import VisitService


class RecordingAudio(Protocol):
    """Decrypted recordings for listening and evidence; the recordings package provides it."""

    async def size(self, path: str) -> int: ...

    def stream(self, path: str, start: int, end: int) -> AsyncIterator[bytes]: ...

    async def evidence_bundle(self, view: CallView) -> bytes: ...


class Bus(Protocol):
    """The event bus as the web side uses it (the composition root passes the real one)."""

    def publish(self, event: object) -> None: ...

    def subscribe(self, *types: type) -> AbstractAsyncContextManager[asyncio.Queue[object]]: ...


@dataclass(frozen=True)
class WebConfig:
    """What the web side needs to know of the settings."""

    session_idle_minutes: int = 60
    # Cookies marked Secure are not sent over plain http to 127.0.0.1; behind TLS, set True.
    secure_cookies: bool = False


@dataclass(frozen=True)
class WebServices:
    """The CRM use-cases the web side calls."""

    employees: EmployeeService
    sessions: WebSessionService
    clients: ClientService
    calls: CallService
    clicks: ClickToCallService
    bus: Bus
    journal: JournalService
    contracts: ContractService
    finance: FinanceService
    visits: VisitService
    hearings: HearingService
    notes: NoteService
    call_log: CallLogService
    staff: StaffService
    reminders: ReminderService
    reports: ReportService
    # State of the link to Asterisk, e.g. {"asterisk": "connected"}; empty when no
    # controller runs in this process.
    telephony_health: Callable[[], dict[str, str]] = dict
    # Recorded calls: transcripts, search, flags; and the audio behind them. None where the
    # process keeps no recordings (some tests).
    conversations: ConversationService | None = None
    recordings: RecordingAudio | None = None


@dataclass(frozen=True)
class CurrentUser:
    """The employee behind a request, with the session that proves it."""

    employee: Employee
    session: WebSession


CONFIG = web.AppKey("config", WebConfig)
SERVICES = web.AppKey("services", WebServices)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
# Set by the session middleware; absent for anonymous requests.
USER_KEY = web.RequestKey("lexcrm.user", CurrentUser)
