"""Encrypted recordings as the rest of lexcrm uses them: hand-off, listening, evidence bundles."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

from crm.conversations.recordings import RecordingLedger
from crm.conversations.search import RecordingCard
from recordings.store import RecordingStore

# Pulled from the decrypting thread this many chunks at a time (each at most 64 KiB).
_STREAM_BATCH = 4


class RecordingVault:
    """The store plus the records of what it holds."""

    def __init__(self, store: RecordingStore, ledger: RecordingLedger) -> None:
        self._store = store
        self._ledger = ledger

    async def hand_off(
        self, linkedid: str, files: list[Path], *, abandoned: bool = False
    ) -> list[Path]:
        """What the call controller calls when a call ends: encrypt, record hashes, queue.

        `abandoned`: files a sweep of the spool found long after their call."""
        stored = await self._store.accept(linkedid, files, abandoned=abandoned)
        await self._ledger.recording_stored(linkedid, stored)
        return [Path(item.path) for item in stored]

    async def leftovers(self, spool: Path, quiet_seconds: float) -> dict[str, list[Path]]:
        """Recordings left in Asterisk's folder (see RecordingStore.leftovers)."""
        return await asyncio.to_thread(self._store.leftovers, spool, quiet_seconds)

    async def size(self, path: str) -> int:
        """Length of the decrypted recording in bytes."""
        return await asyncio.to_thread(self._store.plaintext_size, Path(path))

    async def stream(self, path: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Decrypted bytes start..end (inclusive), decrypted in a thread as they are sent."""
        chunks = self._store.read_range(Path(path), start, end)

        def next_batch() -> list[bytes]:
            return [chunk for _, chunk in zip(range(_STREAM_BATCH), chunks, strict=False)]

        while batch := await asyncio.to_thread(next_batch):
            for chunk in batch:
                yield chunk

    async def evidence_bundle(self, view: RecordingCard) -> bytes:
        """A zip for a dispute: the audio, the transcript, the call record and the hashes.

        Each audio file's SHA-256 is computed anew and set beside the one stored when the
        call ended: equal hashes show the recording was not changed since.
        """
        return await asyncio.to_thread(self._bundle, view)

    def _bundle(self, view: RecordingCard) -> bytes:
        call = view.call
        buffer = io.BytesIO()
        hash_lines = ["файл\tSHA-256 при записи\tSHA-256 сейчас\tсовпадает"]
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for recording in view.files:
                if recording.deleted_at is not None:
                    continue
                audio = self._store.decrypt(Path(recording.path))
                now = hashlib.sha256(audio).hexdigest()
                name = f"audio/{recording.part}.wav"
                bundle.writestr(name, audio)
                same = "да" if now == recording.sha256 else "НЕТ"
                hash_lines.append(f"{name}\t{recording.sha256}\t{now}\t{same}")
            transcript = "\n".join(view.transcript_lines()) + "\n"
            bundle.writestr("transcript.txt", transcript)
            record = {
                "call_id": call.id,
                "linkedid": call.linkedid,
                "direction": str(call.direction),
                "started_at": call.started_at.isoformat(),
                "answered_at": call.answered_at.isoformat() if call.answered_at else None,
                "ended_at": call.ended_at.isoformat() if call.ended_at else None,
                "disposition": call.disposition,
                "client_code": view.client.code if view.client else None,
                "client_name": view.client.full_name if view.client else None,
                "employee": view.employee.full_name if view.employee else None,
                "recordings": [
                    {
                        "part": r.part,
                        "sha256": r.sha256,
                        "bytes": r.size_bytes,
                        "duration_ms": r.duration_ms,
                        "stored_at": r.created_at.isoformat(),
                    }
                    for r in view.files
                ],
                "transcript_model": view.transcript.model if view.transcript else None,
            }
            call_json = json.dumps(record, ensure_ascii=False, indent=2)
            bundle.writestr("call.json", call_json)
            for name, content in (("transcript.txt", transcript), ("call.json", call_json)):
                digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
                hash_lines.append(f"{name}\t\t{digest}\t")
            bundle.writestr("SHA256SUMS.tsv", "\n".join(hash_lines) + "\n")
        return buffer.getvalue()
