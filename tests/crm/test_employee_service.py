"""Employee accounts: creation rules, signing in, switching off; and the password helpers."""

from __future__ import annotations

from datetime import UTC

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.auth.services import WebSessionService
from crm.core.errors import InvalidInput
from crm.core.roles import Role
from crm.staff.errors import LoginTaken, NoSuchEmployee, SipExtensionTaken, WeakPassword
from crm.staff.models import Employee
from crm.staff.passwords import hash_password, needs_rehash, verify_password
from crm.staff.services import StaffService

PASSWORD = "correct horse battery"


@pytest.fixture
def employees(sessionmaker: async_sessionmaker[AsyncSession]) -> StaffService:
    return StaffService(sessionmaker)


async def _employee_count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(Employee))).scalar_one()


async def test_create_employee_stores_a_hash_not_the_password(
    employees: StaffService, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    created = await employees.create_employee(
        "  Ivanova ", "Иванова  Мария Петровна", Role.lawyer, PASSWORD, sip_extension="1001"
    )
    async with sessionmaker() as session:
        stored = await session.get(Employee, created.id)
    assert stored is not None
    assert stored.login == "ivanova"
    assert stored.full_name == "Иванова Мария Петровна"
    assert stored.role is Role.lawyer
    assert stored.is_active
    assert stored.sip_extension == "1001"
    assert stored.created_at.tzinfo is UTC
    assert PASSWORD not in stored.password_hash
    assert stored.password_hash.startswith("$argon2id$")


async def test_login_is_taken_whatever_its_case(employees: StaffService) -> None:
    await employees.create_employee("petrov", "Петров П. П.", Role.operator, PASSWORD)
    with pytest.raises(LoginTaken) as caught:
        await employees.create_employee("Petrov", "Другой Петров", Role.cashier, PASSWORD)
    assert caught.value.http_status == 409


async def test_sip_extension_is_taken(employees: StaffService) -> None:
    await employees.create_employee("a.one", "Один", Role.operator, PASSWORD, sip_extension="1001")
    with pytest.raises(SipExtensionTaken):
        await employees.create_employee("a.two", "Два", Role.operator, PASSWORD, "1001")
    # Employees without a phone do not clash with each other.
    await employees.create_employee("a.three", "Три", Role.cashier, PASSWORD)
    await employees.create_employee("a.four", "Четыре", Role.cashier, PASSWORD)


@pytest.mark.parametrize("login", ["", "a", "иванов", "ivan ov", "ivan@firm", "x" * 65])
async def test_bad_login_is_refused(
    employees: StaffService, sessionmaker: async_sessionmaker[AsyncSession], login: str
) -> None:
    with pytest.raises(InvalidInput):
        await employees.create_employee(login, "Иванов", Role.lawyer, PASSWORD)
    assert await _employee_count(sessionmaker) == 0


@pytest.mark.parametrize("sip_extension", ["", "1", "10a1", "+79211234567"])
async def test_bad_sip_extension_is_refused(employees: StaffService, sip_extension: str) -> None:
    with pytest.raises(InvalidInput):
        await employees.create_employee("ivanov", "Иванов", Role.lawyer, PASSWORD, sip_extension)


async def test_short_password_is_refused(
    employees: StaffService, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    with pytest.raises(WeakPassword) as caught:
        await employees.create_employee("ivanov", "Иванов", Role.lawyer, "123456789")
    assert "10" in str(caught.value)
    assert await _employee_count(sessionmaker) == 0
    # Ten characters is enough.
    await employees.create_employee("ivanov", "Иванов", Role.lawyer, "1234567890")


async def test_authenticate(employees: StaffService) -> None:
    created = await employees.create_employee("ivanov", "Иванов", Role.lawyer, PASSWORD)
    signed_in = await employees.authenticate("IVANOV", PASSWORD)
    assert signed_in is not None
    assert signed_in.id == created.id
    assert await employees.authenticate("ivanov", PASSWORD + "!") is None
    assert await employees.authenticate("ivanov", "") is None
    assert await employees.authenticate("nobody", PASSWORD) is None


async def test_deactivated_employee_cannot_sign_in(employees: StaffService) -> None:
    created = await employees.create_employee("ivanov", "Иванов", Role.lawyer, PASSWORD)
    await employees.deactivate(created.id)
    assert await employees.authenticate("ivanov", PASSWORD) is None
    assert not (await employees.get_employee(created.id)).is_active


async def test_deactivate_ends_every_session_of_that_employee_only(
    employees: StaffService, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    sessions = WebSessionService(sessionmaker)
    leaving = await employees.create_employee("leaving", "Уходящий", Role.lawyer, PASSWORD)
    staying = await employees.create_employee("staying", "Остающийся", Role.lawyer, PASSWORD)
    leaving_tokens = [(await sessions.start(leaving.id))[0] for _ in range(2)]
    staying_token, _ = await sessions.start(staying.id)
    for token in leaving_tokens:
        assert await sessions.resolve(token, idle_minutes=60) is not None

    await employees.deactivate(leaving.id)

    for token in leaving_tokens:
        assert await sessions.resolve(token, idle_minutes=60) is None
    assert await sessions.resolve(staying_token, idle_minutes=60) is not None


async def test_deactivate_unknown_employee(employees: StaffService) -> None:
    with pytest.raises(NoSuchEmployee):
        await employees.deactivate(4242)


async def test_count_administrators_counts_active_ones(employees: StaffService) -> None:
    assert await employees.count_administrators() == 0
    first = await employees.create_employee("admin1", "Админ", Role.administrator, PASSWORD)
    await employees.create_employee("admin2", "Админ Два", Role.administrator, PASSWORD)
    await employees.create_employee("director", "Руководитель", Role.director, PASSWORD)
    assert await employees.count_administrators() == 2
    await employees.deactivate(first.id)
    assert await employees.count_administrators() == 1


def test_password_helpers() -> None:
    password_hash = hash_password(PASSWORD)
    assert verify_password(password_hash, PASSWORD)
    assert not verify_password(password_hash, PASSWORD.upper())
    assert not verify_password("not a hash", PASSWORD)
    assert not needs_rehash(password_hash)
    weak_hash = "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$FS2ea6h7Oi4xGZb4bPUxQQ"
    assert needs_rehash(weak_hash)
    with pytest.raises(WeakPassword):
        hash_password("short")


async def test_sign_in_upgrades_an_old_weak_hash(
    employees: StaffService, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    created = await employees.create_employee("ivanov", "Иванов", Role.lawyer, PASSWORD)
    old_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    async with sessionmaker() as session:
        stored = await session.get(Employee, created.id)
        assert stored is not None
        stored.password_hash = old_hash
        await session.commit()

    assert await employees.authenticate("ivanov", PASSWORD) is not None

    async with sessionmaker() as session:
        stored = await session.get(Employee, created.id)
    assert stored is not None
    assert stored.password_hash != old_hash
    assert not needs_rehash(stored.password_hash)
