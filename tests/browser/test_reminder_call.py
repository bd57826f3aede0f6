"""A reminder blocks the lawyer's workspace in Chromium until a real call through Asterisk."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.async_api import Page, WebSocket, expect
from sqlalchemy import select

from crm.calls.events import CallEnded, Disposition
from crm.calls.models import Call, ClickToCallRequest
from crm.clients.models import Client
from crm.core.clock import utc_now
from crm.core.formatting import format_datetime
from crm.core.roles import Role
from crm.journal.models import JournalEntry, JournalOutcome
from crm.reminders.models import Reminder, ReminderStatus
from crm.staff.models import Employee
from lexcrm.asterisk_runtime import AsteriskRuntime
from lexcrm.services import Services, open_services
from lexcrm.settings import Settings
from lexcrm.wiring import build_controller, run_controller, serve_web
from tests.asterisk.test_inbound_masking import assert_no_digits_of
from tests.asterisk.test_outbound import carrier_calls
from tests.browser.conftest import CANARIES, PASSWORD, Tab, database_file, text_of
from tests.browser.test_login import log_in
from tests.conftest import TEST_PHONES
from tests.support.ami import EventLog, ami_session
from tests.support.audio import speak_to_wav
from tests.support.baresip import BaresipPhone
from tests.support.canaries import canaries_in
from tests.support.ports import free_tcp_port
from tests.support.waiting import eventually

pytestmark = pytest.mark.asterisk

LAWYER_PHONE = TEST_PHONES[1]  # 1002: registered by the baresip phone each test starts
# The carrier simulator answers this number; it is one of the canaries every page is
# searched for, so the Tab fails any page that shows it.
CLIENT_NUMBER = CANARIES[0]
CLIENT_NAME = "Смирнова Анна Сергеевна"
REASON = "Сообщить клиенту дату заседания"
NO_CALL = "no call behind the request"  # the journal's note on a refused dismissal
# The window asks the server twice a second while open, and the server also tells it over
# the websocket the moment a call ends: the issue asks for "within a second".
CLOSE_WITHIN_SECONDS = 1.0
# Longer than the carrier's answer (4 s of tones): the carrier hangs up, not the phone.
VOICE = (
    "Good afternoon, this is your lawyer calling about your case. "
    "The court has set the date of the hearing, and I would like to go through it with you."
)


@dataclass(frozen=True)
class ReminderFirm:
    """The CRM next to the session's Asterisk: a lawyer with a desk phone, a client, a reminder."""

    settings: Settings
    core: Services
    url: str
    lawyer: Employee
    client: Client
    reminder: Reminder


@pytest.fixture
async def reminder_firm(
    asterisk: AsteriskRuntime, web_migrated_template: Path, tmp_path: Path
) -> AsyncIterator[ReminderFirm]:
    """The process as `lexcrm run` builds it (core, controller, web) on the test Asterisk."""
    settings = asterisk.settings.with_overrides(
        data_dir=tmp_path / "var",
        web_port=free_tcp_port(),
        # Reminders are shown within working hours only: round the clock here, so that the
        # test means the same whenever it runs.
        reminder_work_hours="00:00-24:00",
        reminder_work_days="1-7",
    )
    # A fresh database, but the session's Asterisk: its CDR file has earlier tests' calls,
    # which the controller would rebuild as calls of this database's clients.
    if asterisk.cdr_file.exists():
        asterisk.cdr_file.write_text("")
    database = database_file(settings)
    database.parent.mkdir(parents=True)
    shutil.copyfile(web_migrated_template, database)
    async with open_services(settings, migrate=False) as core:
        lawyer = await core.staff.create_employee(
            "lawyer", "Петрова Мария Викторовна", Role.lawyer, PASSWORD, LAWYER_PHONE.extension
        )
        client = await core.clients.add_client(CLIENT_NAME, [CLIENT_NUMBER], lawyer_id=lawyer.id)
        reminder = await core.reminders.add_manual(
            employee_id=lawyer.id,
            client_id=client.id,
            due_at=utc_now() - timedelta(minutes=1),
            reason=REASON,
            created_by_id=lawyer.id,
        )
        controller = build_controller(settings, core)
        assert controller is not None
        async with serve_web(settings, core, controller) as url:
            task = asyncio.create_task(
                run_controller(settings, core, controller), name="controller"
            )
            try:
                await controller.ami.wait_connected(10)
                # The dialplan finds the client by code only once the controller has
                # written the masking table.
                await eventually(
                    lambda: f"code = {client.code}" in asterisk.masks_file.read_text(), timeout=15
                )
                yield ReminderFirm(settings, core, url, lawyer, client, reminder)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


