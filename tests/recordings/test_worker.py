"""The transcription worker as it runs: its own process, killed mid-job, the job done once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm.conversations.models import CallFlag, Transcript, TranscriptionJob, TranscriptSegment
from crm.core.crypto import KeyRing
from lexcrm.services import Services, open_services
from lexcrm.settings import Settings
from tests.recordings.conftest import english_rules
from tests.support.audio import speak_to_wav
from tests.support.waiting import eventually

LINKEDID = "1764200000.77"
# About 40 seconds: long enough to be killed in the middle of. No sentence repeats: a
# window of repeated text looks to Whisper like its own looping, and it then samples at
# higher temperatures, which makes the transcript differ from run to run.
EMPLOYEE_SPEECH = " ".join(
    [
        "Please write down my personal number.",
        "Good afternoon. Your hearing is on Monday at ten.",
        "Please bring the contract and your passport.",
        "The court will look at the receipts from the shop.",
        "We asked for the expert report last week.",
        "If the judge agrees, the case may end in one session.",
        "Your neighbour will come as a witness on Tuesday.",
        "I will send the draft of the claim tomorrow morning.",
        "The fee for the court has already been paid.",
        "The other side wants to settle before the trial.",
        "We should not accept their first offer.",
        "Think about what sum would be fair for you.",
        "The bank statement shows every transfer you made.",
        "Bring copies of the letters you sent them in March.",
        "Call me at the office if anything changes.",
    ]
)
CLIENT_SPEECH = "I am not happy. I want my money back."


@pytest.fixture
def settings(tmp_path: Path, whisper_model: Path) -> Settings:
    key_file = tmp_path / "secret" / "lexcrm.keys"
    KeyRing.create_file(key_file)
    return Settings(
        data_dir=tmp_path / "var",
        key_file=key_file,
        transcription_model=str(whisper_model),
        transcription_language="en",
        # Short, so the second worker takes over the dead one's job within seconds.
        transcription_lease_seconds=3,
        speech_rules_file=str(english_rules(tmp_path)),
    )


@pytest.fixture
async def core(settings: Settings) -> AsyncIterator[Services]:
    async with open_services(settings) as core:
        yield core


@pytest.fixture
def environment(settings: Settings) -> Iterator[dict[str, str]]:
    names = (
        "data_dir",
        "key_file",
        "transcription_model",
        "transcription_language",
        "transcription_lease_seconds",
        "speech_rules_file",
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LEXCRM_")}
    environ |= {f"LEXCRM_{name.upper()}": str(getattr(settings, name)) for name in names}
    yield environ


def start_worker(environment: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "lexcrm.cli", "worker"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def job(core: Services) -> TranscriptionJob:
    async with core.sessionmaker() as session:
        found = await session.scalar(select(TranscriptionJob))
        assert found is not None
        return found


async def count(core: Services, model: type) -> int:
    async with core.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_worker_killed_mid_job_leaves_it_to_the_next_which_does_it_once(
    core: Services, environment: dict[str, str], tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    files = [
        speak_to_wav(EMPLOYEE_SPEECH, spool / f"{LINKEDID}-employee.wav"),
        speak_to_wav(CLIENT_SPEECH, spool / f"{LINKEDID}-client.wav"),
    ]
    stored = await core.vault.hand_off(LINKEDID, files)
    assert len(stored) == 2 and not any(path.exists() for path in files)
    log = tmp_path / "worker.log"
    first = start_worker(environment, log)
    try:
        beats: set[object] = set()

        async def working() -> bool:
            # Claimed, and a second heartbeat since: the model is busy with the call.
            current = await job(core)
            if current.status == "running":
                beats.add(current.heartbeat_at)
            return len(beats) >= 2

        try:
            await eventually(working, timeout=120, interval=0.2)
        except AssertionError:
            raise AssertionError(log.read_text()[-3000:]) from None
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert (await job(core)).status == "running"
    assert await count(core, Transcript) == 0  # nothing half-written

    second = start_worker(environment, log)
    try:

        async def done() -> bool:
            return (await job(core)).status == "done"

        try:
            await eventually(done, timeout=180, interval=0.5)
        except AssertionError:
            raise AssertionError(log.read_text()[-3000:]) from None
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=20)
    assert second.returncode == 0, log.read_text()
    finished = await job(core)
    assert finished.attempts == 2 and finished.progress == 100
    assert await count(core, Transcript) == 1
    async with core.sessionmaker() as session:
        segments = list(await session.scalars(select(TranscriptSegment)))
        flags = list(await session.scalars(select(CallFlag)))
    starts = [(s.speaker, s.start_ms) for s in segments]
    assert len(starts) == len(set(starts))  # each utterance once
    said = [(s.speaker, s.start_ms, s.text) for s in segments]
    assert {(f.kind, f.speaker) for f in flags} == {
        ("poaching", "employee"),
        ("risk", "client"),
    }, said
    assert len(flags) == 2
