"""Finds a canary phone number in text however it is written: +7 921 …, 8 (921) …, bare digits."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Between two digits of a written number: spaces (no-break ones too), "-", "(", ")", "." -
# a few non-word characters, never a letter or another digit.
_SEPARATOR = r"\W{0,3}"


def phone_pattern(e164: str) -> re.Pattern[str]:
    """Matches the number's last ten digits, so +7…, 8… and bare forms are all caught.

    Only Russian numbers (+7 and ten digits) are test canaries: what is searched is the
    part every way of writing them shares.
    """
    if not re.fullmatch(r"\+7\d{10}", e164):
        raise ValueError(f"a canary is +7 and ten digits, not {e164!r}")
    national = e164.removeprefix("+7")
    return re.compile(_SEPARATOR.join(national))


def canaries_in(text: str, numbers: Iterable[str]) -> list[str]:
    """The numbers of `numbers` that `text` shows, as they are written there."""
    found = []
    for number in numbers:
        match = phone_pattern(number).search(text)
        if match is not None:
            found.append(f"{number} as {match.group()!r}")
    return found
