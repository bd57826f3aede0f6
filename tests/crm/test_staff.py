"""Staff setup: lawyer classes and their percentages, each employee's class, head and phone."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.core.errors import CrmError, InvalidInput
from crm.core.roles import Role
from crm.staff.errors import NoSuchEmployee, SipExtensionTaken
from crm.staff.models import Employee, LawyerClass
from crm.staff.services import StaffService, parse_percent

HTML = '<script>alert("x")</script><b>Старший</b>'


@pytest.fixture
def staff(sessionmaker: async_sessionmaker[AsyncSession]) -> StaffService:
    return StaffService(sessionmaker)


async def _employee(
    sessionmaker: async_sessionmaker[AsyncSession], login: str, role: Role, *, active: bool = True
) -> int:
    async with sessionmaker() as session:
        employee = Employee(
            login=login, full_name=login.title(), role=role, password_hash="x", is_active=active
        )
        session.add(employee)
        await session.commit()
        return employee.id


async def _snapshot(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, list[Any]]:
    async with sessionmaker() as session:
        return {
            model.__tablename__: [
                tuple(row) for row in (await session.execute(select(model.__table__))).all()
            ]
            for model in (Employee, LawyerClass)
        }


# --- percentages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "basis_points"),
    [
        ("25", 2500),
        ("12,5 %", 1250),
        ("12.5%", 1250),
        (" 7,25 % ", 725),
        ("0", 0),
        ("0,01", 1),
        ("100", 10_000),
        ("100,00", 10_000),
        ("033", 3300),
    ],
)
def test_percent_as_people_type_it(text: str, basis_points: int) -> None:
    assert parse_percent(text) == basis_points


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "%",
        "abc",
        "-5",
        "-0,01",
        "100,01",
        "101",
        "12,345",
        "12,5,0",
        "1e1",
        "1E-2",
        "1_0",
        "NaN",
        "sNaN",
        "Infinity",
        "²",
        "١٢",  # Arabic-Indic digits
        "<b>25</b>",
        "9" * 10_000,
        "0," + "0" * 10_000 + "1",
    ],
)
def test_a_percent_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="Процент"):
        parse_percent(text)


@given(st.integers(min_value=0, max_value=10_000), st.sampled_from([",", "."]), st.booleans())
def test_percent_round_trips(basis_points: int, separator: str, sign: bool) -> None:
    text = f"{basis_points // 100}{separator}{basis_points % 100:02d}" + (" %" if sign else "")
    assert parse_percent(text) == basis_points


@given(st.text(max_size=30))
def test_any_text_is_a_percent_or_a_clear_refusal(text: str) -> None:
    try:
        basis_points = parse_percent(text)
    except InvalidInput as error:
        assert error.message.startswith("Процент")
    else:
        assert 0 <= basis_points <= 10_000


# --- lawyer classes ---------------------------------------------------------------------


async def test_lawyer_classes(staff: StaffService) -> None:
    await staff.add_lawyer_class("  Старший   юрист ", "30")
    await staff.add_lawyer_class(HTML, "12,5")
    await staff.add_lawyer_class("Младший", "0")
    classes = await staff.lawyer_classes()
    assert [(c.name, c.accrual_basis_points) for c in classes] == [
        (HTML, 1250),  # "<" sorts first; the name is kept as typed
        ("Младший", 0),
        ("Старший юрист", 3000),
    ]


@pytest.mark.parametrize(
    ("name", "percent", "message"),
    [
        ("", "10", "Класс"),
        (" \t\n", "10", "Класс"),
        ("к" * 51, "10", "Класс"),
        ("к" * 10_000, "10", "Класс"),
        ("Новый", "", "Процент"),
        ("Новый", "сто", "Процент"),
        ("Новый", "150", "Процент"),
        ("Новый", "-5", "Процент"),
        ("Старший", "20", "уже есть"),
        ("  Старший ", "20", "уже есть"),
    ],
)
async def test_a_bad_lawyer_class_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
    staff: StaffService,
    name: str,
    percent: str,
    message: str,
) -> None:
    await staff.add_lawyer_class("Старший", "30")
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match=message):
        await staff.add_lawyer_class(name, percent)
    assert await _snapshot(sessionmaker) == before


# --- employees --------------------------------------------------------------------------


async def test_update_a_lawyer(
    sessionmaker: async_sessionmaker[AsyncSession], staff: StaffService
) -> None:
    lawyer = await _employee(sessionmaker, "lawyer", Role.lawyer)
    head = await _employee(sessionmaker, "head", Role.lawyer)
    senior = await staff.add_lawyer_class("Старший", "30")
    updated = await staff.update_employee(
        lawyer, lawyer_class_id=senior.id, head_id=head, sip_extension=" 1001 "
    )
    assert (updated.lawyer_class_id, updated.head_id, updated.sip_extension) == (
        senior.id,
        head,
        "1001",
    )
    # One form sets all three: what is left empty is cleared.
    cleared = await staff.update_employee(
        lawyer, lawyer_class_id=None, head_id=None, sip_extension="  "
    )
    assert (cleared.lawyer_class_id, cleared.head_id, cleared.sip_extension) == (None, None, None)


async def test_update_an_operator(
    sessionmaker: async_sessionmaker[AsyncSession], staff: StaffService
) -> None:
    operator = await _employee(sessionmaker, "operator", Role.operator)
    head = await _employee(sessionmaker, "head", Role.call_centre_head)
    updated = await staff.update_employee(
        operator, lawyer_class_id=None, head_id=head, sip_extension="12345678"
    )
    assert (updated.head_id, updated.sip_extension) == (head, "12345678")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sip_extension": "1"}, "Внутренний номер"),
        ({"sip_extension": "123456789"}, "Внутренний номер"),
        ({"sip_extension": "10a1"}, "Внутренний номер"),
        ({"sip_extension": "+7 921 123-45-67"}, "Внутренний номер"),
        ({"sip_extension": "<b>1001</b>"}, "Внутренний номер"),
        ({"sip_extension": "1" * 10_000}, "Внутренний номер"),
        ({"sip_extension": "١٠٠١"}, "Внутренний номер"),  # Arabic-Indic digits
        ({"lawyer_class_id": 999}, "Класс не найден"),
        ({"head_id": "self"}, "сам себе"),
        ({"head_id": 999}, "Руководитель не найден"),
        ({"head_id": "inactive"}, "Руководитель не найден"),
    ],
)
async def test_a_bad_employee_update_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
    staff: StaffService,
    change: dict[str, Any],
    message: str,
) -> None:
    lawyer = await _employee(sessionmaker, "lawyer", Role.lawyer)
    gone = await _employee(sessionmaker, "gone", Role.lawyer, active=False)
    senior = await staff.add_lawyer_class("Старший", "30")
    await staff.update_employee(
        lawyer, lawyer_class_id=senior.id, head_id=None, sip_extension="1001"
    )
    values: dict[str, Any] = {
        "lawyer_class_id": senior.id,
        "head_id": None,
        "sip_extension": "1002",
    }
    values.update(change)
    values["head_id"] = {"self": lawyer, "inactive": gone}.get(values["head_id"], values["head_id"])
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match=message):
        await staff.update_employee(lawyer, **values)
    assert await _snapshot(sessionmaker) == before


async def test_a_class_is_for_lawyers_only(
    sessionmaker: async_sessionmaker[AsyncSession], staff: StaffService
) -> None:
    representative = await _employee(sessionmaker, "defender", Role.court_representative)
    senior = await staff.add_lawyer_class("Старший", "30")
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match="только у юриста"):
        await staff.update_employee(
            representative, lawyer_class_id=senior.id, head_id=None, sip_extension=None
        )
    assert await _snapshot(sessionmaker) == before


async def test_an_employee_who_does_not_exist_and_a_phone_that_is_taken(
    sessionmaker: async_sessionmaker[AsyncSession], staff: StaffService
) -> None:
    first = await _employee(sessionmaker, "first", Role.operator)
    second = await _employee(sessionmaker, "second", Role.operator)
    await staff.update_employee(first, lawyer_class_id=None, head_id=None, sip_extension="1001")
    before = await _snapshot(sessionmaker)
    # Both are CRM errors with their own status (404, 409) rather than plain bad input.
    with pytest.raises(NoSuchEmployee, match="Сотрудник не найден"):
        await staff.update_employee(999, lawyer_class_id=None, head_id=None, sip_extension=None)
    with pytest.raises(SipExtensionTaken, match="уже занят"):
        await staff.update_employee(
            second, lawyer_class_id=None, head_id=None, sip_extension="1001"
        )
    assert await _snapshot(sessionmaker) == before
    assert issubclass(NoSuchEmployee, CrmError) and issubclass(SipExtensionTaken, CrmError)
