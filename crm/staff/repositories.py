"""Queries of employees; they flush at most and never commit."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.core.roles import Role
from crm.staff.models import Employee


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
