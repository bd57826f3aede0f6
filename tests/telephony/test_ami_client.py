"""AmiClient against a scripted fake AMI server: framing, liveness, reconnects, no re-sends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from telephony.ami import (
    AmiClient,
    AmiConfig,
    AmiRequestFailed,
    AmiState,
    AmiTimeout,
    AmiUnavailable,
    _AmiProtocol,
)
from tests.support.waiting import eventually

BANNER = b"Asterisk Call Manager/9.0.0\r\n"
USERNAME = "lexcrm"
SECRET = "right-secret"
CALLER_NUMBER = "+79215554321"

Script = Callable[["FakeConnection", dict[str, str]], None]


def encode(headers: dict[str, str]) -> bytes:
    return "".join(f"{key}: {value}\r\n" for key, value in headers.items()).encode() + b"\r\n"


@dataclass
class FakeConnection:
    """One client connection to the fake server, as the server sees it."""

    number: int
    writer: asyncio.StreamWriter
    actions: list[dict[str, str]] = field(default_factory=list)
    answers_ping: bool = True
    closed: bool = False

    def send(self, headers: dict[str, str]) -> None:
        self.send_bytes(encode(headers))

    def send_bytes(self, data: bytes) -> None:
        if not self.closed:
            self.writer.write(data)

    def drop(self) -> None:
        self.closed = True
        self.writer.close()


class FakeAmi:
    """A small AMI server on 127.0.0.1:0 answering Login/Ping/Logoff like Asterisk 22.

    Tests script the rest: `scripts[action name in lower case]` answers (or not) an action;
    `refuse_first` connections are closed before the banner; `silent_pings` lists the
    connection numbers whose Pings get no Pong.
    """

    def __init__(self) -> None:
        self.scripts: dict[str, Script] = {}
        self.connections: list[FakeConnection] = []
        self.refuse_first = 0
        self.silent_pings: set[int] = set()
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[Any]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def current(self) -> FakeConnection:
        return self.connections[-1]

    def actions_named(self, name: str) -> list[dict[str, str]]:
        return [
            action
            for connection in self.connections
            for action in connection.actions
            if action.get("Action", "").lower() == name.lower()
        ]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for connection in self.connections:
            connection.drop()
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=5)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        connection = FakeConnection(len(self.connections) + 1, writer)
        connection.answers_ping = connection.number not in self.silent_pings
        self.connections.append(connection)
        try:
            if connection.number <= self.refuse_first:
                return
            writer.write(BANNER)
            while not connection.closed:
                try:
                    raw = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                action = parse(raw)
                connection.actions.append(action)
                self._answer(connection, action)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            connection.drop()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass
            self._handlers.discard(task)

    def _answer(self, connection: FakeConnection, action: dict[str, str]) -> None:
        name = action.get("Action", "").lower()
        action_id = action.get("ActionID", "")
        if name in self.scripts:
            self.scripts[name](connection, action)
        elif name == "login":
            if action.get("Username") == USERNAME and action.get("Secret") == SECRET:
                connection.send(
                    {
                        "Response": "Success",
                        "ActionID": action_id,
                        "Message": "Authentication accepted",
                    }
                )
                connection.send({"Event": "FullyBooted", "Status": "Fully Booted"})
            else:
                # Asterisk answers, then closes the session.
                connection.send(
                    {"Response": "Error", "ActionID": action_id, "Message": "Authentication failed"}
                )
                connection.drop()
        elif name == "ping":
            if connection.answers_ping:
                connection.send(
                    {
                        "Response": "Success",
                        "ActionID": action_id,
                        "Ping": "Pong",
                        "Timestamp": "1780000000.000000",
                    }
                )
        elif name == "logoff":
            connection.send(
                {
                    "Response": "Goodbye",
                    "ActionID": action_id,
                    "Message": "Thanks for all the fish.",
                }
            )
            connection.drop()
        else:
            connection.send({"Response": "Success", "ActionID": action_id})


def parse(raw: bytes) -> dict[str, str]:
    headers = {}
    for line in raw.decode().split("\r\n"):
        if ": " in line:
            key, value = line.split(": ", 1)
            headers[key] = value
    return headers


class RecordingSleep:
    """Injected backoff sleep: records each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)  # yield to the loop, as a real sleep would


