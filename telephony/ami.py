"""AMI client: panoramisk's framing under a connection lifecycle that never re-sends an action."""

from __future__ import annotations

import asyncio
import codecs
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from panoramisk import actions
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

log = logging.getLogger(__name__)

EventHandler = Callable[[Message], Awaitable[None] | None]
ActionFields = Mapping[str, str | list[str]]

BANNER_PREFIX = "Asterisk Call Manager/"
EOL = "\r\n"
# A message ends with an empty line. Anything this long without one is not AMI.
MAX_UNFRAMED_CHARS = 4 * 1024 * 1024


class AmiUnavailable(Exception):
    """No logged-in AMI link right now (Asterisk down, link lost, wrong credentials)."""

    http_status = 503
    error_id = "asterisk-unavailable"


class AmiRequestFailed(Exception):
    """Asterisk answered an action with `Response: Error`; carries its `Message:` text."""

    http_status = 502
    error_id = "asterisk-request-failed"

    def __init__(self, action: str, message: str, response: Message) -> None:
        super().__init__(f"Asterisk отклонил {action}: {message}")
        self.action = action
        self.message = message
        self.response = response


class AmiTimeout(TimeoutError):
    """Asterisk did not answer an action in time. The action is not sent again: it may
    still have been carried out (an Originate may still dial)."""

    http_status = 504
    error_id = "asterisk-timeout"

    def __init__(self, action: str, timeout: float) -> None:
        super().__init__(f"Asterisk не ответил на {action} за {timeout:g} с")
        self.action = action
        self.timeout = timeout


class AmiState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    AUTH_FAILED = "auth_failed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class AmiHealth:
    """A snapshot of the link: its state, since when, the last error, reconnections."""

    state: AmiState
    since: datetime
    last_error: str | None
    reconnects: int


@dataclass(frozen=True)
class AmiConfig:
    host: str
    port: int
    username: str
    secret: str
    connect_timeout: float = 5.0
    request_timeout: float = 5.0
    ping_interval: float = 10.0
    ping_timeout: float = 5.0
    backoff_max: float = 60.0


class _AuthFailed(Exception):
    """Login answered with an error: wrong user or secret, or a host the user may not use."""


@dataclass
class _Pending:
    """An action sent on this connection and still waiting for (all of) its answer."""

    name: str
    future: asyncio.Future[list[Message]]
    messages: list[Message]
    is_list: bool = False


def _event_name(message: Message) -> str:
    return str(message.get("Event", "")) or "?"


def _is_list_start(response: Message) -> bool:
    # Asterisk marks actions answered by a list of events (CoreShowChannels, Status, ...)
    # with `EventList: start`; some older actions only say "... will follow".
    if str(response.get("EventList", "")).lower() == "start":
        return True
    return "will follow" in str(response.get("Message", "")).lower()


def _is_list_end(event: Message) -> bool:
    # The closing event says `EventList: Complete` and its name ends in "Complete"
    # (CoreShowChannelsComplete, StatusComplete, ...).
    if str(event.get("EventList", "")).lower() == "complete":
        return True
    return _event_name(event).endswith("Complete")


def _encode_action(fields: ActionFields) -> Any:
    """A panoramisk Action (it numbers the ActionID) with header injection refused."""
    if not any(key.lower() == "action" for key in fields):
        raise ValueError("an AMI action needs an `Action` field")
    for key, value in fields.items():
        values = value if isinstance(value, list) else [value]
        # A CR or LF inside a value (say, a client name typed into the CRM) would end the
        # header and let the rest be read as new headers or a whole new action.
        if any(ch in key for ch in "\r\n:") or any("\r" in v or "\n" in v for v in values):
            raise ValueError(f"AMI field {key!r} contains a line break or colon")
    return actions.Action(dict(fields))


