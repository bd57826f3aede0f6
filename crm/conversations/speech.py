"""Text of what was said on calls: numbers taken out, Russian words reduced to stems for search."""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

from crm.core.formatting import fold

NUMBER_REDACTED = "[номер скрыт]"
# Five or more digits, possibly split by spaces, dashes, dots or brackets, with an optional
# leading +: phone numbers as Whisper writes them (an 8 or +7, then ten digits in groups). Dates
# ("12.03") and sums ("5000") stay; a sum of five digits or more is hidden too, a fair
# price for never showing a client's number to an employee.
_NUMBER = re.compile(r"\+?\d(?:[\s().\-]{0,3}\d){4,}")
_WORD = re.compile(r"[0-9a-zа-я]+")


def redact_numbers(text: str) -> str:
    """The text with every phone-like run of digits replaced by a marker."""
    return _NUMBER.sub(NUMBER_REDACTED, text)


@lru_cache(maxsize=1)
def _russian() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("russian")


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """The Snowball stem of a folded word ("расторгнуть" → "расторгнут"); other scripts as is."""
    return str(_russian().stemWord(word))


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def stems(text: str) -> list[str]:
    """The stems of the text's words, in order: what the search index holds."""
    return [stem(word) for word in words(text)]


def stems_match(wanted: str, said: str) -> bool:
    """Two stems of one word: equal, or one a prefix of the other when that one is long.

    Snowball leaves some forms of a verb on different stems ("расторгнуть" → "расторгнут",
    "расторгнем" → "расторгн"); a shared start of five letters or more is the same word.
    """
    if wanted == said:
        return True
    shorter, longer = sorted((wanted, said), key=len)
    return len(shorter) >= 5 and longer.startswith(shorter)
