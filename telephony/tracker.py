"""CallTracker: a pure state machine from Asterisk AMI events to the CRM's call events."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from crm.calls.events import (
    CallAnswered,
    CallDirection,
    CallEnded,
    CallEvent,
    CallRinging,
    CallStarted,
    Disposition,
    RecordingReady,
)
from crm.core.phones import EXTENSION_DIGITS

__all__ = ["CallTracker", "CallView", "ChannelView"]

# Desk phones are PJSIP endpoints named by their extension; the carrier trunk is `trunk` or
# `trunk-*`, never all digits, so the endpoint's name alone tells an employee's channel.
_EMPLOYEE_ENDPOINT = re.compile(EXTENSION_DIGITS)
_TIMESTAMP = re.compile(r"(\d+)(?:\.(\d+))?")

# AMI ChannelState values (enum ast_channel_state).
_STATE_RINGING = "5"
_STATE_UP = "6"

_DIAL_STATUS = {
    "BUSY": Disposition.busy,
    "NOANSWER": Disposition.no_answer,
    # The caller gave up while the other side was still ringing.
    "CANCEL": Disposition.abandoned,
    "CONGESTION": Disposition.failed,
    "CHANUNAVAIL": Disposition.failed,
}

_OUTCOMES = {
    d.value: d
    for d in (Disposition.no_answer, Disposition.busy, Disposition.abandoned, Disposition.failed)
}

_FALLBACK = {
    # Nobody in the firm picked up a caller who then hung up.
    CallDirection.inbound: Disposition.abandoned,
    # An outbound leg that never got anywhere and left no reason.
    CallDirection.outbound: Disposition.failed,
    CallDirection.internal: Disposition.no_answer,
}

# Events that only describe a channel coming to life; every other event of a call is a sign
# that the dialplan has had its chance to announce the call (see `CallTracker`).
_QUIET_EVENTS = frozenset({"newchannel", "newstate"})


def _cause_disposition(cause: str) -> Disposition | None:
    """Q.850 cause of the far end's channel; 0 (not defined) and 16 (normal) tell nothing."""
    try:
        code = int(cause)
    except ValueError:
        return None
    if code in (0, 16):
        return None
    if code == 17:
        return Disposition.busy
    if code in (18, 19):  # no user responding / no answer from user
        return Disposition.no_answer
    return Disposition.failed  # 21 rejected, 34/38 congestion, unallocated numbers…


def _employee_extension(name: str) -> str | None:
    """`PJSIP/1001-0000000a` → `1001`; None for the trunk, Local channels and the unknown."""
    tech, slash, rest = name.partition("/")
    if tech.upper() != "PJSIP" or not slash:
        return None
    endpoint = rest.rpartition("-")[0] or rest
    return endpoint if _EMPLOYEE_ENDPOINT.fullmatch(endpoint) else None


def _is_external(name: str) -> bool:
    """A PJSIP channel that is not a desk phone: the carrier's, i.e. the other party's."""
    tech, slash, _ = name.partition("/")
    return tech.upper() == "PJSIP" and bool(slash) and _employee_extension(name) is None


@dataclass(frozen=True)
class ChannelView:
    """One live channel of a call as the tracker sees it."""

    uniqueid: str
    name: str
    extension: str | None  # the desk phone's extension when the channel is an employee's
    state: str  # AMI ChannelState, e.g. "5" ringing, "6" up
    bridge: str | None


@dataclass(frozen=True)
class CallView:
    """A read-only snapshot of one active call."""

    linkedid: str
    first_seen_at: datetime
    # The direction CallStarted carried, or the best known one before it; None while undecided.
    direction: CallDirection | None
    client_code: str | None
    started: bool  # CallStarted has been emitted
    answered_by: str | None
    rung: tuple[str, ...]  # extensions that rang, in order
    channels: tuple[ChannelView, ...]
    recording_files: tuple[str, ...]


@dataclass
class _Channel:
    uniqueid: str
    name: str = ""
    state: str = ""
    bridge: str | None = None
    bridged_seq: int = 0
    rang: bool = False

    @property
    def extension(self) -> str | None:
        return _employee_extension(self.name)


