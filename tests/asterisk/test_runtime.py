"""The local Asterisk runtime against a real Asterisk: AMI, ARI, recording, a real SIP phone."""

from __future__ import annotations

import asyncio
import shutil
import socket
import uuid
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from panoramisk import Manager

from lexcrm.asterisk_runtime import AsteriskRuntime, AsteriskStartFailed, PortTaken
from telephony.ari import AriClient, AriEndpoint, AriUnavailable
from tests.conftest import TEST_PHONES, asterisk_test_settings
from tests.support.audio import speak_to_wav, summarise_wav
from tests.support.baresip import BaresipPhone
from tests.support.waiting import eventually

pytestmark = pytest.mark.asterisk


@pytest.fixture
async def ami(asterisk: AsteriskRuntime) -> AsyncIterator[Manager]:
    credentials = asterisk.credentials()
    manager = Manager(
        host="127.0.0.1",
        port=asterisk.settings.ami_port,
        username=credentials.ami_username,
        secret=credentials.ami_secret,
        ping_delay=0,  # no background pings: the test owns the link
    )
    await manager.connect()
    yield manager
    manager.close()


def ari_endpoint(asterisk: AsteriskRuntime, password: str | None = None) -> AriEndpoint:
    credentials = asterisk.credentials()
    return AriEndpoint(
        base_url=f"http://127.0.0.1:{asterisk.settings.http_port}",
        username=credentials.ari_username,
        password=password if password is not None else credentials.ari_password,
    )


def recordings_of(asterisk: AsteriskRuntime, call_id: str) -> dict[str, Path]:
    """The files MixMonitor wrote for one call, by part: mix, client, employee."""
    found = {}
    for path in asterisk.recordings_dir.rglob(f"{call_id}-*.wav"):
        found[path.stem.rsplit("-", 1)[1]] = path
    return found


def finished_wav_frames(path: Path) -> int:
    """Frames of a WAV that MixMonitor has closed; 0 while its header is still unwritten."""
    try:
        return summarise_wav(path).frames
    except (wave.Error, EOFError):
        return 0


async def originate(ami: Manager, channel: str, exten: str) -> str:
    """Originate `channel` into the test context; returns the call's unique id."""
    call_id = uuid.uuid4().hex
    response = await ami.send_action(
        {
            "Action": "Originate",
            "Channel": channel,
            "Context": "lexcrm-test",
            "Exten": exten,
            "Priority": "1",
            # Our own channel id: the recording's file name is derived from it, and a
            # retried request can be recognised by it.
            "ChannelId": call_id,
            "Timeout": "10000",
            "Async": "true",
        }
    )
    # With Async, panoramisk gathers the response and the later OriginateResponse event.
    messages = response if isinstance(response, list) else [response]
    assert messages[0].Response == "Success", messages
    return call_id


async def test_ami_login_through_panoramisk(ami: Manager) -> None:
    response = await ami.send_action({"Action": "Ping"})
    assert response.Response == "Success"
    assert response.Ping == "Pong"


async def test_ami_user_cannot_run_cli_commands(ami: Manager) -> None:
    # The AMI user has no `command`/`system` rights: a leaked AMI password cannot be used
    # to run shell commands or read configs.
    response = await ami.send_action({"Action": "Command", "Command": "core show version"})
    assert response.Response == "Error"
    assert "Permission denied" in response.Message


async def test_ami_rejects_wrong_secret(asterisk: AsteriskRuntime) -> None:
    # Plain TCP rather than panoramisk, which just reconnects after a refused login.
    reader, writer = await asyncio.open_connection("127.0.0.1", asterisk.settings.ami_port)
    try:
        banner = await asyncio.wait_for(reader.readline(), 5)
        assert banner.startswith(b"Asterisk Call Manager")
        username = asterisk.credentials().ami_username
        writer.write(f"Action: Login\r\nUsername: {username}\r\nSecret: wrong\r\n\r\n".encode())
        await writer.drain()
        reply = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert b"Response: Error" in reply
        assert b"Authentication failed" in reply
    finally:
        writer.close()
        await writer.wait_closed()


async def test_ari_answers_over_aiohttp(asterisk: AsteriskRuntime) -> None:
    async with AriClient(ari_endpoint(asterisk)) as ari:
        info = await ari.asterisk_info()
        assert info["system"]["version"].startswith("22.")
        assert info["config"]["name"] == f"lexcrm-{asterisk.settings.asterisk_instance}"


async def test_ari_rejects_wrong_password(asterisk: AsteriskRuntime) -> None:
    async with AriClient(ari_endpoint(asterisk, password="wrong")) as ari:
        with pytest.raises(AriUnavailable):
            await ari.asterisk_info()


async def test_ami_and_ari_listen_on_loopback_only(asterisk: AsteriskRuntime) -> None:
    # Asterisk binds these to 127.0.0.1; connecting via another local address must fail.
    addresses = {
        info[4][0]
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        if not info[4][0].startswith("127.")
    }
    for address in addresses:
        for port in (asterisk.settings.ami_port, asterisk.settings.http_port):
            with pytest.raises(OSError):
                socket.create_connection((address, port), timeout=2).close()
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{asterisk.settings.http_port}/ari/asterisk/info"
        async with session.get(url) as response:
            assert response.status == 401  # no anonymous access


