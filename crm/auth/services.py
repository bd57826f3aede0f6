"""Web sessions: started at login, resolved on each request, ended at logout or idleness."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm.auth.models import WebSession
from crm.core.errors import N_
from crm.core.service import Service
from crm.staff.errors import NoSuchEmployee
from crm.staff.models import Employee


def _session_id(token: str) -> str:
    # Only the hash is stored: a copy of the database does not let anyone sign in.
    return hashlib.sha256(token.encode("utf-8", errors="replace")).hexdigest()


class WebSessionService(Service):
    """Server-side sessions of the web interface; the browser holds only a random token."""

    async def start(self, employee_id: int) -> tuple[str, str]:
        """Open a session for an active employee; returns (session token, CSRF token)."""
        token = secrets.token_urlsafe(32)
        csrf_token = secrets.token_urlsafe(32)
        now = self._now()
        async with self._sessionmaker() as session:
            employee = await session.get(Employee, employee_id)
            if employee is None or not employee.is_active:
                raise NoSuchEmployee(N_("Сотрудник не найден или его учётная запись отключена"))
            session.add(
                WebSession(
                    id=_session_id(token),
                    employee_id=employee_id,
                    csrf_token=csrf_token,
                    created_at=now,
                    last_seen_at=now,
                )
            )
            await session.commit()
        return token, csrf_token

    async def resolve(
        self, token: str, idle_minutes: int, now: datetime | None = None
    ) -> tuple[Employee, WebSession] | None:
        """The employee and session behind a token, marking the session as just seen.

        None if there is no such session, it was ended, it has been idle longer than
        `idle_minutes` (it is ended then), or the employee has been switched off.
        """
        now = now or self._now()
        async with self._sessionmaker() as session:
            found = await _with_employee(session, _session_id(token))
            if found is None:
                return None
            web_session, employee = found
            if web_session.ended_at is not None:
                return None
            if (
                now - web_session.last_seen_at > timedelta(minutes=idle_minutes)
                or not employee.is_active
            ):
                web_session.ended_at = now
                await session.commit()
                return None
            web_session.last_seen_at = now
            await session.commit()
            return employee, web_session

    async def end(self, token: str) -> None:
        """End the session behind the token (signing out); an unknown token is ignored."""
        async with self._sessionmaker() as session:
            found = await _with_employee(session, _session_id(token))
            if found is None or found[0].ended_at is not None:
                return
            found[0].ended_at = self._now()
            await session.commit()

    async def end_all_for(self, employee_id: int) -> int:
        """End every open session of the employee; returns how many there were."""
        async with self._sessionmaker() as session:
            ended = await end_sessions_of(session, employee_id, self._now())
            await session.commit()
        return ended


async def end_sessions_of(session: AsyncSession, employee_id: int, ended_at: datetime) -> int:
    """End every open web session of the employee in `session`'s transaction (the caller
    commits); returns how many were open."""
    result = await session.execute(
        update(WebSession)
        .where(WebSession.employee_id == employee_id, WebSession.ended_at.is_(None))
        .values(ended_at=ended_at)
        .execution_options(synchronize_session=False)
    )
    # An UPDATE always yields a CursorResult; the session API types it as plain Result.
    return cast("CursorResult[Any]", result).rowcount


async def _with_employee(
    session: AsyncSession, session_id: str
) -> tuple[WebSession, Employee] | None:
    row = (
        await session.execute(
            select(WebSession, Employee)
            .join(Employee, WebSession.employee_id == Employee.id)
            .where(WebSession.id == session_id)
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])
