"""Domain events of calls as the telephony side reports them: frozen, never holding a number."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class CallDirectionKind(StrEnum):
    inbound = "inbound"
    outbound = "outbound"
    internal = "internal"


class Disposition(StrEnum):
    """How a call ended, from the firm's point of view."""

    answered = "answered"  # someone in the firm talked to the other party
    no_answer = "no_answer"  # rang, nobody picked up
    busy = "busy"
    abandoned = "abandoned"  # the caller hung up while waiting (queue or ringing)
    failed = "failed"  # could not be set up (congestion, unreachable, rejected)
    unknown = "unknown"  # ended while nobody was watching; details come from CDR


@dataclass(frozen=True)
class CallEvent:
    """Base of every call event; `linkedid` is Asterisk's id of the whole call."""

    linkedid: str
    at: datetime


@dataclass(frozen=True)
class CallStarted(CallEvent):
    direction: CallDirectionKind
    # The masked identity of the client ("c1234"), or "new-<id>" for an unknown caller;
    # None for internal calls. Never a number.
    client_code: str | None = None


@dataclass(frozen=True)
class CallRinging(CallEvent):
    extension: str  # the desk phone that rings


@dataclass(frozen=True)
class CallAnswered(CallEvent):
    extension: str  # the desk phone that answered


@dataclass(frozen=True)
class CallEnded(CallEvent):
    disposition: Disposition
    answered_by: str | None = None  # extension that talked, if any
    # True when the end was inferred (after a reconnect the call was simply gone).
    inferred: bool = False


@dataclass(frozen=True)
class RecordingReady(CallEvent):
    # Paths as the host sees them: the mix and each party's own channel.
    files: tuple[str, ...] = field(default_factory=tuple)
