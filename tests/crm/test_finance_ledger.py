"""Money: accruals by lawyer class, payouts within the balance, expenses, cash and the plan."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from crm.clients.models import Client
from crm.contracts.errors import NoSuchContract
from crm.contracts.models import Contract
from crm.contracts.services import ContractService
from crm.core.errors import InvalidInput
from crm.core.roles import Role
from crm.finance.models import Accrual, Expense, Payment, Payout, PlannedPayment
from crm.finance.services import FinanceService, PlanStatus
from crm.staff.models import Employee, LawyerClass
from crm.staff.services import StaffService
from tests.crm.conftest import postgresql_only
from tests.support.waiting import eventually

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 27)
# 23:30 UTC is 02:30 of the 28th in Moscow: the cash desk's day is already the 28th.
LATE_EVENING_UTC = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
HTML = '<script>alert("x")</script><b>ООО «Ромашка»</b> & Co'

BAD_MONEY = [
    "",
    "   ",
    "abc",
    "-5",
    "0",
    "0,00",
    "1e9",
    "1 000,555",
    "1,2,3",
    "NaN",
    "inf",
    "<b>100</b>",
    "²",
    "9" * 30,
    "9" * 10_000,
    "10 000 000 000 001",  # above a trillion roubles
]


@pytest.fixture
def finance(sessionmaker: async_sessionmaker[AsyncSession]) -> FinanceService:
    return FinanceService(sessionmaker, now=lambda: NOW)


class Firm:
    """The people and one contract most money tests need."""

    def __init__(self, lawyer: int, other_lawyer: int, cashier: int, client: int, contract: int):
        self.lawyer = lawyer
        self.other_lawyer = other_lawyer
        self.cashier = cashier
        self.client = client
        self.contract = contract


async def _employee(
    session: AsyncSession, login: str, role: Role, lawyer_class: LawyerClass | None = None
) -> Employee:
    employee = Employee(
        login=login,
        full_name=login.title(),
        role=role,
        password_hash="x",
        lawyer_class_id=lawyer_class.id if lawyer_class else None,
    )
    session.add(employee)
    return employee


@pytest.fixture
async def firm(sessionmaker: async_sessionmaker[AsyncSession]) -> Firm:
    """A 12.5 % lawyer with a contract, a 30 % lawyer without one, a cashier."""
    async with sessionmaker() as session:
        junior = LawyerClass(name="Младший", accrual_basis_points=1250)
        senior = LawyerClass(name="Старший", accrual_basis_points=3000)
        session.add_all([junior, senior])
        await session.flush()
        lawyer = await _employee(session, "lawyer", Role.lawyer, junior)
        other = await _employee(session, "other", Role.lawyer, senior)
        cashier = await _employee(session, "cashier", Role.cashier)
        client = Client(full_name="Клиент", short_name="Клиент", first_contact_on=TODAY)
        session.add(client)
        await session.commit()
    contract = await ContractService(sessionmaker, now=lambda: NOW).add_contract(
        client_id=client.id, lawyer_id=lawyer.id, number="Д-1", amount="300 000", essence="Иск"
    )
    return Firm(lawyer.id, other.id, cashier.id, client.id, contract.id)


async def _snapshot(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, list[Any]]:
    """Every money row, to show that a refused request changed nothing."""
    async with sessionmaker() as session:
        return {
            model.__tablename__: [
                tuple(row) for row in (await session.execute(select(model.__table__))).all()
            ]
            for model in (
                Payment,
                Accrual,
                Payout,
                Expense,
                PlannedPayment,
                LawyerClass,
                Employee,
                Contract,
            )
        }


async def _accruals(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Accrual]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(Accrual).order_by(Accrual.id)))


# --- accruals ---------------------------------------------------------------------------


async def test_accrual_is_the_class_share_rounded_down(
    sessionmaker: async_sessionmaker[AsyncSession], finance: FinanceService, firm: Firm
) -> None:
    payment = await finance.receive_payment(firm.contract, amount="100,03", cashier_id=firm.cashier)
    assert payment.amount_kopecks == 10_003 and payment.received_on == TODAY
    (accrual,) = await _accruals(sessionmaker)
    # 12.5 % of 100,03 ₽ is 12,50375 ₽: the lawyer gets 12,50 ₽, never a kopeck more.
    assert accrual.amount_kopecks == 1250
    assert accrual.basis_points == 1250
    assert accrual.lawyer_id == firm.lawyer and accrual.payment_id == payment.id
    assert accrual.accrued_on == TODAY


async def test_accrual_is_fixed_at_the_class_of_the_day(
    sessionmaker: async_sessionmaker[AsyncSession], finance: FinanceService, firm: Firm
) -> None:
    await finance.receive_payment(firm.contract, amount="1000", cashier_id=firm.cashier)
    staff = StaffService(sessionmaker)
    senior = next(c for c in await staff.lawyer_classes() if c.name == "Старший")
    await staff.update_employee(
        firm.lawyer, lawyer_class_id=senior.id, head_id=None, sip_extension=None
    )
    await finance.receive_payment(firm.contract, amount="1000", cashier_id=firm.cashier)
    async with sessionmaker() as session:  # and the class itself changes its rate
        junior = await session.scalar(select(LawyerClass).where(LawyerClass.name == "Младший"))
        assert junior is not None
        junior.accrual_basis_points = 9000
        await session.commit()
    accruals = await _accruals(sessionmaker)
    assert [(a.amount_kopecks, a.basis_points) for a in accruals] == [
        (12_500, 1250),
        (30_000, 3000),
    ]
    (row,) = await finance.lawyer_finances(firm.lawyer)
    assert row.accrued_kopecks == 42_500 and row.lawyer_class is not None
    assert row.lawyer_class.name == "Старший"


async def test_a_lawyer_without_a_class_accrues_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], finance: FinanceService, firm: Firm
) -> None:
    await StaffService(sessionmaker).update_employee(
        firm.lawyer, lawyer_class_id=None, head_id=None, sip_extension=None
    )
    await finance.receive_payment(firm.contract, amount="1000", cashier_id=firm.cashier)
    assert await _accruals(sessionmaker) == []
    (row,) = await finance.lawyer_finances(firm.lawyer)
    assert (row.accrued_kopecks, row.balance_kopecks, row.lawyer_class) == (0, 0, None)


async def test_a_payment_late_in_the_utc_evening_is_on_the_next_moscow_day(
    sessionmaker: async_sessionmaker[AsyncSession], firm: Firm
) -> None:
    finance = FinanceService(sessionmaker, now=lambda: LATE_EVENING_UTC)
    payment = await finance.receive_payment(firm.contract, amount="1000", cashier_id=firm.cashier)
    expense = await finance.record_expense(
        amount="10", payee="Почта", purpose="Марки", cashier_id=firm.cashier
    )
    payout = await finance.pay_out(firm.lawyer, amount="1", cashier_id=firm.cashier)
    (accrual,) = await _accruals(sessionmaker)
    tomorrow = date(2026, 11, 28)
    assert payment.received_on == accrual.accrued_on == expense.spent_on == tomorrow
    assert payout.paid_on == tomorrow
    day = await finance.cash_movements(day_from=tomorrow, day_to=tomorrow)
    assert (day.income_total, day.expense_total, day.payout_total) == (100_000, 1000, 100)
    assert await finance.cash_movements(day_to=TODAY) == await finance.cash_movements(
        day_from=TODAY, day_to=TODAY
    )


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    # Each example adds its own payments to the one database of the test; the property is
    # checked on that example's rows only.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    basis_points=st.integers(min_value=0, max_value=10_000),
    amounts=st.lists(st.integers(min_value=1, max_value=10**15), min_size=1, max_size=5),
)
async def test_accruals_never_exceed_payments(
    sessionmaker: async_sessionmaker[AsyncSession],
    finance: FinanceService,
    firm: Firm,
    basis_points: int,
    amounts: list[int],
) -> None:
    async with sessionmaker() as session:
        lawyer_class = await session.scalar(
            select(LawyerClass).where(LawyerClass.name == "Младший")
        )
        assert lawyer_class is not None
        lawyer_class.accrual_basis_points = basis_points
        await session.commit()
    payment_ids = []
    for kopecks in amounts:
        text = f"{kopecks // 100},{kopecks % 100:02d}"
        payment = await finance.receive_payment(firm.contract, amount=text, cashier_id=firm.cashier)
        assert payment.amount_kopecks == kopecks
        payment_ids.append(payment.id)
    async with sessionmaker() as session:
        accruals = list(
            await session.scalars(select(Accrual).where(Accrual.payment_id.in_(payment_ids)))
        )
    by_payment = {accrual.payment_id: accrual.amount_kopecks for accrual in accruals}
    for payment_id, kopecks in zip(payment_ids, amounts, strict=True):
        expected = kopecks * basis_points // 10_000
        assert by_payment.get(payment_id, 0) == expected
        assert 0 <= expected <= kopecks
    assert sum(by_payment.values()) <= sum(amounts)


# --- payouts ----------------------------------------------------------------------------


async def test_payouts_up_to_the_balance(
    sessionmaker: async_sessionmaker[AsyncSession], finance: FinanceService, firm: Firm
) -> None:
    await finance.receive_payment(firm.contract, amount="1000", cashier_id=firm.cashier)
    first = await finance.pay_out(
        firm.lawyer, amount="100", cashier_id=firm.cashier, comment="  аванс "
    )
    assert first.comment == "аванс" and first.paid_on == TODAY
    await finance.pay_out(firm.lawyer, amount="25", cashier_id=firm.cashier, comment=HTML)
    (row,) = await finance.lawyer_finances(firm.lawyer)
    assert (row.accrued_kopecks, row.paid_out_kopecks, row.balance_kopecks) == (
        12_500,
        12_500,
        0,
    )
    assert row.contracts == 1
    accruals, payouts = await finance.accruals_and_payouts(firm.lawyer)
    assert len(accruals) == 1
    assert [p.comment for p in payouts] == [HTML, "аванс"]  # newest first, markup as typed

    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match="больше остатка"):
        await finance.pay_out(firm.lawyer, amount="0,01", cashier_id=firm.cashier)
    assert await _snapshot(sessionmaker) == before


async def test_a_double_submitted_payout_is_paid_once(
    sessionmaker: async_sessionmaker[AsyncSession], finance: FinanceService, firm: Firm
) -> None:
    await finance.receive_payment(firm.contract, amount="800", cashier_id=firm.cashier)
    # The balance is 100 ₽; the form sent several times at once must pay 100 ₽ once.
    results = await asyncio.gather(
        *(finance.pay_out(firm.lawyer, amount="100", cashier_id=firm.cashier) for _ in range(4)),
        return_exceptions=True,
    )
    paid = [r for r in results if isinstance(r, Payout)]
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert (len(paid), len(refused)) == (1, 3), results
    (row,) = await finance.lawyer_finances(firm.lawyer)
    assert row.balance_kopecks == 0


@postgresql_only
async def test_a_payout_waits_for_one_in_flight_and_sees_what_it_left(
    engine: AsyncEngine, finance: FinanceService, firm: Firm
) -> None:
    """The race made certain: another payout to the lawyer is written but not committed yet;
    this one must wait for it, not check a balance that payout is not in."""
    await finance.receive_payment(firm.contract, amount="800", cashier_id=firm.cashier)
    async with engine.connect() as other:
        transaction = await other.begin()
        await other.execute(
            insert(Payout).values(
                lawyer_id=firm.lawyer,
                amount_kopecks=100_00,
                paid_on=date.today(),
                cashier_id=firm.cashier,
                comment="",
                created_at=datetime.now(UTC),
            )
        )
        second = asyncio.create_task(
            finance.pay_out(firm.lawyer, amount="100", cashier_id=firm.cashier)
        )
        # Either it waits for the other transaction, or it went ahead without it.
        await eventually(lambda: second.done() or _waiting_for_a_lock(engine), timeout=10)
        await transaction.commit()
    with pytest.raises(InvalidInput, match="больше остатка"):
        await second
    (row,) = await finance.lawyer_finances(firm.lawyer)
    assert row.balance_kopecks == 0


async def _waiting_for_a_lock(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        waiting = await connection.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        )
    return bool(waiting)


@pytest.mark.parametrize("amount", BAD_MONEY)
async def test_a_payout_of_bad_money_is_refused(
    sessionmaker: async_sessionmaker[AsyncSession],
    finance: FinanceService,
    firm: Firm,
    amount: str,
) -> None:
    await finance.receive_payment(firm.contract, amount="1000", cashier_id=firm.cashier)
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match="Сумма"):
        await finance.pay_out(firm.lawyer, amount=amount, cashier_id=firm.cashier)
    assert await _snapshot(sessionmaker) == before


@pytest.mark.parametrize("who", ["cashier", "missing"])
async def test_payouts_go_to_lawyers_only(
    sessionmaker: async_sessionmaker[AsyncSession], finance: FinanceService, firm: Firm, who: str
) -> None:
    await finance.receive_payment(firm.contract, amount="1000", cashier_id=firm.cashier)
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match="только юристу"):
        await finance.pay_out(
            firm.cashier if who == "cashier" else 999, amount="1", cashier_id=firm.cashier
        )
    assert await _snapshot(sessionmaker) == before


async def test_a_payout_comment_longer_than_allowed_is_refused(
    sessionmaker: async_sessionmaker[AsyncSession], finance: FinanceService, firm: Firm
) -> None:
    await finance.receive_payment(firm.contract, amount="1000", cashier_id=firm.cashier)
    before = await _snapshot(sessionmaker)
    for comment in ("к" * 501, "к" * 10_000):
        with pytest.raises(InvalidInput, match="Комментарий"):
            await finance.pay_out(firm.lawyer, amount="1", cashier_id=firm.cashier, comment=comment)
    assert await _snapshot(sessionmaker) == before
    blank = await finance.pay_out(firm.lawyer, amount="1", cashier_id=firm.cashier, comment=" \n")
    assert blank.comment is None


# --- payments received ------------------------------------------------------------------


@pytest.mark.parametrize("amount", BAD_MONEY)
async def test_a_payment_of_bad_money_is_refused(
    sessionmaker: async_sessionmaker[AsyncSession],
    finance: FinanceService,
    firm: Firm,
    amount: str,
) -> None:
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match="Сумма"):
        await finance.receive_payment(firm.contract, amount=amount, cashier_id=firm.cashier)
    with pytest.raises(InvalidInput, match="Сумма"):
        await finance.plan_payment(
            firm.contract, due_on=TODAY, amount=amount, by_employee_id=firm.lawyer
        )
    assert await _snapshot(sessionmaker) == before


@pytest.mark.parametrize(
    "received_on",
    [TODAY + timedelta(days=1), TODAY - timedelta(days=367), date(1, 1, 1), date(9999, 12, 31)],
)
async def test_a_payment_dated_out_of_range_is_refused(
    sessionmaker: async_sessionmaker[AsyncSession],
    finance: FinanceService,
    firm: Firm,
    received_on: date,
) -> None:
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match="Дата платежа"):
        await finance.receive_payment(
            firm.contract, amount="1000", cashier_id=firm.cashier, received_on=received_on
        )
    assert await _snapshot(sessionmaker) == before


async def test_a_payment_dated_earlier_this_year_is_accepted(
    sessionmaker: async_sessionmaker[AsyncSession], finance: FinanceService, firm: Firm
) -> None:
    payment = await finance.receive_payment(
        firm.contract, amount="1000", cashier_id=firm.cashier, received_on=date(2026, 1, 15)
    )
    assert payment.received_on == date(2026, 1, 15)
    (accrual,) = await _accruals(sessionmaker)
    assert accrual.accrued_on == date(2026, 1, 15)


async def test_money_for_a_contract_that_does_not_exist(
    sessionmaker: async_sessionmaker[AsyncSession], finance: FinanceService, firm: Firm
) -> None:
    before = await _snapshot(sessionmaker)
    with pytest.raises(NoSuchContract, match="Договор не найден"):
        await finance.receive_payment(999, amount="1", cashier_id=firm.cashier)
    with pytest.raises(NoSuchContract, match="Договор не найден"):
        await finance.plan_payment(999, due_on=TODAY, amount="1", by_employee_id=firm.lawyer)
    with pytest.raises(NoSuchContract, match="Договор не найден"):
        await finance.record_expense(
            amount="1", payee="Суд", purpose="Пошлина", cashier_id=firm.cashier, contract_id=999
        )
    assert await _snapshot(sessionmaker) == before


# --- expenses and the cash --------------------------------------------------------------


async def test_expenses_are_stored_as_typed(
    sessionmaker: async_sessionmaker[AsyncSession], finance: FinanceService, firm: Firm
) -> None:
    expense = await finance.record_expense(
        amount="1 500,50 ₽",
        payee=f"  {HTML} ",
        purpose="Госпошлина\tпо  иску",
        cashier_id=firm.cashier,
        contract_id=firm.contract,
        spent_on=TODAY - timedelta(days=366),
    )
    assert expense.amount_kopecks == 150_050
    assert expense.payee == HTML and expense.purpose == "Госпошлина по иску"
    async with sessionmaker() as session:
        stored = await session.get(Expense, expense.id)
        assert stored is not None and stored.payee == HTML


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        *[("amount", bad, "Сумма") for bad in BAD_MONEY],
        ("payee", "", "Кому"),
        ("payee", " \t\n ", "Кому"),
        ("payee", "к" * 201, "Кому"),
        ("payee", "к" * 10_000, "Кому"),
        ("purpose", "", "За что"),
        ("purpose", "   ", "За что"),
        ("purpose", "к" * 501, "За что"),
        ("purpose", "к" * 10_000, "За что"),
        ("spent_on", TODAY + timedelta(days=1), "Дата расхода"),
        ("spent_on", TODAY - timedelta(days=367), "Дата расхода"),
        ("spent_on", date(1, 1, 1), "Дата расхода"),
        ("spent_on", date(9999, 12, 31), "Дата расхода"),
    ],
)
async def test_a_bad_expense_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
    finance: FinanceService,
    firm: Firm,
    field: str,
    value: Any,
    message: str,
) -> None:
    values: dict[str, Any] = {"amount": "100", "payee": "Суд", "purpose": "Пошлина"}
    values[field] = value
    before = await _snapshot(sessionmaker)
    with pytest.raises(InvalidInput, match=message):
        await finance.record_expense(cashier_id=firm.cashier, **values)
    assert await _snapshot(sessionmaker) == before


async def test_cash_remaining_is_income_less_expenses_and_payouts(
    sessionmaker: async_sessionmaker[AsyncSession], firm: Firm
) -> None:
    async with sessionmaker() as session:
        other_client = Client(full_name="Другой", short_name="Другой", first_contact_on=TODAY)
        session.add(other_client)
        await session.commit()
    other_contract = await ContractService(sessionmaker, now=lambda: NOW).add_contract(
        client_id=other_client.id,
        lawyer_id=firm.other_lawyer,
        number="Д-2",
        amount="50 000",
        essence="Долг",
    )
    yesterday = FinanceService(sessionmaker, now=lambda: NOW - timedelta(days=1))
    finance = FinanceService(sessionmaker, now=lambda: NOW)
    await yesterday.receive_payment(firm.contract, amount="10 000", cashier_id=firm.cashier)
    await yesterday.record_expense(
        amount="500", payee="Почта", purpose="Письма", cashier_id=firm.cashier
    )
    await finance.receive_payment(other_contract.id, amount="2 000", cashier_id=firm.cashier)
    await finance.record_expense(
        amount="300",
        payee="Суд",
        purpose="Пошлина",
        cashier_id=firm.cashier,
        contract_id=other_contract.id,
    )
    await finance.pay_out(firm.lawyer, amount="1 000", cashier_id=firm.cashier)

    everything = await finance.cash_movements()
    assert (everything.income_total, everything.expense_total, everything.payout_total) == (
        1_200_000,
        80_000,
        100_000,
    )
    assert everything.cash_remaining == 1_200_000 - 80_000 - 100_000
    today = await finance.cash_movements(day_from=TODAY, day_to=TODAY)
    assert (today.income_total, today.expense_total, today.payout_total) == (
        200_000,
        30_000,
        100_000,
    )
    assert today.cash_remaining == everything.cash_remaining  # the desk holds what it holds
    assert [row.client.id for row in today.income] == [other_client.id]

    by_client = await finance.cash_movements(client_id=other_client.id)
    assert (by_client.income_total, by_client.expense_total, by_client.payout_total) == (
        200_000,
        30_000,
        0,
    )
    by_contract = await finance.cash_movements(contract_id=firm.contract)
    assert (by_contract.income_total, by_contract.expense_total, by_contract.payouts) == (
        1_000_000,
        0,
        [],
    )
    by_lawyer = await finance.cash_movements(employee_id=firm.lawyer)
    assert (by_lawyer.income_total, by_lawyer.expense_total, by_lawyer.payout_total) == (
        1_000_000,
        0,
        100_000,
    )
    assert [row.lawyer.id for row in by_lawyer.payouts] == [firm.lawyer]
    limited = await finance.cash_movements(limit=1)
    assert len(limited.income) == 1 and limited.income_total == 1_200_000

    lawyers = {row.lawyer.id: row for row in await finance.lawyer_finances()}
    assert lawyers[firm.lawyer].balance_kopecks == 125_000 - 100_000
    assert lawyers[firm.other_lawyer].accrued_kopecks == 60_000  # 30 % of 2 000 ₽
    assert firm.cashier not in lawyers


# --- the income plan across contracts ---------------------------------------------------


async def test_plan_lines_across_contracts(
    sessionmaker: async_sessionmaker[AsyncSession], finance: FinanceService, firm: Firm
) -> None:
    async with sessionmaker() as session:
        other_client = Client(full_name="Другой", short_name="Другой", first_contact_on=TODAY)
        session.add(other_client)
        await session.commit()
    other_contract = await ContractService(sessionmaker, now=lambda: NOW).add_contract(
        client_id=other_client.id,
        lawyer_id=firm.other_lawyer,
        number="Д-2",
        amount="50 000",
        essence="Долг",
    )
    plan = [
        (firm.contract, date(2026, 11, 10), "1 000"),
        (firm.contract, date(2026, 11, 20), "1 000"),
        (firm.contract, date(2026, 12, 10), "1 000"),
        (other_contract.id, date(2026, 11, 1), "500"),
        (other_contract.id, date(2026, 12, 1), "500"),
    ]
    for contract_id, due_on, amount in plan:
        await finance.plan_payment(
            contract_id, due_on=due_on, amount=amount, by_employee_id=firm.lawyer
        )
    await finance.receive_payment(firm.contract, amount="1 500", cashier_id=firm.cashier)
    await finance.receive_payment(other_contract.id, amount="500", cashier_id=firm.cashier)

    rows = await finance.plan_lines()
    assert [(row.planned.due_on, row.contract.id, row.status) for row in rows] == [
        (date(2026, 11, 1), other_contract.id, PlanStatus.paid),
        (date(2026, 11, 10), firm.contract, PlanStatus.paid),
        (date(2026, 11, 20), firm.contract, PlanStatus.overdue),
        (date(2026, 12, 1), other_contract.id, PlanStatus.upcoming),
        (date(2026, 12, 10), firm.contract, PlanStatus.upcoming),
    ]
    overdue = await finance.plan_lines(status=PlanStatus.overdue)
    assert [(row.planned.due_on, row.lawyer.id) for row in overdue] == [
        (date(2026, 11, 20), firm.lawyer)
    ]
    mine = await finance.plan_lines(lawyer_id=firm.other_lawyer)
    assert {row.client.id for row in mine} == {other_client.id} and len(mine) == 2
    december = await finance.plan_lines(day_from=date(2026, 12, 1), day_to=date(2026, 12, 31))
    assert [row.status for row in december] == [PlanStatus.upcoming, PlanStatus.upcoming]
    # A December line of a contract whose November lines are outside the period still
    # counts them: the payments settle lines in due order.
    assert [row.planned.due_on for row in await finance.plan_lines(client_id=firm.client)] == [
        date(2026, 11, 10),
        date(2026, 11, 20),
        date(2026, 12, 10),
    ]
    assert len(await finance.plan_lines(limit=2)) == 2
    assert await finance.plan_lines(client_id=999) == []


async def test_a_plan_line_too_far_ahead_or_behind_is_refused(
    sessionmaker: async_sessionmaker[AsyncSession], finance: FinanceService, firm: Firm
) -> None:
    before = await _snapshot(sessionmaker)
    for due_on in (date(1, 1, 1), date(9999, 12, 31), TODAY - timedelta(days=32)):
        with pytest.raises(InvalidInput, match="Дата платежа"):
            await finance.plan_payment(
                firm.contract, due_on=due_on, amount="1", by_employee_id=firm.lawyer
            )
    assert await _snapshot(sessionmaker) == before
