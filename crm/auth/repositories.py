"""Queries of web sessions; they flush at most and never commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm.auth.models import WebSession
from crm.staff.models import Employee


class WebSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get_with_employee(self, session_id: str) -> tuple[WebSession, Employee] | None:
        result = await self._session.execute(
            select(WebSession, Employee)
            .join(Employee, WebSession.employee_id == Employee.id)
            .where(WebSession.id == session_id)
        )
        row = result.one_or_none()
        return None if row is None else (row[0], row[1])

    def add(self, web_session: WebSession) -> None:
        self._session.add(web_session)

    async def end_all_for(self, employee_id: int, ended_at: datetime) -> int:
        """End every open session of the employee; returns how many were open."""
        result = await self._session.execute(
            update(WebSession)
            .where(WebSession.employee_id == employee_id, WebSession.ended_at.is_(None))
            .values(ended_at=ended_at)
            .execution_options(synchronize_session=False)
        )
        # An UPDATE always yields a CursorResult; the session API types it as plain Result.
        return cast("CursorResult[Any]", result).rowcount
