"""Reading WAV files that Asterisk wrote, and making test speech with espeak-ng."""

from __future__ import annotations

import array
import math
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WavSummary:
    frames: int
    rate: int
    rms: float

    @property
    def seconds(self) -> float:
        return self.frames / self.rate if self.rate else 0.0


def summarise_wav(path: Path) -> WavSummary:
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2, "Asterisk writes 16-bit WAV"
        frames = wav.getnframes()
        samples = array.array("h", wav.readframes(frames))
        rate = wav.getframerate()
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0
    return WavSummary(frames=frames, rate=rate, rms=rms)


def speak_to_wav(text: str, path: Path, rate: int = 8000) -> Path:
    """espeak-ng speaks `text`; sox makes it 8 kHz mono 16-bit, what a phone sends."""
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-w", str(raw), text], check=True, capture_output=True)
    subprocess.run(
        ["sox", str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(path)],
        check=True,
        capture_output=True,
    )
    raw.unlink()
    return path
