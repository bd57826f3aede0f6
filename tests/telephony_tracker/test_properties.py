"""Call tracker invariants over random interleavings of calls, disconnects and resyncs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
from telephony.tracker import CallTracker
from tests.telephony_tracker import Event, LiveChannels, Pbx, moment, timestamp

EXTENSIONS = ("1001", "1002", "1003", "1004")


@dataclass(frozen=True)
class Expected:
    """What the tracker must say about a call it watched from start to end."""

    direction: CallDirection
    client_code: str | None
    disposition: Disposition
    answered_by: str | None
    recording: bool


@dataclass
class GeneratedCall:
    linkedid: str
    events: list[Event]
    expected: Expected
    bridged: set[str] = field(default_factory=set)  # extensions that were ever in a bridge

    def __post_init__(self) -> None:
        for event in self.events:
            if event["Event"] == "BridgeEnter" and event["Channel"][6:].split("-")[0].isdigit():
                self.bridged.add(event["Channel"][6:].split("-")[0])


@st.composite
def inbound_calls(draw: st.DrawFn, pbx: Pbx) -> GeneratedCall:
    """Carrier → queue → members ring → one answers, the caller abandons, or the queue times out."""
    announce = draw(st.booleans())
    client = draw(st.sampled_from(["c12", "new-17", ""]))
    record = draw(st.booleans())
    extensions = draw(st.lists(st.sampled_from(EXTENSIONS), min_size=1, max_size=3, unique=True))
    outcome = draw(st.sampled_from(["answer", "abandon", "timeout"]))
    trunk = pbx.channel("trunk", context="from-trunk")
    events = [pbx.newchannel(trunk, "4")]
    if announce:
        events.append(pbx.lexcrm_call(trunk, "inbound", client))
    if record:
        events.append(pbx.lexcrm_recording(trunk))
    events.append(pbx.newstate(trunk, "6"))
    members = [pbx.channel(ext, of=trunk, context="lexcrm-internal") for ext in extensions]
    for member in members:
        events += [
            pbx.newchannel(member),
            pbx.dial_begin(trunk, member),
            pbx.newstate(member, "5"),
        ]
    answered_by: str | None = None
    if outcome == "answer":
        index = draw(st.integers(0, len(members) - 1))
        winner = members[index]
        answered_by = extensions[index]
        events += [pbx.dial_end(trunk, winner, "ANSWER"), pbx.newstate(winner, "6")]
        for other in members:
            if other is not winner:
                events += [pbx.dial_end(trunk, other, "CANCEL"), pbx.hangup(other, 26)]
        bridge = f"bridge-{trunk.uniqueid}"
        pair = [trunk, winner] if draw(st.booleans()) else [winner, trunk]
        events += [pbx.bridge_enter(bridge, chan) for chan in pair]
        for chan in pair if draw(st.booleans()) else pair[::-1]:
            events += [pbx.bridge_leave(bridge, chan), pbx.hangup(chan)]
        disposition = Disposition.answered
    elif outcome == "abandon":
        events.append(pbx.queue_caller_abandon(trunk))
        for member in members:
            events += [pbx.dial_end(trunk, member, "CANCEL"), pbx.hangup(member)]
        events.append(pbx.hangup(trunk))
        disposition = Disposition.abandoned
    else:
        for member in members:
            events += [pbx.dial_end(trunk, member, "NOANSWER"), pbx.hangup(member, 19)]
        events += [pbx.lexcrm_outcome(trunk, "no_answer"), pbx.hangup(trunk)]
        disposition = Disposition.no_answer
    expected = Expected(
        CallDirection.inbound,
        (client or None) if announce else None,
        disposition,
        answered_by,
        record,
    )
    return GeneratedCall(trunk.linkedid, events, expected)


CARRIER_ENDINGS = {
    "busy": ("BUSY", 17, Disposition.busy),
    "no_answer": ("NOANSWER", 19, Disposition.no_answer),
    "congestion": ("CONGESTION", 34, Disposition.failed),
    "cancel": ("CANCEL", 16, Disposition.abandoned),
}


@st.composite
def click_to_calls(draw: st.DrawFn, pbx: Pbx) -> GeneratedCall:
    """Originate to a desk phone, which answers; then the dialplan dials the client."""
    announce = draw(st.booleans())
    client = draw(st.sampled_from(["c12", "c7"]))
    record = draw(st.booleans())
    extension = draw(st.sampled_from(EXTENSIONS))
    outcome = draw(st.sampled_from(["answer", *CARRIER_ENDINGS]))
    phone = pbx.channel(extension)
    events = [
        pbx.newchannel(phone),
        pbx.dial_begin(None, phone),
        pbx.newstate(phone, "5"),
        pbx.dial_end(None, phone, "ANSWER"),
        pbx.newstate(phone, "6"),
    ]
    if announce:
        events.append(pbx.lexcrm_call(phone, "outbound", client))
    if record:
        events.append(pbx.lexcrm_recording(phone))
    trunk = pbx.channel("trunk", of=phone)
    events += [pbx.newchannel(trunk), pbx.dial_begin(phone, trunk), pbx.newstate(trunk, "5")]
    answered_by: str | None = None
    if outcome == "answer":
        bridge = f"bridge-{phone.uniqueid}"
        events += [
            pbx.newstate(trunk, "6"),
            pbx.dial_end(phone, trunk, "ANSWER"),
            pbx.bridge_enter(bridge, phone),
            pbx.bridge_enter(bridge, trunk),
        ]
        pair = [phone, trunk] if draw(st.booleans()) else [trunk, phone]
        for chan in pair:
            events += [pbx.bridge_leave(bridge, chan), pbx.hangup(chan)]
        answered_by = extension
        disposition = Disposition.answered
    else:
        status, cause, disposition = CARRIER_ENDINGS[outcome]
        if draw(st.booleans()) or outcome == "cancel":
            events.append(pbx.dial_end(phone, trunk, status))
        events += [pbx.hangup(trunk, cause), pbx.hangup(phone)]
    expected = Expected(
        CallDirection.outbound, client if announce else None, disposition, answered_by, record
    )
    return GeneratedCall(phone.linkedid, events, expected)


INTERNAL_ENDINGS = {
    "BUSY": Disposition.busy,
    "NOANSWER": Disposition.no_answer,
    "CANCEL": Disposition.abandoned,
    "CHANUNAVAIL": Disposition.failed,
}


@st.composite
def internal_calls(draw: st.DrawFn, pbx: Pbx) -> GeneratedCall:
    caller_ext, callee_ext = draw(
        st.lists(st.sampled_from(EXTENSIONS), min_size=2, max_size=2, unique=True)
    )
    outcome = draw(st.sampled_from(["answer", *INTERNAL_ENDINGS]))
    caller = pbx.channel(caller_ext, context="lexcrm-internal", exten=callee_ext)
    callee = pbx.channel(callee_ext, of=caller, context="lexcrm-internal")
    events = [pbx.newchannel(caller, "4")]
    if draw(st.booleans()):
        events.append(pbx.lexcrm_call(caller, "internal"))
    events += [pbx.newchannel(callee), pbx.dial_begin(caller, callee), pbx.newstate(callee, "5")]
    answered_by: str | None = None
    if outcome == "answer":
        bridge = f"bridge-{caller.uniqueid}"
        pair = [caller, callee] if draw(st.booleans()) else [callee, caller]
        events += [
            pbx.newstate(callee, "6"),
            pbx.dial_end(caller, callee, "ANSWER"),
            *(pbx.bridge_enter(bridge, chan) for chan in pair),
        ]
        for chan in pair if draw(st.booleans()) else pair[::-1]:
            events += [pbx.bridge_leave(bridge, chan), pbx.hangup(chan)]
        answered_by = callee_ext
        disposition = Disposition.answered
    else:
        disposition = INTERNAL_ENDINGS[outcome]
        events += [pbx.dial_end(caller, callee, outcome), pbx.hangup(callee), pbx.hangup(caller)]
    expected = Expected(CallDirection.internal, None, disposition, answered_by, False)
    return GeneratedCall(caller.linkedid, events, expected)


@dataclass
class Scenario:
    calls: list[GeneratedCall]
    order: list[int]  # which call each next event comes from
    dropped: frozenset[int]  # positions lost to disconnects (each followed by a resync)
    cut: int | None  # events from here on never arrive: Asterisk restarted, resync([])
    repeated: frozenset[int] = frozenset()  # positions delivered twice in a row

    def merged(self) -> Iterator[tuple[GeneratedCall, Event]]:
        cursors = [iter(call.events) for call in self.calls]
        for index in self.order:
            yield self.calls[index], next(cursors[index])


@st.composite
def scenarios(draw: st.DrawFn, *, disconnects: bool = True) -> Scenario:
    pbx = Pbx()
    call_strategy = st.one_of(inbound_calls(pbx), click_to_calls(pbx), internal_calls(pbx))
    calls = draw(st.lists(call_strategy, min_size=1, max_size=4))
    tags = [index for index, call in enumerate(calls) for _ in call.events]
    order = draw(st.permutations(tags))
    dropped: set[int] = set()
    cut = None
    if disconnects:
        windows = draw(
            st.lists(st.tuples(st.integers(0, len(tags)), st.integers(1, 12)), max_size=2)
        )
        for start, length in windows:
            dropped.update(range(start, min(start + length, len(tags))))
        cut = draw(st.none() | st.integers(0, len(tags)))
    repeated = draw(st.frozensets(st.integers(0, len(tags) - 1), max_size=5))
    return Scenario(calls, list(order), frozenset(dropped), cut, repeated)


@dataclass
class Run:
    out: list[CallEvent]
    tracker: CallTracker
    # Calls the tracker was told about: an event of theirs arrived, or a resync listed them.
    shown: set[str]


def run(scenario: Scenario) -> Run:
    tracker = CallTracker()
    truth = LiveChannels()
    out: list[CallEvent] = []
    shown: set[str] = set()
    in_gap = False

    def resync(listing: list[Event], index: int) -> None:
        shown.update(channel["Linkedid"] for channel in listing)
        out.extend(tracker.resync(listing, moment(index)))

    for index, (call, event) in enumerate(scenario.merged()):
        if scenario.cut is not None and index >= scenario.cut:
            break
        if index in scenario.dropped:
            truth.apply(event)
            in_gap = True
            continue
        if in_gap:
            # Reconnected: the controller lists the live channels before reading on.
            resync(truth.listing(), index)
            in_gap = False
        truth.apply(event)
        shown.add(call.linkedid)
        for _ in range(2 if index in scenario.repeated else 1):
            out.extend(tracker.feed({**event, "Timestamp": timestamp(index)}))
    if scenario.cut is not None:
        resync([], 10_000)  # Asterisk restarted: not one channel is left
    elif in_gap:
        resync(truth.listing(), 10_000)
    return Run(out, tracker, shown)


def check_invariants(scenario: Scenario, result: Run) -> dict[str, list[CallEvent]]:
    calls = {call.linkedid: call for call in scenario.calls}
    by_call: dict[str, list[CallEvent]] = defaultdict(list)
    for event in result.out:
        by_call[event.linkedid].append(event)

    assert set(by_call) <= set(calls), "an event for a call that never existed"
    assert set(by_call) == result.shown, "a call the tracker was shown was never reported"
    assert result.tracker.active_calls() == frozenset(), "phantom call left active"
    for linkedid, events in by_call.items():
        assert isinstance(events[0], CallStarted), events
        assert sum(isinstance(e, CallStarted) for e in events) == 1, events
        ends = [i for i, e in enumerate(events) if isinstance(e, CallEnded)]
        assert len(ends) == 1, events
        after = events[ends[0] + 1 :]
        assert len(after) <= 1 and all(isinstance(e, RecordingReady) for e in after), events
        assert all(e.at >= events[0].at for e in events), events
        answers = [e for e in events if isinstance(e, CallAnswered)]
        assert len(answers) <= 1, events
        rung = [e.extension for e in events if isinstance(e, CallRinging)]
        assert len(rung) == len(set(rung)), "the same phone reported ringing twice"
        ended = events[ends[0]]
        assert isinstance(ended, CallEnded)
        if ended.answered_by is None:
            assert not answers
        else:
            assert ended.disposition is Disposition.answered
            assert [a.extension for a in answers] == [ended.answered_by]
            assert ended.answered_by in set(rung) | calls[linkedid].bridged
    return by_call


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_invariants_hold_through_interleavings_and_disconnects(scenario: Scenario) -> None:
    check_invariants(scenario, run(scenario))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(disconnects=False))
def test_an_uninterrupted_watch_reports_each_call_exactly(scenario: Scenario) -> None:
    by_call = check_invariants(scenario, run(scenario))
    for call in scenario.calls:
        events = by_call[call.linkedid]
        started, ended = events[0], next(e for e in events if isinstance(e, CallEnded))
        assert isinstance(started, CallStarted)
        got = Expected(
            started.direction,
            started.client_code,
            ended.disposition,
            ended.answered_by,
            isinstance(events[-1], RecordingReady),
        )
        assert got == call.expected, events
        assert not ended.inferred
