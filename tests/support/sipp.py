"""A SIP desk phone made of sipp: answers every call, echoes its audio, traces every message."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.support.ports import free_sipp_media_port, free_udp_port, udp_port_bound

# A phone that rings and is never picked up: 180, then the caller's CANCEL ends it (487).
RING_ONLY_SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="ring only">
  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0

]]></send>
  <recv request="CANCEL"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <send><![CDATA[
SIP/2.0 487 Request Terminated
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [cseq] INVITE
Content-Length: 0

]]></send>
  <recv request="ACK"/>
</scenario>
"""


class SippPhone:
    """sipp's built-in UAS scenario on a loopback port, with a full message trace.

    Asterisk reaches it through a static contact (no registration), so the trace holds
    exactly what a desk phone would be told: every INVITE, re-INVITE, UPDATE and NOTIFY.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        calls: int = 1,
        answers: bool = True,
        sip_port: int | None = None,
    ) -> None:
        """`answers=False`: the phone rings until the caller gives up (never picked up);
        `sip_port`: a port fixed beforehand (a desk phone Asterisk has a static contact for)."""
        self.workdir = workdir
        self.calls = calls
        self.answers = answers
        self.sip_port = sip_port or free_udp_port()
        self.media_port = free_sipp_media_port()
        self.trace_path = workdir / "sipp-messages.log"
        self.errors_path = workdir / "sipp-errors.log"
        self._process: subprocess.Popen[bytes] | None = None

    def contact(self, extension: str) -> str:
        return f"sip:{extension}@127.0.0.1:{self.sip_port}"

    def start(self) -> None:
        """Start sipp and return once it listens; raise with sipp's own words if it quit."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.answers:
            scenario = ["-sn", "uas"]
        else:
            scenario_file = self.workdir / "ring-only.xml"
            scenario_file.write_text(RING_ONLY_SCENARIO)
            scenario = ["-sf", str(scenario_file)]
        with self.errors_path.open("wb") as errors:
            self._process = subprocess.Popen(
                [
                    "sipp",
                    *scenario,
                    "-i",
                    "127.0.0.1",
                    "-p",
                    str(self.sip_port),
                    "-mi",
                    "127.0.0.1",
                    "-mp",
                    str(self.media_port),
                    "-rtp_echo",
                    "-m",
                    str(self.calls),
                    "-nostdin",
                    "-trace_msg",
                    "-message_file",
                    str(self.trace_path),
                ],
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
        self._wait_listening()

    def _wait_listening(self) -> None:
        # A sipp that quits (a port taken) would otherwise leave calls to it ringing out
        # and fail the test much later, far from the cause. Its ports are ours alone, so
        # all of them bound means it is up.
        assert self._process is not None
        ports = (self.sip_port, self.media_port, self.media_port + 2)
        deadline = time.monotonic() + 10
        while not all(udp_port_bound(port) for port in ports):
            if self._process.poll() is not None:
                errors = self.errors_path.read_text(errors="replace").strip()
                raise RuntimeError(f"sipp quit on start ({self._process.returncode}): {errors}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"sipp did not listen on port {self.sip_port} within 10 s")
            time.sleep(0.02)

    def messages(self) -> str:
        """Every SIP message sipp sent or received so far, headers and bodies."""
        return self.trace_path.read_text(errors="replace") if self.trace_path.exists() else ""

    def received_invites(self) -> int:
        return self.messages().count("INVITE sip:")

    def call_ended(self) -> bool:
        """An INVITE came, then a BYE for it (a stray BYE of an older call does not count)."""
        messages = self.messages()
        invite = messages.find("INVITE sip:")
        return invite >= 0 and "BYE sip:" in messages[invite:]

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)
        self._process = None
