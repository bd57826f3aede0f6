"""Call tracker on realistic AMI sequences: inbound queue, click-to-call, internal, restarts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

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
from tests.telephony_tracker import Chan, Event, Pbx, play, recording_files
from tests.telephony_tracker import moment as at


def brief(event: CallEvent) -> tuple[object, ...]:
    """An event without its linkedid and time, for comparing sequences at a glance."""
    match event:
        case CallStarted(direction=direction, client_code=client):
            return ("started", direction.value, client)
        case CallRinging(extension=extension):
            return ("ringing", extension)
        case CallAnswered(extension=extension):
            return ("answered", extension)
        case CallEnded(disposition=disposition, answered_by=by, inferred=inferred):
            return ("ended", disposition.value, by, inferred)
        case RecordingReady(files=files):
            return ("recording", len(files))
    raise AssertionError(f"unexpected event {event!r}")


class InboundQueue:
    """A carrier call into the reception queue, ringing members 1001 and 1002."""

    def __init__(
        self, *, announce: bool = True, client: str = "c12", pbx: Pbx | None = None
    ) -> None:
        self.pbx = pbx = pbx or Pbx()
        self.trunk = pbx.channel("trunk", context="from-trunk")
        self.m1001 = pbx.channel("1001", of=self.trunk, context="lexcrm-internal")
        self.m1002 = pbx.channel("1002", of=self.trunk, context="lexcrm-internal")
        self.start: list[Event] = [pbx.newchannel(self.trunk, "4")]
        if announce:
            self.start.append(pbx.lexcrm_call(self.trunk, "inbound", client))
        self.start += [
            pbx.lexcrm_recording(self.trunk),
            pbx.newstate(self.trunk, "6"),
            pbx.newchannel(self.m1001),
            pbx.dial_begin(self.trunk, self.m1001),
            pbx.newstate(self.m1001, "5"),
            pbx.newchannel(self.m1002),
            pbx.dial_begin(self.trunk, self.m1002),
            pbx.newstate(self.m1002, "5"),
        ]

    def answered_by_1002(self) -> list[Event]:
        pbx, trunk, m1001, m1002 = self.pbx, self.trunk, self.m1001, self.m1002
        return [
            *self.start,
            pbx.dial_end(trunk, m1002, "ANSWER"),
            pbx.newstate(m1002, "6"),
            pbx.dial_end(trunk, m1001, "CANCEL"),
            pbx.hangup(m1001, 26),  # answered elsewhere
            pbx.bridge_enter("b-1", trunk),
            pbx.bridge_enter("b-1", m1002),
            pbx.bridge_leave("b-1", m1002),
            pbx.bridge_leave("b-1", trunk),
            pbx.hangup(m1002),
            pbx.hangup(trunk),
        ]


def test_inbound_call_answered_in_queue() -> None:
    call = InboundQueue()
    events = call.answered_by_1002()
    out = play(CallTracker(), events)

    assert [brief(e) for e in out] == [
        ("started", "inbound", "c12"),
        ("ringing", "1001"),
        ("ringing", "1002"),
        ("answered", "1002"),
        ("ended", "answered", "1002", False),
        ("recording", 3),
    ]
    assert {e.linkedid for e in out} == {call.trunk.uniqueid}
    assert out[0].at == at(0)  # the call began when its first channel appeared
    assert out[-2].at == at(len(events) - 1)  # and ended with the last hang-up
    recording = out[-1]
    assert isinstance(recording, RecordingReady)
    assert recording.files == recording_files(call.trunk)


def test_call_started_waits_for_the_dialplans_announcement() -> None:
    call = InboundQueue()
    tracker = CallTracker()
    assert play(tracker, call.start[:1]) == []  # Newchannel alone: the client is not known yet
    out = play(tracker, call.start[1:2], first=1)
    assert out == [CallStarted(call.trunk.uniqueid, at(0), CallDirection.inbound, "c12")]


def test_caller_abandons_while_queued() -> None:
    call = InboundQueue()
    pbx = call.pbx
    events = [
        *call.start,
        # 1001's ring time runs out first: on its own that would read as "no answer".
        pbx.dial_end(call.trunk, call.m1001, "NOANSWER"),
        pbx.hangup(call.m1001, 19),
        pbx.queue_caller_abandon(call.trunk),
        pbx.dial_end(call.trunk, call.m1002, "NOANSWER"),
        pbx.hangup(call.m1002, 16),
        pbx.hangup(call.trunk, 16),
    ]
    out = play(CallTracker(), events)
    assert [brief(e) for e in out][-2:] == [("ended", "abandoned", None, False), ("recording", 3)]


def test_queue_timeout_reported_by_the_dialplan() -> None:
    call = InboundQueue()
    pbx = call.pbx
    events = [
        *call.start,
        # At the queue's timeout Asterisk cancels the members' dials (read alone: abandoned).
        pbx.dial_end(call.trunk, call.m1001, "CANCEL"),
        pbx.hangup(call.m1001),
        pbx.dial_end(call.trunk, call.m1002, "CANCEL"),
        pbx.hangup(call.m1002),
        pbx.lexcrm_outcome(call.trunk, "no_answer"),
        pbx.hangup(call.trunk),
    ]
    out = play(CallTracker(), events)
    assert brief(out[-2]) == ("ended", "no_answer", None, False)


def test_outcome_does_not_override_an_answer() -> None:
    call = InboundQueue()
    events = call.answered_by_1002()
    events.insert(-1, call.pbx.lexcrm_outcome(call.trunk, "failed"))
    out = play(CallTracker(), events)
    assert brief(out[-2]) == ("ended", "answered", "1002", False)


def test_a_transfer_to_another_phone_does_not_answer_the_call_again() -> None:
    call = InboundQueue()
    pbx, trunk = call.pbx, call.trunk
    events = call.answered_by_1002()[:-4]  # the caller and 1002 talk in bridge b-1
    m1003 = pbx.channel("1003", of=trunk, context="lexcrm-internal")
    events += [
        # 1002 transfers the caller to 1003: a new leg, a new bridge.
        pbx.bridge_leave("b-1", trunk),
        pbx.newchannel(m1003),
        pbx.dial_begin(trunk, m1003),
        pbx.newstate(m1003, "5"),
        pbx.newstate(m1003, "6"),
        pbx.bridge_enter("b-2", m1003),
        pbx.bridge_enter("b-2", trunk),
        pbx.bridge_leave("b-1", call.m1002),
        pbx.hangup(call.m1002),
        pbx.bridge_leave("b-2", m1003),
        pbx.hangup(m1003),
        pbx.bridge_leave("b-2", trunk),
        pbx.hangup(trunk),
    ]
    out = play(CallTracker(), events)
    assert [brief(e) for e in out] == [
        ("started", "inbound", "c12"),
        ("ringing", "1001"),
        ("ringing", "1002"),
        ("answered", "1002"),
        ("ringing", "1003"),
        ("ended", "answered", "1002", False),
        ("recording", 3),
    ]


def test_caller_hangs_up_before_anything_rings() -> None:
    pbx = Pbx()
    trunk = pbx.channel("trunk", context="from-trunk")
    events = [pbx.newchannel(trunk, "4"), pbx.lexcrm_call(trunk, "inbound", "new-17")]
    events.append(pbx.hangup(trunk))
    out = play(CallTracker(), events)
    assert [brief(e) for e in out] == [
        ("started", "inbound", "new-17"),
        ("ended", "abandoned", None, False),
    ]


class ClickToCall:
    """The controller originates to desk phone 1002, then the dialplan dials the client."""

    def __init__(self, *, announce: bool) -> None:
        self.pbx = pbx = Pbx()
        self.phone = pbx.channel("1002")  # an Originate: no dialplan context yet
        self.trunk = pbx.channel("trunk", of=self.phone)  # PJSIP/trunk-00000002
        self.events: list[Event] = [
            pbx.newchannel(self.phone),
            pbx.dial_begin(None, self.phone),
            pbx.newstate(self.phone, "5"),
            pbx.dial_end(None, self.phone, "ANSWER"),
            pbx.newstate(self.phone, "6"),
        ]
        if announce:
            self.events += [
                pbx.lexcrm_call(self.phone, "outbound", "c12"),
                pbx.lexcrm_recording(self.phone),
            ]
        self.events += [pbx.newchannel(self.trunk), pbx.dial_begin(self.phone, self.trunk)]


def test_click_to_call_client_busy() -> None:
    call = ClickToCall(announce=False)
    pbx = call.pbx
    events = [*call.events, pbx.hangup(call.trunk, 17), pbx.hangup(call.phone, 16)]
    tracker = CallTracker()

    # Until the carrier leg appears the call could still be internal: nothing is said yet.
    assert play(tracker, events[:5]) == []
    assert tracker.call(call.phone.linkedid) is not None
    out = play(tracker, events[5:], first=5)
    assert [brief(e) for e in out] == [
        ("started", "outbound", None),
        ("ringing", "1002"),
        ("ended", "busy", None, False),
    ]
    assert out[0].at == at(0)
    assert out[1].at == at(1)  # the held CallRinging keeps its own time


def test_click_to_call_answered() -> None:
    call = ClickToCall(announce=True)
    pbx, phone, trunk = call.pbx, call.phone, call.trunk
    events = [
        *call.events,
        pbx.newstate(trunk, "6"),
        pbx.dial_end(phone, trunk, "ANSWER"),
        pbx.bridge_enter("b-7", phone),
        pbx.bridge_enter("b-7", trunk),
        pbx.bridge_leave("b-7", trunk),
        pbx.hangup(trunk),
        pbx.bridge_leave("b-7", phone),
        pbx.hangup(phone),
    ]
    out = play(CallTracker(), events)
    assert [brief(e) for e in out] == [
        ("started", "outbound", "c12"),
        ("ringing", "1002"),
        ("answered", "1002"),
        ("ended", "answered", "1002", False),
        ("recording", 3),
    ]


def test_click_to_call_says_when_the_clients_phone_began_to_ring() -> None:
    call = ClickToCall(announce=True)
    pbx = call.pbx
    events = [
        *call.events,
        pbx.newstate(call.trunk, "5"),  # the carrier's 180 Ringing
        pbx.hangup(call.trunk, 19),
        pbx.hangup(call.phone, 16),
    ]
    out = play(CallTracker(), events)
    ended = next(e for e in out if isinstance(e, CallEnded))
    # Event 9: the employee's phone rang from event 0, the carrier was asked at event 7.
    assert ended.client_ringing_at == at(9)
    assert out[0].at == at(0)


def test_a_busy_client_never_rang() -> None:
    call = ClickToCall(announce=True)
    events = [*call.events, call.pbx.hangup(call.trunk, 17), call.pbx.hangup(call.phone, 16)]
    ended = next(e for e in play(CallTracker(), events) if isinstance(e, CallEnded))
    assert ended.disposition is Disposition.busy and ended.client_ringing_at is None


def test_a_client_who_picks_up_at_once_rang_from_then() -> None:
    call = ClickToCall(announce=True)
    pbx = call.pbx
    events = [
        *call.events,
        pbx.newstate(call.trunk, "6"),
        pbx.hangup(call.trunk, 16),
        pbx.hangup(call.phone, 16),
    ]
    ended = next(e for e in play(CallTracker(), events) if isinstance(e, CallEnded))
    assert ended.client_ringing_at == at(9)


def test_the_queue_the_caller_waited_in_comes_with_the_end() -> None:
    call = InboundQueue()
    events = call.answered_by_1002()
    events.insert(3, call.pbx.queue_caller_join(call.trunk))
    ended = next(e for e in play(CallTracker(), events) if isinstance(e, CallEnded))
    assert ended.queue == "lexcrm-callcentre"
    # A call that never queued has none.
    click = ClickToCall(announce=True)
    pbx = click.pbx
    out = play(CallTracker(), [*click.events, pbx.hangup(click.trunk, 17), pbx.hangup(click.phone)])
    assert next(e for e in out if isinstance(e, CallEnded)).queue is None


def test_a_click_to_call_the_employee_never_picked_up_never_rang_the_client() -> None:
    pbx = Pbx()
    phone = pbx.channel("1002")
    events = [
        pbx.newchannel(phone),
        pbx.dial_begin(None, phone),
        pbx.newstate(phone, "5"),
        pbx.dial_end(None, phone, "NOANSWER"),
        pbx.hangup(phone, 19),
    ]
    out = play(CallTracker(), events)
    ended = next(e for e in out if isinstance(e, CallEnded))
    assert ended.client_ringing_at is None


def test_an_inbound_call_has_no_client_ringing_time() -> None:
    out = play(CallTracker(), InboundQueue().answered_by_1002())
    ended = next(e for e in out if isinstance(e, CallEnded))
    assert ended.client_ringing_at is None


@pytest.mark.parametrize(
    ("cause", "disposition"),
    [
        (17, Disposition.busy),
        (18, Disposition.no_answer),
        (19, Disposition.no_answer),
        (21, Disposition.failed),
        (34, Disposition.failed),
        (38, Disposition.failed),
        (16, Disposition.failed),  # normal clearing tells nothing: outbound falls back to failed
    ],
)
def test_click_to_call_ended_by_the_carriers_cause(cause: int, disposition: Disposition) -> None:
    call = ClickToCall(announce=True)
    events = [*call.events, call.pbx.hangup(call.trunk, cause), call.pbx.hangup(call.phone, 16)]
    out = play(CallTracker(), events)
    ended = out[-2]
    assert isinstance(ended, CallEnded)
    assert ended.disposition is disposition


def internal_call(status: str | None) -> tuple[Pbx, Chan, Chan, list[Event]]:
    """1001 dials 1002; status None means 1002 answers, else the DialStatus it ends with."""
    pbx = Pbx()
    a = pbx.channel("1001", context="lexcrm-internal", exten="1002")
    b = pbx.channel("1002", of=a, context="lexcrm-internal")
    events = [
        pbx.newchannel(a, "4"),
        pbx.newchannel(b),
        pbx.dial_begin(a, b),
        pbx.newstate(b, "5"),
    ]
    if status is None:
        events += [
            pbx.newstate(b, "6"),
            pbx.dial_end(a, b, "ANSWER"),
            pbx.newstate(a, "6"),
            # The callee enters the bridge first: still the callee is the one who answered.
            pbx.bridge_enter("b-3", b),
            pbx.bridge_enter("b-3", a),
            pbx.bridge_leave("b-3", a),
            pbx.hangup(a),
            pbx.bridge_leave("b-3", b),
            pbx.hangup(b),
        ]
    else:
        events += [pbx.dial_end(a, b, status), pbx.hangup(b, 17), pbx.hangup(a)]
    return pbx, a, b, events


def test_internal_call_answered() -> None:
    _, a, _, events = internal_call(None)
    out = play(CallTracker(), events)
    assert [brief(e) for e in out] == [
        ("started", "internal", None),
        ("ringing", "1002"),
        ("answered", "1002"),
        ("ended", "answered", "1002", False),
    ]
    assert {e.linkedid for e in out} == {a.uniqueid}


@pytest.mark.parametrize(
    ("status", "disposition"),
    [
        ("BUSY", Disposition.busy),
        ("NOANSWER", Disposition.no_answer),
        ("CANCEL", Disposition.abandoned),
        ("CONGESTION", Disposition.failed),
        ("CHANUNAVAIL", Disposition.failed),
    ],
)
def test_internal_call_not_answered(status: str, disposition: Disposition) -> None:
    _, _, _, events = internal_call(status)
    out = play(CallTracker(), events)
    assert brief(out[-1]) == ("ended", disposition.value, None, False)


def test_internal_call_with_nothing_to_go_on_is_no_answer() -> None:
    pbx = Pbx()
    a = pbx.channel("1001", context="lexcrm-internal", exten="1009")
    out = play(CallTracker(), [pbx.newchannel(a, "4"), pbx.hangup(a)])
    assert [brief(e) for e in out] == [
        ("started", "internal", None),
        ("ended", "no_answer", None, False),
    ]


def test_every_event_twice_changes_nothing() -> None:
    events = InboundQueue().answered_by_1002()
    once = play(CallTracker(), events)
    twice = play(CallTracker(), [e for event in events for e in (event, event)])
    assert [brief(e) for e in twice] == [brief(e) for e in once]


def test_late_duplicate_hangup_of_an_ended_call_is_ignored() -> None:
    call = InboundQueue()
    events = call.answered_by_1002()
    tracker = CallTracker()
    play(tracker, events)
    assert play(tracker, [events[-1], events[-2]], first=100) == []
    assert tracker.active_calls() == frozenset()
    assert tracker.call(call.trunk.linkedid) is None


def test_forgetting_ended_calls_is_bounded() -> None:
    tracker = CallTracker(remember_ended=1)
    pbx = Pbx()
    first = InboundQueue(pbx=pbx).answered_by_1002()
    second = InboundQueue(pbx=pbx).answered_by_1002()
    play(tracker, first)
    assert play(tracker, [first[-1]], first=50) == []  # remembered: ignored
    play(tracker, second, first=60)
    # The first call fell out of the one-slot memory: a stray event now reads as a new call.
    out = play(tracker, [first[-1]], first=90)
    assert [type(e) for e in out] == [CallStarted, CallEnded]


def test_newchannel_missed_after_a_restart() -> None:
    call = InboundQueue(announce=False)
    events = call.answered_by_1002()
    # The tracker starts as 1001 is dialled: both Newchannels and the dialplan's events missed.
    first_seen = next(i for i, e in enumerate(events) if e["Event"] == "DialBegin")
    tracker = CallTracker()
    out = play(tracker, events[first_seen:], first=first_seen)
    assert [brief(e) for e in out] == [
        ("started", "inbound", None),
        ("ringing", "1001"),
        ("ringing", "1002"),
        ("answered", "1002"),
        ("ended", "answered", "1002", False),
    ]
    assert out[0].at == at(first_seen)


def test_a_lone_leg_hangup_does_not_end_a_call_joined_midway() -> None:
    call = InboundQueue()
    pbx = call.pbx
    tracker = CallTracker()
    # Joined mid-call: the first thing seen is 1001 giving up; the caller may still be queued.
    assert play(tracker, [pbx.newstate(call.m1001, "5"), pbx.hangup(call.m1001, 19)]) == []
    assert tracker.active_calls() == frozenset({call.trunk.linkedid})
    out = play(tracker, [pbx.queue_caller_abandon(call.trunk), pbx.hangup(call.trunk)], first=2)
    assert [brief(e) for e in out] == [
        ("started", "inbound", None),
        ("ringing", "1001"),
        ("ended", "abandoned", None, False),
    ]


def test_a_lone_leg_hangup_of_an_unknown_call_is_ignored() -> None:
    call = InboundQueue()
    tracker = CallTracker()
    assert play(tracker, [call.pbx.hangup(call.m1001, 19)]) == []
    assert tracker.active_calls() == frozenset()


def test_late_announcement_does_not_start_the_call_twice() -> None:
    pbx = Pbx()
    trunk = pbx.channel("trunk", context="from-trunk")
    member = pbx.channel("1001", of=trunk)
    events = [
        pbx.newchannel(trunk, "4"),
        pbx.newchannel(member),
        pbx.dial_begin(trunk, member),
        pbx.lexcrm_call(trunk, "outbound", "c99"),
        pbx.hangup(member),
        pbx.hangup(trunk),
    ]
    out = play(CallTracker(), events)
    assert [brief(e) for e in out] == [
        ("started", "inbound", None),
        ("ringing", "1001"),
        ("ended", "abandoned", None, False),
    ]


def test_headers_are_matched_whatever_their_case() -> None:
    pbx = Pbx()
    a = pbx.channel("1001", context="lexcrm-internal")
    raw = [pbx.newchannel(a, "4"), pbx.hangup(a)]
    events = [{k.upper() if k != "Event" else "event": v for k, v in e.items()} for e in raw]
    out = play(CallTracker(), events)
    assert [brief(e) for e in out] == [
        ("started", "internal", None),
        ("ended", "no_answer", None, False),
    ]


def test_timestamp_becomes_an_aware_utc_datetime() -> None:
    pbx = Pbx()
    a = pbx.channel("1001", context="lexcrm-internal")
    tracker = CallTracker()
    tracker.feed({**pbx.newchannel(a, "4"), "Timestamp": "1795746352.123456"})
    out = tracker.feed({**pbx.hangup(a), "Timestamp": "1795746353.5"})
    assert out[0].at == datetime(2026, 11, 27, 2, 25, 52, 123456, tzinfo=UTC)
    assert out[0].at == datetime.fromtimestamp(1795746352, UTC).replace(microsecond=123456)
    assert out[1].at == datetime.fromtimestamp(1795746353, UTC).replace(microsecond=500000)


def test_other_events_are_ignored() -> None:
    pbx = Pbx()
    a = pbx.channel("1001", context="lexcrm-internal")
    tracker = CallTracker()
    assert tracker.feed({**pbx.snapshot(a), "Event": "VarSet", "Timestamp": "1.0"}) == []
    assert tracker.feed({**pbx.user_event(a, "SomethingElse"), "Timestamp": "1.0"}) == []
    assert tracker.feed({"Event": "FullyBooted", "Timestamp": "1.0"}) == []
    assert tracker.active_calls() == frozenset()


def test_view_of_a_live_call() -> None:
    call = InboundQueue()
    tracker = CallTracker()
    events = call.answered_by_1002()
    play(tracker, events[:-4])  # up to both in the bridge
    assert tracker.active_calls() == frozenset({call.trunk.linkedid})
    view = tracker.call(call.trunk.linkedid)
    assert view is not None
    assert view.started
    assert view.direction is CallDirection.inbound
    assert view.client_code == "c12"
    assert view.answered_by == "1002"
    assert view.rung == ("1001", "1002")
    assert view.recording_files == recording_files(call.trunk)
    assert {(c.name, c.extension, c.bridge) for c in view.channels} == {
        (call.trunk.name, None, "b-1"),
        (call.m1002.name, "1002", "b-1"),
    }
    assert tracker.call("nope") is None


# -- resync --------------------------------------------------------------------------------


def core_show(pbx: Pbx, chan: Chan, bridge: str = "", context: str | None = None) -> Event:
    snap = pbx.snapshot(chan)
    return {
        "Event": "CoreShowChannel",
        **{k: snap[k] for k in ("Channel", "Uniqueid", "Linkedid", "Exten", "ChannelState")},
        "Context": snap["Context"] if context is None else context,
        "BridgeId": bridge,
    }


RESYNC_AT = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def test_resync_ends_a_call_that_vanished_while_away() -> None:
    call = InboundQueue()
    tracker = CallTracker()
    play(tracker, call.start)
    out = tracker.resync([], RESYNC_AT)
    # It rang, and nothing more is known: the CDR will tell.
    assert [brief(e) for e in out] == [("ended", "unknown", None, True), ("recording", 3)]
    assert out[0].at == RESYNC_AT
    assert tracker.active_calls() == frozenset()


def test_resync_keeps_what_is_known_of_an_answered_call() -> None:
    call = InboundQueue()
    tracker = CallTracker()
    play(tracker, call.answered_by_1002()[:-4])
    out = tracker.resync([], RESYNC_AT)
    assert [brief(e) for e in out] == [("ended", "answered", "1002", True), ("recording", 3)]


def test_resync_drops_only_the_channels_that_are_gone() -> None:
    call = InboundQueue()
    pbx = call.pbx
    tracker = CallTracker()
    play(tracker, call.start)
    # While away: 1001 stopped ringing and hung up; the caller and 1002 are still there.
    live = [core_show(pbx, call.trunk), core_show(pbx, call.m1002)]
    assert tracker.resync(live, RESYNC_AT) == []
    view = tracker.call(call.trunk.linkedid)
    assert view is not None
    assert {c.uniqueid for c in view.channels} == {call.trunk.uniqueid, call.m1002.uniqueid}


def test_resync_adopts_a_call_it_never_saw() -> None:
    call = InboundQueue(announce=False)
    pbx = call.pbx
    pbx.newstate(call.m1002, "6")  # 1002 answered while the tracker was away
    tracker = CallTracker()
    live = [
        # Mid-dialplan the caller's channel is no longer in from-trunk: its being the
        # carrier's channel and the call's first is what says inbound.
        core_show(pbx, call.trunk, "b-1", context="lexcrm-queue"),
        core_show(pbx, call.m1002, "b-1"),
    ]
    out = tracker.resync(live, RESYNC_AT)
    assert [brief(e) for e in out] == [("started", "inbound", None), ("answered", "1002")]
    assert out[0].at == RESYNC_AT
    events = [pbx.hangup(call.m1002), pbx.hangup(call.trunk)]
    out = play(tracker, events, first=500)
    assert [brief(e) for e in out] == [("ended", "answered", "1002", False)]


def test_resync_reports_a_phone_ringing_now() -> None:
    pbx = Pbx()
    a = pbx.channel("1001", context="lexcrm-internal", exten="1002")
    b = pbx.channel("1002", of=a, context="lexcrm-internal")
    pbx.newstate(b, "5")
    tracker = CallTracker()
    out = tracker.resync([core_show(pbx, a), core_show(pbx, b)], RESYNC_AT)
    assert [brief(e) for e in out] == [("started", "internal", None), ("ringing", "1002")]


def test_resync_settles_a_call_joined_midway() -> None:
    call = InboundQueue()
    pbx = call.pbx
    tracker = CallTracker()
    play(tracker, [pbx.newstate(call.m1001, "5"), pbx.hangup(call.m1001, 19)])
    out = tracker.resync([], RESYNC_AT)
    # Nothing but a desk phone's leg was ever seen: the direction falls back to internal.
    assert [brief(e) for e in out] == [
        ("started", "internal", None),
        ("ringing", "1001"),
        ("ended", "unknown", None, True),
    ]
    assert tracker.active_calls() == frozenset()
