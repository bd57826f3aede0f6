"""The dialplan's masking: its secrets (caller hashes, sealed numbers) and its table's entries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import string
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from crm.core.crypto import KeyRing
from crm.core.errors import CiphertextInvalid
from crm.core.phones import EXTENSION_DIGITS

_ALPHANUMERIC = string.ascii_letters + string.digits
AES_BLOCK = 16
_CODE = re.compile(r"^c[1-9][0-9]*$")
_EXTENSION = re.compile(rf"^({EXTENSION_DIGITS})?$")
_HEX = re.compile(r"^[0-9a-f]{40}$")
UNSEAL_FAILED = "Номер от Asterisk не расшифровывается: неверный ключ или данные"


@dataclass(frozen=True)
class AsteriskMaskingSecrets:
    """Derived from the key ring, so that Asterisk never holds the keys of the CRM itself.

    - `pepper` makes the caller hash keyed: SHA1(pepper + E.164) is what the dialplan
      looks a caller up by (Asterisk has SHA1() but no HMAC), so the masking table holds
      no number and cannot be reversed by hashing every phone number of a country.
    - `seal_key` is the 16-character AES key of Asterisk's AES_ENCRYPT/AES_DECRYPT, with
      which the dialplan seals an unknown caller's number for the controller and unseals
      a client's number to dial it.
    """

    pepper: str
    seal_key: str

    @classmethod
    def derive(cls, keyring: KeyRing) -> AsteriskMaskingSecrets:
        def derived(label: bytes) -> bytes:
            return hmac.new(keyring.index_key, b"asterisk:" + label, hashlib.sha256).digest()

        pepper = derived(b"pepper").hex()
        # Letters and digits only: the key is written into the dialplan, where , $ { } ( )
        # would change the meaning of the line. 16 of 62 symbols: about 95 bits.
        seal_key = "".join(
            _ALPHANUMERIC[byte % len(_ALPHANUMERIC)] for byte in derived(b"seal")[:16]
        )
        return cls(pepper=pepper, seal_key=seal_key)

    def caller_key(self, e164: str) -> str:
        """The same value the dialplan computes with SHA1(${pepper}${number})."""
        data = (self.pepper + e164).encode("ascii")
        return hashlib.sha1(data, usedforsecurity=False).hexdigest()

    def seal(self, e164: str) -> str:
        """What AES_ENCRYPT(seal_key, e164) gives in the dialplan: base64 of AES-128-ECB.

        ECB is what Asterisk's func_aes does; it is acceptable here because the plaintext
        is a single short number and the result is only ever used as an opaque token.
        """
        data = e164.encode("ascii")
        # func_aes pads with zero bytes up to the next whole block (none if already whole).
        padded = data + b"\0" * (-len(data) % AES_BLOCK)
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")

    def unseal(self, sealed: str) -> str:
        """The E.164 number inside a token made by the dialplan's AES_ENCRYPT."""
        try:
            raw = base64.b64decode(sealed, validate=True)
            if not raw or len(raw) % AES_BLOCK:
                raise ValueError("not whole AES blocks")
            decryptor = self._cipher().decryptor()
            text = (decryptor.update(raw) + decryptor.finalize()).rstrip(b"\0").decode("ascii")
        except (ValueError, UnicodeDecodeError):
            raise CiphertextInvalid(UNSEAL_FAILED) from None
        if not text.startswith("+") or not text[1:].isdigit():
            raise CiphertextInvalid(UNSEAL_FAILED)
        return text

    def _cipher(self) -> Cipher[modes.ECB]:
        return Cipher(algorithms.AES(self.seal_key.encode("ascii")), modes.ECB())  # noqa: S305


@dataclass(frozen=True)
class MaskEntry:
    """One client number as the dialplan knows it: never the number, only its keyed hash."""

    caller_key: str  # SHA1(pepper + E.164), see AsteriskMaskingSecrets
    client_code: str  # "c1234"
    display_name: str  # shown on the desk phone instead of the number
    sealed_number: str  # AES_ENCRYPT token of the number, for dialling the client by code
    lawyer_extension: str = ""
    sticky_extension: str = ""  # who last tried to reach this client

    def __post_init__(self) -> None:
        if not _HEX.match(self.caller_key):
            raise ValueError("caller_key must be a SHA1 hex digest")
        if not _CODE.match(self.client_code):
            raise ValueError("client_code must look like c1234")
        if not (
            _EXTENSION.match(self.lawyer_extension) and _EXTENSION.match(self.sticky_extension)
        ):
            raise ValueError("extensions are 2-8 digits or empty")
        if not re.fullmatch(r"[A-Za-z0-9+/=]+", self.sealed_number):
            raise ValueError("sealed_number must be base64")
