"""The clock of the CRM: a callable giving the current aware time, injected where tested."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, tz-aware, in UTC: the default clock of the CRM."""
    return datetime.now(UTC)