@dataclass
class _Call:
    linkedid: str
    first_seen_at: datetime
    channels: dict[str, _Channel] = field(default_factory=dict)
    # Channels that hung up: a late duplicate event must not bring them back.
    gone: set[str] = field(default_factory=set)
    # Asterisk gives a call's first channel Uniqueid == Linkedid; until the tracker has seen
    # it (or listed every channel in a resync) it may not know all the call's channels.
    knows_all_channels: bool = False
    origin_context: str = ""
    origin_external: bool = False
    external_joined: bool = False
    # When the client's phone began to ring, on a call the firm placed: an unanswered
    # call's ring time counts from here, not from the employee's own phone.
    client_ringing_at: datetime | None = None
    announced: bool = False
    announced_direction: CallDirection | None = None
    client_code: str | None = None
    started: bool = False
    direction: CallDirection | None = None  # fixed once CallStarted is out
    held: list[CallEvent] = field(default_factory=list)
    rung: list[str] = field(default_factory=list)
    answered_by: str | None = None
    outcome: Disposition | None = None
    abandoned: bool = False
    last_dial_status: str = ""
    external_cause: Disposition | None = None
    recording: tuple[str, ...] = ()
    queue: str | None = None  # the queue the caller waited in, the first one

    def best_direction(self) -> CallDirection | None:
        """The direction as far as it is settled, None while it could still change."""
        if self.direction is not None:
            return self.direction
        if self.announced_direction is not None:
            return self.announced_direction
        if self.origin_context.startswith("from-trunk"):
            return CallDirection.inbound
        if self.origin_context == "lexcrm-internal":
            return CallDirection.internal
        # The carrier's channel comes first only when the carrier called us (this settles
        # calls whose first channel was seen mid-dialplan, e.g. listed in a resync).
        if self.origin_external:
            return CallDirection.inbound
        if self.external_joined:
            return CallDirection.outbound
        return None


_Handler = Callable[[dict[str, str], datetime, list[CallEvent]], list[_Call]]


