"""Encryption of personal data (AES-256-GCM) and blind indexes (HMAC-SHA256) under a key file."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crm.core.errors import N_, CiphertextInvalid, KeyFileExists, KeyFileInvalid, KeyFileMissing

KEY_FILE_VERSION = 1
KEY_LENGTH = 32
CIPHERTEXT_VERSION = 1
NONCE_LENGTH = 12
TAG_LENGTH = 16
# Separates the blind index of a phone from any other index made with the same key later
# (e-mail, passport number): equal strings of different kinds must not collide.
PHONE_INDEX_DOMAIN = b"phone:"
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")


@dataclass(frozen=True)
class KeyRing:
    """The two keys of personal data. Kept outside the database, in a file of mode 0600."""

    # repr=False: a KeyRing printed into a log or a traceback must not show the keys.
    data_key: bytes = field(repr=False)
    index_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.data_key) != KEY_LENGTH or len(self.index_key) != KEY_LENGTH:
            raise ValueError(f"each key must be {KEY_LENGTH} bytes long")

    @classmethod
    def generate(cls) -> KeyRing:
        """Fresh random keys."""
        return cls(data_key=os.urandom(KEY_LENGTH), index_key=os.urandom(KEY_LENGTH))

    @classmethod
    def create_file(cls, path: Path) -> KeyRing:
        """Generate keys and write them to a new file of mode 0600; never overwrites.

        Losing the file makes every encrypted number unreadable, hence KeyFileExists
        rather than replacing it.
        """
        keyring = cls.generate()
        parent = path.parent
        if not parent.exists():
            parent.mkdir(parents=True, exist_ok=True)
            # mkdir's mode is filtered by the umask; set it outright.
            parent.chmod(0o700)
        content = json.dumps(
            {
                "version": KEY_FILE_VERSION,
                "data_key": base64.b64encode(keyring.data_key).decode("ascii"),
                "index_key": base64.b64encode(keyring.index_key).decode("ascii"),
            },
            indent=2,
        ).encode("ascii")
        try:
            # O_EXCL: if two `lexcrm init` race, one fails instead of both writing.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise KeyFileExists(
                f"Файл ключей {path} уже существует; он не будет перезаписан. "
                "Без него зашифрованные номера не прочитать — не удаляйте его."
            ) from None
        try:
            with os.fdopen(descriptor, "wb") as key_file:
                # The umask may have taken bits from 0600, never added any; be exact anyway.
                os.fchmod(key_file.fileno(), 0o600)
                key_file.write(content + b"\n")
                key_file.flush()
                os.fsync(key_file.fileno())
        except BaseException:
            # A half-written key file would be worse than none: the next run would refuse it.
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        return keyring

    @classmethod
    def load(cls, path: Path) -> KeyRing:
        """Read the keys from `path`, refusing a file that others can read."""
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise KeyFileMissing(
                f"Файл ключей {path} не найден. Создайте его командой `lexcrm init` "
                "(или укажите верный путь в настройке key_file)."
            ) from None
        if mode & 0o077:
            raise KeyFileInvalid(
                f"Файл ключей {path} доступен не только владельцу "
                f"(права {stat.S_IMODE(mode):04o}). Исправьте: chmod 600 {path}"
            )
        try:
            data = json.loads(path.read_bytes())
            if not isinstance(data, dict) or data.get("version") != KEY_FILE_VERSION:
                raise ValueError("unknown layout")
            data_key = base64.b64decode(data["data_key"], validate=True)
            index_key = base64.b64decode(data["index_key"], validate=True)
            return cls(data_key=data_key, index_key=index_key)
        except (OSError, ValueError, KeyError, TypeError, binascii.Error):
            # `from None`, and no detail: a parser's message could quote part of a key.
            raise KeyFileInvalid(
                f"Файл ключей {path} не читается или повреждён: ожидается JSON версии "
                f"{KEY_FILE_VERSION} с двумя ключами по {KEY_LENGTH} байта в base64. "
                "Восстановите его из резервной копии."
            ) from None


def _associated_data(table: str, column: str, row_id: str) -> bytes:
    # Length-prefixed so that no two (table, column, row) triples encode the same bytes.
    parts = [b"lexcrm-pd", bytes([CIPHERTEXT_VERSION])]
    for text in (table, column, row_id):
        encoded = text.encode("utf-8")
        parts.append(len(encoded).to_bytes(4, "big") + encoded)
    return b"".join(parts)


class PersonalDataCipher:
    """Encrypts personal data for one cell of one table and makes blind indexes for lookups."""

    def __init__(self, keyring: KeyRing) -> None:
        self._aead = AESGCM(keyring.data_key)
        self._index_key = keyring.index_key

    def encrypt(self, plaintext: str, *, table: str, column: str, row_id: str) -> bytes:
        """Version byte + 12-byte random nonce + AES-GCM ciphertext and tag.

        The ciphertext is bound to (table, column, row_id): copied into another row or
        column, it no longer decrypts.
        """
        nonce = os.urandom(NONCE_LENGTH)
        sealed = self._aead.encrypt(
            nonce, plaintext.encode("utf-8"), _associated_data(table, column, row_id)
        )
        return bytes([CIPHERTEXT_VERSION]) + nonce + sealed

    def decrypt(self, ciphertext: bytes, *, table: str, column: str, row_id: str) -> str:
        """The plaintext; CiphertextInvalid if the bytes were altered, moved or the key is wrong."""
        where = f"{table}.{column}, строка {row_id}"
        if len(ciphertext) < 1 + NONCE_LENGTH + TAG_LENGTH:
            raise CiphertextInvalid(
                N_("Зашифрованные данные повреждены (%(where)s): слишком короткие"), where=where
            )
        if ciphertext[0] != CIPHERTEXT_VERSION:
            raise CiphertextInvalid(N_("Неизвестная версия шифрования (%(where)s)"), where=where)
        nonce = ciphertext[1 : 1 + NONCE_LENGTH]
        try:
            plaintext = self._aead.decrypt(
                nonce, ciphertext[1 + NONCE_LENGTH :], _associated_data(table, column, row_id)
            )
            return plaintext.decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            raise CiphertextInvalid(
                f"Не удалось расшифровать персональные данные ({where}): данные изменены, "
                "перенесены из другой строки или зашифрованы другим ключом"
            ) from None

    def blind_index(self, e164: str) -> str:
        """Hex HMAC-SHA256 of a normalised number: equal numbers give equal indexes.

        Takes only E.164 (see crm.core.phones.normalise_phone); indexing raw input would give
        "8 921…" and "+7 921…" different indexes and lookups would silently miss.
        """
        if not _E164.fullmatch(e164):
            # Not an InvalidPhoneNumber: callers must normalise first; this is a bug.
            raise ValueError("blind_index takes a number in E.164 form")
        return hmac.new(
            self._index_key, PHONE_INDEX_DOMAIN + e164.encode("ascii"), hashlib.sha256
        ).hexdigest()
