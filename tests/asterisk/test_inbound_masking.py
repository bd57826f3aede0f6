"""Inbound calls through a real trunk: the desk phone never learns the caller's number."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm.calls.masking import AsteriskMaskingSecrets, MaskEntry
from crm.core.crypto import KeyRing
from lexcrm.asterisk_runtime import AsteriskRuntime
from telephony.mask_table import write_mask_table
from tests.conftest import SIPP_OPERATOR_PORT
from tests.support.ami import EventLog, ami_session, first_message
from tests.support.audio import summarise_wav
from tests.support.sipp import SippPhone
from tests.support.waiting import eventually

pytestmark = pytest.mark.asterisk

UNKNOWN_CANARY = "+79215554321"
KNOWN_CANARY = "+79117776655"


def digit_forms(e164: str) -> list[str]:
    """Every way the number could be written in a SIP message."""
    national = e164[2:]
    return [
        national,
        "7" + national,
        "8" + national,
        f"{national[:3]} {national[3:6]}",
        f"{national[3:6]}-{national[6:8]}-{national[8:]}",
        national[3:],
    ]


def assert_no_digits_of(e164: str, text: str) -> None:
    squeezed = re.sub(r"[\s().-]", "", text)
    for form in digit_forms(e164):
        assert form not in text, f"{form} leaked"
        assert re.sub(r"[\s().-]", "", form) not in squeezed, f"{form} leaked"


@pytest.fixture
def sipp_operator(tmp_path: Path) -> Iterator[SippPhone]:
    # Asterisk has SIPP_OPERATOR_PORT as 1003's static contact.
    phone = SippPhone(tmp_path / "sipp-operator", calls=1, sip_port=SIPP_OPERATOR_PORT)
    phone.start()
    yield phone
    phone.stop()


async def call_the_firm(carrier: AsteriskRuntime, caller: str, talk_seconds: int = 9) -> None:
    """The carrier places a call to the firm with `caller` as the caller number."""
    async with ami_session(carrier) as (manager, _log):
        response = await manager.send_action(
            {
                "Action": "Originate",
                "Channel": f"PJSIP/{carrier.settings.firm_number.lstrip('+')}@lexcrm",
                "CallerID": f"<{caller}>",
                "Context": "carrier-client-speaks",
                "Exten": "s",
                "Priority": "1",
                "Variable": f"TALK_SECONDS={talk_seconds}",
                "Timeout": "30000",
                "Async": "true",
            }
        )
        assert first_message(response).Response == "Success"


def recording_files(asterisk: AsteriskRuntime, log: EventLog) -> list[Path]:
    events = log.named("UserEvent", UserEvent="LexcrmRecording")
    assert events, "no LexcrmRecording event"
    return [asterisk.host_path(p) for p in events[-1]["Files"].split("^")]


async def test_unknown_caller_becomes_a_lead_and_the_phone_never_sees_the_number(
    asterisk: AsteriskRuntime, carrier: AsteriskRuntime, sipp_operator: SippPhone
) -> None:
    async with ami_session(asterisk) as (_manager, log):
        await call_the_firm(carrier, UNKNOWN_CANARY)
        await eventually(lambda: sipp_operator.received_invites() >= 1, timeout=30)
        # The call ends when the carrier's caller hangs up; then MixMonitor closes its files.
        await eventually(sipp_operator.call_ended, timeout=30)
        call = log.named("UserEvent", UserEvent="LexcrmCall")[-1]

    messages = sipp_operator.messages()
    assert "INVITE sip:1003@" in messages
    assert re.search(r'From: "Новый клиент" <sip:new[0-9]+@', messages), messages[:2000]
    assert_no_digits_of(UNKNOWN_CANARY, messages)

    # The dialplan sealed the number for the controller, which can unseal it.
    assert re.fullmatch(r"new[0-9]+", call["Client"]) and call["Direction"] == "inbound"
    secrets = AsteriskMaskingSecrets.derive(KeyRing.load(asterisk.settings.key_file))
    assert secrets.unseal(call["Sealed"]) == UNKNOWN_CANARY


async def test_known_client_is_shown_by_code_and_recorded_by_party(
    asterisk: AsteriskRuntime, carrier: AsteriskRuntime, sipp_operator: SippPhone
) -> None:
    secrets = AsteriskMaskingSecrets.derive(KeyRing.load(asterisk.settings.key_file))
    write_mask_table(
        asterisk.masks_file,
        [
            MaskEntry(
                caller_key=secrets.caller_key(KNOWN_CANARY),
                client_code="c42",
                display_name="Иванов И. И. (Д-17)",
                sealed_number=secrets.seal(KNOWN_CANARY),
            )
        ],
    )
    async with ami_session(asterisk) as (_manager, log):
        # The carrier sends the number in national form; the dialplan normalises it.
        await call_the_firm(carrier, "8" + KNOWN_CANARY[2:])
        await eventually(sipp_operator.call_ended, timeout=40)
        files = recording_files(asterisk, log)
        await eventually(lambda: all(p.exists() for p in files), timeout=10)

    messages = sipp_operator.messages()
    assert 'From: "Иванов И. И. (Д-17)" <sip:c42@' in messages
    assert_no_digits_of(KNOWN_CANARY, messages)
    assert {p.name.rsplit("-", 1)[1] for p in files} == {"mix.wav", "client.wav", "employee.wav"}
    for path in files:
        summary = summarise_wav(path)
        assert summary.seconds > 2, (path.name, summary)
        assert summary.rms > 300, (path.name, summary)
        assert KNOWN_CANARY[2:] not in path.name


async def test_simulate_inbound_command_rings_the_call_centre(
    asterisk: AsteriskRuntime, carrier: AsteriskRuntime, sipp_operator: SippPhone
) -> None:
    from tests.cli.test_commands import lexcrm

    result = await asyncio.to_thread(
        lexcrm, asterisk.settings, "simulate", "inbound", "--from", "8 921 555-66-77", "--talk", "6"
    )
    assert result.returncode == 0, result.stderr
    assert_no_digits_of("+79215556677", result.stdout + result.stderr)
    await eventually(sipp_operator.call_ended, timeout=40)
    assert sipp_operator.received_invites() == 1
    assert_no_digits_of("+79215556677", sipp_operator.messages())


async def test_simulate_refuses_a_number_that_is_not_one(asterisk: AsteriskRuntime) -> None:
    from tests.cli.test_commands import lexcrm

    result = await asyncio.to_thread(
        lexcrm, asterisk.settings, "simulate", "inbound", "--from", "12-ab"
    )
    assert result.returncode == 2 and "телефон" in result.stderr.lower()
