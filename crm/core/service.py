"""The base of the CRM's services: each use-case opens its own transaction; time from a clock."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.core.clock import Clock, utc_now


class Service:
    """A service over the database: every public method is one transaction of its own, and
    `now` is injected so that tests can move time instead of waiting for it."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, now: Clock = utc_now
    ) -> None:
        self._sessionmaker = sessionmaker
        self._now = now
