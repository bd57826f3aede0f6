"""Staff setup by the administrator: lawyer classes, and each employee's class, head and phone."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.errors import InvalidInput, NoSuchEmployee, SipExtensionTaken
from crm.inputs import required_text
from crm.models import Employee, LawyerClass
from crm.roles import Role

_SIP_EXTENSION = re.compile(r"[0-9]{2,8}")
# Plain ASCII digits: Decimal() alone also takes "1e1", "1_0", "NaN" and Arabic-Indic digits.
_PERCENT = re.compile(r"[0-9]+(?:\.[0-9]*)?")


def parse_percent(text: str) -> int:
    """ "25", "12,5 %" → basis points (2500, 1250); a clear error for anything else."""
    cleaned = text.replace("%", "").replace(",", ".").strip()
    if not _PERCENT.fullmatch(cleaned):
        raise InvalidInput("Процент: число от 0 до 100, например 25 или 12,5")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidInput("Процент: число от 0 до 100, например 25 или 12,5") from None
    if not value.is_finite() or not 0 <= value <= 100 or value != value.quantize(Decimal("0.01")):
        raise InvalidInput("Процент: число от 0 до 100, не больше двух знаков после запятой")
    return int(value * 100)


class StaffService:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def add_lawyer_class(self, name: str, percent: str) -> LawyerClass:
        name = required_text(name, "Класс", 50)
        basis_points = parse_percent(percent)
        async with self._sessionmaker() as session:
            lawyer_class = LawyerClass(name=name, accrual_basis_points=basis_points)
            session.add(lawyer_class)
            try:
                await session.commit()
            except IntegrityError:
                raise InvalidInput(f"Класс «{name}» уже есть") from None
        return lawyer_class

    async def lawyer_classes(self) -> list[LawyerClass]:
        async with self._sessionmaker() as session:
            return list(await session.scalars(select(LawyerClass).order_by(LawyerClass.name)))

    async def update_employee(
        self,
        employee_id: int,
        *,
        lawyer_class_id: int | None,
        head_id: int | None,
        sip_extension: str | None,
    ) -> Employee:
        """Set the class (lawyers only), the head and the desk phone in one go."""
        if sip_extension is not None:
            sip_extension = sip_extension.strip() or None
        if sip_extension is not None and not _SIP_EXTENSION.fullmatch(sip_extension):
            raise InvalidInput("Внутренний номер: от 2 до 8 цифр")
        async with self._sessionmaker() as session:
            employee = await session.get(Employee, employee_id)
            if employee is None:
                raise NoSuchEmployee()
            if lawyer_class_id is not None:
                if employee.role is not Role.lawyer:
                    raise InvalidInput("Класс бывает только у юриста")
                if await session.get(LawyerClass, lawyer_class_id) is None:
                    raise InvalidInput("Класс не найден")
            if head_id is not None:
                if head_id == employee_id:
                    raise InvalidInput("Сотрудник не может быть сам себе руководителем")
                head = await session.get(Employee, head_id)
                if head is None or not head.is_active:
                    raise InvalidInput("Руководитель не найден")
            employee.lawyer_class_id = lawyer_class_id
            employee.head_id = head_id
            employee.sip_extension = sip_extension
            try:
                await session.commit()
            except IntegrityError:
                raise SipExtensionTaken() from None
        return employee
