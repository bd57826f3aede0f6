"""Web sessions: started at login, resolved on each request, ended at logout or idleness."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from crm.auth.models import WebSession
from crm.auth.repositories import WebSessionRepository
from crm.core.errors import N_
from crm.core.service import Service
from crm.staff.errors import NoSuchEmployee
from crm.staff.models import Employee
from crm.staff.repositories import EmployeeRepository


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
            employee = await EmployeeRepository(session).get(employee_id)
            if employee is None or not employee.is_active:
                raise NoSuchEmployee(N_("Сотрудник не найден или его учётная запись отключена"))
            WebSessionRepository(session).add(
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
            found = await WebSessionRepository(session).get_with_employee(_session_id(token))
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
            found = await WebSessionRepository(session).get_with_employee(_session_id(token))
            if found is None or found[0].ended_at is not None:
                return
            found[0].ended_at = self._now()
            await session.commit()

    async def end_all_for(self, employee_id: int) -> int:
        """End every open session of the employee; returns how many there were."""
        async with self._sessionmaker() as session:
            ended = await WebSessionRepository(session).end_all_for(employee_id, self._now())
            await session.commit()
        return ended
