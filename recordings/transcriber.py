"""Speech to text with faster-whisper, from models already on this machine (never downloaded)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from recordings.analysis import SAMPLE_RATE, Audio


class ModelUnavailable(Exception):
    """The configured Whisper model is not on this machine; the message says how to put it."""


@dataclass(frozen=True)
class Utterance:
    start: float  # seconds from the start of the channel
    end: float
    text: str


class Transcriber(Protocol):
    @property
    def model_name(self) -> str: ...

    @property
    def language(self) -> str: ...

    def transcribe(self, audio: Audio, on_progress: Callable[[float], None]) -> list[Utterance]:
        """What is said on one channel; `on_progress` gets the seconds done so far."""
        ...


def decode_wav(wav: bytes) -> Audio:
    """16 kHz mono float samples of a WAV held in memory (PyAV resamples Asterisk's 8 kHz)."""
    from faster_whisper import decode_audio

    return np.asarray(decode_audio(io.BytesIO(wav), sampling_rate=SAMPLE_RATE), dtype=np.float32)


def pick_device(device: str, compute_type: str) -> tuple[str, str]:
    """("cuda", "float16") when a GPU is present and allowed; ("cpu", "int8") otherwise."""
    import ctranslate2

    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


class WhisperTranscriber:
    """One loaded model; the worker process keeps it for every job."""

    def __init__(
        self,
        model: str,
        *,
        language: str,
        device: str = "auto",
        compute_type: str = "auto",
        threads: int = 0,
    ) -> None:
        # The model hub is never asked: whatever is not on disk is an error, not a download.
        os.environ["HF_HUB_OFFLINE"] = "1"
        from faster_whisper import WhisperModel

        self._model_name = model
        self._language = language
        self.device, self.compute_type = pick_device(device, compute_type)
        try:
            self._model = WhisperModel(
                model,
                device=self.device,
                compute_type=self.compute_type,
                cpu_threads=threads,
                local_files_only=True,
            )
        except Exception as error:
            where = "папке" if Path(model).exists() else "кэше моделей"
            raise ModelUnavailable(
                f"Модель Whisper {model!r} не найдена в {where} ({type(error).__name__}). "
                "Скачайте модель в формате CTranslate2 на машине с интернетом, перенесите "
                "папку на сервер и укажите её путь в настройке transcription_model "
                "(см. README, «Распознавание речи»)."
            ) from None

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def language(self) -> str:
        return self._language

    def transcribe(self, audio: Audio, on_progress: Callable[[float], None]) -> list[Utterance]:
        if audio.size == 0:
            return []
        segments, _info = self._model.transcribe(
            audio,
            language=self._language,
            vad_filter=True,
            # Each utterance on its own: a phone line's noise must not set off Whisper's
            # loops of repeated text.
            condition_on_previous_text=False,
        )
        utterances = []
        for segment in segments:
            on_progress(float(segment.end))
            utterances.append(Utterance(float(segment.start), float(segment.end), segment.text))
        return utterances
