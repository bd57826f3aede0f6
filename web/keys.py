"""Typed keys of what the web application and each request carry, and the types behind them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

import jinja2
from aiohttp import web

from crm.auth.models import WebSession
from crm.auth.services import WebSessionService
from crm.calls.log import CallLogService
from crm.calls.services import CallService, ClickToCallService
from crm.calls.statistics import CallStatisticsService
from crm.clients.services import ClientService
from crm.contracts.services import ContractService
from crm.conversations.listening import ListeningQueue
from crm.conversations.recordings import RecordingLedger
from crm.conversations.risk import ContractRisk
from crm.conversations.search import ConversationSearch, RecordingCard
from crm.courts.services import CourtService
from crm.finance.services import FinanceService
from crm.journal.services import JournalService
from crm.notes.services import NoteService
from crm.reminders.oversight import ReminderOversight
from crm.reminders.services import ReminderService
from crm.reports.services import ReportService
from crm.staff.models import Employee
from crm.staff.services import StaffService
from crm.visits.services import VisitService


class RecordingAudio(Protocol):
    """Decrypted recordings for listening and evidence; the recordings package provides it."""

    async def size(self, path: str) -> int: ...

    def stream(self, path: str, start: int, end: int) -> AsyncIterator[bytes]: ...

    async def evidence_bundle(self, view: RecordingCard) -> bytes: ...


class Bus(Protocol):
    """The event bus as the web side uses it (the composition root passes the real one)."""

    def publish(self, event: object) -> None: ...

    def subscribe(self, *types: type) -> AbstractAsyncContextManager[asyncio.Queue[object]]: ...


TelephonyHealth = Callable[[], dict[str, str]]


@dataclass(frozen=True)
class WebConfig:
    """What the web side needs to know of the settings."""

    session_idle_minutes: int = 60
    # Cookies marked Secure are not sent over plain http to 127.0.0.1; behind TLS, set True.
    secure_cookies: bool = False


class WebServices(Protocol):
    """The services the web side calls: the process's services container provides them all
    (read-only, so that a frozen container satisfies it)."""

    @property
    def staff(self) -> StaffService: ...

    @property
    def sessions(self) -> WebSessionService: ...

    @property
    def clients(self) -> ClientService: ...

    @property
    def calls(self) -> CallService: ...

    @property
    def clicks(self) -> ClickToCallService: ...

    @property
    def call_log(self) -> CallLogService: ...

    @property
    def call_statistics(self) -> CallStatisticsService: ...

    @property
    def bus(self) -> Bus: ...

    @property
    def journal(self) -> JournalService: ...

    @property
    def contracts(self) -> ContractService: ...

    @property
    def finance(self) -> FinanceService: ...

    @property
    def visits(self) -> VisitService: ...

    @property
    def courts(self) -> CourtService: ...

    @property
    def notes(self) -> NoteService: ...

    @property
    def reminders(self) -> ReminderService: ...

    @property
    def reminder_oversight(self) -> ReminderOversight: ...

    @property
    def reports(self) -> ReportService: ...

    @property
    def recording_ledger(self) -> RecordingLedger: ...

    @property
    def conversation_search(self) -> ConversationSearch: ...

    @property
    def listening_queue(self) -> ListeningQueue: ...

    @property
    def contract_risk(self) -> ContractRisk: ...

    @property
    def vault(self) -> RecordingAudio: ...


@dataclass(frozen=True)
class CurrentUser:
    """The employee behind a request, with the session that proves it."""

    employee: Employee
    session: WebSession


CONFIG = web.AppKey("config", WebConfig)
SERVICES = web.AppKey("services", WebServices)
# State of the link to Asterisk, e.g. {"asterisk": "connected"}; empty when no controller
# runs in this process.
TELEPHONY_HEALTH: web.AppKey[TelephonyHealth] = web.AppKey("telephony_health")
TEMPLATES = web.AppKey("templates", jinja2.Environment)
# Names of the routes served without a session (the route table marks them).
PUBLIC_ROUTES: web.AppKey[frozenset[str]] = web.AppKey("public_routes")
# Set by the session middleware; absent for anonymous requests.
USER_KEY = web.RequestKey("lexcrm.user", CurrentUser)
