"""The recording store: recordings leave Asterisk's folder once a call ends and rest owner-only."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import struct
import time
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)
WAV_HEADER = 44


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


class RecordingStore:
    """Folders by date under `root`; files mode 0600. Encryption at rest comes with the
    transcription worker; until then the store is readable by the service's user only."""

    def __init__(self, root: Path, *, close_timeout: float = 15.0) -> None:
        self.root = root
        self._close_timeout = close_timeout

    async def accept(self, linkedid: str, files: list[Path]) -> list[Path]:
        """Move a finished call's files into the store; returns their new paths."""
        return await asyncio.to_thread(self._accept, linkedid, files)

    def _accept(self, linkedid: str, files: list[Path]) -> list[Path]:
        folder = self.root / datetime.now(UTC).strftime("%Y/%m/%d")
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        stored = []
        for source in files:
            log.info("call %s: storing %s", linkedid, source)
            if not self._wait_closed(source):
                log.warning(
                    "call %s: recording %s not finished; left in place", linkedid, source.name
                )
                continue
            target = folder / source.name
            shutil.move(source, target)
            os.chmod(target, 0o600)
            stored.append(target)
        return stored

    def _wait_closed(self, path: Path) -> bool:
        deadline = time.monotonic() + self._close_timeout
        while time.monotonic() < deadline:
            if wav_is_closed(path):
                return True
            time.sleep(0.1)
        return False
