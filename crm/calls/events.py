"""Domain events of calls as the telephony side reports them: frozen, never holding a number."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class CallDirection(StrEnum):
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
    direction: CallDirection
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
    # On a call the firm placed: when the client's phone began to ring (None: it never did,
    # e.g. a click-to-call the employee did not pick up on their own phone, or busy).
    client_ringing_at: datetime | None = None
    queue: str | None = None  # the queue the caller waited in, if any


@dataclass(frozen=True)
class RecordingReady(CallEvent):
    # Paths as the host sees them: the mix and each party's own channel.
    files: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ClientCard:
    """What a screen-pop shows of the caller: who they are, never how to reach them."""

    client_id: int
    code: str
    short_name: str
    full_name: str
    topic: str | None
    status: str
    is_new: bool  # a lead created by this very call


@dataclass(frozen=True)
class ScreenPop:
    """An employee's phone rings: their browser should show the caller's card."""

    employee_id: int
    linkedid: str
    at: datetime
    card: ClientCard | None  # None for an internal call


@dataclass(frozen=True)
class ClickToCallRequested:
    """A "Call" click was stored; the telephony side should place it."""

    request_id: str
