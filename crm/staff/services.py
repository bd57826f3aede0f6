"""Staff accounts: employees created, authenticated and set up by the administrator."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm.auth.services import end_sessions_of
from crm.core.errors import N_, InvalidInput
from crm.core.inputs import required_text
from crm.core.phones import EXTENSION_DIGITS
from crm.core.roles import Role
from crm.core.service import Service
from crm.staff.errors import LoginTaken, NoSuchEmployee, SipExtensionTaken
from crm.staff.models import Employee, LawyerClass
from crm.staff.passwords import (
    check_password_strength,
    dummy_password_hash,
    hash_password,
    needs_rehash,
    verify_password,
)

_LOGIN = re.compile(r"[a-z0-9._-]{2,64}")
_SIP_EXTENSION = re.compile(EXTENSION_DIGITS)


def normalise_login(login: str) -> str:
    """Logins are compared in lower case: "Ivanova" and "ivanova" are one login."""
    return login.strip().lower()


class StaffService(Service):
    """The firm's staff: accounts created, signed in, set up (class, head, phone), switched off."""

    async def create_employee(
        self,
        login: str,
        full_name: str,
        role: Role,
        password: str,
        sip_extension: str | None = None,
    ) -> Employee:
        login = normalise_login(login)
        if not _LOGIN.fullmatch(login):
            raise InvalidInput(
                N_(
                    "Логин: от 2 до 64 символов — латинские буквы, цифры, точка, дефис, "
                    "подчёркивание"
                )
            )
        full_name = required_text(full_name, N_("ФИО"), 200)
        if sip_extension is not None:
            sip_extension = sip_extension.strip()
            if not _SIP_EXTENSION.fullmatch(sip_extension):
                raise InvalidInput(N_("Внутренний номер: от 2 до 8 цифр"))
        check_password_strength(password)
        # argon2 takes tens of milliseconds of CPU: off the event loop, before the transaction.
        password_hash = await asyncio.to_thread(hash_password, password)
        employee = Employee(
            login=login,
            full_name=full_name,
            role=Role(role),
            password_hash=password_hash,
            is_active=True,
            sip_extension=sip_extension,
            created_at=self._now(),
        )
        async with self._sessionmaker() as session:
            if await _by_login(session, login) is not None:
                raise LoginTaken()
            if sip_extension is not None and await session.scalar(
                select(Employee).where(Employee.sip_extension == sip_extension)
            ):
                raise SipExtensionTaken()
            session.add(employee)
            try:
                await session.commit()
            except IntegrityError:
                # Someone took the login or extension between our check and our insert.
                await session.rollback()
                if await _by_login(session, login) is not None:
                    raise LoginTaken() from None
                raise SipExtensionTaken() from None
        return employee

    async def authenticate(self, login: str, password: str) -> Employee | None:
        """The employee if the login and password match and the account is active, else None.

        An unknown login still costs one argon2 check, so response times do not reveal
        which logins exist.
        """
        login = normalise_login(login)
        async with self._sessionmaker() as session:
            employee = await _by_login(session, login)
            if employee is None:
                await asyncio.to_thread(verify_password, dummy_password_hash(), password)
                return None
            if not await asyncio.to_thread(verify_password, employee.password_hash, password):
                return None
            if not employee.is_active:
                return None
            if needs_rehash(employee.password_hash):
                employee.password_hash = await asyncio.to_thread(hash_password, password)
                await session.commit()
            return employee

    async def get_employee(self, employee_id: int) -> Employee:
        async with self._sessionmaker() as session:
            employee = await session.get(Employee, employee_id)
        if employee is None:
            raise NoSuchEmployee()
        return employee

    async def list_employees(self) -> list[Employee]:
        async with self._sessionmaker() as session:
            return list(
                await session.scalars(select(Employee).order_by(Employee.full_name, Employee.id))
            )

    async def find_by_login(self, login: str) -> Employee | None:
        async with self._sessionmaker() as session:
            return await _by_login(session, normalise_login(login))

    async def set_password(self, employee_id: int, password: str) -> None:
        """Give the account a new password; its open web sessions end with the old one."""
        check_password_strength(password)
        password_hash = await asyncio.to_thread(hash_password, password)
        async with self._sessionmaker() as session:
            employee = await session.get(Employee, employee_id)
            if employee is None:
                raise NoSuchEmployee()
            employee.password_hash = password_hash
            await end_sessions_of(session, employee_id, self._now())
            await session.commit()

    async def count_administrators(self) -> int:
        """How many active administrators there are (`lexcrm init` creates the first one)."""
        async with self._sessionmaker() as session:
            administrators = select(func.count()).where(
                Employee.role == Role.administrator, Employee.is_active.is_(True)
            )
            return int(await session.scalar(administrators) or 0)

    async def deactivate(self, employee_id: int) -> None:
        """Switch the account off and end its web sessions, in one transaction."""
        async with self._sessionmaker() as session:
            employee = await session.get(Employee, employee_id)
            if employee is None:
                raise NoSuchEmployee()
            employee.is_active = False
            await end_sessions_of(session, employee_id, self._now())
            await session.commit()

    async def add_lawyer_class(self, name: str, percent: str) -> LawyerClass:
        name = required_text(name, N_("Класс"), 50)
        basis_points = parse_percent(percent)
        async with self._sessionmaker() as session:
            lawyer_class = LawyerClass(name=name, accrual_basis_points=basis_points)
            session.add(lawyer_class)
            try:
                await session.commit()
            except IntegrityError:
                raise InvalidInput(N_("Класс «%(name)s» уже есть"), name=name) from None
        return lawyer_class

    async def lawyer_classes(self) -> list[LawyerClass]:
        async with self._sessionmaker() as session:
            return list(
                await session.scalars(
                    select(LawyerClass).order_by(LawyerClass.name, LawyerClass.id)
                )
            )

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
            raise InvalidInput(N_("Внутренний номер: от 2 до 8 цифр"))
        async with self._sessionmaker() as session:
            employee = await session.get(Employee, employee_id)
            if employee is None:
                raise NoSuchEmployee()
            if lawyer_class_id is not None:
                if employee.role is not Role.lawyer:
                    raise InvalidInput(N_("Класс бывает только у юриста"))
                if await session.get(LawyerClass, lawyer_class_id) is None:
                    raise InvalidInput(N_("Класс не найден"))
            if head_id is not None:
                if head_id == employee_id:
                    raise InvalidInput(N_("Сотрудник не может быть сам себе руководителем"))
                head = await session.get(Employee, head_id)
                if head is None or not head.is_active:
                    raise InvalidInput(N_("Руководитель не найден"))
            employee.lawyer_class_id = lawyer_class_id
            employee.head_id = head_id
            employee.sip_extension = sip_extension
            try:
                await session.commit()
            except IntegrityError:
                raise SipExtensionTaken() from None
        return employee


# Plain ASCII digits: Decimal() alone also takes "1e1", "1_0", "NaN" and Arabic-Indic digits.
_PERCENT = re.compile(r"[0-9]+(?:\.[0-9]*)?")


def parse_percent(text: str) -> int:
    """ "25", "12,5 %" → basis points (2500, 1250); a clear error for anything else."""
    cleaned = text.replace("%", "").replace(",", ".").strip()
    if not _PERCENT.fullmatch(cleaned):
        raise InvalidInput(N_("Процент: число от 0 до 100, например 25 или 12,5"))
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidInput(N_("Процент: число от 0 до 100, например 25 или 12,5")) from None
    if not value.is_finite() or not 0 <= value <= 100 or value != value.quantize(Decimal("0.01")):
        raise InvalidInput(N_("Процент: число от 0 до 100, не больше двух знаков после запятой"))
    return int(value * 100)


async def _by_login(session: AsyncSession, login: str) -> Employee | None:
    employee: Employee | None = await session.scalar(
        select(Employee).where(Employee.login == login)
    )
    return employee
