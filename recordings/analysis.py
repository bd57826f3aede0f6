"""How a call went, from each party's own channel: talk time, silences, overlaps, interruptions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from faster_whisper.vad import VadOptions, get_speech_timestamps

from crm.conversations.transcription import TalkMetrics

SAMPLE_RATE = 16000
# Finer than Whisper's own VAD settings (2 s of silence, 400 ms of padding): here a pause
# between two sentences counts as a pause.
METRICS_VAD = VadOptions(min_silence_duration_ms=300, speech_pad_ms=30)
# An overlap shorter than this is a "yes", "mm" or a line delay, not talking over someone.
MIN_OVERLAP_MS = 300
# Talking over someone who has been speaking at least this long is an interruption.
INTERRUPTED_AFTER_MS = 1000

Audio = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Interval:
    start_ms: int
    end_ms: int

    @property
    def length_ms(self) -> int:
        return self.end_ms - self.start_ms


def speech_intervals(audio: Audio) -> list[Interval]:
    """Where someone speaks on one channel (Silero VAD, shipped inside faster-whisper)."""
    if audio.size == 0:
        return []
    chunks = get_speech_timestamps(audio, METRICS_VAD, sampling_rate=SAMPLE_RATE)
    return [
        Interval(int(c["start"] * 1000 / SAMPLE_RATE), int(c["end"] * 1000 / SAMPLE_RATE))
        for c in chunks
    ]


def talk_metrics(
    employee: Sequence[Interval], client: Sequence[Interval], duration_ms: int
) -> TalkMetrics:
    """The call's shape from the two sides' speech; pure, so it is tested on made-up turns."""
    overlaps = 0
    interruptions = 0
    for a in employee:
        for b in client:
            shared = min(a.end_ms, b.end_ms) - max(a.start_ms, b.start_ms)
            if shared < MIN_OVERLAP_MS:
                continue
            overlaps += 1
            # The later starter talked over the other, who had been speaking a while.
            earlier, later = (a, b) if a.start_ms <= b.start_ms else (b, a)
            if later.start_ms - earlier.start_ms >= INTERRUPTED_AFTER_MS:
                interruptions += 1
    return TalkMetrics(
        duration_ms=duration_ms,
        client_talk_ms=_covered(client),
        employee_talk_ms=_covered(employee),
        longest_silence_ms=_longest_gap([*employee, *client], duration_ms),
        overlaps=overlaps,
        interruptions=interruptions,
    )


def _covered(intervals: Sequence[Interval]) -> int:
    total = 0
    end = -1
    for interval in sorted(intervals, key=lambda i: i.start_ms):
        start = max(interval.start_ms, end)
        if interval.end_ms > start:
            total += interval.end_ms - start
            end = interval.end_ms
    return total


def _longest_gap(intervals: Sequence[Interval], duration_ms: int) -> int:
    """The longest stretch in which neither side speaks, between the first and last words.

    The ringing before and the goodbye-silence after are not the call's silences.
    """
    longest = 0
    end = None
    for interval in sorted(intervals, key=lambda i: i.start_ms):
        if end is not None and interval.start_ms > end:
            longest = max(longest, interval.start_ms - end)
        end = interval.end_ms if end is None else max(end, interval.end_ms)
    return min(longest, duration_ms)
