"""Calls to clients: by code from a desk phone or click-to-call through ARI; never raw numbers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm.calls.masking import AsteriskMaskingSecrets, MaskEntry
from crm.core.crypto import KeyRing
from lexcrm.asterisk_runtime import AsteriskRuntime
from telephony.ari import AriClient, AriEndpoint, ChannelIdInUse
from telephony.mask_table import write_mask_table
from tests.asterisk.test_inbound_masking import assert_no_digits_of
from tests.conftest import SIPP_LAWYER_PORT, TEST_PHONES
from tests.support.ami import EventLog, ami_session
from tests.support.audio import speak_to_wav
from tests.support.baresip import BaresipPhone
from tests.support.sipp import SippPhone
from tests.support.waiting import eventually

pytestmark = pytest.mark.asterisk

CLIENT = "+79213334455"
LAWYER = TEST_PHONES[1]  # 1002, a baresip phone


def carrier_calls(log: EventLog) -> list[dict[str, str]]:
    """Calls that reached the carrier from the firm: one channel per INVITE received."""
    return [e for e in log.named("Newchannel") if e.get("Channel", "").startswith("PJSIP/lexcrm-")]


@pytest.fixture
def client_c42(asterisk: AsteriskRuntime) -> str:
    secrets = AsteriskMaskingSecrets.derive(KeyRing.load(asterisk.settings.key_file))
    write_mask_table(
        asterisk.masks_file,
        [
            MaskEntry(
                caller_key=secrets.caller_key(CLIENT),
                client_code="c42",
                display_name="Сидоров С. С.",
                sealed_number=secrets.seal(CLIENT),
            )
        ],
    )
    return "c42"


def lawyer_desk_phone(asterisk: AsteriskRuntime, tmp_path: Path, dial: str) -> BaresipPhone:
    voice = speak_to_wav("Hello, this is your lawyer calling.", tmp_path / "voice.wav")
    return BaresipPhone(
        tmp_path / f"baresip-{dial}",
        extension=LAWYER.extension,
        password=LAWYER.password,
        registrar_port=asterisk.settings.sip_port,
        voice_wav=voice,
        dial=dial,
    )


@pytest.mark.parametrize("number", ["89213334455", "+79213334455", "0079213334455", "9213334455"])
async def test_desk_phone_cannot_dial_an_outside_number(
    asterisk: AsteriskRuntime, carrier: AsteriskRuntime, tmp_path: Path, number: str
) -> None:
    async with ami_session(carrier) as (_manager, log):
        phone = lawyer_desk_phone(asterisk, tmp_path, number)
        phone.start()
        try:
            # Asterisk answers the INVITE with 404: no extension matches in lexcrm-internal.
            await eventually(lambda: "404 Not Found" in phone.log(), timeout=15)
        finally:
            phone.stop()
        assert carrier_calls(log) == []


async def test_desk_phone_calls_a_client_by_code(
    asterisk: AsteriskRuntime, carrier: AsteriskRuntime, tmp_path: Path, client_c42: str
) -> None:
    async with ami_session(carrier) as (_manager, log):
        phone = lawyer_desk_phone(asterisk, tmp_path, client_c42)
        phone.start()
        try:
            await eventually(lambda: "Call established" in phone.log(), timeout=20)
            await eventually(lambda: len(carrier_calls(log)) >= 1, timeout=10)
        finally:
            phone.stop()
    assert len(carrier_calls(log)) == 1
    # The carrier was asked for the client's number and shown the firm's.
    invite = carrier_calls(log)[0]
    assert invite["Exten"] == CLIENT
    assert invite["CallerIDNum"] == asterisk.settings.firm_number.lstrip("+")
    assert_no_digits_of(CLIENT, phone.log())


async def test_a_client_abroad_is_not_dialled(
    asterisk: AsteriskRuntime, carrier: AsteriskRuntime, tmp_path: Path
) -> None:
    # Toll-fraud rule: even a client's own number is dialled only if it is Russian.
    secrets = AsteriskMaskingSecrets.derive(KeyRing.load(asterisk.settings.key_file))
    abroad = "+442071234567"
    write_mask_table(
        asterisk.masks_file,
        [
            MaskEntry(
                caller_key=secrets.caller_key(abroad),
                client_code="c77",
                display_name="Smith J.",
                sealed_number=secrets.seal(abroad),
            )
        ],
    )
    async with ami_session(carrier) as (_manager, log):
        phone = lawyer_desk_phone(asterisk, tmp_path, "c77")
        phone.start()
        try:
            await eventually(lambda: "terminated" in phone.log(), timeout=20)
        finally:
            phone.stop()
        assert carrier_calls(log) == []


@pytest.fixture
def sipp_lawyer(tmp_path: Path) -> Iterator[SippPhone]:
    # Asterisk has SIPP_LAWYER_PORT as 1004's static contact.
    phone = SippPhone(tmp_path / "sipp-lawyer", calls=1, sip_port=SIPP_LAWYER_PORT)
    phone.start()
    yield phone
    phone.stop()


async def test_click_to_call_rings_the_employee_then_the_client_once(
    asterisk: AsteriskRuntime, carrier: AsteriskRuntime, sipp_lawyer: SippPhone, client_c42: str
) -> None:
    credentials = asterisk.credentials()
    endpoint = AriEndpoint(
        f"http://127.0.0.1:{asterisk.settings.http_port}",
        credentials.ari_username,
        credentials.ari_password,
    )
    channel_id = f"c2c-{uuid.uuid4().hex}"
    async with ami_session(carrier) as (_manager, log), AriClient(endpoint) as ari:
        await ari.originate_to_dialplan(
            endpoint="PJSIP/1004",
            context="lexcrm-call-client",
            extension=client_c42,
            channel_id=channel_id,
            caller_id=f'"Сидоров С. С." <{client_c42}>',
        )
        await eventually(lambda: len(carrier_calls(log)) >= 1, timeout=15)
        # The same request again (a retry after a lost reply): refused, nobody rings twice.
        with pytest.raises(ChannelIdInUse):
            await ari.originate_to_dialplan(
                endpoint="PJSIP/1004",
                context="lexcrm-call-client",
                extension=client_c42,
                channel_id=channel_id,
                caller_id=f'"Сидоров С. С." <{client_c42}>',
            )
        await eventually(sipp_lawyer.call_ended, timeout=30)
    assert len(carrier_calls(log)) == 1
    assert sipp_lawyer.received_invites() == 1
    messages = sipp_lawyer.messages()
    assert 'From: "Сидоров С. С." <sip:c42@' in messages
    assert_no_digits_of(CLIENT, messages)
