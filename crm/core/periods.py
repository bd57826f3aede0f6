"""Periods of the firm's calendar: inclusive day ranges, and the presets people pick."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from crm.core.errors import N_, InvalidInput
from crm.core.firm_calendar import firm_day_bounds

# Longest period one report covers: three years of daily rows is still a quick query, and
# anything longer is more likely a typo in the year than a question anyone asks.
MAX_PERIOD_DAYS = 3 * 366


class PeriodPreset(StrEnum):
    day = "day"  # today
    week = "week"  # this calendar week, Monday to Sunday
    month = "month"  # this calendar month
    year = "year"  # this calendar year
    custom = "custom"


@dataclass(frozen=True)
class Period:
    """Firm calendar days from `start` to `end`, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput(N_("Конец периода раньше его начала"))
        if self.days > MAX_PERIOD_DAYS:
            raise InvalidInput(N_("Период длиннее трёх лет: выберите период короче"))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as an instant range [from, to) on the firm's clock."""
        return firm_day_bounds(self.start)[0], firm_day_bounds(self.end)[1]


def preset_period(preset: PeriodPreset, today: date) -> Period:
    """Today, this week (Monday to Sunday), this month or this year; `custom` has no preset."""
    if preset is PeriodPreset.day:
        return Period(today, today)
    if preset is PeriodPreset.week:
        monday = today - timedelta(days=today.weekday())
        return Period(monday, monday + timedelta(days=6))
    if preset is PeriodPreset.month:
        last = calendar.monthrange(today.year, today.month)[1]
        return Period(today.replace(day=1), today.replace(day=last))
    if preset is PeriodPreset.year:
        return Period(today.replace(month=1, day=1), today.replace(month=12, day=31))
    raise InvalidInput(N_("Для своего периода укажите даты начала и конца"))