@dataclass
class Harness:
    server: FakeAmi
    client: AmiClient
    events: list[Any]
    sleep: RecordingSleep

    def event_names(self) -> list[str]:
        return [event.Event for event in self.events]


@pytest.fixture
async def server() -> AsyncIterator[FakeAmi]:
    fake = FakeAmi()
    await fake.start()
    yield fake
    await fake.close()


def make_client(
    server: FakeAmi, *, secret: str = SECRET, on_event: Any = None, **overrides: float
) -> Harness:
    events: list[Any] = []
    sleep = RecordingSleep()
    settings: dict[str, float] = {
        "connect_timeout": 2.0,
        "request_timeout": 2.0,
        "ping_interval": 60.0,  # no pings unless a test asks for them
        "ping_timeout": 2.0,
        "backoff_max": 60.0,
    }
    settings.update(overrides)
    config = AmiConfig("127.0.0.1", server.port, USERNAME, secret, **settings)
    client = AmiClient(config, on_event=on_event or events.append, sleep=sleep)
    return Harness(server, client, events, sleep)


@asynccontextmanager
async def running(client: AmiClient) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(client.run(), name="ami-under-test")
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.wait({task})
        # Cancelled, not crashed: run() lets CancelledError through and nothing else.
        assert task.cancelled(), task.exception()
        assert client.health().state == AmiState.STOPPED


# --- login --------------------------------------------------------------------------------
async def test_logs_in_and_reports_connected(server: FakeAmi) -> None:
    h = make_client(server)
    async with running(h.client):
        await h.client.wait_connected(5)
        health = h.client.health()
        assert health.state == AmiState.CONNECTED
        assert (health.last_error, health.reconnects) == (None, 0)
        [login] = server.actions_named("Login")
        assert login["Username"] == USERNAME and login["Secret"] == SECRET
        assert login["Events"] == "on"
        # Asterisk's FullyBooted after login is an ordinary event.
        await eventually(lambda: "FullyBooted" in h.event_names(), timeout=5)


