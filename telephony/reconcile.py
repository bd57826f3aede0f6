"""Calls the controller missed, rebuilt from the per-leg CDR file Asterisk writes (cdr_custom)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from crm.events import CallDirectionKind, Disposition

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
_EMPLOYEE_CHANNEL = re.compile(r"^PJSIP/(\d{2,8})-[0-9a-f]+$")
_TRUNK_CHANNEL = re.compile(r"^PJSIP/trunk(-[^-]*)?-[0-9a-f]+$")


@dataclass
class CdrCall:
    """Everything the CDR lines of one call (one linkedid) say about it."""

    linkedid: str
    started_at: datetime
    ended_at: datetime
    direction: CallDirectionKind | None = None
    client_code: str | None = None
    sealed_number: str | None = None
    recording: str | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None
    legs: list[dict[str, str]] = field(default_factory=list)

    @property
    def disposition(self) -> Disposition:
        if self.answered_by is not None:
            return Disposition.answered
        if self.direction == CallDirectionKind.inbound:
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


def parse_cdr_lines(lines: Iterable[str]) -> dict[str, CdrCall]:
    """Per linkedid, in the order calls first appear. Malformed lines are skipped."""
    calls: dict[str, CdrCall] = {}
    for row in csv.reader(lines):
        if len(row) != len(COLUMNS):
            continue
        leg = dict(zip(COLUMNS, row, strict=True))
        started, ended = _time(leg["start"]), _time(leg["end"])
        if not leg["linkedid"] or started is None or ended is None:
            continue
        call = calls.get(leg["linkedid"])
        if call is None:
            call = calls[leg["linkedid"]] = CdrCall(leg["linkedid"], started, ended)
        call.legs.append(leg)
        call.started_at = min(call.started_at, started)
        call.ended_at = max(call.ended_at, ended)
        if leg["direction"] in {d.value for d in CallDirectionKind}:
            call.direction = CallDirectionKind(leg["direction"])
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
    return calls


class CdrReader:
    """Reads the CDR file from where it stopped last time (byte offset kept in memory).

    On start the whole file is read once; calls already recorded are skipped by the caller,
    so reading a line twice is harmless.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = 0
        self._partial = ""

    def read_new(self) -> dict[str, CdrCall]:
        try:
            with self._path.open("rb") as cdr:
                size = cdr.seek(0, io.SEEK_END)
                if size < self._offset:  # rotated or replaced: start over
                    self._offset, self._partial = 0, ""
                cdr.seek(self._offset)
                data = cdr.read()
        except FileNotFoundError:
            return {}
        self._offset += len(data)
        text = self._partial + data.decode("utf-8", errors="replace")
        lines = text.split("\n")
        self._partial = lines.pop()  # a line Asterisk is still writing
        return parse_cdr_lines(line for line in lines if line)
