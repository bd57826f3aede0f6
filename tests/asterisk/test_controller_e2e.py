"""The whole chain on real parts: carrier → Asterisk → controller → CRM → websocket and back."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import stat
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from crm.calls.events import Disposition
from crm.calls.models import Call, CallbackTask, ClickToCallRequest, ClickToCallStatus
from crm.calls.services import CALL_CENTRE_QUEUE
from crm.conversations.models import RecordingFile
from crm.core.roles import Role
from lexcrm.asterisk_runtime import AsteriskRuntime
from lexcrm.services import Services, open_services
from lexcrm.settings import Settings
from lexcrm.wiring import build_controller, build_web_app, run_controller
from telephony.ami import AmiState
from telephony.ari import AriClient, AriError
from telephony.controller import CallController
from tests.asterisk.test_ari_client import endpoint_of
from tests.asterisk.test_inbound_masking import assert_no_digits_of, call_the_firm
from tests.asterisk.test_outbound import carrier_calls
from tests.conftest import SIPP_LAWYER_PORT, SIPP_OPERATOR_PORT
from tests.support.ami import ami_session
from tests.support.audio import speak_to_wav, summarise_wav
from tests.support.sipp import SippPhone
from tests.support.waiting import eventually
from tests.web.conftest import csrf_field, submit_login

pytestmark = pytest.mark.asterisk
PASSWORD = "correct horse battery"


@dataclass
class Stack:
    settings: Settings
    core: Services
    server: TestServer
    controller: asyncio.Task[None] | None = None

    def start_controller(self) -> None:
        self.controller = asyncio.create_task(run_controller(self.settings, self.core))

    async def stop_controller(self) -> None:
        """Kill the controller the way a crash would, in this process: cancelled wherever
        it is, a database call half done included."""
        assert self.controller is not None
        self.controller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.controller
        self.controller = None
        collect_connections_of_the_killed()

    async def browser(self, login: str) -> TestClient:
        client = TestClient(self.server)
        await client.start_server()
        response = await submit_login(client, login, PASSWORD)
        assert response.status == 303 and response.headers["Location"] == "/", response.status
        return client

    async def rows(self, model: type, **where: object) -> list:  # type: ignore[type-arg]
        from sqlalchemy import select

        async with self.core.sessionmaker() as session:
            query = select(model).filter_by(**where)
            return list(await session.scalars(query))


def collect_connections_of_the_killed() -> None:
    """A killed process takes its database connection with it; a task cancelled in the
    middle of a query leaves it to the garbage collector instead, whose complaint would
    then fail whichever later test it happens to run in. Collected here, where it is
    expected; any other unraisable exception still reaches pytest."""
    complaints: list[sys.UnraisableHookArgs] = []
    previous = sys.unraisablehook
    sys.unraisablehook = complaints.append
    try:
        gc.collect()
    finally:
        sys.unraisablehook = previous
    for complaint in complaints:
        if getattr(complaint.object, "__module__", "") != "aiosqlite.core":
            previous(complaint)


@pytest.fixture
async def stack(asterisk: AsteriskRuntime, tmp_path: Path) -> AsyncIterator[Stack]:
    # A fresh database, but the session Asterisk's key file: the dialplan's masking
    # secrets are derived from it.
    settings = asterisk.settings.with_overrides(data_dir=tmp_path / "var")
    # The session's Asterisk has CDRs of earlier tests' calls; with a fresh database the
    # controller would rightly rebuild them all. Each test starts from an empty CDR file.
    if asterisk.cdr_file.exists():
        asterisk.cdr_file.write_text("")
    async with open_services(settings) as core:
        await core.staff.create_employee(
            "operator", "Оператор Сипп", Role.operator, PASSWORD, sip_extension="1003"
        )
        await core.staff.create_employee(
            "lawyer", "Юрист Сипп", Role.lawyer, PASSWORD, sip_extension="1004"
        )
        server = TestServer(build_web_app(settings, core))
        await server.start_server()
        stack = Stack(settings, core, server)
        stack.start_controller()
        try:
            yield stack
        finally:
            if stack.controller is not None:
                await stack.stop_controller()
            await server.close()
            await hang_up_leftover_calls(asterisk)
    # This test's killed controllers are collected with it, not in whichever test next
    # runs the garbage collector.
    collect_connections_of_the_killed()


async def hang_up_leftover_calls(asterisk: AsteriskRuntime) -> None:
    """End any call a test left behind (it failed midway, say): still ringing, it would
    end during the next test and show up in that test's fresh database."""
    async with AriClient(endpoint_of(asterisk)) as ari:
        for channel in await ari.channels():
            with contextlib.suppress(AriError):
                await ari.hangup(channel["id"])
        await eventually(lambda: _no_channels(ari), timeout=10)