@pytest.fixture
def base_url(reminder_firm: ReminderFirm) -> str:
    """The browser tests' tab opens the pages of this firm."""
    return reminder_firm.url


def lawyer_phone(
    asterisk: AsteriskRuntime, tmp_path: Path, dial: str | None = None
) -> BaresipPhone:
    return BaresipPhone(
        tmp_path / "baresip",
        extension=LAWYER_PHONE.extension,
        password=LAWYER_PHONE.password,
        registrar_port=asterisk.settings.sip_port,
        voice_wav=speak_to_wav(VOICE, tmp_path / "voice.wav"),
        dial=dial,
    )


def websocket_messages(page: Page) -> list[dict[str, Any]]:
    """Every message the server pushes to the page over its websockets, from now on."""
    messages: list[dict[str, Any]] = []

    def on_socket(socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: messages.append(json.loads(payload)))

    page.on("websocket", on_socket)
    return messages


async def told_to_look_again(pushed: list[dict[str, Any]]) -> None:
    """The server told the page, over the websocket, that a call of its employee ended
    (the window's one-second poll alone would close it too, only later)."""
    await eventually(lambda: {"type": "reminders"} in pushed, timeout=2)
    assert not canaries_in(json.dumps(pushed, ensure_ascii=False), CANARIES)


async def window_shows(page: Page, reminder: Reminder) -> None:
    """The blocking window is up, showing this reminder."""
    window = page.locator("#reminder-window")
    await expect(window).to_be_visible()
    await expect(window).to_have_attribute("data-reminder", str(reminder.id))
    assert text_of(await page.locator("#reminder-reason").inner_text()) == REASON


async def still_shown_after_a_poll(page: Page, reminder: Reminder) -> None:
    """The server's next answer to the window (within a second) keeps the reminder on."""
    async with page.expect_response(
        lambda response: urlparse(response.url).path == "/reminders/due"
    ) as answer:
        pass
    body = await (await answer.value).json()
    assert body["reminder"]["id"] == reminder.id
    assert not canaries_in(json.dumps(body, ensure_ascii=False), CANARIES)
    await window_shows(page, reminder)


async def keyboard_stays_in_the_window(page: Page) -> None:
    """Tab, pressed past every control of the page, never lands behind the window."""
    for _ in range(20):
        await page.keyboard.press("Tab")
        behind = await page.evaluate(
            """() => {
                const focused = document.activeElement;
                const inside = !focused || focused === document.body
                    || focused.closest("#reminder-window");
                return inside ? null : focused.outerHTML.slice(0, 100);
            }"""
        )
        assert behind is None, f"the keyboard reached the workspace: {behind}"


async def watch_the_window_close(page: Page) -> None:
    """From now on the page notes the moment (its clock, ms) the window is hidden."""
    await page.evaluate(
        """() => {
            const backdrop = document.getElementById("reminder-window");
            new MutationObserver(() => {
                if (backdrop.hidden && !window.__reminderClosedAt) {
                    window.__reminderClosedAt = Date.now();
                }
            }).observe(backdrop, { attributes: true, attributeFilter: ["hidden"] });
        }"""
    )


async def seconds_from_hang_up_to_close(page: Page, ended: CallEnded) -> float:
    await expect(page.locator("#reminder-window")).to_be_hidden(timeout=5000)
    closed_at_ms = await page.evaluate("window.__reminderClosedAt")
    return float(closed_at_ms) / 1000 - ended.at.timestamp()


