"""The firm's calendar (Moscow days) over UTC timestamps: day bounds in Python, dates in SQL."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, cast, func
from sqlalchemy.sql.elements import ColumnElement

from crm.core.formatting import FIRM_TIMEZONE


def firm_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The start and end of a day on the firm's clock, as aware datetimes."""
    start = datetime.combine(day, time(0, 0), tzinfo=FIRM_TIMEZONE)
    return start, start + timedelta(days=1)


def firm_date(column: Any, dialect: str) -> ColumnElement[Any]:
    """The firm's calendar date (Moscow) of a UTC timestamp column, computed by the database.

    Grouping by the UTC date would put a call at 01:30 Moscow time on the day before.
    """
    if dialect == "postgresql":
        zone = getattr(FIRM_TIMEZONE, "key", "Europe/Moscow")
        return cast(func.timezone(zone, column), Date)
    if dialect == "sqlite":
        # SQLite holds the UTC time as text; date() shifts it by a fixed offset. Moscow has
        # been UTC+3 all year since 2014 (no summer time), so one offset is exact.
        offset = FIRM_TIMEZONE.utcoffset(datetime(2020, 1, 1)) or timedelta(0)
        return func.date(column, f"{int(offset.total_seconds() // 60):+d} minutes")
    raise NotImplementedError(f"no firm-date expression for the {dialect} database")