class CallTracker:
    """Follows every call by Linkedid and its channels by Uniqueid; no I/O, no clock.

    `feed()` takes one AMI event and returns the domain events it causes, in order.

    When CallStarted goes out: a call is created when its first channel is seen, but
    CallStarted (with `at` = that first sight) is emitted only once its direction is best
    known, at the first of:
    1. the dialplan's `LexcrmCall` UserEvent (authoritative direction and client code);
    2. any later event of the call other than Newchannel/Newstate (DialBegin, BridgeEnter,
       Hangup, …) or any domain event of the call, provided the direction is settled
       without the UserEvent: the first channel's context is `from-trunk*` (inbound) or
       `lexcrm-internal` (internal), the first channel is the carrier's (inbound), or a
       carrier channel has joined (outbound);
    3. the end of the call, with the fallback direction `internal`.
    Until then the call's domain events (CallRinging, CallAnswered) are held, in order, and
    follow CallStarted. In practice the UserEvent comes a few ms after the first Newchannel;
    a click-to-call's employee leg is held only while it rings, since the controller's
    dialplan announces it as soon as the employee answers.
    """

    def __init__(self, *, remember_ended: int = 1024) -> None:
        self._calls: dict[str, _Call] = {}
        self._owner: dict[str, str] = {}  # uniqueid → linkedid, for live and hung-up channels
        # Ended calls, so a late stray event of one neither resurrects it nor emits anything.
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._remember_ended = remember_ended
        self._bridge_seq = 0
        self._last_at = datetime.fromtimestamp(0, UTC)
        self._handlers: dict[str, _Handler] = {
            "newchannel": self._on_newchannel,
            "newstate": self._on_newstate,
            "dialbegin": self._on_dialbegin,
            "dialend": self._on_dialend,
            "bridgeenter": self._on_bridgeenter,
            "bridgeleave": self._on_bridgeleave,
            "hangup": self._on_hangup,
            "queuecallerjoin": self._on_queuecallerjoin,
            "queuecallerabandon": self._on_queuecallerabandon,
            "userevent": self._on_userevent,
        }

    # -- public API --------------------------------------------------------------------------

    def feed(self, event: Mapping[str, str]) -> list[CallEvent]:
        """Take one AMI event; return the domain events it causes (often none)."""
        headers = {key.lower(): value.strip() for key, value in event.items()}
        kind = headers.get("event", "").lower()
        handler = self._handlers.get(kind)
        if handler is None:
            return []
        at = self._parse_at(headers.get("timestamp", ""))
        out: list[CallEvent] = []
        for call in handler(headers, at, out):
            if self._calls.get(call.linkedid) is call and not call.started:
                if (kind not in _QUIET_EVENTS or call.held) and call.best_direction():
                    self._start(call, out)
        return out

    def resync(self, channels: Iterable[Mapping[str, str]], at: datetime) -> list[CallEvent]:
        """Align with Asterisk's live channels (CoreShowChannel events) after a reconnect.

        Known channels that are absent hung up while nobody watched; calls left without a
        channel end with `inferred=True`. Unknown live channels are adopted.
        """
        live = [{key.lower(): value.strip() for key, value in ch.items()} for ch in channels]
        live_ids = {ch.get("uniqueid", "") for ch in live}
        out: list[CallEvent] = []
        for call in self._calls.values():
            for uniqueid in [u for u in call.channels if u not in live_ids]:
                del call.channels[uniqueid]
                call.gone.add(uniqueid)
        for headers in live:
            found = self._touch(headers, "", at)
            if found is None:
                continue
            call, channel = found
            bridge = headers.get("bridgeid") or None
            if bridge != channel.bridge:
                self._enter_bridge(channel, bridge)
            if channel.state == _STATE_RINGING:
                self._ring(call, channel, at, out)
        for call in list(self._calls.values()):
            # Asterisk just listed every live channel: the call's set is complete.
            call.knows_all_channels = True
            self._check_answered(call, at, out)
            if not call.channels:
                self._end(call, at, out, inferred=True)
            elif not call.started and call.best_direction():
                self._start(call, out)
        return out

    def active_calls(self) -> frozenset[str]:
        """Linkedids of the calls that have not ended."""
        return frozenset(self._calls)

    def call(self, linkedid: str) -> CallView | None:
        """A snapshot of an active call, or None if unknown or ended."""
        call = self._calls.get(linkedid)
        if call is None:
            return None
        return CallView(
            linkedid=call.linkedid,
            first_seen_at=call.first_seen_at,
            direction=call.best_direction(),
            client_code=call.client_code,
            started=call.started,
            answered_by=call.answered_by,
            rung=tuple(call.rung),
            channels=tuple(
                ChannelView(ch.uniqueid, ch.name, ch.extension, ch.state, ch.bridge)
                for ch in call.channels.values()
            ),
            recording_files=call.recording,
        )

    # -- AMI event handlers (`_on_<event>`): each returns the calls it touched ------------

    def _on_newchannel(self, ev: dict[str, str], at: datetime, out: list[CallEvent]) -> list[_Call]:
        found = self._touch(ev, "", at)
        if found is None:
            return []
        call, channel = found
        if channel.state == _STATE_RINGING:
            self._ring(call, channel, at, out)
        return [call]

    def _on_newstate(self, ev: dict[str, str], at: datetime, out: list[CallEvent]) -> list[_Call]:
        found = self._touch(ev, "", at)
        if found is None:
            return []
        call, channel = found
        if channel.state == _STATE_RINGING:
            self._ring(call, channel, at, out)
        return [call]

    def _on_dialbegin(self, ev: dict[str, str], at: datetime, out: list[CallEvent]) -> list[_Call]:
        # An Originate has a DialBegin with no caller fields: only Dest* are there.
        caller = self._touch(ev, "", at)
        dest = self._touch(ev, "dest", at)
        if dest is not None:
            self._ring(dest[0], dest[1], at, out)
        return [found[0] for found in (caller, dest) if found is not None]

    def _on_dialend(self, ev: dict[str, str], at: datetime, out: list[CallEvent]) -> list[_Call]:
        caller = self._touch(ev, "", at)
        dest = self._touch(ev, "dest", at)
        target = dest or caller
        if target is not None:
            target[0].last_dial_status = ev.get("dialstatus", "").upper()
        return [found[0] for found in (caller, dest) if found is not None]

    def _on_bridgeenter(
        self, ev: dict[str, str], at: datetime, out: list[CallEvent]
    ) -> list[_Call]:
        found = self._touch(ev, "", at)
        if found is None:
            return []
        call, channel = found
        bridge = ev.get("bridgeuniqueid", "")
        if bridge and channel.bridge != bridge:
            self._enter_bridge(channel, bridge)
            self._check_answered(call, at, out)
        return [call]

    def _on_bridgeleave(
        self, ev: dict[str, str], at: datetime, out: list[CallEvent]
    ) -> list[_Call]:
        found = self._touch(ev, "", at)
        if found is None:
            return []
        call, channel = found
        if channel.bridge == ev.get("bridgeuniqueid", ""):
            channel.bridge = None
        return [call]

    def _on_hangup(self, ev: dict[str, str], at: datetime, out: list[CallEvent]) -> list[_Call]:
        uniqueid = ev.get("uniqueid", "")
        linkedid = ev.get("linkedid") or uniqueid
        if uniqueid not in self._owner and linkedid not in self._calls and uniqueid != linkedid:
            # The hang-up of one leg of a call never seen tells neither when the call began nor
            # whether it is over; the next resync (or the CDR) accounts for that call.
            return []
        found = self._touch(ev, "", at)
        if found is None:
            return []
        call, channel = found
        if _is_external(channel.name):
            cause = _cause_disposition(ev.get("cause", ""))
            if cause is not None:
                call.external_cause = cause
        del call.channels[channel.uniqueid]
        call.gone.add(channel.uniqueid)
        if not call.channels and call.knows_all_channels:
            self._end(call, at, out, inferred=False)
        return [call]

    def _on_queuecallerjoin(
        self, ev: dict[str, str], at: datetime, out: list[CallEvent]
    ) -> list[_Call]:
        found = self._touch(ev, "", at)
        if found is None:
            return []
        found[0].queue = found[0].queue or ev.get("queue") or None
        return [found[0]]

    def _on_queuecallerabandon(
        self, ev: dict[str, str], at: datetime, out: list[CallEvent]
    ) -> list[_Call]:
        found = self._touch(ev, "", at)
        if found is None:
            return []
        found[0].abandoned = True
        found[0].queue = found[0].queue or ev.get("queue") or None
        return [found[0]]

    def _on_userevent(self, ev: dict[str, str], at: datetime, out: list[CallEvent]) -> list[_Call]:
        name = ev.get("userevent", "").lower()
        if name not in ("lexcrmcall", "lexcrmrecording", "lexcrmoutcome"):
            return []
        found = self._touch(ev, "", at)
        if found is None:
            return []
        call = found[0]
        if name == "lexcrmcall":
            # Announced once by the dialplan; a repeat (or one after CallStarted) changes nothing.
            if not call.announced and not call.started:
                call.announced = True
                try:
                    call.announced_direction = CallDirection(ev.get("direction", "").lower())
                except ValueError:
                    call.announced_direction = None
                call.client_code = ev.get("client") or None
                if call.best_direction():
                    self._start(call, out)
        elif name == "lexcrmrecording":
            # "^" separates the paths: a comma would end the UserEvent's argument.
            files = (path.strip() for path in ev.get("files", "").split("^"))
            call.recording = tuple(path for path in files if path)
        else:
            outcome = _OUTCOMES.get(ev.get("reason", "").lower())
            if outcome is not None:
                call.outcome = outcome
        return [call]

    # -- internals --------------------------------------------------------------------------

    def _parse_at(self, raw: str) -> datetime:
        """Asterisk's `Timestamp: 1795746352.123456` as an aware UTC datetime."""
        # Needs `timestampevents = yes` in manager.conf; an event without one takes the time of
        # the last event seen (the tracker has no clock of its own).
        match = _TIMESTAMP.fullmatch(raw)
        if match is None:
            return self._last_at
        micros = int((match.group(2) or "0").ljust(6, "0")[:6])
        at = datetime.fromtimestamp(int(match.group(1)), UTC) + timedelta(microseconds=micros)
        self._last_at = at
        return at

    def _touch(
        self, ev: Mapping[str, str], prefix: str, at: datetime
    ) -> tuple[_Call, _Channel] | None:
        """The call and channel an event names (with `prefix`: the Dest* side), created on first
        sight; None if the channel hung up already or its call has ended."""
        uniqueid = ev.get(prefix + "uniqueid", "")
        if not uniqueid:
            return None
        linkedid = self._owner.get(uniqueid)
        if linkedid is not None:
            # A channel stays in the call it was first seen in, even if a later event shows
            # another Linkedid, so that the call's channel count stays true.
            call = self._calls[linkedid]
            if uniqueid in call.gone:
                return None
            channel = call.channels[uniqueid]
        else:
            linkedid = ev.get(prefix + "linkedid") or uniqueid
            if linkedid in self._ended:
                return None
            call = self._calls.get(linkedid) or self._new_call(linkedid, at)
            channel = _Channel(uniqueid)
            call.channels[uniqueid] = channel
            self._owner[uniqueid] = linkedid
            if uniqueid == linkedid:
                call.knows_all_channels = True
                call.origin_context = ev.get(prefix + "context", "")
        name = ev.get(prefix + "channel", "")
        if name and not channel.name:
            # Only the first name counts: a masquerade later renames channels (`<ZOMBIE>`).
            channel.name = name
            if _is_external(name):
                if uniqueid == call.linkedid:
                    call.origin_external = True
                else:
                    call.external_joined = True
        state = ev.get(prefix + "channelstate", "")
        if not state and ev.get(prefix + "channelstatedesc", "").lower() == "ringing":
            state = _STATE_RINGING
        if state:
            channel.state = state
            if (
                state in (_STATE_RINGING, _STATE_UP)
                and call.client_ringing_at is None
                and uniqueid != call.linkedid
                and _is_external(channel.name)
            ):
                # The carrier said the client's phone rings (180), or the client picked up
                # at once: not when it was asked, since a post-dial wait or a recorded
                # "subscriber unavailable" (183) is no ringing.
                call.client_ringing_at = at
        return call, channel

    def _new_call(self, linkedid: str, at: datetime) -> _Call:
        call = _Call(linkedid, at)
        self._calls[linkedid] = call
        return call

    def _emit(self, call: _Call, event: CallEvent, out: list[CallEvent]) -> None:
        """Emit a domain event of `call`, after its CallStarted (held until that can go out)."""
        if not call.started:
            if call.best_direction() is None:
                call.held.append(event)
                return
            self._start(call, out)
        out.append(event)

    def _start(self, call: _Call, out: list[CallEvent]) -> None:
        call.direction = call.best_direction() or CallDirection.internal
        call.started = True
        client = None if call.direction is CallDirection.internal else call.client_code
        out.append(CallStarted(call.linkedid, call.first_seen_at, call.direction, client))
        out.extend(call.held)
        call.held.clear()

    def _ring(self, call: _Call, channel: _Channel, at: datetime, out: list[CallEvent]) -> None:
        extension = channel.extension
        if extension is None or channel.rang:
            return
        channel.rang = True
        call.rung.append(extension)
        self._emit(call, CallRinging(call.linkedid, at, extension), out)

    def _enter_bridge(self, channel: _Channel, bridge: str | None) -> None:
        self._bridge_seq += 1
        channel.bridge = bridge
        channel.bridged_seq = self._bridge_seq

    def _check_answered(self, call: _Call, at: datetime, out: list[CallEvent]) -> None:
        """CallAnswered the first time a bridge holds two of the call's channels, one a desk
        phone's: that is when the two parties can hear each other."""
        if call.answered_by is not None:
            return
        bridges: dict[str, list[_Channel]] = {}
        for channel in call.channels.values():
            if channel.bridge is not None:
                bridges.setdefault(channel.bridge, []).append(channel)
        for members in bridges.values():
            if len(members) < 2:
                continue
            members.sort(key=lambda ch: ch.bridged_seq)
            employees = [ch for ch in members if ch.extension is not None]
            # The called phone answers, not the one that placed the call (internal calls);
            # a click-to-call's employee leg is the first channel and the only phone.
            called = [ch for ch in employees if ch.uniqueid != call.linkedid] or employees
            extension = called[-1].extension if called else None
            if extension is not None:
                call.answered_by = extension
                self._emit(call, CallAnswered(call.linkedid, at, extension), out)
                return

    def _disposition(self, call: _Call, *, inferred: bool) -> Disposition:
        if call.answered_by is not None:
            return Disposition.answered
        if call.outcome is not None:
            return call.outcome
        if call.abandoned:
            return Disposition.abandoned
        dialled = _DIAL_STATUS.get(call.last_dial_status)
        if dialled is not None:
            return dialled
        if call.external_cause is not None:
            return call.external_cause
        if inferred:
            return Disposition.unknown
        return _FALLBACK[call.direction or CallDirection.internal]

    def _end(self, call: _Call, at: datetime, out: list[CallEvent], *, inferred: bool) -> None:
        if not call.started:
            self._start(call, out)
        disposition = self._disposition(call, inferred=inferred)
        out.append(
            CallEnded(
                call.linkedid,
                at,
                disposition,
                call.answered_by,
                inferred,
                client_ringing_at=call.client_ringing_at,
                queue=call.queue,
            )
        )
        if call.recording:
            # MixMonitor closes its files when the channel hangs up: only now are they whole.
            out.append(RecordingReady(call.linkedid, at, call.recording))
        del self._calls[call.linkedid]
        for uniqueid in [*call.channels, *call.gone]:
            self._owner.pop(uniqueid, None)
        self._ended[call.linkedid] = None
        while len(self._ended) > self._remember_ended:
            self._ended.popitem(last=False)