async def call_end(queue: asyncio.Queue[object], timeout: float) -> CallEnded:
    async with asyncio.timeout(timeout):
        while True:
            event = await queue.get()
            if isinstance(event, CallEnded):
                return event


def carrier_answered(log: EventLog) -> bool:
    """The carrier simulator picked up a call from the firm (its channel went Up)."""
    return any(
        event.get("Channel", "").startswith("PJSIP/lexcrm-")
        for event in log.named("Newstate", ChannelStateDesc="Up")
    )


async def settled_by(firm: ReminderFirm, ended: CallEnded) -> Call:
    """The reminder is done, by this call: the lawyer's, answered, to the client."""
    async with firm.core.sessionmaker() as session:
        reminder = await session.get(Reminder, firm.reminder.id)
        call = await session.scalar(select(Call).where(Call.linkedid == ended.linkedid))
    assert call is not None and reminder is not None
    assert (call.employee_id, call.client_id) == (firm.lawyer.id, firm.client.id)
    assert call.direction == "outbound" and call.answered_at is not None
    assert call.disposition == Disposition.answered.value
    assert reminder.status is ReminderStatus.done and reminder.call_id == call.id
    assert reminder.shown_at is not None and call.started_at >= reminder.shown_at
    return call


async def test_reminder_stays_until_a_click_to_call_and_closes_by_itself_after_it(
    reminder_firm: ReminderFirm,
    tab: Tab,
    asterisk: AsteriskRuntime,
    carrier: AsteriskRuntime,
    tmp_path: Path,
) -> None:
    firm, page = reminder_firm, tab.page
    pushed = websocket_messages(page)
    phone = lawyer_phone(asterisk, tmp_path)
    phone.start()
    try:
        await log_in(tab, firm.lawyer.login)
        await window_shows(page, firm.reminder)
        assert text_of(await page.locator("#reminder-code").inner_text()) == firm.client.code

        # Escape does nothing, and the keyboard cannot reach the workspace behind.
        await page.keyboard.press("Escape")
        await keyboard_stays_in_the_window(page)
        await still_shown_after_a_poll(page, firm.reminder)
        # A click outside the window, on the "log out" button under it, reaches nothing.
        logout = await page.locator("form[action='/logout'] button").bounding_box()
        assert logout is not None
        await page.mouse.click(
            logout["x"] + logout["width"] / 2, logout["y"] + logout["height"] / 2
        )
        # And one on the bare backdrop, in a corner.
        viewport = page.viewport_size
        assert viewport is not None
        await page.mouse.click(5, viewport["height"] - 5)
        await still_shown_after_a_poll(page, firm.reminder)
        assert urlparse(page.url).path == "/"
        # A reload brings it straight back.
        await page.reload()
        await tab.check()
        await window_shows(page, firm.reminder)
        # "Close" is refused with the reason, and so is the endpoint called directly.
        await page.locator("#reminder-dismiss").click()
        refusal = page.locator("#reminder-refusal")
        await expect(refusal).to_be_visible()
        assert "закроется само" in text_of(await refusal.inner_text())
        token = await page.locator("input[name=csrf_token]").first.input_value()
        direct = await page.request.post(
            f"{firm.url}reminders/{firm.reminder.id}/dismiss", form={"csrf_token": token}
        )
        assert direct.status == 409
        await still_shown_after_a_poll(page, firm.reminder)

        # The desk phone must be registered before the call can ring it.
        await eventually(lambda: "[1 binding]" in phone.log(), timeout=15)
        await watch_the_window_close(page)
        async with (
            ami_session(carrier) as (_manager, log),
            firm.core.bus.subscribe(CallEnded) as ended_calls,
        ):
            await page.locator("#reminder-call").click()
            await expect(page.locator("#reminder-calling")).to_be_visible()
            # The lawyer's phone rings first and answers, then the carrier answers the client.
            await eventually(lambda: "Call established" in phone.log(), timeout=20)
            await eventually(lambda: carrier_answered(log), timeout=15)
            ended = await call_end(ended_calls, timeout=30)
            latency = await seconds_from_hang_up_to_close(page, ended)
        print(f"window closed {latency:.3f} s after the hang-up")
        assert latency < CLOSE_WITHIN_SECONDS, latency
        await told_to_look_again(pushed)
        assert len(carrier_calls(log)) == 1
    finally:
        phone.stop()
    call = await settled_by(firm, ended)
    assert ended.linkedid.startswith("c2c-")
    await tab.check()
    # The phone showed the client's code, never the number.
    assert f"<sip:{firm.client.code}@" in phone.log()
    assert_no_digits_of(CLIENT_NUMBER, phone.log())

    # The history has the reminder, with the call that settled it.
    await tab.goto("/reminders")
    history = page.locator("table").filter(has_text="Показано").last
    row = text_of(await history.locator("tbody tr").filter(has_text=CLIENT_NAME).inner_text())
    assert format_datetime(call.started_at) in row and "позвонил" in row
    assert "Открытых напоминаний нет." in text_of(await page.locator("main").inner_text())
    # The journal has both refused dismissals, and of the client the call only: the
    # window never opened the client's card.
    async with firm.core.sessionmaker() as session:
        entries = list(
            await session.scalars(
                select(JournalEntry)
                .where(JournalEntry.object_type.in_(["reminder", "client"]))
                .order_by(JournalEntry.id)
            )
        )
    assert [(e.action, e.object_id, e.outcome, e.detail) for e in entries] == [
        *[("reminder_dismiss", str(firm.reminder.id), JournalOutcome.denied, NO_CALL)] * 2,
        ("call_client", str(firm.client.id), JournalOutcome.allowed, None),
    ]
    assert {e.employee_id for e in entries} == {firm.lawyer.id}


