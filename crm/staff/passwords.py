"""Employee passwords: argon2id hashes, checked without telling apart why a check failed."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from crm.core.errors import N_, InvalidInput
from crm.staff.errors import WeakPassword

MIN_PASSWORD_LENGTH = 10
# argon2 hashes any length, but a megabyte "password" is a cheap way to burn our CPU.
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()


def check_password_strength(password: str) -> None:
    """Raise WeakPassword (or InvalidInput, for absurd lengths) if the password is unusable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(
            N_("Пароль должен быть не короче %(length)s символов"), length=MIN_PASSWORD_LENGTH
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            N_("Пароль должен быть не длиннее %(length)s символов"), length=MAX_PASSWORD_LENGTH
        )


def hash_password(password: str) -> str:
    """An argon2id hash of the password, after checking its strength. Slow on purpose."""
    check_password_strength(password)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash; a malformed hash is simply a mismatch."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's and should be redone."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@functools.cache
def dummy_password_hash() -> str:
    """A hash that matches no real password: checked when a login is unknown, so that an
    unknown login takes as long as a wrong password and logins cannot be probed by timing."""
    return _hasher.hash("lexcrm: no employee has this password")