class _AmiProtocol(AMIProtocol):  # type: ignore[misc]  # panoramisk ships no type hints
    """One AMI connection: framing, action/response matching, event hand-off.

    Only panoramisk's `Message` parsing and `Action` serialisation are used; what the base
    class does with decoding, handlers and lost connections is replaced (see STYLE.md).
    Runs in the event loop; never calls user code (events are queued for the client).
    """

    def __init__(self, on_event: Callable[[Message], None]) -> None:
        loop = asyncio.get_running_loop()
        self._on_event = on_event
        # panoramisk decodes each TCP read on its own with errors="ignore", dropping a
        # Cyrillic letter whose two bytes arrive in different reads; this keeps the tail.
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._pending: dict[str, _Pending] = {}
        # ActionIDs whose caller stopped waiting (timeout, cancel): the rest of their
        # answer, if it still comes, is dropped rather than passed off as spontaneous events.
        self._abandoned: dict[str, bool] = {}
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.version: str | None = None
        self.banner: asyncio.Future[None] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        self.loss_reason = "connection closed by Asterisk"

    # --- asyncio.Protocol ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        self._buffer += self._decoder.decode(data)
        if self.version is None and not self._read_banner():
            return
        # Asterisk ends every message with an empty line.
        frames = self._buffer.split(EOL + EOL)
        self._buffer = frames.pop()
        for frame in frames:
            self._handle_frame(frame)
            if self.closed:
                return
        if len(self._buffer) > MAX_UNFRAMED_CHARS:
            self.drop("a message with no end (not AMI?)")

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and not self.closed:
            self.loss_reason = f"{exc.__class__.__name__}: {exc}"
        self.closed = True
        # Never queue these for a later connection: an Originate sent again after a
        # reconnect dials the client a second time. The callers decide what to do.
        pending, self._pending = self._pending, {}
        for action in pending.values():
            if not action.future.done():
                action.future.set_exception(
                    AmiUnavailable(f"связь с Asterisk потеряна до ответа на {action.name}")
                )
        self._abandoned.clear()
        if not self.banner.done():
            self.banner.set_result(None)  # the waiter sees `version is None`
        if not self.lost.done():
            self.lost.set_result(None)

    # --- used by the client -------------------------------------------------------------
    def send(self, fields: ActionFields) -> tuple[str, str, asyncio.Future[list[Message]]]:
        """Write one action; returns its ActionID, name and the future of its answer."""
        if self.closed or self.transport is None or self.transport.is_closing():
            raise AmiUnavailable("связь с Asterisk закрыта")
        action = _encode_action(fields)
        action_id = str(action.actionid)
        if action_id in self._pending:
            raise ValueError(f"ActionID {action_id!r} is already waiting for an answer")
        name = str(action["Action"])
        future: asyncio.Future[list[Message]] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = _Pending(name, future, [])
        self.transport.write(str(action).encode("utf-8"))
        return action_id, name, future

    def forget(self, action_id: str) -> None:
        """The caller stopped waiting; if the answer was incomplete, drop what still comes."""
        # Still listed means the answer was not complete (its future may be cancelled).
        pending = self._pending.pop(action_id, None)
        if pending is not None and not self.closed:
            self._abandoned[action_id] = pending.is_list

    def drop(self, reason: str) -> None:
        """Cut the link at once (dead peer, protocol error): pending actions fail."""
        if not self.closed:
            self.loss_reason = reason
        if self.transport is not None:
            # abort(), not close(): close() would wait to flush to a peer that is gone.
            self.transport.abort()
        self.closed = True

    def close_gracefully(self, *, logoff: bool) -> None:
        """Say goodbye and close after the write buffer drains (on shutdown of lexcrm)."""
        if self.transport is None or self.transport.is_closing():
            return
        if not self.closed:
            self.loss_reason = "closed by lexcrm"
        if logoff:
            self.transport.write(str(actions.Action({"Action": "Logoff"})).encode("utf-8"))
        self.transport.close()

    # --- parsing and routing ------------------------------------------------------------
    def _read_banner(self) -> bool:
        line, found, rest = self._buffer.partition(EOL)
        if not found:
            if len(self._buffer) > 200:
                self.drop("no AMI banner")
            return False
        if not line.startswith(BANNER_PREFIX):
            self.drop("the peer did not greet as Asterisk Call Manager")
            return False
        self.version = line[len(BANNER_PREFIX) :].strip()
        self._buffer = rest
        if not self.banner.done():
            self.banner.set_result(None)
        return True

    def _handle_frame(self, frame: str) -> None:
        # Asterisk sometimes separates messages with a lone CRLF; stray ones are stripped.
        frame = frame.strip()
        if not frame:
            return
        message = Message.from_line(frame)
        if message is None:
            log.debug("AMI: skipped a frame that is neither a response nor an event")
            return
        try:
            self._route(message)
        except Exception:
            # A bug in routing one message must not take the link down with it.
            log.exception("AMI: could not route %s", _event_name(message))

    def _route(self, message: Message) -> None:
        action_id = message.get("ActionID")
        is_event = "Event" in message
        if action_id is not None:
            action_id = str(action_id)
            pending = self._pending.get(action_id)
            if pending is not None and (pending.messages or not is_event):
                self._add_to_answer(action_id, pending, message)
                return
            if action_id in self._abandoned and self._late_answer(action_id, message):
                return
        if is_event:
            name = _event_name(message)
            if name.lower() == "shutdown":
                # Asterisk is stopping or restarting: it will close the socket; treat the
                # link as gone now so requests fail fast and reconnection starts.
                log.warning("AMI: Asterisk announced shutdown")
                self._on_event(message)
                self.drop("Asterisk is shutting down")
                return
            self._on_event(message)
        else:
            log.debug("AMI: dropped a response to no pending action")

    def _add_to_answer(self, action_id: str, pending: _Pending, message: Message) -> None:
        pending.messages.append(message)
        if len(pending.messages) == 1:
            is_error = str(message.get("Response", "")).lower() == "error"
            pending.is_list = not is_error and _is_list_start(message)
            if pending.is_list:
                return
        elif not _is_list_end(message):
            return
        del self._pending[action_id]
        if not pending.future.done():
            pending.future.set_result(pending.messages)

    def _late_answer(self, action_id: str, message: Message) -> bool:
        """Whether `message` belongs to an abandoned action's answer (and is dropped)."""
        if "Event" not in message:
            if _is_list_start(message):
                self._abandoned[action_id] = True
            else:
                del self._abandoned[action_id]
            return True
        if not self._abandoned[action_id]:
            # e.g. OriginateResponse after the (late) Success: a real event, pass it on.
            return False
        if _is_list_end(message):
            del self._abandoned[action_id]
        return True


