"""The store: plaintext gone, ciphertext authenticated, any byte range readable, old days purged."""

from __future__ import annotations

import hashlib
import os
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from crm.core.crypto import KeyRing
from recordings.cipher import CHUNK_SIZE, RecordingCipher, RecordingDamaged
from recordings.store import RecordingStore
from tests.support.audio import speak_to_wav


@pytest.fixture
def store(tmp_path: Path) -> RecordingStore:
    return RecordingStore(tmp_path / "store", RecordingCipher.derive(KeyRing.generate()))


def spool_wav(tmp_path: Path, name: str, seconds: int = 10) -> Path:
    # Long enough for several 64 KiB chunks.
    text = " ".join(["The contract was signed on Monday."] * seconds)
    return speak_to_wav(text, tmp_path / "spool" / name)


async def test_stored_recording_is_encrypted_and_the_original_removed(
    store: RecordingStore, tmp_path: Path
) -> None:
    (tmp_path / "spool").mkdir()
    source = spool_wav(tmp_path, "1700000000.42-employee.wav")
    original = source.read_bytes()
    [stored] = await store.accept("1700000000.42", [source])
    assert not source.exists()
    path = Path(stored.path)
    assert path.is_relative_to(store.root / datetime.now(UTC).strftime("%Y/%m/%d"))
    _assert_sealed(path, original)
    assert stored.part == "employee"
    assert stored.sha256 == hashlib.sha256(original).hexdigest()
    assert stored.size_bytes == len(original) > 3 * CHUNK_SIZE
    assert store.decrypt(path) == original
    for start, end in [
        (0, 0),
        (10, CHUNK_SIZE + 10),
        (CHUNK_SIZE - 1, 3 * CHUNK_SIZE),
        (len(original) - 5, len(original) + 99),
    ]:
        assert b"".join(store.read_range(path, start, end)) == original[start : end + 1]


async def test_altered_or_swapped_recordings_do_not_decrypt(
    store: RecordingStore, tmp_path: Path
) -> None:
    (tmp_path / "spool").mkdir()
    first, second = await store.accept(
        "1.1",
        [spool_wav(tmp_path, "1.1-client.wav", 2), spool_wav(tmp_path, "1.1-employee.wav", 2)],
    )
    path = Path(first.path)
    _flip_a_bit(path)
    with pytest.raises(RecordingDamaged):
        store.decrypt(path)
    # One call's file put in place of another's: bound to its name, it is refused.
    os.replace(second.path, path)
    with pytest.raises(RecordingDamaged):
        store.decrypt(path)


async def test_retention_removes_only_older_days(store: RecordingStore, tmp_path: Path) -> None:
    (tmp_path / "spool").mkdir()
    [stored] = await store.accept("2.2", [spool_wav(tmp_path, "2.2-mix.wav", 1)])
    old = store.root / "2019" / "01" / "05"
    old.mkdir(parents=True)
    (old / "9.9-mix.wav.enc").write_bytes(b"x")
    deleted = store.purge_before(date.today() - timedelta(days=30))
    assert deleted == [old / "9.9-mix.wav.enc"] and not old.exists()
    assert stored.path in {str(p) for p in store.root.rglob("*.enc")}


def _assert_sealed(path: Path, original: bytes) -> None:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sealed = path.read_bytes()
    assert not sealed.startswith(b"RIFF") and original[44:1000] not in sealed


def _flip_a_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))


def _unclosed(path: Path) -> bytes:
    """What a writer that died mid-call leaves: the header's sizes still 0."""
    data = bytearray(path.read_bytes())
    data[4:8] = b"\0\0\0\0"
    data[40:44] = b"\0\0\0\0"
    path.write_bytes(bytes(data))
    return bytes(data)


async def test_a_recording_left_unclosed_is_closed_and_stored_by_the_sweep(
    tmp_path: Path,
) -> None:
    store = RecordingStore(
        tmp_path / "store", RecordingCipher.derive(KeyRing.generate()), close_timeout=0.2
    )
    (tmp_path / "spool").mkdir()
    source = spool_wav(tmp_path, "1700000000.7-mix.wav", 2)
    whole = source.read_bytes()
    _unclosed(source)
    # An ordinary hand-off waits for the writer to close it, then leaves it.
    assert await store.accept("1700000000.7", [source]) == []
    assert source.exists()
    # Found by the sweep long after its call: closed now, stored, the plaintext gone.
    [stored] = await store.accept("1700000000.7", [source], abandoned=True)
    assert not source.exists()
    assert store.decrypt(Path(stored.path)) == whole
    assert stored.duration_ms > 1500


def test_leftovers_are_the_quiet_files_by_call(store: RecordingStore, tmp_path: Path) -> None:
    spool = tmp_path / "spool" / "2026" / "11" / "27"
    spool.mkdir(parents=True)
    hour_ago = datetime.now(UTC).timestamp() - 3600
    for name in ("1.5-mix.wav", "1.5-client.wav", "c2c-ab12-mix.wav", "2.9-mix.wav"):
        (spool / name).write_bytes(b"RIFF")
        if not name.startswith("2.9"):
            os.utime(spool / name, (hour_ago, hour_ago))
    found = store.leftovers(tmp_path / "spool", quiet_seconds=600)
    assert {call: sorted(p.name for p in files) for call, files in found.items()} == {
        "1.5": ["1.5-client.wav", "1.5-mix.wav"],
        "c2c-ab12": ["c2c-ab12-mix.wav"],
    }  # 2.9 is still being written


async def test_a_left_file_that_is_no_wav_is_sealed_as_it_is(
    store: RecordingStore, tmp_path: Path
) -> None:
    (tmp_path / "spool").mkdir()
    source = tmp_path / "spool" / "1700000000.8-client.wav"
    source.write_bytes(b"not a header" * 10)
    assert await store.accept("1700000000.8", [source], abandoned=True) != []
    assert not source.exists()
    # And a file already taken by another hand-off is simply skipped.
    assert await store.accept("1700000000.8", [source], abandoned=True) == []
