"""SQL pieces the features share: chunks of IN lists, conditional counts, durations, dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, case, cast, func
from sqlalchemy.sql.elements import ColumnElement

# Ids a query lists in one IN (…): far below SQLite's limit of bound parameters.
IN_LIST_CHUNK = 5000


def sum_of(column: Any) -> ColumnElement[Any]:
    """SUM of whole numbers as a whole number on both databases: PostgreSQL sums a bigint
    into a numeric, which its driver hands back as a Decimal (and money formats fail)."""
    return cast(func.sum(column), BigInteger)


def count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return sum_of(case((condition, 1), else_=0))


def milliseconds_between(later: Any, earlier: Any, dialect: str) -> ColumnElement[Any]:
    """Whole milliseconds from `earlier` to `later`, computed by the database."""
    if dialect == "postgresql":
        return func.round(func.extract("epoch", later - earlier) * 1000)
    if dialect == "sqlite":
        return func.round((func.julianday(later) - func.julianday(earlier)) * 86_400_000)
    raise NotImplementedError(f"no duration expression for the {dialect} database")


def as_date(value: Any) -> date:
    # SQLite hands a date back as text, PostgreSQL as a date (or a timestamp).
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
