"""A real call's recording: encrypted, transcribed by speaker, flagged, searchable, listenable."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from crm.calls.models import Call
from crm.conversations.models import TranscriptionJob
from crm.core.roles import Role
from crm.journal.models import JournalEntry
from lexcrm.asterisk_runtime import AsteriskRuntime
from lexcrm.wiring import build_worker
from tests.asterisk.test_controller_e2e import PASSWORD, Stack, stack
from tests.asterisk.test_inbound_masking import assert_no_digits_of
from tests.asterisk.test_outbound import carrier_calls
from tests.conftest import TEST_PHONES
from tests.recordings.conftest import english_rules, whisper_model
from tests.support.ami import ami_session
from tests.support.audio import speak_to_wav, summarise_wav
from tests.support.baresip import BaresipPhone
from tests.support.waiting import eventually

pytestmark = pytest.mark.asterisk
__all__ = ["stack", "whisper_model"]  # fixtures used by name below

# The key words are not the last: the call's end can clip the final word.
SENTENCE = "Hello, this is your lawyer. Please write down my personal number. Thank you, goodbye."
CLIENT_NUMBER = "+79213337788"
LAWYER = TEST_PHONES[1]  # 1002: a baresip phone


@pytest.fixture
async def lawyer_on_1002(stack: Stack) -> AsyncIterator[int]:
    lawyer = await stack.core.staff.create_employee(
        "baresip-lawyer", "Юрист Баресип", Role.lawyer, PASSWORD, sip_extension=LAWYER.extension
    )
    yield lawyer.id


async def test_a_spoken_sentence_is_stored_encrypted_transcribed_flagged_and_found(
    stack: Stack,
    lawyer_on_1002: int,
    asterisk: AsteriskRuntime,
    carrier: AsteriskRuntime,
    whisper_model: Path,
    tmp_path: Path,
) -> None:
    client = await stack.core.clients.add_client(
        "Петров Пётр Петрович", [CLIENT_NUMBER], lawyer_id=lawyer_on_1002
    )
    await stack.core.staff.create_employee("cashier", "Кассир Тестовый", Role.cashier, PASSWORD)
    await stack.core.staff.create_employee("director", "Директор Тестовый", Role.director, PASSWORD)
    voice = speak_to_wav(SENTENCE, tmp_path / "voice.wav")
    spoken_seconds = summarise_wav(voice).seconds
    # The controller writes the masking table within its refresh; the phone dials by code.
    await eventually(lambda: f"code = {client.code}" in _masks(stack), timeout=40)
    phone = BaresipPhone(
        tmp_path / "baresip",
        extension=LAWYER.extension,
        password=LAWYER.password,
        registrar_port=asterisk.settings.sip_port,
        voice_wav=voice,
        dial=client.code,
    )
    async with ami_session(carrier) as (_manager, log):
        phone.start()
        try:
            await eventually(lambda: "Call established" in phone.log(), timeout=20)
            await eventually(lambda: len(carrier_calls(log)) >= 1, timeout=10)
            calls = await eventually(
                lambda: stack.rows(Call, client_id=client.id, disposition="answered"), timeout=40
            )
        finally:
            phone.stop()
    call = calls[0]
    assert call.employee_id == lawyer_on_1002
    jobs = await eventually(
        lambda: stack.rows(TranscriptionJob, linkedid=call.linkedid), timeout=20
    )
    assert jobs[0].status == "queued"
    view = await stack.core.conversation_search.recording_card(call.id)
    assert view is not None and {f.part for f in view.files} == {"mix", "client", "employee"}
    for stored in view.files:
        assert not _head(stored.path).startswith(b"RIFF")
        assert len(stored.sha256) == 64
    # Nothing under Asterisk's folder keeps the call's audio in clear.
    leftovers = [p for p in asterisk.run_dir.rglob(f"*{call.linkedid}*") if p.is_file()]
    assert leftovers == []

    # The worker, with the small English test model and English rules.
    settings = stack.settings.with_overrides(
        transcription_model=str(whisper_model),
        transcription_language="en",
        speech_rules_file=str(english_rules(tmp_path)),
    )
    worker = build_worker(settings, stack.core)
    assert await worker.run_one()
    view = await stack.core.conversation_search.recording_card(call.id)
    assert view is not None and view.transcript is not None
    employee_words = " ".join(s.text for s in view.segments if s.speaker == "employee").lower()
    for word in ("lawyer", "personal", "number"):
        assert word in employee_words, employee_words
    client_words = " ".join(s.text for s in view.segments if s.speaker == "client").lower()
    assert "personal" not in client_words  # the client's channel had the carrier's tones
    assert view.transcript.employee_talk_ms > 2000
    assert [(f.kind, f.speaker) for f in view.flags] == [("poaching", "employee")]
    hits = await stack.core.conversation_search.search("Personal NUMBER")
    assert [hit.call.id for hit in hits] == [call.id]

    lawyer = await stack.browser("baresip-lawyer")
    cashier = await stack.browser("cashier")
    director = await stack.browser("director")
    try:
        page = await (await lawyer.get(f"/recordings/{call.id}")).text()
        assert "personal number" in page.lower() and "Юрист:" in page
        assert_no_digits_of(CLIENT_NUMBER, page)
        # The whole file, then a seek into the middle: the two agree, and decode to the
        # length the phone spoke.
        whole = await lawyer.get(f"/recordings/{call.id}/audio?part=employee")
        assert whole.status == 200 and whole.headers["Cache-Control"] == "no-store"
        audio = await whole.read()
        with wave.open(io.BytesIO(audio)) as wav:
            seconds = wav.getnframes() / wav.getframerate()
        assert abs(seconds - spoken_seconds) < 1.5, (seconds, spoken_seconds)
        ranged = await lawyer.get(
            f"/recordings/{call.id}/audio?part=employee", headers={"Range": "bytes=1000-2999"}
        )
        assert ranged.status == 206
        assert ranged.headers["Content-Range"] == f"bytes 1000-2999/{len(audio)}"
        assert await ranged.read() == audio[1000:3000]
        # A job without the right: refused on the player and the transcript, and journaled.
        for path in (f"/recordings/{call.id}/audio", f"/recordings/{call.id}"):
            response = await cashier.get(path)
            assert response.status == 403, path
        assert (await lawyer.get(f"/recordings/{call.id}/export")).status == 403
        bundle = await director.get(f"/recordings/{call.id}/export")
        assert bundle.status == 200 and bundle.content_type == "application/zip"
        assert_no_digits_of(CLIENT_NUMBER, (await bundle.read()).decode("latin-1"))
        queue = await (await director.get("/listening-queue")).text()
        assert f"/recordings/{call.id}" in queue
    finally:
        for browser in (lawyer, cashier, director):
            await browser.close()
    async with stack.core.sessionmaker() as session:
        entries = list(
            await session.scalars(
                select(JournalEntry).where(JournalEntry.object_id == str(call.id))
            )
        )
    listens = [e for e in entries if e.action == "listen_recording" and e.outcome == "allowed"]
    assert len(listens) == 2 and all(e.detail and " с" in e.detail for e in listens)
    denied = {(e.action, e.outcome) for e in entries if e.outcome == "denied"}
    assert ("listen_recording", "denied") in denied and ("view_transcript", "denied") in denied


def _head(path: str) -> bytes:
    with open(path, "rb") as stored:
        return stored.read(4)


def _masks(stack: Stack) -> str:
    return AsteriskRuntime(stack.settings).masks_file.read_text()
