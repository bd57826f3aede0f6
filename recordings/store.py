"""The recording store: recordings leave Asterisk's folder encrypted, in folders by date."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import struct
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from crm.conversations.recordings import StoredRecording
from recordings.cipher import RecordingCipher

log = logging.getLogger(__name__)
WAV_HEADER = 44
SEALED_SUFFIX = ".enc"
# 8 kHz, 16-bit, mono: what MixMonitor writes for a phone call.
WAV_BYTES_PER_SECOND = 16000


def wav_is_closed(path: Path) -> bool:
    """MixMonitor writes the RIFF and data sizes into the header when it closes the file."""
    try:
        with path.open("rb") as wav:
            header = wav.read(WAV_HEADER)
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    if len(header) < WAV_HEADER or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
        return False
    riff_size = int(struct.unpack("<I", header[4:8])[0])
    return riff_size == size - 8


def close_wav_header(path: Path) -> bool:
    """Write the sizes a WAV's header lacks when its writer stopped before closing it (an
    Asterisk that died mid-call): the audio is all there, only the header says 0. False if
    the file is not a canonical 44-byte-header WAV."""
    with path.open("r+b") as wav:
        header = wav.read(WAV_HEADER)
        if len(header) < WAV_HEADER or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return False
        if header[36:40] != b"data":
            return False
        size = path.stat().st_size
        wav.seek(4)
        wav.write(struct.pack("<I", size - 8))
        wav.seek(40)
        wav.write(struct.pack("<I", size - WAV_HEADER))
    return True


def recording_name(path: Path) -> str:
    """The name a stored file is bound to: "<unique id>-<part>.wav", whatever folder it is in."""
    return path.name.removesuffix(SEALED_SUFFIX)


def part_of(path: Path) -> str:
    """ "mix", "client" or "employee": the last dash-separated word of the file's stem."""
    return recording_name(path).removesuffix(".wav").rsplit("-", 1)[-1]


def wav_duration_ms(path: Path) -> int:
    with path.open("rb") as wav:
        header = wav.read(WAV_HEADER)
    if len(header) < WAV_HEADER:
        return 0
    channels, rate = struct.unpack("<HI", header[22:28])
    bits = struct.unpack("<H", header[34:36])[0]
    per_second = rate * channels * bits // 8
    data = path.stat().st_size - WAV_HEADER
    return int(data * 1000 / per_second) if per_second else 0


class RecordingStore:
    """Encrypted files (mode 0600) in `root`/YYYY/MM/DD; the plaintext is gone once stored."""

    def __init__(self, root: Path, cipher: RecordingCipher, *, close_timeout: float = 15.0) -> None:
        self.root = root
        self._cipher = cipher
        self._close_timeout = close_timeout

    async def accept(
        self, linkedid: str, files: list[Path], *, abandoned: bool = False
    ) -> list[StoredRecording]:
        """Encrypt a finished call's files into the store and remove the originals.

        `abandoned`: files found long after their call, which nobody will close any more;
        an unclosed header is completed rather than waited for."""
        return await asyncio.to_thread(self._accept, linkedid, files, abandoned)

    def _accept(self, linkedid: str, files: list[Path], abandoned: bool) -> list[StoredRecording]:
        folder = self.root / datetime.now(UTC).strftime("%Y/%m/%d")
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        stored = []
        for source in files:
            if not source.exists():
                continue  # taken meanwhile (a sweep and a hand-off never share a file)
            if abandoned and not wav_is_closed(source):
                # Nobody will close it any more: its header is completed if it can be, and
                # it is sealed either way, so no plaintext stays behind.
                closed = close_wav_header(source)
                log.warning(
                    "call %s: recording %s was never closed; %s",
                    linkedid,
                    source.name,
                    "closed now" if closed else "stored as it is",
                )
            elif not self._wait_closed(source):
                log.warning(
                    "call %s: recording %s not finished; left in place", linkedid, source.name
                )
                continue
            target = folder / (source.name + SEALED_SUFFIX)
            partial = target.with_name(target.name + ".part")
            duration_ms = wav_duration_ms(source)
            sha256 = self._cipher.encrypt_file(source, partial, recording_name(target))
            partial.replace(target)
            size = source.stat().st_size
            # Only now, with the sealed copy on disk, does the plaintext go.
            source.unlink()
            log.info("call %s: stored %s encrypted", linkedid, target.name)
            stored.append(
                StoredRecording(
                    part=part_of(target),
                    path=str(target),
                    sha256=sha256,
                    size_bytes=size,
                    duration_ms=duration_ms,
                )
            )
        return stored

    def leftovers(self, spool: Path, quiet_seconds: float) -> dict[str, list[Path]]:
        """Recordings still in Asterisk's folder that nobody has written for `quiet_seconds`,
        by the unique id their names begin with (the call's first channel, i.e. the call)."""
        found: dict[str, list[Path]] = {}
        now = time.time()
        for path in sorted(spool.rglob("*.wav")):
            try:
                quiet = now - path.stat().st_mtime >= quiet_seconds
            except FileNotFoundError:
                continue  # handed off meanwhile
            if quiet and "-" in path.stem:
                found.setdefault(path.stem.rsplit("-", 1)[0], []).append(path)
        return found

    def _wait_closed(self, path: Path) -> bool:
        deadline = time.monotonic() + self._close_timeout
        while time.monotonic() < deadline:
            if wav_is_closed(path):
                return True
            time.sleep(0.1)
        return False

    # --- reading --------------------------------------------------------------------------
    def plaintext_size(self, path: Path) -> int:
        return self._cipher.plaintext_size(path)

    def read_range(self, path: Path, start: int, end: int) -> Iterator[bytes]:
        """The decrypted bytes start..end (inclusive) of a stored file, chunk by chunk."""
        return self._cipher.read_range(path, recording_name(path), start, end)

    def decrypt(self, path: Path) -> bytes:
        """The whole recording, in memory only: nothing decrypted is written to disk."""
        return self._cipher.decrypt(path, recording_name(path))

    # --- retention ------------------------------------------------------------------------
    def purge_before(self, day: date) -> list[Path]:
        """Delete the day folders older than `day`; returns the files deleted."""
        deleted: list[Path] = []
        for folder in sorted(self.root.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]")):
            try:
                folder_day = date(*(int(part) for part in folder.parts[-3:]))
            except ValueError:
                continue
            if folder_day >= day:
                continue
            deleted.extend(p for p in folder.iterdir() if p.is_file())
            shutil.rmtree(folder)
        return deleted
