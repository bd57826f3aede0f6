"""How the statistics group the days of a period: by day, ISO week or calendar month."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from crm.core.periods import Period


class Grouping(StrEnum):
    day = "day"
    week = "week"
    month = "month"


def default_grouping(period: Period) -> Grouping:
    """Days for up to three months, weeks for up to a year, months beyond."""
    if period.days <= 92:
        return Grouping.day
    if period.days <= 366:
        return Grouping.week
    return Grouping.month


def bucket_start(day: date, grouping: Grouping) -> date:
    """The first day of the day, ISO week (Monday) or calendar month holding `day`."""
    if grouping is Grouping.week:
        return day - timedelta(days=day.weekday())
    if grouping is Grouping.month:
        return day.replace(day=1)
    return day


def next_bucket(start: date, grouping: Grouping) -> date:
    if grouping is Grouping.week:
        return start + timedelta(days=7)
    if grouping is Grouping.month:
        return (start + timedelta(days=32)).replace(day=1)
    return start + timedelta(days=1)
