"""Russian formats of dates and money, and search that ignores case and ё."""

from __future__ import annotations

from datetime import date, datetime

from crm.core.formatting import NARROW_NBSP, NBSP, format_date, format_money, search_key


def test_dates_are_day_month_year_with_dots() -> None:
    assert format_date(date(2026, 11, 27)) == "27.11.2026"
    assert format_date(datetime(2026, 1, 5, 23, 59)) == "05.01.2026"
    assert format_date(None) == "—"


def test_money_groups_thousands_and_uses_a_comma() -> None:
    assert format_money(125_000_000) == f"1{NARROW_NBSP}250{NARROW_NBSP}000,00{NBSP}₽"
    assert format_money(5) == f"0,05{NBSP}₽"
    assert format_money(-150_050) == f"−1{NARROW_NBSP}500,50{NBSP}₽"
    assert format_money(None) == "—"


def test_search_ignores_case_and_yo() -> None:
    assert search_key("Фёдоров  Пётр") == search_key("федоров петр")
    assert search_key("СЕМЁНОВА") == "семенова"