async def test_a_call_dialled_by_code_from_the_desk_phone_settles_the_reminder(
    reminder_firm: ReminderFirm,
    tab: Tab,
    asterisk: AsteriskRuntime,
    carrier: AsteriskRuntime,
    tmp_path: Path,
) -> None:
    firm, page = reminder_firm, tab.page
    pushed = websocket_messages(page)
    await log_in(tab, firm.lawyer.login)
    await window_shows(page, firm.reminder)
    await watch_the_window_close(page)
    # The lawyer picks up the desk phone and dials the code the window shows.
    phone = lawyer_phone(asterisk, tmp_path, dial=firm.client.code)
    async with (
        ami_session(carrier) as (_manager, log),
        firm.core.bus.subscribe(CallEnded) as ended_calls,
    ):
        phone.start()
        try:
            await eventually(lambda: "Call established" in phone.log(), timeout=20)
            await eventually(lambda: carrier_answered(log), timeout=15)
            ended = await call_end(ended_calls, timeout=30)
            latency = await seconds_from_hang_up_to_close(page, ended)
        finally:
            phone.stop()
    print(f"window closed {latency:.3f} s after the hang-up")
    assert latency < CLOSE_WITHIN_SECONDS, latency
    await told_to_look_again(pushed)
    assert not ended.linkedid.startswith("c2c-")
    await settled_by(firm, ended)
    await tab.check()
    assert_no_digits_of(CLIENT_NUMBER, phone.log())


async def test_a_call_the_server_refuses_is_reported_in_the_window(
    reminder_firm: ReminderFirm, tab: Tab
) -> None:
    firm, page = reminder_firm, tab.page
    # The client has been handed to nobody since the reminder was set: not hers to call.
    async with firm.core.sessionmaker() as session:
        client = await session.get(Client, firm.client.id)
        assert client is not None
        client.lawyer_id = None
        await session.commit()
    await log_in(tab, firm.lawyer.login)
    await window_shows(page, firm.reminder)
    await page.locator("#reminder-call").click()
    refusal = page.locator("#reminder-refusal")
    await expect(refusal).to_be_visible()
    assert text_of(await refusal.inner_text()) == "Нет доступа к этому клиенту"
    await expect(page.locator("#reminder-calling")).to_be_hidden()
    await still_shown_after_a_poll(page, firm.reminder)
    async with firm.core.sessionmaker() as session:
        assert list(await session.scalars(select(ClickToCallRequest))) == []
