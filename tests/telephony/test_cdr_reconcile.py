"""Reading the controller's CDR file: legs to calls, offsets committed only after use."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from crm.calls.events import CallDirection, Disposition
from telephony.reconcile import COLUMNS, CdrReader, parse_cdr_lines


def line(**values: str) -> str:
    row = {column: "" for column in COLUMNS} | {"start": "100.0", "end": "160.0"} | values
    out = io.StringIO()
    csv.writer(out).writerow([row[column] for column in COLUMNS])
    return out.getvalue()


def test_inbound_call_answered_by_an_operator() -> None:
    text = line(
        linkedid="L1",
        channel="PJSIP/trunk-00000001",
        dstchannel="PJSIP/1003-00000002",
        disposition="ANSWERED",
        answer="105.0",
        direction="inbound",
        client="c7",
        recording="/srv/rec/L1",
    )
    call = parse_cdr_lines([text])["L1"]
    assert call.direction == CallDirection.inbound and call.client_code == "c7"
    assert call.answered_by == "1003" and call.disposition == Disposition.answered
    assert call.recording_files == [
        "/srv/rec/L1-mix.wav",
        "/srv/rec/L1-client.wav",
        "/srv/rec/L1-employee.wav",
    ]


def test_outbound_answered_by_the_client_belongs_to_the_employee() -> None:
    text = line(
        linkedid="c2c-1",
        channel="PJSIP/1004-00000001",
        dstchannel="PJSIP/trunk-00000002",
        disposition="ANSWERED",
        answer="110.0",
    )
    call = parse_cdr_lines([text])["c2c-1"]
    assert call.guessed_direction == CallDirection.outbound
    assert call.answered_by == "1004"


def test_unlabelled_calls_between_desk_phones_are_internal_and_unanswered_ones_no_answer() -> None:
    text = line(
        linkedid="L2", channel="PJSIP/1001-1", dstchannel="PJSIP/1002-2", disposition="NO ANSWER"
    )
    call = parse_cdr_lines([text])["L2"]
    assert call.guessed_direction == CallDirection.internal
    assert call.disposition == Disposition.no_answer


def test_queue_leg_that_rang_out_leaves_an_inbound_call_unanswered() -> None:
    text = line(
        linkedid="L3",
        channel="PJSIP/trunk-1",
        dstchannel="PJSIP/1003-2",
        disposition="NO ANSWER",
        direction="inbound",
    )
    assert parse_cdr_lines([text])["L3"].disposition == Disposition.abandoned


def test_malformed_lines_are_skipped() -> None:
    assert parse_cdr_lines(["garbage\n", '"only","two"\n', line(linkedid="", start="x")]) == {}


def test_reader_commits_only_what_was_dealt_with(tmp_path: Path) -> None:
    cdr = tmp_path / "cdr.csv"
    cdr.write_text(line(linkedid="A") + line(linkedid="B")[:10])  # B still being written
    reader = CdrReader(cdr)
    calls, offset = reader.read_new()
    assert list(calls) == ["A"]
    # Not committed (say the database failed): the same lines come again.
    again, _ = reader.read_new()
    assert list(again) == ["A"]
    reader.commit(offset)
    cdr.write_text(line(linkedid="A") + line(linkedid="B"))
    calls, offset = reader.read_new()
    assert list(calls) == ["B"]
    # A call still live is deferred; its later legs join it on the next read.
    reader.defer(calls["B"])
    reader.commit(offset)
    with cdr.open("a") as out:
        out.write(
            line(linkedid="B", dstchannel="PJSIP/1003-9", disposition="ANSWERED", answer="120")
        )
    calls, _ = reader.read_new()
    assert len(calls["B"].legs) == 2 and calls["B"].answered_by == "1003"


def test_reader_without_file_reads_nothing(tmp_path: Path) -> None:
    calls, offset = CdrReader(tmp_path / "absent.csv").read_new()
    assert calls == {} and offset == 0
