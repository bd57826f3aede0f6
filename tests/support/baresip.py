"""A real SIP desk phone for tests: baresip registered to the test Asterisk, answering by itself."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.ports import free_sip_port


class BaresipPhone:
    """One baresip process with one account; it plays `voice_wav` as its microphone.

    baresip hangs up by itself when the WAV file ends ("audio error: end of file"), so a
    call it answers lasts as long as the file.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        extension: str,
        password: str,
        registrar_port: int,
        voice_wav: Path,
        dial: str | None = None,
    ) -> None:
        """`dial`: a number or code the phone dials as soon as it starts."""
        self.workdir = workdir
        self.extension = extension
        self.password = password
        self.registrar_port = registrar_port
        self.voice_wav = voice_wav
        self.dial = dial
        self.sip_port = free_sip_port()
        self.log_path = workdir / "baresip.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    f"sip_listen 127.0.0.1:{self.sip_port}",
                    # Media on loopback too: without it baresip offers the machine's LAN
                    # address in its SDP.
                    "net_interface 127.0.0.1",
                    "audio_player aufile,/dev/null",
                    "audio_alert aufile,/dev/null",
                    f"audio_source aufile,{self.voice_wav}",
                    "module_path /usr/lib/baresip/modules",
                    "module g711.so",
                    "module aufile.so",
                    "module_app account.so",
                    "module_app menu.so",
                    "",
                ]
            )
        )
        (self.workdir / "accounts").write_text(
            f"<sip:{self.extension}@127.0.0.1:{self.registrar_port}>"
            f";auth_pass={self.password};answermode=auto;regint=60\n"
        )
        log = self.log_path.open("wb")
        # -s: print every SIP message, so a test can read what the phone was told.
        command = ["baresip", "-s", "-f", str(self.workdir)]
        if self.dial:
            command += ["-e", f"/dial {self.dial}"]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)
        self._process = None