async def test_call_in_test_context_is_recorded_by_mixmonitor(
    asterisk: AsteriskRuntime, ami: Manager
) -> None:
    call_id = await originate(ami, "Local/echo@lexcrm-test", "record")

    def all_parts_written() -> dict[str, Path] | None:
        files = recordings_of(asterisk, call_id)
        # MixMonitor writes the WAV header's sizes when it closes the file.
        if set(files) == {"mix", "client", "employee"} and all(
            finished_wav_frames(path) > 0 for path in files.values()
        ):
            return files
        return None

    files = await eventually(all_parts_written, timeout=15)
    for part, path in files.items():
        assert call_id in path.name and path.suffix == ".wav"
        summary = summarise_wav(path)
        assert summary.rate == 8000
        assert 1.0 <= summary.seconds <= 6.0, (part, summary)
        assert summary.rms > 500, (part, summary)  # a tone, not silence


@pytest.fixture
def voice_wav(tmp_path: Path) -> Path:
    return speak_to_wav("Good morning, this is a test call to the law firm.", tmp_path / "v.wav")


@pytest.fixture
def desk_phone(
    asterisk: AsteriskRuntime, tmp_path: Path, voice_wav: Path
) -> Iterator[BaresipPhone]:
    phone_account = TEST_PHONES[0]
    phone = BaresipPhone(
        tmp_path / "baresip",
        extension=phone_account.extension,
        password=phone_account.password,
        registrar_port=asterisk.settings.sip_port,
        voice_wav=voice_wav,
    )
    phone.start()
    yield phone
    phone.stop()


def registered_contacts(asterisk: AsteriskRuntime, extension: str) -> str:
    output = asterisk.rx(f"pjsip show aor {extension}")
    return output if "Contact:" in output and f"{extension}/sip:" in output else ""


async def test_baresip_registers_and_answers_a_call(
    asterisk: AsteriskRuntime, ami: Manager, desk_phone: BaresipPhone
) -> None:
    await eventually(lambda: registered_contacts(asterisk, desk_phone.extension), timeout=10)
    call_id = await originate(ami, f"PJSIP/{desk_phone.extension}", "listen")

    def answered_and_recorded() -> dict[str, Path] | None:
        files = recordings_of(asterisk, call_id)
        if "employee" in files and finished_wav_frames(files["employee"]) > 8000:
            return files
        return None

    files = await eventually(answered_and_recorded, timeout=20)
    assert "Call established" in desk_phone.log()
    heard = summarise_wav(files["employee"])
    assert heard.rms > 300, heard  # the phone's voice reached Asterisk
    # The phone was called without any caller number: it shows nothing but "anonymous".
    assert "Call established: sip:anonymous@anonymous.invalid" in desk_phone.log()


async def test_phone_with_wrong_password_is_not_registered(
    asterisk: AsteriskRuntime, tmp_path: Path, voice_wav: Path
) -> None:
    intruder = BaresipPhone(
        tmp_path / "intruder",
        extension=TEST_PHONES[1].extension,
        password="not-the-password",
        registrar_port=asterisk.settings.sip_port,
        voice_wav=voice_wav,
    )
    intruder.start()
    try:
        await eventually(lambda: "401" in intruder.log() or "403" in intruder.log(), timeout=10)
        assert registered_contacts(asterisk, TEST_PHONES[1].extension) == ""
    finally:
        intruder.stop()


def test_port_taken_is_reported_with_the_port(tmp_path: Path) -> None:
    settings = asterisk_test_settings(tmp_path, "port-taken")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", settings.ami_port))
        squatter.listen()
        runtime = AsteriskRuntime(settings)
        with pytest.raises(PortTaken, match=str(settings.ami_port)):
            runtime.up()
    assert runtime.pid() is None


def test_asterisk_that_fails_to_start_shows_its_log(tmp_path: Path) -> None:
    settings = asterisk_test_settings(tmp_path, f"broken-{tmp_path.name}")
    runtime = AsteriskRuntime(settings)
    runtime.ensure_installed()
    runtime.render()
    try:
        with (runtime.etc_dir / "modules.conf").open("a") as modules:
            modules.write("require = res_lexcrm_no_such_module.so\n")
        with pytest.raises(AsteriskStartFailed) as failure:
            runtime.start()
        assert "res_lexcrm_no_such_module" in failure.value.log
        assert "журнал Asterisk" in str(failure.value)
        assert runtime.pid() is None
    finally:
        runtime.down()
        shutil.rmtree(runtime.run_dir, ignore_errors=True)


def test_up_is_idempotent_and_status_reports_running(asterisk: AsteriskRuntime) -> None:
    pid = asterisk.pid()
    assert pid is not None
    assert AsteriskRuntime(asterisk.settings).up() == pid
    status = AsteriskRuntime(asterisk.settings).status()
    assert status.running and status.pid == pid
    assert "uptime" in status.detail.lower()
