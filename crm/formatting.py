"""Russian formats: dates as 27.11.2026, money as 1 250 000,00 ₽, search that ignores ё and case."""

from __future__ import annotations

from datetime import date, datetime

NARROW_NBSP = "\u202f"  # groups digits the way Russian typography does, and never wraps
NBSP = "\u00a0"


def format_date(value: date | datetime | None) -> str:
    return value.strftime("%d.%m.%Y") if value else "—"


def format_money(kopecks: int | None) -> str:
    """1 250 000,00 ₽ from 125000000 kopecks; money is kept in kopecks, never floats."""
    if kopecks is None:
        return "—"
    sign = "−" if kopecks < 0 else ""
    rubles, cents = divmod(abs(kopecks), 100)
    grouped = f"{rubles:,}".replace(",", NARROW_NBSP)
    return f"{sign}{grouped},{cents:02d}{NBSP}₽"


def search_key(text: str) -> str:
    """What Cyrillic search compares: lower case, ё as е, spaces folded."""
    return " ".join(text.casefold().replace("ё", "е").split())
