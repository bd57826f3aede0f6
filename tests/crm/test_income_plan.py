"""The income plan: lines become paid in due order as payments arrive, overdue when late."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.clients.models import Client
from crm.contracts.errors import NoSuchContract
from crm.contracts.services import ContractService
from crm.core.errors import InvalidInput
from crm.core.roles import Role
from crm.finance.models import PlannedPayment
from crm.finance.services import FinanceService, PlanStatus
from crm.staff.models import Employee

TODAY = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


async def _contract(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessionmaker() as session:
        lawyer = Employee(login="l1", full_name="Юрист", role=Role.lawyer, password_hash="x")
        cashier = Employee(login="c1", full_name="Кассир", role=Role.cashier, password_hash="x")
        client = Client(full_name="Клиент", short_name="Клиент", first_contact_on=date(2026, 1, 1))
        session.add_all([lawyer, cashier, client])
        await session.commit()
        ids = lawyer.id, cashier.id, client.id
    contract = await ContractService(sessionmaker, now=lambda: TODAY).add_contract(
        client_id=ids[2], lawyer_id=ids[0], number="Д-1", amount="300 000", essence="Иск"
    )
    return contract.id, ids[1]


async def test_payments_settle_the_plan_in_due_order(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    contract_id, cashier_id = await _contract(sessionmaker)
    finance = FinanceService(sessionmaker, now=lambda: TODAY)
    for due, amount in ((date(2026, 11, 20), "100 000"), (date(2026, 12, 20), "100 000")):
        await finance.plan_payment(contract_id, due_on=due, amount=amount, by_employee_id=1)
    lines, _ = await finance.plan_of(contract_id)
    assert [line.status for line in lines] == [PlanStatus.overdue, PlanStatus.upcoming]

    await finance.receive_payment(contract_id, amount="60 000", cashier_id=cashier_id)
    lines, payments = await finance.plan_of(contract_id)
    assert [line.status for line in lines] == [PlanStatus.overdue, PlanStatus.upcoming]
    await finance.receive_payment(contract_id, amount="40 000", cashier_id=cashier_id)
    lines, payments = await finance.plan_of(contract_id)
    assert [line.status for line in lines] == [PlanStatus.paid, PlanStatus.upcoming]
    assert sum(p.amount_kopecks for p in payments) == 10_000_000


@pytest.mark.parametrize(
    ("due", "amount"),
    [(date(2026, 9, 1), "1000"), (date(2031, 1, 1), "1000"), (date(2026, 12, 1), "abc")],
)
async def test_a_bad_plan_line_is_refused_and_nothing_is_written(
    sessionmaker: async_sessionmaker[AsyncSession], due: date, amount: str
) -> None:
    contract_id, _ = await _contract(sessionmaker)
    with pytest.raises(InvalidInput):
        await FinanceService(sessionmaker, now=lambda: TODAY).plan_payment(
            contract_id, due_on=due, amount=amount, by_employee_id=1
        )
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(PlannedPayment)) == 0


async def test_unknown_contract(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    with pytest.raises(NoSuchContract):
        await FinanceService(sessionmaker).receive_payment(999, amount="1", cashier_id=1)