class AmiClient:
    """One logged-in AMI link kept up for as long as `run()` runs.

    `run()` connects, logs in, checks liveness with Ping and reconnects with backoff;
    `send_action()` works only while logged in and never re-sends anything. Every event
    that is not part of an answer goes, in order, to `on_event` in one consumer task, so
    a slow or failing handler neither blocks reading nor drops the link.
    Runs in the event loop.
    """

    def __init__(
        self,
        config: AmiConfig,
        *,
        on_event: EventHandler,
        on_state: Callable[[AmiHealth], None] | None = None,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._config = config
        self._on_event = on_event
        self._on_state = on_state
        self._clock = clock or (lambda: datetime.now(UTC))
        self._sleep = sleep
        self._events: asyncio.Queue[Message] = asyncio.Queue()
        self._link: _AmiProtocol | None = None  # the current connection, logged in or not
        self._logged_in = False
        self._connected = asyncio.Event()
        self._running = False
        self._logins = 0
        self._health = AmiHealth(AmiState.STOPPED, self._clock(), None, 0)

    # --- public API ---------------------------------------------------------------------
    def health(self) -> AmiHealth:
        return self._health

    # The timeouts are parameters (ASYNC109) because the client reacts to them itself: it
    # turns them into AmiUnavailable/AmiTimeout and drops the late answer.
    async def wait_connected(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until logged in; AmiUnavailable (with the last error) after `timeout` s."""
        try:
            async with asyncio.timeout(timeout):
                await self._connected.wait()
        except TimeoutError:
            health = self._health
            raise AmiUnavailable(
                f"нет связи с Asterisk ({health.state}: {health.last_error or '-'})"
            ) from None

    async def send_action(
        self,
        action: ActionFields,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[Message]:
        """Send one action and return its answer: the response, then any listed events
        up to the closing `...Complete` event. Never re-sent, not even after a timeout."""
        link = self._link
        if link is None or not self._logged_in or link.closed:
            raise AmiUnavailable("нет связи с Asterisk")
        if timeout is None:
            timeout = self._config.request_timeout
        return await self._request(link, action, timeout)

    async def run(self) -> None:
        """Keep the link up until cancelled (run it as a named task in a TaskGroup)."""
        if self._running:
            raise RuntimeError("AmiClient.run() is already running")
        self._running = True
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._deliver_events(), name="ami-events")
                await self._keep_connected()
        finally:
            await self._close_link()
            self._running = False
            self._set_state(AmiState.STOPPED, self._health.last_error)

    # --- connection lifecycle -----------------------------------------------------------
    async def _keep_connected(self) -> None:
        tries = 0
        auth_failure_logged = False
        while True:
            if self._health.state != AmiState.AUTH_FAILED:
                self._set_state(AmiState.CONNECTING, self._health.last_error)
            try:
                link = await self._connect()
            except _AuthFailed as exc:
                error = f"login refused: {exc}"
                self._set_state(AmiState.AUTH_FAILED, error)
                if not auth_failure_logged:
                    log.error("AMI: Asterisk refused login as %r: %s", self._config.username, exc)
                    auth_failure_logged = True
            except (OSError, TimeoutError, AmiUnavailable) as exc:
                error = f"{exc.__class__.__name__}: {exc}"
                # With wrong credentials, a refused connection in between keeps the
                # operator's attention on the credentials.
                if self._health.state != AmiState.AUTH_FAILED:
                    self._set_state(AmiState.DISCONNECTED, error)
            else:
                tries = 0
                auth_failure_logged = False
                await self._stay_connected(link)
                error = link.loss_reason
                self._set_state(AmiState.DISCONNECTED, error)
            delay = min(1.8**tries, self._config.backoff_max)
            # ReconnectLogic style: the first failure in a row is worth a warning, the
            # retries that follow only clutter the log.
            level = logging.WARNING if tries == 0 else logging.DEBUG
            log.log(level, "AMI: link down (%s); retrying in %.1f s", error, delay)
            tries += 1
            await self._sleep(delay)

    async def _connect(self) -> _AmiProtocol:
        """Open a connection, wait for the banner and log in; the link is the result."""
        config = self._config
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(config.connect_timeout):
                _, link = await loop.create_connection(
                    lambda: _AmiProtocol(self._events.put_nowait), config.host, config.port
                )
                self._link = link
                await link.banner
            if link.version is None:
                raise AmiUnavailable(f"no AMI banner ({link.loss_reason})")
            login = {
                "Action": "Login",
                "Username": config.username,
                "Secret": config.secret,
                # All events the user's `read` classes allow.
                "Events": "on",
            }
            try:
                await self._request(link, login, config.request_timeout)
            except AmiRequestFailed as exc:
                # Asterisk also closes the connection after a refused login.
                raise _AuthFailed(exc.message) from None
        except BaseException as exc:
            # On cancellation run() closes the link and waits until the socket is shut.
            if self._link is not None and not isinstance(exc, asyncio.CancelledError):
                self._link.drop("connection attempt abandoned")
                self._link = None
            raise
        log.info("AMI: logged in to Asterisk (AMI %s)", link.version)
        self._logins += 1
        self._logged_in = True
        self._connected.set()
        self._set_state(AmiState.CONNECTED, None)
        return link

    async def _stay_connected(self, link: _AmiProtocol) -> None:
        """Return when the link is lost; Ping every interval, cut it if no Pong comes.

        On cancellation the link is left to `run()`, which closes it with a Logoff.
        """
        config = self._config
        while True:
            done, _ = await asyncio.wait({link.lost}, timeout=config.ping_interval)
            if done:
                break
            try:
                await self._request(link, {"Action": "Ping"}, config.ping_timeout)
            except AmiTimeout:
                # TCP can stay "up" for minutes after Asterisk froze or a NAT/firewall
                # forgot us; without this, events would silently stop.
                link.drop(f"no Pong within {config.ping_timeout:g} s")
                break
            except AmiUnavailable:
                break
            except AmiRequestFailed:
                pass  # an answer all the same: the link is alive
        self._logged_in = False
        self._connected.clear()
        self._link = None
        link.drop(link.loss_reason)

    async def _close_link(self) -> None:
        link, self._link = self._link, None
        logged_in, self._logged_in = self._logged_in, False
        self._connected.clear()
        if link is None or link.lost.done():
            return
        link.close_gracefully(logoff=logged_in)
        # Let connection_lost run so the socket is really closed when run() returns.
        done, _ = await asyncio.wait({link.lost}, timeout=1.0)
        if not done:
            link.drop("closed by lexcrm")

    async def _request(
        self, link: _AmiProtocol, action: ActionFields, seconds: float
    ) -> list[Message]:
        action_id, name, future = link.send(action)
        try:
            async with asyncio.timeout(seconds):
                messages = await future
        except TimeoutError:
            raise AmiTimeout(name, seconds) from None
        finally:
            link.forget(action_id)
        response = messages[0]
        if str(response.get("Response", "")).lower() == "error":
            raise AmiRequestFailed(name, str(response.get("Message", "")), response)
        return messages

    # --- events and state ---------------------------------------------------------------
    async def _deliver_events(self) -> None:
        while True:
            event = await self._events.get()
            try:
                result = self._on_event(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                # Event boundary: one bad event must not stop the next ones. Name and
                # linkedid only; the event itself may hold a caller's number.
                log.exception(
                    "AMI: handler failed on %s (linkedid %s)",
                    _event_name(event),
                    event.get("Linkedid", "-"),
                )

    def _set_state(self, state: AmiState, error: str | None) -> None:
        current = self._health
        reconnects = max(self._logins - 1, 0)
        if (current.state, current.last_error, current.reconnects) == (state, error, reconnects):
            return
        since = self._clock() if state != current.state else current.since
        self._health = AmiHealth(state, since, error, reconnects)
        if self._on_state is not None:
            try:
                self._on_state(self._health)
            except Exception:
                log.exception("AMI: on_state callback failed")
