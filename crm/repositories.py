"""Queries of the CRM, one repository per table family; they flush at most and never commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm.models import Client, ClientPhone, Employee, WebSession
from crm.roles import Role


class EmployeeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, employee_id: int) -> Employee | None:
        return await self._session.get(Employee, employee_id)

    async def get_by_login(self, login: str) -> Employee | None:
        result = await self._session.execute(select(Employee).where(Employee.login == login))
        return result.scalar_one_or_none()

    async def get_by_sip_extension(self, sip_extension: str) -> Employee | None:
        result = await self._session.execute(
            select(Employee).where(Employee.sip_extension == sip_extension)
        )
        return result.scalar_one_or_none()

    async def count_active_with_role(self, role: Role) -> int:
        result = await self._session.execute(
            select(func.count())
            .select_from(Employee)
            .where(Employee.role == role, Employee.is_active.is_(True))
        )
        return result.scalar_one()

    def add(self, employee: Employee) -> None:
        self._session.add(employee)


class ClientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, client_id: int) -> Client | None:
        return await self._session.get(Client, client_id)

    async def count(self) -> int:
        return int(await self._session.scalar(select(func.count()).select_from(Client)) or 0)

    async def add(self, client: Client) -> None:
        """Add and flush, so that the client has its id (its phones need it)."""
        self._session.add(client)
        await self._session.flush()

    def add_phone(self, phone: ClientPhone) -> None:
        self._session.add(phone)

    async def phones_of(self, client_id: int) -> list[ClientPhone]:
        result = await self._session.execute(
            select(ClientPhone)
            .where(ClientPhone.client_id == client_id)
            .order_by(ClientPhone.created_at, ClientPhone.id)
        )
        return list(result.scalars())

    async def find_by_phone_index(self, number_index: str) -> list[Client]:
        result = await self._session.execute(
            select(Client)
            .where(
                Client.id.in_(
                    select(ClientPhone.client_id).where(ClientPhone.number_index == number_index)
                )
            )
            .order_by(Client.id)
        )
        return list(result.scalars())


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
