"""Call tracker tests; builders here make AMI event sequences shaped like Asterisk's own."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from crm.calls.events import CallEvent
from telephony.tracker import CallTracker

Event = dict[str, str]

EPOCH = 1795746352
STATE_DESC = {"0": "Down", "4": "Ring", "5": "Ringing", "6": "Up"}


@dataclass(frozen=True)
class Chan:
    """A channel as Asterisk names it: `PJSIP/1001-0000000a`, Uniqueid `1795746352.10`."""

    name: str
    uniqueid: str
    linkedid: str
    context: str
    exten: str


class Pbx:
    """Allocates channels and builds their AMI events (without Timestamp: `play` adds it).

    Each event carries the channel snapshot Asterisk puts in every channel event, with the
    channel's current state, so that the tracker is fed what it would really see.
    """

    def __init__(self) -> None:
        self._count = 0
        self._state: dict[str, str] = {}

    def channel(
        self, endpoint: str, *, of: Chan | None = None, context: str = "", exten: str = "s"
    ) -> Chan:
        """A new channel; `of` is a channel of the call it belongs to (same Linkedid)."""
        self._count += 1
        uniqueid = f"{EPOCH}.{self._count}"
        # Asterisk gives a call's first channel its own Uniqueid as Linkedid; dialled legs
        # inherit the Linkedid of the channel that dialled them.
        linkedid = of.linkedid if of is not None else uniqueid
        tech = "" if "/" in endpoint else "PJSIP/"
        chan = Chan(f"{tech}{endpoint}-{self._count:08x}", uniqueid, linkedid, context, exten)
        self._state[uniqueid] = "0"
        return chan

    def snapshot(self, chan: Chan, prefix: str = "") -> Event:
        state = self._state.get(chan.uniqueid, "0")
        return {
            f"{prefix}Channel": chan.name,
            f"{prefix}ChannelState": state,
            f"{prefix}ChannelStateDesc": STATE_DESC.get(state, "Unknown"),
            f"{prefix}Context": chan.context,
            f"{prefix}Exten": chan.exten,
            f"{prefix}Priority": "1",
            f"{prefix}Uniqueid": chan.uniqueid,
            f"{prefix}Linkedid": chan.linkedid,
        }

    def newchannel(self, chan: Chan, state: str = "0") -> Event:
        self._state[chan.uniqueid] = state
        return {"Event": "Newchannel", **self.snapshot(chan)}

    def newstate(self, chan: Chan, state: str) -> Event:
        self._state[chan.uniqueid] = state
        return {"Event": "Newstate", **self.snapshot(chan)}

    def dial_begin(self, caller: Chan | None, dest: Chan) -> Event:
        # An Originate's DialBegin has no caller: only the Dest* fields.
        caller_fields = self.snapshot(caller) if caller is not None else {}
        return {"Event": "DialBegin", **caller_fields, **self.snapshot(dest, "Dest")}

    def dial_end(self, caller: Chan | None, dest: Chan, status: str) -> Event:
        caller_fields = self.snapshot(caller) if caller is not None else {}
        return {
            "Event": "DialEnd",
            **caller_fields,
            **self.snapshot(dest, "Dest"),
            "DialStatus": status,
        }

    def bridge_enter(self, bridge: str, chan: Chan) -> Event:
        return {"Event": "BridgeEnter", "BridgeUniqueid": bridge, **self.snapshot(chan)}

    def bridge_leave(self, bridge: str, chan: Chan) -> Event:
        return {"Event": "BridgeLeave", "BridgeUniqueid": bridge, **self.snapshot(chan)}

    def hangup(self, chan: Chan, cause: int = 16) -> Event:
        return {
            "Event": "Hangup",
            **self.snapshot(chan),
            "Cause": str(cause),
            "Cause-txt": "Normal Clearing" if cause == 16 else "Other",
        }

    def queue_caller_join(self, chan: Chan, queue: str = "lexcrm-callcentre") -> Event:
        return {"Event": "QueueCallerJoin", **self.snapshot(chan), "Queue": queue, "Position": "1"}

    def queue_caller_abandon(self, chan: Chan) -> Event:
        return {"Event": "QueueCallerAbandon", **self.snapshot(chan), "Queue": "reception"}

    def user_event(self, chan: Chan, name: str, **headers: str) -> Event:
        return {"Event": "UserEvent", "UserEvent": name, **self.snapshot(chan), **headers}

    def lexcrm_call(self, chan: Chan, direction: str, client: str = "") -> Event:
        return self.user_event(chan, "LexcrmCall", Direction=direction, Client=client)

    def lexcrm_recording(self, chan: Chan) -> Event:
        base = f"/srv/lexcrm/recordings/2026/11/27/{chan.uniqueid}"
        return self.user_event(
            chan, "LexcrmRecording", Files=f"{base}-mix.wav^{base}-client.wav^{base}-employee.wav"
        )

    def lexcrm_outcome(self, chan: Chan, reason: str) -> Event:
        return self.user_event(chan, "LexcrmOutcome", Reason=reason)


def recording_files(chan: Chan) -> tuple[str, ...]:
    base = f"/srv/lexcrm/recordings/2026/11/27/{chan.uniqueid}"
    return (f"{base}-mix.wav", f"{base}-client.wav", f"{base}-employee.wav")


def timestamp(index: int) -> str:
    """The Timestamp of the index-th event: 10 ms apart, as Asterisk writes it."""
    micros = index * 10_000
    return f"{EPOCH + micros // 1_000_000}.{micros % 1_000_000:06d}"


def moment(index: int) -> datetime:
    """The index-th event's Timestamp as the tracker should read it."""
    seconds, _, fraction = timestamp(index).partition(".")
    return datetime.fromtimestamp(int(seconds), UTC).replace(microsecond=int(fraction))


def play(tracker: CallTracker, events: Iterable[Event], first: int = 0) -> list[CallEvent]:
    """Feed events (stamped in order from the `first`-th tick) and collect what comes out."""
    out: list[CallEvent] = []
    for index, event in enumerate(events, start=first):
        out.extend(tracker.feed({**event, "Timestamp": timestamp(index)}))
    return out


class LiveChannels:
    """The truth about which channels are up: what CoreShowChannels would list."""

    def __init__(self) -> None:
        self.channels: dict[str, Event] = {}

    def apply(self, event: Event) -> None:
        kind = event["Event"]
        uniqueid = event.get("Uniqueid", "")
        if kind == "Newchannel":
            self.channels[uniqueid] = {
                "Event": "CoreShowChannel",
                **{k: event[k] for k in ("Channel", "Uniqueid", "Linkedid", "Context", "Exten")},
                "ChannelState": event["ChannelState"],
                "ChannelStateDesc": event["ChannelStateDesc"],
                "BridgeId": "",
            }
        elif uniqueid not in self.channels:
            return
        elif kind == "Newstate":
            self.channels[uniqueid]["ChannelState"] = event["ChannelState"]
            self.channels[uniqueid]["ChannelStateDesc"] = event["ChannelStateDesc"]
        elif kind == "BridgeEnter":
            self.channels[uniqueid]["BridgeId"] = event["BridgeUniqueid"]
        elif kind == "BridgeLeave":
            self.channels[uniqueid]["BridgeId"] = ""
        elif kind == "Hangup":
            del self.channels[uniqueid]

    def listing(self) -> list[Event]:
        return [dict(channel) for channel in self.channels.values()]
