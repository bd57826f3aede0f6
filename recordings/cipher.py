"""Recordings at rest: AES-256-GCM in chunks, so that any byte range decrypts on its own."""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crm.core.crypto import KeyRing

MAGIC = b"LXREC\x00\x01\x00"  # never "RIFF": a stored recording is not a playable file
PREFIX_LENGTH = 8
TAG_LENGTH = 16
# 64 KiB of 8 kHz 16-bit audio is about 4 s: a seek decrypts at most one chunk too many.
CHUNK_SIZE = 64 * 1024
_HEADER = struct.Struct(">8s8sIQ4x")  # magic, nonce prefix, chunk size, plaintext size
HEADER_SIZE = _HEADER.size


class RecordingDamaged(Exception):
    """A stored recording that does not decrypt: altered, truncated, swapped or a wrong key."""


@dataclass(frozen=True)
class RecordingHeader:
    nonce_prefix: bytes
    chunk_size: int
    plaintext_size: int

    def pack(self) -> bytes:
        return _HEADER.pack(MAGIC, self.nonce_prefix, self.chunk_size, self.plaintext_size)

    @property
    def chunks(self) -> int:
        return max(1, -(-self.plaintext_size // self.chunk_size))


@dataclass(frozen=True)
class RecordingCipher:
    """Encrypts a recording file by file; the key is derived from the key file's data key.

    Each chunk's nonce is the file's random prefix and the chunk's number; its associated
    data is the header, the recording's name and whether it is the last chunk, so chunks
    cannot be reordered, dropped from the end, or moved to another call's file.
    """

    key: bytes = field(repr=False)

    @classmethod
    def derive(cls, keyring: KeyRing) -> RecordingCipher:
        return cls(hmac.new(keyring.data_key, b"recordings:v1", hashlib.sha256).digest())

    def encrypt_file(self, source: Path, target: Path, name: str) -> str:
        """Write `source` encrypted to `target` (mode 0600); returns the plaintext's SHA-256."""
        size = source.stat().st_size
        header = RecordingHeader(os.urandom(PREFIX_LENGTH), CHUNK_SIZE, size)
        aead = AESGCM(self.key)
        digest = hashlib.sha256()
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with source.open("rb") as plain, os.fdopen(descriptor, "wb") as sealed:
            sealed.write(header.pack())
            for index in range(header.chunks):
                chunk = plain.read(CHUNK_SIZE)
                digest.update(chunk)
                nonce, associated = self._chunk_context(header, name, index)
                sealed.write(aead.encrypt(nonce, chunk, associated))
            if plain.read(1):
                raise RecordingDamaged(f"{source.name} grew while it was being stored")
            sealed.flush()
            os.fsync(sealed.fileno())
        return digest.hexdigest()

    def header_of(self, sealed: BinaryIO) -> RecordingHeader:
        raw = sealed.read(HEADER_SIZE)
        if len(raw) != HEADER_SIZE:
            raise RecordingDamaged("the recording is shorter than its header")
        magic, prefix, chunk_size, size = _HEADER.unpack(raw)
        if magic != MAGIC or chunk_size <= 0:
            raise RecordingDamaged("not a recording of this store")
        return RecordingHeader(prefix, chunk_size, size)

    def read_range(self, path: Path, name: str, start: int, end: int) -> Iterator[bytes]:
        """Plaintext bytes start..end (inclusive), decrypted one chunk at a time."""
        aead = AESGCM(self.key)
        with path.open("rb") as sealed:
            header = self.header_of(sealed)
            end = min(end, header.plaintext_size - 1)
            if start > end:
                return
            sealed_chunk = header.chunk_size + TAG_LENGTH
            for index in range(start // header.chunk_size, end // header.chunk_size + 1):
                sealed.seek(HEADER_SIZE + index * sealed_chunk)
                data = sealed.read(sealed_chunk)
                nonce, associated = self._chunk_context(header, name, index)
                try:
                    chunk = aead.decrypt(nonce, data, associated)
                except InvalidTag:
                    raise RecordingDamaged(f"chunk {index} of {name} does not decrypt") from None
                offset = index * header.chunk_size
                yield chunk[max(0, start - offset) : end - offset + 1]

    def plaintext_size(self, path: Path) -> int:
        with path.open("rb") as sealed:
            return self.header_of(sealed).plaintext_size

    def decrypt(self, path: Path, name: str) -> bytes:
        return b"".join(self.read_range(path, name, 0, self.plaintext_size(path) - 1))

    @staticmethod
    def _chunk_context(header: RecordingHeader, name: str, index: int) -> tuple[bytes, bytes]:
        nonce = header.nonce_prefix + index.to_bytes(4, "big")
        last = b"\x01" if index == header.chunks - 1 else b"\x00"
        encoded = name.encode("utf-8")
        associated = header.pack() + len(encoded).to_bytes(4, "big") + encoded + last
        return nonce, associated
