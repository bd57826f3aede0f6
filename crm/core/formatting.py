"""Russian formats: dates as 27.11.2026, money as 1 250 000,00 ₽, search that ignores ё and case."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm.core.errors import N_, InvalidInput

# The firm works on St Petersburg time: "today", and every time shown, is Moscow time.
try:
    FIRM_TIMEZONE: tzinfo = ZoneInfo("Europe/Moscow")
except ZoneInfoNotFoundError:
    # Slim images may lack the tz database; Moscow time has been UTC+3 all year since 2014.
    FIRM_TIMEZONE = timezone(timedelta(hours=3), "MSK")


NARROW_NBSP = "\u202f"  # groups digits the way Russian typography does, and never wraps
NBSP = "\u00a0"


def _firm_time(value: datetime) -> datetime:
    return value.astimezone(FIRM_TIMEZONE) if value.tzinfo is not None else value


def format_date(value: date | datetime | None) -> str:
    """27.11.2026; a timestamp shows the firm's (Moscow) date, not the UTC one."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = _firm_time(value)
    return value.strftime("%d.%m.%Y")


def format_time(value: datetime | None) -> str:
    """14:05 on the firm's clock."""
    return _firm_time(value).strftime("%H:%M") if value else "—"


def format_datetime(value: datetime | None) -> str:
    """27.11.2026 14:05 on the firm's clock."""
    return _firm_time(value).strftime("%d.%m.%Y %H:%M") if value else "—"


def format_money(kopecks: int | None) -> str:
    """1 250 000,00 ₽ from 125000000 kopecks; money is kept in kopecks, never floats."""
    if kopecks is None:
        return "—"
    sign = "−" if kopecks < 0 else ""
    rubles, cents = divmod(abs(kopecks), 100)
    grouped = f"{rubles:,}".replace(",", NARROW_NBSP)
    return f"{sign}{grouped},{cents:02d}{NBSP}₽"


def fold(text: str) -> str:
    """Lower case, ё as е: how Russians type when they search."""
    return text.casefold().replace("ё", "е")


def search_key(text: str) -> str:
    """What name search compares: the text folded, its runs of spaces made one."""
    return " ".join(fold(text).split())


MAX_KOPECKS = 10**15  # a trillion roubles: anything above is a typing error, not a contract


def parse_day(text: str) -> date:
    """A date as Russians write it (27.11.2026) or in ISO form (2026-11-27, as date inputs
    send it); ValueError for anything else."""
    for layout in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), layout).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {text[:20]!r}")


def parse_money(text: str) -> int:
    """Kopecks from what a person types: "1 250 000,50", "1250000.5", "1 250 000 ₽".

    Raises InvalidInput (a ValueError) saying what is wrong on anything else: letters,
    three decimals, negative or absurd sums.
    """
    cleaned = text.replace(NBSP, "").replace(NARROW_NBSP, "").replace(" ", "")
    cleaned = cleaned.removesuffix("₽").removesuffix("руб.").removesuffix("р.")
    cleaned = cleaned.replace(",", ".")
    if not cleaned or cleaned.count(".") > 1:
        raise InvalidInput(N_("Сумма: введите число, например 150 000,00"))
    rubles, _, cents = cleaned.partition(".")
    # ASCII digits only: str.isdigit() also passes "²", on which int() fails in English.
    if not _ascii_digits(rubles) or (cents and (not _ascii_digits(cents) or len(cents) > 2)):
        raise InvalidInput(N_("Сумма: введите число, например 150 000,00"))
    rubles = rubles.lstrip("0") or "0"
    if len(rubles) > 14:  # past MAX_KOPECKS; int() refuses over 4300 digits, also in English
        raise InvalidInput(N_("Сумма должна быть больше нуля и разумной"))
    kopecks = int(rubles) * 100 + int(cents.ljust(2, "0") or 0)
    if kopecks <= 0 or kopecks > MAX_KOPECKS:
        raise InvalidInput(N_("Сумма должна быть больше нуля и разумной"))
    return kopecks


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()
