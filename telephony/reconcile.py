"""Calls the controller missed, rebuilt from the per-leg CDR file Asterisk writes (cdr_custom)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from crm.calls.events import CallDirection, Disposition
from crm.core.phones import EXTENSION_DIGITS

# Column order of cdr_custom.conf.j2.
COLUMNS = (
    "linkedid",
    "uniqueid",
    "start",
    "answer",
    "end",
    "disposition",
    "channel",
    "dstchannel",
    "direction",
    "client",
    "sealed",
    "recording",
)
_EMPLOYEE_CHANNEL = re.compile(rf"^PJSIP/({EXTENSION_DIGITS})-[0-9a-f]+$")
_TRUNK_CHANNEL = re.compile(r"^PJSIP/trunk(-[^-]*)?-[0-9a-f]+$")


@dataclass
class CdrCall:
    """Everything the CDR lines of one call (one linkedid) say about it."""

    linkedid: str
    started_at: datetime
    ended_at: datetime
    direction: CallDirection | None = None
    client_code: str | None = None
    sealed_number: str | None = None
    recording: str | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None
    legs: list[dict[str, str]] = field(default_factory=list)

    @property
    def guessed_direction(self) -> CallDirection:
        """For calls the dialplan did not label: from who placed the legs."""
        if self.linkedid.startswith("c2c-"):
            return CallDirection.outbound
        for leg in self.legs:
            if _TRUNK_CHANNEL.match(leg["channel"]):
                return CallDirection.inbound
            if _TRUNK_CHANNEL.match(leg["dstchannel"]):
                return CallDirection.outbound
        return CallDirection.internal

    @property
    def disposition(self) -> Disposition:
        if self.answered_by is not None:
            return Disposition.answered
        if self.direction == CallDirection.inbound:
            return Disposition.abandoned
        return Disposition.no_answer

    @property
    def recording_files(self) -> list[str]:
        if not self.recording:
            return []
        return [f"{self.recording}-{part}.wav" for part in ("mix", "client", "employee")]


def _time(raw: str) -> datetime | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return datetime.fromtimestamp(value, UTC) if value > 0 else None


def _extension(channel: str) -> str | None:
    match = _EMPLOYEE_CHANNEL.match(channel)
    return match.group(1) if match else None


def parse_cdr_legs(lines: Iterable[str]) -> dict[str, list[dict[str, str]]]:
    """CDR lines grouped by linkedid, in the order calls first appear; malformed ones skipped."""
    legs: dict[str, list[dict[str, str]]] = {}
    for row in csv.reader(lines):
        if len(row) != len(COLUMNS):
            continue
        leg = dict(zip(COLUMNS, row, strict=True))
        if leg["linkedid"] and _time(leg["start"]) is not None and _time(leg["end"]) is not None:
            legs.setdefault(leg["linkedid"], []).append(leg)
    return legs


def build_call(legs: list[dict[str, str]]) -> CdrCall:
    """One call from all its legs (at least one)."""
    first = legs[0]
    started_at, ended_at = _time(first["start"]), _time(first["end"])
    assert started_at is not None and ended_at is not None  # checked when parsed
    call = CdrCall(first["linkedid"], started_at, ended_at)
    for leg in legs:
        started, ended = _time(leg["start"]), _time(leg["end"])
        assert started is not None and ended is not None  # checked when parsed
        call.legs.append(leg)
        call.started_at = min(call.started_at, started)
        call.ended_at = max(call.ended_at, ended)
        if leg["direction"] in {d.value for d in CallDirection}:
            call.direction = CallDirection(leg["direction"])
        call.client_code = leg["client"] or call.client_code
        call.sealed_number = leg["sealed"] or call.sealed_number
        call.recording = leg["recording"] or call.recording
        answered = _time(leg["answer"])
        if leg["disposition"] != "ANSWERED" or answered is None:
            continue
        # Answered by a person: an employee's phone on the far end (inbound), or the
        # client's trunk leg answering an employee's call (outbound).
        employee = _extension(leg["dstchannel"])
        if employee is None and _TRUNK_CHANNEL.match(leg["dstchannel"]):
            employee = _extension(leg["channel"])
        if employee is not None and call.answered_by is None:
            call.answered_by = employee
            call.answered_at = answered
    return call


def parse_cdr_lines(lines: Iterable[str]) -> dict[str, CdrCall]:
    return {linkedid: build_call(legs) for linkedid, legs in parse_cdr_legs(lines).items()}


class CdrReader:
    """Reads the CDR file from where it stopped last time (byte offset kept in memory).

    On start the whole file is read once; calls already recorded are skipped by the caller,
    so reading a line twice is harmless. The offset moves only when the caller commits,
    after it has dealt with what it read; calls still live are deferred and come back,
    joined by their later lines, on the next read.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = 0
        self._deferred: dict[str, list[dict[str, str]]] = {}

    def read_new(self) -> tuple[dict[str, CdrCall], int]:
        """Calls of the lines since the last commit (plus deferred ones), and the new offset."""
        offset = self._offset
        try:
            with self._path.open("rb") as cdr:
                size = cdr.seek(0, io.SEEK_END)
                if size < offset:  # rotated or replaced: start over
                    offset = 0
                cdr.seek(offset)
                data = cdr.read()
        except FileNotFoundError:
            data = b""
        complete = data[: data.rfind(b"\n") + 1]  # a line Asterisk is still writing waits
        legs = dict(self._deferred)
        self._deferred = {}
        text = complete.decode("utf-8", errors="replace")
        for linkedid, new_legs in parse_cdr_legs(line for line in text.split("\n") if line).items():
            legs[linkedid] = legs.get(linkedid, []) + new_legs
        calls = {linkedid: build_call(call_legs) for linkedid, call_legs in legs.items()}
        return calls, offset + len(complete)

    def defer(self, call: CdrCall) -> None:
        self._deferred[call.linkedid] = list(call.legs)

    def commit(self, offset: int) -> None:
        self._offset = offset
