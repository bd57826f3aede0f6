"""Desk phones for the demo: baresip softphones that answer by themselves and say a phrase."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

from lexcrm.asterisk_runtime import BUILT_IN_NOTICE, SipPhone
from lexcrm.settings import Settings

log = logging.getLogger(__name__)
PHRASE = (
    "Юридическая фирма, добрый день. Слушаю вас. Это демонстрационный телефон, "
    "он отвечает сам и говорит эту фразу, пока идёт запись разговора."
)


class DemoPhones:
    """One baresip process per desk phone, registered to the local Asterisk."""

    def __init__(self, settings: Settings, phones: list[SipPhone]) -> None:
        self._settings = settings
        self._phones = phones
        self._folder = settings.data_dir / "demo-phones"
        self._processes: list[subprocess.Popen[bytes]] = []

    @staticmethod
    def available() -> bool:
        return shutil.which("baresip") is not None

    def start(self) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        voice = self._voice()
        for phone in self._phones:
            folder = self._folder / phone.extension
            folder.mkdir(exist_ok=True)
            (folder / "config").write_text(
                "\n".join(
                    [
                        "poll_method epoll",
                        "sip_listen 127.0.0.1:0",
                        "net_interface 127.0.0.1",
                        "audio_player aufile,/dev/null",
                        "audio_alert aufile,/dev/null",
                        f"audio_source aufile,{voice}",
                        "module_path /usr/lib/baresip/modules",
                        "module g711.so",
                        "module aufile.so",
                        "module_app account.so",
                        "module_app menu.so",
                        "",
                    ]
                )
            )
            accounts = folder / "accounts"
            accounts.touch(mode=0o600)  # holds the SIP password: owner-only before writing
            accounts.chmod(0o600)
            accounts.write_text(
                f"<sip:{phone.extension}@127.0.0.1:{self._settings.sip_port}>"
                f";auth_pass={phone.password};answermode=auto;regint=300\n"
            )
            with (folder / "baresip.log").open("wb") as output:
                self._processes.append(
                    subprocess.Popen(
                        ["baresip", "-f", str(folder)],
                        stdin=subprocess.DEVNULL,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                    )
                )

    def _voice(self) -> Path:
        voice = self._folder / "voice.wav"
        if voice.exists():
            return voice
        if shutil.which("espeak-ng") and shutil.which("sox"):
            raw = self._folder / "voice-raw.wav"
            subprocess.run(["espeak-ng", "-v", "ru", "-w", str(raw), PHRASE], check=True)
            subprocess.run(
                ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(voice)], check=True
            )
            raw.unlink()
            return voice
        return BUILT_IN_NOTICE

    def stop(self) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self._processes.clear()