async def test_wrong_secret_is_auth_failed_logged_once_and_retried(
    server: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    h = make_client(server, secret="wrong")
    with caplog.at_level(logging.DEBUG, logger="telephony.ami"):
        async with running(h.client):
            await eventually(lambda: len(server.actions_named("Login")) >= 3, timeout=5)
            health = h.client.health()
            assert health.state == AmiState.AUTH_FAILED
            assert health.last_error is not None and "Authentication failed" in health.last_error
            with pytest.raises(AmiUnavailable, match="auth_failed"):
                await h.client.wait_connected(0.05)
            with pytest.raises(AmiUnavailable):
                await h.client.send_action({"Action": "Ping"})
    refusals = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(refusals) == 1, [r.getMessage() for r in refusals]
    assert "wrong" not in caplog.text  # never the secret
    assert h.sleep.delays[:3] == pytest.approx([1.0, 1.8, 1.8**2])


async def test_send_action_without_a_link_fails_at_once(server: FakeAmi) -> None:
    h = make_client(server)
    with pytest.raises(AmiUnavailable):
        await h.client.send_action({"Action": "Ping"})
    assert server.connections == []


# --- liveness and backoff -----------------------------------------------------------------
async def test_pings_keep_a_healthy_link(server: FakeAmi) -> None:
    h = make_client(server, ping_interval=0.02, ping_timeout=1.0)
    async with running(h.client):
        await h.client.wait_connected(5)
        await eventually(lambda: len(server.actions_named("Ping")) >= 5, timeout=5)
        assert len(server.connections) == 1
        assert h.client.health().reconnects == 0


async def test_link_without_pong_is_cut_and_reconnected(
    server: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    server.silent_pings = {1}  # the first connection "freezes": TCP up, no answers
    h = make_client(server, ping_interval=0.05, ping_timeout=0.1)
    with caplog.at_level(logging.WARNING, logger="telephony.ami"):
        async with running(h.client):
            await eventually(lambda: h.client.health().reconnects == 1, timeout=5)
            await h.client.wait_connected(5)
            assert server.connections[0].closed
            assert len(server.connections) == 2
            assert server.connections[0].actions[-1]["Action"] == "Ping"
            assert h.client.health().state == AmiState.CONNECTED
    assert "no Pong" in caplog.text


async def test_backoff_grows_by_1_8_up_to_the_cap_and_resets_after_success(
    server: FakeAmi,
) -> None:
    server.refuse_first = 5  # closed before the banner, as a port that is not AMI yet
    h = make_client(server, backoff_max=4.0)
    async with running(h.client):
        await h.client.wait_connected(5)
        assert h.sleep.delays == pytest.approx([1.0, 1.8, 3.24, 4.0, 4.0])
        assert h.client.health().reconnects == 0  # never connected before
        server.current.drop()
        await eventually(lambda: h.client.health().reconnects == 1, timeout=5)
        assert h.sleep.delays[5:] == pytest.approx([1.0])


async def test_first_failure_warns_and_the_following_ones_are_debug(
    server: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    server.refuse_first = 3
    h = make_client(server)
    with caplog.at_level(logging.DEBUG, logger="telephony.ami"):
        async with running(h.client):
            await h.client.wait_connected(5)
    retries = [r for r in caplog.records if "retrying in" in r.getMessage()]
    assert [r.levelno for r in retries] == [logging.WARNING, logging.DEBUG, logging.DEBUG]


# --- framing and events -------------------------------------------------------------------
async def test_cyrillic_letter_split_across_reads_arrives_whole(server: FakeAmi) -> None:
    h = make_client(server)
    async with running(h.client):
        await h.client.wait_connected(5)
        marker = encode({"Event": "Marker"})
        event = encode({"Event": "Newchannel", "CallerIDName": "Иванов Иван", "Linkedid": "1.1"})
        cut = event.index("Иванов".encode()) + 1  # inside the two bytes of "И"
        server.current.send_bytes(marker + event[:cut])
        # The marker proves the client has read the first part before the rest is sent.
        await eventually(lambda: "Marker" in h.event_names(), timeout=5)
        server.current.send_bytes(event[cut:])
        await eventually(lambda: "Newchannel" in h.event_names(), timeout=5)
        assert h.events[-1].CallerIDName == "Иванов Иван"


async def test_every_split_point_of_a_message_is_framed_alike() -> None:
    received: list[Any] = []
    protocol = _AmiProtocol(received.append)
    stream = BANNER + encode({"Event": "Newchannel", "CallerIDName": "Пётр Ёлкин", "X": "1"})
    stream += encode({"Event": "Hangup", "Cause-txt": "Нормальный"})
    for cut in range(len(stream)):
        received.clear()
        protocol = _AmiProtocol(received.append)
        protocol.data_received(stream[:cut])
        protocol.data_received(stream[cut:])
        assert [(e.Event, e.get("CallerIDName")) for e in received] == [
            ("Newchannel", "Пётр Ёлкин"),
            ("Hangup", None),
        ], cut
        assert received[1]["Cause-txt"] == "Нормальный"


async def test_a_failing_handler_is_logged_and_the_next_event_delivered(
    server: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    delivered: list[str] = []

    def on_event(event: Any) -> None:
        delivered.append(event.Event)
        if event.Event == "Newchannel":
            raise RuntimeError("handler bug")

    h = make_client(server, on_event=on_event)
    with caplog.at_level(logging.DEBUG, logger="telephony.ami"):
        async with running(h.client):
            await h.client.wait_connected(5)
            server.current.send(
                {"Event": "Newchannel", "CallerIDNum": CALLER_NUMBER, "Linkedid": "1700.42"}
            )
            server.current.send({"Event": "Hangup", "Linkedid": "1700.42"})
            await eventually(lambda: "Hangup" in delivered, timeout=5)
            assert len(server.connections) == 1
            assert h.client.health().state == AmiState.CONNECTED
            await h.client.send_action({"Action": "Ping"})
    [failure] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "Newchannel" in failure.getMessage() and "1700.42" in failure.getMessage()
    assert CALLER_NUMBER not in caplog.text


async def test_async_handler_is_awaited_in_order_without_blocking_reads(
    server: FakeAmi,
) -> None:
    gate = asyncio.Event()
    seen: list[str] = []

    async def on_event(event: Any) -> None:
        if event.Event == "E1":
            await gate.wait()
        seen.append(event.Event)

    h = make_client(server, on_event=on_event)
    async with running(h.client):
        await h.client.wait_connected(5)
        for name in ("E1", "E2", "E3"):
            server.current.send({"Event": name})
        # The first handler is stuck, yet responses are still read and matched.
        [pong] = await h.client.send_action({"Action": "Ping"})
        assert pong.Ping == "Pong"
        assert "E1" not in seen
        gate.set()
        await eventually(lambda: seen[-3:] == ["E1", "E2", "E3"], timeout=5)


async def test_shutdown_event_is_passed_on_and_the_client_reconnects(server: FakeAmi) -> None:
    h = make_client(server)
    async with running(h.client):
        await h.client.wait_connected(5)
        server.current.send({"Event": "Shutdown", "Shutdown": "Cleanly", "Restart": "True"})
        await eventually(lambda: h.client.health().reconnects == 1, timeout=5)
        assert "Shutdown" in h.event_names()
        assert server.connections[0].closed


# --- actions ------------------------------------------------------------------------------
async def test_unanswered_originate_fails_and_is_never_sent_again(server: FakeAmi) -> None:
    # Asterisk took the Originate, then the link broke before its answer. Sending it
    # again on the next link (panoramisk's reconnect) would dial the client twice.
    server.scripts["originate"] = lambda connection, action: connection.drop()
    h = make_client(server)
    async with running(h.client):
        await h.client.wait_connected(5)
        with pytest.raises(AmiUnavailable):
            await h.client.send_action(
                {
                    "Action": "Originate",
                    "Channel": "Local/echo@lexcrm-test",
                    "Context": "lexcrm-test",
                    "Exten": "record",
                    "Priority": "1",
                    "ChannelId": "call-1",
                    "Async": "true",
                }
            )
        await eventually(lambda: h.client.health().reconnects == 1, timeout=5)
        await h.client.wait_connected(5)
        # A re-sent action would reach the server before this Ping on the new link.
        await h.client.send_action({"Action": "Ping"})
        assert len(server.actions_named("Originate")) == 1
        assert server.connections[1].actions[0]["Action"] == "Login"
        assert [a["Action"] for a in server.connections[1].actions[1:]] == ["Ping"]


async def test_timeout_raises_without_resending_and_drops_the_late_answer(
    server: FakeAmi,
) -> None:
    held: list[tuple[FakeConnection, dict[str, str]]] = []
    server.scripts["coreshowchannels"] = lambda connection, action: held.append(
        (connection, action)
    )
    h = make_client(server)
    async with running(h.client):
        await h.client.wait_connected(5)
        with pytest.raises(AmiTimeout) as timed_out:
            await h.client.send_action({"Action": "CoreShowChannels"}, timeout=0.1)
        assert isinstance(timed_out.value, TimeoutError)
        [(connection, action)] = held
        answer_list(connection, action["ActionID"], channels=2)
        connection.send({"Event": "Marker"})
        await eventually(lambda: "Marker" in h.event_names(), timeout=5)
        # The late list is not passed off as spontaneous events, and nothing was re-sent.
        assert not {"CoreShowChannel", "CoreShowChannelsComplete"} & set(h.event_names())
        assert len(server.actions_named("CoreShowChannels")) == 1
        assert h.client.health().state == AmiState.CONNECTED


def answer_list(connection: FakeConnection, action_id: str, *, channels: int) -> None:
    connection.send(
        {
            "Response": "Success",
            "ActionID": action_id,
            "EventList": "start",
            "Message": "Channels will follow",
        }
    )
    for number in range(channels):
        connection.send(
            {
                "Event": "CoreShowChannel",
                "ActionID": action_id,
                "Channel": f"Local/echo@lexcrm-test-0000000{number};1",
                "Linkedid": f"1700.{number}",
            }
        )
        # An event of the live system between the list's items, as Asterisk may send.
        connection.send({"Event": "Newstate", "Linkedid": "1800.1"})
    connection.send(
        {
            "Event": "CoreShowChannelsComplete",
            "ActionID": action_id,
            "EventList": "Complete",
            "ListItems": str(channels),
        }
    )


async def test_list_answer_is_gathered_up_to_the_complete_event(server: FakeAmi) -> None:
    server.scripts["coreshowchannels"] = lambda connection, action: answer_list(
        connection, action["ActionID"], channels=2
    )
    h = make_client(server)
    async with running(h.client):
        await h.client.wait_connected(5)
        answer = await h.client.send_action({"Action": "CoreShowChannels"})
        assert [m.get("Event") for m in answer] == [
            None,
            "CoreShowChannel",
            "CoreShowChannel",
            "CoreShowChannelsComplete",
        ]
        assert answer[0].Response == "Success" and answer[-1].ListItems == "2"
        # The interleaved live events went to on_event, not into the answer.
        await eventually(lambda: h.event_names().count("Newstate") == 2, timeout=5)
        assert "CoreShowChannel" not in h.event_names()


async def test_error_response_raises_request_failed_with_asterisk_message(
    server: FakeAmi,
) -> None:
    server.scripts["command"] = lambda connection, action: connection.send(
        {"Response": "Error", "ActionID": action["ActionID"], "Message": "Permission denied"}
    )
    h = make_client(server)
    async with running(h.client):
        await h.client.wait_connected(5)
        with pytest.raises(AmiRequestFailed) as failed:
            await h.client.send_action({"Action": "Command", "Command": "core show version"})
        assert failed.value.message == "Permission denied"
        assert failed.value.action == "Command"
        assert h.client.health().state == AmiState.CONNECTED


async def test_line_breaks_in_values_are_refused_before_sending(server: FakeAmi) -> None:
    h = make_client(server)
    async with running(h.client):
        await h.client.wait_connected(5)
        with pytest.raises(ValueError, match="line break"):
            await h.client.send_action(
                {"Action": "Setvar", "Variable": "X", "Value": "a\r\nAction: Originate"}
            )
        await h.client.send_action({"Action": "Ping"})
        assert server.actions_named("Setvar") == server.actions_named("Originate") == []


async def test_cancelling_run_logs_off_and_closes(server: FakeAmi) -> None:
    states: list[AmiState] = []
    h = make_client(server)
    client = AmiClient(
        AmiConfig("127.0.0.1", server.port, USERNAME, SECRET),
        on_event=h.events.append,
        on_state=lambda health: states.append(health.state),
    )
    task = asyncio.create_task(client.run(), name="ami-cancelled")
    await client.wait_connected(5)
    task.cancel()
    await asyncio.wait({task})
    assert task.cancelled()
    assert states == [AmiState.CONNECTING, AmiState.CONNECTED, AmiState.STOPPED]
    await eventually(lambda: server.current.closed, timeout=5)
    assert server.current.actions[-1]["Action"] == "Logoff"
    with pytest.raises(AmiUnavailable):
        await client.send_action({"Action": "Ping"})


async def test_cancelling_run_during_login_closes_without_logoff(server: FakeAmi) -> None:
    server.scripts["login"] = lambda connection, action: None  # Asterisk never answers
    h = make_client(server)
    async with running(h.client):
        await eventually(lambda: server.actions_named("Login"), timeout=5)
        assert h.client.health().state == AmiState.CONNECTING
    # run() has returned: its socket is already shut, so the server sees the close.
    await eventually(lambda: server.current.closed, timeout=5)
    assert [a["Action"] for a in server.current.actions] == ["Login"]