async def _no_channels(ari: AriClient) -> bool:
    return not await ari.channels()


def started_operator_phone(tmp_path: Path, *, answers: bool = True) -> SippPhone:
    """The sipp desk phone Asterisk has as the operator's (1003), ringing for one call."""
    phone = SippPhone(tmp_path / "sipp-op", answers=answers, sip_port=SIPP_OPERATOR_PORT)
    phone.start()
    return phone


def started_lawyer_phone(tmp_path: Path, *, calls: int = 1) -> SippPhone:
    """The sipp desk phone Asterisk has as the lawyer's (1004)."""
    phone = SippPhone(tmp_path / "sipp-lawyer", calls=calls, sip_port=SIPP_LAWYER_PORT)
    phone.start()
    return phone


async def collect_messages(socket: aiohttp.ClientWebSocketResponse, into: list[str]) -> None:
    async for message in socket:
        if message.type == aiohttp.WSMsgType.TEXT:
            into.append(message.data)


async def test_inbound_call_pops_the_lead_card_and_is_recorded_once(
    stack: Stack,
    asterisk: AsteriskRuntime,
    carrier: AsteriskRuntime,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = "+79215550011"
    operator_phone = started_operator_phone(tmp_path)
    browser = await stack.browser("operator")
    received: list[str] = []
    try:
        socket = await browser.ws_connect("/ws")
        reader = asyncio.create_task(collect_messages(socket, received))
        await call_the_firm(carrier, canary, talk_seconds=8)
        await eventually(lambda: received, timeout=30)
        await eventually(operator_phone.call_ended, timeout=40)
        calls = await eventually(
            lambda: stack.rows(Call, disposition=Disposition.answered.value), timeout=15
        )
        await socket.close()
        await reader
    finally:
        operator_phone.stop()
        await browser.close()

    pop = json.loads(received[0])
    assert pop["type"] == "screen-pop"
    assert pop["client"]["is_new"] is True
    lead_id = pop["client"]["id"]
    assert pop["client"]["code"] == f"c{lead_id}"
    for text in received:
        assert_no_digits_of(canary, text)
    assert_no_digits_of(canary, operator_phone.messages())

    # One record, linked to the lead, answered by the operator; the lead has the number.
    assert len(calls) == 1
    call = calls[0]
    assert call.client_id == lead_id and call.direction == "inbound"
    assert call.queue == CALL_CENTRE_QUEUE  # it waited in the call centre's queue
    assert (await stack.core.clients.find_clients_by_phone(canary))[0].id == lead_id
    # The recording left Asterisk's folder for the store, encrypted, owner-only, with audio.
    stored = await eventually(lambda: _recording_paths(stack, call.linkedid), timeout=20)
    assert {p.name.rsplit("-", 1)[1] for p in stored} == {
        "mix.wav.enc",
        "client.wav.enc",
        "employee.wav.enc",
    }
    for path in stored:
        assert path.is_relative_to(stack.settings.data_dir / "recordings")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert not path.read_bytes().startswith(b"RIFF")
        plain = tmp_path / path.name.removesuffix(".enc")
        plain.write_bytes(stack.core.recording_store.decrypt(path))
        assert summarise_wav(plain).rms > 300
    # The next call from this number is recognised: the masking table knows the lead.
    table = (await asyncio.to_thread(_read_masks, stack)).split("\n")
    assert f"code = c{lead_id}" in table
    # No log line of ours, and no file Asterisk keeps besides the recordings, has the number.
    assert_no_digits_of(canary, "\n".join(record.getMessage() for record in caplog.records))
    for folder in (asterisk.etc_dir, asterisk.log_dir, asterisk.run_dir / "lib"):
        for path in folder.rglob("*"):
            if path.is_file():
                assert_no_digits_of(canary, path.read_bytes().decode("latin-1"))
    database = stack.settings.data_dir / "lexcrm.sqlite3"
    for path in database.parent.glob("lexcrm.sqlite3*"):
        assert_no_digits_of(canary, path.read_bytes().decode("latin-1"))


async def _recording_paths(stack: Stack, linkedid: str) -> list[Path]:
    call = await stack.core.calls.get_call(linkedid)
    card = await stack.core.conversation_search.recording_card(call.id) if call else None
    return [Path(stored.path) for stored in card.files] if card else []


def _read_masks(stack: Stack) -> str:
    from lexcrm.asterisk_runtime import AsteriskRuntime

    return AsteriskRuntime(stack.settings).masks_file.read_text()


async def test_caller_who_hangs_up_in_the_queue_becomes_a_callback_task(
    stack: Stack, carrier: AsteriskRuntime, tmp_path: Path
) -> None:
    # The operator's phone rings, nobody picks up; the caller gives up and hangs up.
    operator_phone = started_operator_phone(tmp_path, answers=False)
    try:
        await call_the_firm(carrier, "+79215550022", talk_seconds=7)
        tasks = await eventually(lambda: stack.rows(CallbackTask), timeout=30)
        await eventually(lambda: "487 Request Terminated" in operator_phone.messages(), timeout=10)
    finally:
        operator_phone.stop()
    assert len(tasks) == 1 and tasks[0].reason == Disposition.abandoned.value
    calls = await stack.rows(Call)
    assert len(calls) == 1 and calls[0].disposition == Disposition.abandoned.value
    # The call centre sees it with a countdown; a lawyer does not.
    operator = await stack.browser("operator")
    page = await (await operator.get("/callbacks")).text()
    assert f"c{tasks[0].client_id}" in page and "клиент не дождался ответа" in page
    assert "осталось" in page
    assert_no_digits_of("+79215550022", page)
    lawyer = await stack.browser("lawyer")
    assert (await lawyer.get("/callbacks")).status == 403
    await operator.close()
    await lawyer.close()


async def test_click_to_call_survives_a_controller_restart_without_calling_twice(
    stack: Stack, carrier: AsteriskRuntime, tmp_path: Path
) -> None:
    client = await stack.core.clients.add_client("Сидорова Анна Петровна", ["+79213330077"])
    lawyer_phone = started_lawyer_phone(tmp_path)
    # The controller is away when the lawyer clicks "Call".
    await stack.stop_controller()
    browser = await stack.browser("lawyer")
    try:
        async with ami_session(carrier) as (_manager, log):
            # Lawyers see their own clients only: not yet this lawyer's.
            assert (await browser.get(f"/clients/{client.id}")).status == 403
            await _assign(stack, client.id, "lawyer")
            page = await (await browser.get(f"/clients/{client.id}")).text()
            response = await browser.post(
                f"/clients/{client.id}/call", data={"csrf_token": csrf_field(page)}
            )
            assert response.status == 200 and "Звоним" in await response.text()
            stack.start_controller()  # back: it finds the stored click and places it
            await eventually(lambda: len(carrier_calls(log)) >= 1, timeout=20)
            # Killed again mid-call and restarted: nothing is placed a second time.
            await stack.stop_controller()
            stack.start_controller()
            await eventually(lawyer_phone.call_ended, timeout=30)
            await asyncio.sleep(0)  # let the last events through
            assert len(carrier_calls(log)) == 1
    finally:
        lawyer_phone.stop()
        await browser.close()
    assert lawyer_phone.received_invites() == 1
    assert_no_digits_of("+79213330077", lawyer_phone.messages())
    requests = await stack.rows(ClickToCallRequest)
    assert [r.status for r in requests] == [ClickToCallStatus.originated]
    calls = await eventually(lambda: stack.rows(Call, linkedid=requests[0].channel_id), timeout=15)
    assert len(calls) == 1 and calls[0].client_id == client.id
    assert calls[0].direction == "outbound"


async def test_a_click_to_call_counts_the_ring_from_the_clients_phone(
    stack: Stack, asterisk: AsteriskRuntime, carrier: AsteriskRuntime, tmp_path: Path
) -> None:
    # The carrier simulator lets numbers ending in 9999 ring and never answer.
    client = await stack.core.clients.add_client("Павлова Ирина Олеговна", ["+79213339999"])
    lawyer = await stack.core.staff.find_by_login("lawyer")
    assert lawyer is not None
    lawyer_phone = started_lawyer_phone(tmp_path)
    try:
        request = await stack.core.clicks.request(lawyer.id, client.id)
        await eventually(lambda: lawyer_phone.received_invites() >= 1, timeout=20)
        await asyncio.sleep(4)  # the lawyer listens to the client's phone ring
        await hang_up_leftover_calls(asterisk)
        [call] = await eventually(lambda: _ended(stack, request.channel_id), timeout=20)
    finally:
        lawyer_phone.stop()
    ringing = call.client_ringing_at
    assert call.answered_at is None and ringing is not None and call.ended_at is not None
    # After the lawyer's own phone was answered, and rang for about the 4 s waited.
    assert call.started_at < ringing < call.ended_at
    assert 2 <= (call.ended_at - ringing).total_seconds() <= 8


async def _ended(stack: Stack, linkedid: str) -> list[Call]:
    return [call for call in await stack.rows(Call, linkedid=linkedid) if call.ended_at]


async def _assign(stack: Stack, client_id: int, lawyer_login: str) -> None:
    lawyer = await stack.core.staff.find_by_login(lawyer_login)
    assert lawyer is not None
    async with stack.core.sessionmaker() as session:
        from crm.clients.models import Client

        client = await session.get(Client, client_id)
        assert client is not None
        client.lawyer_id = lawyer.id
        await session.commit()


async def test_controller_killed_mid_call_records_the_call_exactly_once(
    stack: Stack, carrier: AsteriskRuntime, tmp_path: Path
) -> None:
    operator_phone = started_operator_phone(tmp_path)
    try:
        # The controller is down from before the call starts until the middle of it.
        await stack.stop_controller()
        await call_the_firm(carrier, "+79215550033", talk_seconds=12)
        await eventually(lambda: operator_phone.received_invites() >= 1, timeout=30)
        stack.start_controller()
        await eventually(operator_phone.call_ended, timeout=40)
        calls = await eventually(
            lambda: stack.rows(Call, disposition=Disposition.answered.value), timeout=15
        )
        stored = await eventually(lambda: _recording_paths(stack, calls[0].linkedid), timeout=20)
        # Restarted once more after the call: still one record.
        await stack.stop_controller()
        stack.start_controller()
        await asyncio.sleep(1)
    finally:
        operator_phone.stop()
    calls = await stack.rows(Call)
    assert len(calls) == 1
    call = calls[0]
    assert call.direction == "inbound" and call.ended_at is not None
    assert call.client_id is not None  # the lead, rebuilt from what the dialplan kept
    assert len(stored) == 3 and all(p.exists() for p in stored)


async def test_a_call_made_while_the_controller_was_away_is_rebuilt_from_cdrs(
    stack: Stack, carrier: AsteriskRuntime, tmp_path: Path
) -> None:
    operator_phone = started_operator_phone(tmp_path)
    canary = "+79215550044"
    try:
        await stack.stop_controller()
        await call_the_firm(carrier, canary, talk_seconds=5)
        await eventually(operator_phone.call_ended, timeout=40)
    finally:
        operator_phone.stop()
    assert await stack.rows(Call) == []  # nobody was watching
    stack.start_controller()
    calls = await eventually(lambda: stack.rows(Call, reconciled=True), timeout=20)
    stored = await eventually(lambda: _recording_paths(stack, calls[0].linkedid), timeout=20)
    # Restarted again: the CDR file is read anew, and still nothing is counted twice.
    await stack.stop_controller()
    stack.start_controller()
    await asyncio.sleep(2)
    calls = await stack.rows(Call)
    assert len(calls) == 1
    call = calls[0]
    assert call.disposition == Disposition.answered.value and call.employee_id is not None
    lead = await stack.core.clients.find_clients_by_phone(canary)
    assert [call.client_id] == [client.id for client in lead]
    assert len(stored) == 3
    cdr_text = stack_cdr_text(stack)
    assert call.linkedid in cdr_text
    assert_no_digits_of(canary, cdr_text)  # the CDR file holds no number in clear


def controller_with_a_held_resync(stack: Stack) -> tuple[CallController, asyncio.Event]:
    """A controller that, once logged in, waits for the event before it asks Asterisk
    what is live: the window in which live events of calls begun earlier come first."""
    controller = build_controller(stack.settings, stack.core)
    assert controller is not None
    resync_allowed = asyncio.Event()
    resync = controller._resync

    async def held_resync() -> None:
        await resync_allowed.wait()
        await resync()

    controller._resync = held_resync  # type: ignore[method-assign]
    stack.controller = asyncio.create_task(run_controller(stack.settings, stack.core, controller))
    return controller, resync_allowed


async def test_a_call_that_ends_before_the_resync_still_gets_its_client(
    stack: Stack, carrier: AsteriskRuntime, tmp_path: Path
) -> None:
    """The controller logs in mid-call and sees the call's hang-ups before its resync:
    the call and its callback are recorded without a client at first; the client comes
    from the CDRs once the resync is done."""
    operator_phone = started_operator_phone(tmp_path, answers=False)
    canary = "+79215550055"
    await stack.stop_controller()
    try:
        await call_the_firm(carrier, canary, talk_seconds=8)
        await eventually(lambda: operator_phone.received_invites() >= 1, timeout=30)
        controller, resync_allowed = controller_with_a_held_resync(stack)
        await eventually(lambda: controller.ami.health().state == AmiState.CONNECTED)
        # The caller gives up while the resync waits: only the hang-ups are seen.
        tasks = await eventually(lambda: stack.rows(CallbackTask), timeout=30)
        assert tasks[0].client_id is None
        resync_allowed.set()
        tasks = await eventually(lambda: _callbacks_with_a_client(stack), timeout=20)
    finally:
        operator_phone.stop()
    lead = await stack.core.clients.find_clients_by_phone(canary)
    calls = await stack.rows(Call)
    assert len(lead) == 1 and len(calls) == 1 and len(tasks) == 1
    assert calls[0].client_id == lead[0].id and tasks[0].client_id == lead[0].id


async def test_a_call_started_before_the_resync_gets_its_client_from_the_resync(
    stack: Stack, asterisk: AsteriskRuntime, carrier: AsteriskRuntime, tmp_path: Path
) -> None:
    """The controller logs in mid-call, and a live event of the call (it leaves the queue)
    comes before the resync: the call is recorded without a client, and the resync
    attaches the one the dialplan kept on the call's channel while the call goes on."""
    operator_phone = started_operator_phone(tmp_path, answers=False)
    canary = "+79215550066"
    await stack.stop_controller()
    try:
        async with ami_session(asterisk) as (manager, log):
            await call_the_firm(carrier, canary, talk_seconds=12)
            await eventually(lambda: operator_phone.received_invites() >= 1, timeout=30)
            controller, resync_allowed = controller_with_a_held_resync(stack)
            await eventually(lambda: controller.ami.health().state == AmiState.CONNECTED)
            [caller] = [
                event["Channel"]
                for event in log.named("Newchannel")
                if event["Channel"].startswith("PJSIP/trunk")
            ]
            await manager.send_action(
                {
                    "Action": "Redirect",
                    "Channel": caller,
                    "Context": "lexcrm-test",
                    "Exten": "echo",
                    "Priority": "1",
                }
            )
            calls = await eventually(lambda: stack.rows(Call), timeout=10)
            assert calls[0].client_id is None and calls[0].ended_at is None
            resync_allowed.set()
            calls = await eventually(lambda: _calls_with_a_client(stack), timeout=10)
            assert calls[0].ended_at is None  # attached while the call goes on
            ended = await eventually(lambda: stack.rows(Call, disposition="abandoned"), timeout=30)
    finally:
        operator_phone.stop()
    lead = await stack.core.clients.find_clients_by_phone(canary)
    assert len(lead) == 1 and [call.client_id for call in ended] == [lead[0].id]
    # Not answered by anyone: the callback it makes names the client too.
    tasks = await stack.rows(CallbackTask)
    assert [task.client_id for task in tasks] == [lead[0].id]


async def _calls_with_a_client(stack: Stack) -> list[Call]:
    return [call for call in await stack.rows(Call) if call.client_id is not None]


async def _callbacks_with_a_client(stack: Stack) -> list[CallbackTask]:
    return [task for task in await stack.rows(CallbackTask) if task.client_id is not None]


async def test_a_recording_left_in_asterisks_folder_is_swept_into_the_store(
    stack: Stack, asterisk: AsteriskRuntime
) -> None:
    """A file no hand-off took (its call ended while nobody watched, or it was not closed
    in time) does not stay in plaintext: once quiet for long, the sweep stores it."""
    await stack.stop_controller()
    linkedid = f"{int(time.time()) - 7200}.{os.getpid()}"
    folder = asterisk.recordings_dir / "swept"
    folder.mkdir(parents=True, exist_ok=True)
    source = speak_to_wav("The hearing is on Monday.", folder / f"{linkedid}-mix.wav")
    long_ago = time.time() - 3600  # quiet for an hour: no writer is coming back
    os.utime(source, (long_ago, long_ago))
    # Back up, the controller sweeps on its own once it is in step with Asterisk (no live
    # call of that id), right after it has read the CDRs.
    stack.start_controller()
    try:
        files = await eventually(lambda: stack.rows(RecordingFile, linkedid=linkedid), timeout=15)
        assert not source.exists()  # the plaintext went with the sweep
    finally:
        await asyncio.to_thread(source.unlink, missing_ok=True)  # not for a later test to find
    [stored] = files
    sealed = await asyncio.to_thread(Path(stored.path).read_bytes)
    assert stored.part == "mix" and sealed[:4] != b"RIFF"


def stack_cdr_text(stack: Stack) -> str:
    from lexcrm.asterisk_runtime import AsteriskRuntime

    return AsteriskRuntime(stack.settings).cdr_file.read_text()


async def test_healthz_reports_the_link_to_asterisk(
    asterisk: AsteriskRuntime, tmp_path: Path
) -> None:
    from lexcrm.wiring import build_controller

    settings = asterisk.settings.with_overrides(data_dir=tmp_path / "var")
    async with open_services(settings) as core:
        controller = build_controller(settings, core)
        assert controller is not None
        server = TestServer(build_web_app(settings, core, controller))
        client = TestClient(server)
        await client.start_server()
        task = asyncio.create_task(run_controller(settings, core, controller))
        try:
            await controller.ami.wait_connected(10)
            response = await client.get("/healthz")
            assert response.status == 200
            assert (await response.json())["asterisk"] == "connected"
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        response = await client.get("/healthz")
        assert response.status == 503
        assert (await response.json())["status"] == "degraded"
        await client.close()


async def test_client_calling_back_reaches_the_employee_who_tried_them(
    stack: Stack, carrier: AsteriskRuntime, tmp_path: Path
) -> None:
    # The carrier simulator answers numbers ending in 0000 with "busy".
    number = "+79213330000"
    client = await stack.core.clients.add_client("Орлова Мария Ивановна", [number])
    lawyer = await stack.core.staff.find_by_login("lawyer")
    assert lawyer is not None
    lawyer_phone = started_lawyer_phone(tmp_path, calls=2)
    try:
        request = await stack.core.clicks.request(lawyer.id, client.id)
        assert stack.controller is not None
        from crm.calls.events import ClickToCallRequested

        stack.core.bus.publish(ClickToCallRequested(request.id))
        tried = await eventually(
            lambda: stack.rows(Call, linkedid=request.channel_id, disposition="busy"), timeout=30
        )
        assert tried[0].employee_id == lawyer.id
        assert tried[0].client_ringing_at is None  # busy: the client's phone never rang
        # The masking table now sends this client's calls to the lawyer first.
        await eventually(lambda: "sticky = 1004" in _read_masks(stack), timeout=10)
        await call_the_firm(carrier, number, talk_seconds=8)
        await eventually(lambda: lawyer_phone.received_invites() >= 2, timeout=30)
        # Stopped only once the call is over: a phone that vanishes mid-call leaves Asterisk
        # resending its BYE to that port, where the next test's phone would receive it.
        await eventually(
            lambda: "BYE sip:" in lawyer_phone.messages().rsplit("INVITE sip:", 1)[1],
            timeout=30,
        )
    finally:
        lawyer_phone.stop()
    invites = lawyer_phone.messages().split("INVITE sip:1004@")
    # The second call rang the lawyer's phone, showing the client's code, not the queue.
    assert f"<sip:{client.code}@" in invites[-1]
    assert_no_digits_of(number, lawyer_phone.messages())
