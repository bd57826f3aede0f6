"""Money: the income plan, payments received, expenses, lawyers' accruals and payouts, the cash."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.clients.models import Client
from crm.contracts.errors import NoSuchContract
from crm.contracts.models import Contract
from crm.core.errors import N_, InvalidInput
from crm.core.formatting import FIRM_TIMEZONE, parse_money
from crm.core.inputs import optional_text, required_text
from crm.core.roles import Role
from crm.core.service import Service
from crm.core.sql import sum_of
from crm.finance.models import Accrual, Expense, Payment, Payout, PlannedPayment
from crm.staff.models import Employee, LawyerClass

PLAN_HORIZON = timedelta(days=3 * 366)  # a due date further away is a typing error


class PlanStatus(StrEnum):
    paid = "paid"
    overdue = "overdue"
    upcoming = "upcoming"


@dataclass(frozen=True)
class PlanLine:
    planned: PlannedPayment
    status: PlanStatus


class FinanceService(Service):
    async def plan_payment(
        self, contract_id: int, *, due_on: date, amount: str, by_employee_id: int
    ) -> PlannedPayment:
        """Add an expected payment to a contract's income plan."""
        kopecks = parse_money(amount)
        today = self._today()
        if not today - timedelta(days=31) <= due_on <= today + PLAN_HORIZON:
            raise InvalidInput(
                N_("Дата платежа: не раньше месяца назад и не позже трёх лет вперёд")
            )
        async with self._sessionmaker() as session:
            if await session.get(Contract, contract_id) is None:
                raise NoSuchContract()
            planned = PlannedPayment(
                contract_id=contract_id,
                due_on=due_on,
                amount_kopecks=kopecks,
                created_by_id=by_employee_id,
                created_at=self._now(),
            )
            session.add(planned)
            await session.commit()
        return planned

    async def receive_payment(
        self, contract_id: int, *, amount: str, cashier_id: int, received_on: date | None = None
    ) -> Payment:
        kopecks = parse_money(amount)
        today = self._today()
        received_on = received_on or today
        if not today - timedelta(days=366) <= received_on <= today:
            raise InvalidInput(N_("Дата платежа: не в будущем и не раньше года назад"))
        async with self._sessionmaker() as session:
            contract = await session.get(Contract, contract_id)
            if contract is None:
                raise NoSuchContract()
            payment = Payment(
                contract_id=contract_id,
                amount_kopecks=kopecks,
                received_on=received_on,
                cashier_id=cashier_id,
                created_at=self._now(),
            )
            session.add(payment)
            await session.flush()
            # The lawyer's share is fixed now, at the class they have now.
            rate = await session.scalar(
                select(LawyerClass.accrual_basis_points)
                .join(Employee, Employee.lawyer_class_id == LawyerClass.id)
                .where(Employee.id == contract.lawyer_id)
            )
            if rate:
                session.add(
                    Accrual(
                        lawyer_id=contract.lawyer_id,
                        payment_id=payment.id,
                        amount_kopecks=kopecks * rate // 10_000,
                        basis_points=rate,
                        accrued_on=payment.received_on,
                    )
                )
            await session.commit()
        return payment

    async def plan_of(self, contract_id: int) -> tuple[list[PlanLine], list[Payment]]:
        """The contract's plan, each line paid, overdue or upcoming, and its payments."""
        async with self._sessionmaker() as session:
            return await self._plan_in(session, contract_id)

    async def _plan_in(
        self, session: AsyncSession, contract_id: int
    ) -> tuple[list[PlanLine], list[Payment]]:
        """Payments settle planned lines in due order: a line is paid once everything
        received covers it and every earlier line."""
        planned = list(
            await session.scalars(
                select(PlannedPayment)
                .where(PlannedPayment.contract_id == contract_id)
                .order_by(PlannedPayment.due_on, PlannedPayment.id)
            )
        )
        payments = list(
            await session.scalars(
                select(Payment)
                .where(Payment.contract_id == contract_id)
                .order_by(Payment.received_on, Payment.id)
            )
        )
        received = sum(payment.amount_kopecks for payment in payments)
        today = self._today()
        lines, cumulative = [], 0
        for item in planned:
            cumulative += item.amount_kopecks
            lines.append(PlanLine(item, _line_status(cumulative, received, item.due_on, today)))
        return lines, payments

    async def _statuses_of(
        self, session: AsyncSession, contract_ids: list[int]
    ) -> dict[int, PlanStatus]:
        """The status of every planned line of these contracts (by line id), as `_plan_in`
        gives it, in two queries however many contracts there are."""
        if not contract_ids:
            return {}
        received = {
            contract_id: int(total or 0)
            for contract_id, total in await session.execute(
                select(Payment.contract_id, sum_of(Payment.amount_kopecks))
                .where(Payment.contract_id.in_(contract_ids))
                .group_by(Payment.contract_id)
            )
        }
        lines = await session.execute(
            select(
                PlannedPayment.id,
                PlannedPayment.contract_id,
                PlannedPayment.amount_kopecks,
                PlannedPayment.due_on,
            )
            .where(PlannedPayment.contract_id.in_(contract_ids))
            .order_by(PlannedPayment.contract_id, PlannedPayment.due_on, PlannedPayment.id)
        )
        today = self._today()
        statuses: dict[int, PlanStatus] = {}
        contract, cumulative = None, 0
        for line_id, contract_id, amount, due_on in lines:
            if contract_id != contract:
                contract, cumulative = contract_id, 0
            cumulative += amount
            statuses[line_id] = _line_status(
                cumulative, received.get(contract_id, 0), due_on, today
            )
        return statuses

    def _today(self) -> date:
        return self._now().astimezone(FIRM_TIMEZONE).date()

    async def record_expense(
        self,
        *,
        amount: str,
        payee: str,
        purpose: str,
        cashier_id: int,
        spent_on: date | None = None,
        contract_id: int | None = None,
    ) -> Expense:
        """Money paid out of the cash desk: how much, to whom, for what."""
        kopecks = parse_money(amount)
        payee = required_text(payee, N_("Кому"), 200)
        purpose = required_text(purpose, N_("За что"), 500)
        today = self._today()
        spent_on = spent_on or today
        if not today - timedelta(days=366) <= spent_on <= today:
            raise InvalidInput(N_("Дата расхода: не в будущем и не раньше года назад"))
        async with self._sessionmaker() as session:
            if contract_id is not None and await session.get(Contract, contract_id) is None:
                raise NoSuchContract()
            expense = Expense(
                spent_on=spent_on,
                amount_kopecks=kopecks,
                payee=payee,
                purpose=purpose,
                contract_id=contract_id,
                cashier_id=cashier_id,
                created_at=self._now(),
            )
            session.add(expense)
            await session.commit()
        return expense

    async def pay_out(
        self, lawyer_id: int, *, amount: str, cashier_id: int, comment: str = ""
    ) -> Payout:
        """Pay a lawyer from their accruals; never more than they have been accrued."""
        kopecks = parse_money(amount)
        note = optional_text(comment, N_("Комментарий"), 500)
        async with self._sessionmaker() as session:
            # The lawyer's row is locked (on PostgreSQL; SQLite ignores it): payouts to one
            # lawyer then take turns, and each checks the balance the one before it left.
            lawyer = await session.get(Employee, lawyer_id, with_for_update=True)
            if lawyer is None or lawyer.role is not Role.lawyer:
                raise InvalidInput(N_("Выплата возможна только юристу"))
            payout = Payout(
                lawyer_id=lawyer_id,
                amount_kopecks=kopecks,
                paid_on=self._today(),
                cashier_id=cashier_id,
                comment=note,
                created_at=self._now(),
            )
            session.add(payout)
            # Written first, checked after: on SQLite the insert takes the write lock, so the
            # same form sent twice at once waits here and then sees the first payout in the
            # balance (a balance read before the insert is outside any transaction).
            await session.flush()
            if await _balance(session, lawyer_id) < 0:
                await session.rollback()
                raise InvalidInput(N_("Сумма больше остатка начислений юриста"))
            await session.commit()
        return payout

    async def lawyer_finances(self, lawyer_id: int | None = None) -> list[LawyerFinances]:
        """Each lawyer (or one) with their class, accrued, paid out and the balance."""
        accrued = (
            select(Accrual.lawyer_id, sum_of(Accrual.amount_kopecks).label("total"))
            .group_by(Accrual.lawyer_id)
            .subquery()
        )
        paid = (
            select(Payout.lawyer_id, sum_of(Payout.amount_kopecks).label("total"))
            .group_by(Payout.lawyer_id)
            .subquery()
        )
        contracts = (
            select(Contract.lawyer_id, func.count().label("count"))
            .group_by(Contract.lawyer_id)
            .subquery()
        )
        statement = (
            select(Employee, LawyerClass, accrued.c.total, paid.c.total, contracts.c.count)
            .outerjoin(LawyerClass, LawyerClass.id == Employee.lawyer_class_id)
            .outerjoin(accrued, accrued.c.lawyer_id == Employee.id)
            .outerjoin(paid, paid.c.lawyer_id == Employee.id)
            .outerjoin(contracts, contracts.c.lawyer_id == Employee.id)
            .where(Employee.role == Role.lawyer)
            .order_by(Employee.full_name, Employee.id)
        )
        if lawyer_id is not None:
            statement = statement.where(Employee.id == lawyer_id)
        async with self._sessionmaker() as session:
            rows = (await session.execute(statement)).all()
        return [
            LawyerFinances(lawyer, cls, accrued or 0, paid or 0, count or 0)
            for lawyer, cls, accrued, paid, count in rows
        ]

    async def accruals_and_payouts(
        self, lawyer_id: int, *, limit: int = 200
    ) -> tuple[list[Accrual], list[Payout]]:
        async with self._sessionmaker() as session:
            accruals = list(
                await session.scalars(
                    select(Accrual)
                    .where(Accrual.lawyer_id == lawyer_id)
                    .order_by(Accrual.accrued_on.desc(), Accrual.id.desc())
                    .limit(limit)
                )
            )
            payouts = list(
                await session.scalars(
                    select(Payout)
                    .where(Payout.lawyer_id == lawyer_id)
                    .order_by(Payout.paid_on.desc(), Payout.id.desc())
                    .limit(limit)
                )
            )
        return accruals, payouts

    async def expenses_of(
        self, *, contract_id: int | None = None, client_id: int | None = None
    ) -> list[Expense]:
        """The expenses under one contract, or under any of one client's contracts."""
        statement = select(Expense).order_by(Expense.spent_on.desc(), Expense.id.desc())
        if contract_id is not None:
            statement = statement.where(Expense.contract_id == contract_id)
        if client_id is not None:
            statement = statement.join(Contract, Contract.id == Expense.contract_id).where(
                Contract.client_id == client_id
            )
        async with self._sessionmaker() as session:
            return list(await session.scalars(statement.limit(300)))

    async def cash_movements(
        self,
        *,
        day_from: date | None = None,
        day_to: date | None = None,
        employee_id: int | None = None,
        contract_id: int | None = None,
        client_id: int | None = None,
        limit: int = 300,
    ) -> CashMovements:
        """Income, expenses and payouts in a period (by the cashier or lawyer `employee_id`),
        with the totals and what remains in the cash desk overall."""
        income_q = (
            select(Payment, Contract, Client)
            .join(Contract, Contract.id == Payment.contract_id)
            .join(Client, Client.id == Contract.client_id)
            .order_by(Payment.received_on.desc(), Payment.id.desc())
        )
        expense_q = select(Expense).order_by(Expense.spent_on.desc(), Expense.id.desc())
        payout_q = (
            select(Payout, Employee)
            .join(Employee, Employee.id == Payout.lawyer_id)
            .order_by(Payout.paid_on.desc(), Payout.id.desc())
        )
        if day_from is not None:
            income_q = income_q.where(Payment.received_on >= day_from)
            expense_q = expense_q.where(Expense.spent_on >= day_from)
            payout_q = payout_q.where(Payout.paid_on >= day_from)
        if day_to is not None:
            income_q = income_q.where(Payment.received_on <= day_to)
            expense_q = expense_q.where(Expense.spent_on <= day_to)
            payout_q = payout_q.where(Payout.paid_on <= day_to)
        if employee_id is not None:
            income_q = income_q.where(
                (Payment.cashier_id == employee_id) | (Contract.lawyer_id == employee_id)
            )
            expense_q = expense_q.where(Expense.cashier_id == employee_id)
            payout_q = payout_q.where(
                (Payout.cashier_id == employee_id) | (Payout.lawyer_id == employee_id)
            )
        if contract_id is not None or client_id is not None:
            if contract_id is not None:
                income_q = income_q.where(Payment.contract_id == contract_id)
                expense_q = expense_q.where(Expense.contract_id == contract_id)
            if client_id is not None:
                income_q = income_q.where(Contract.client_id == client_id)
                expense_q = expense_q.join(Contract, Contract.id == Expense.contract_id).where(
                    Contract.client_id == client_id
                )
            payout_q = payout_q.where(Payout.id.is_(None))  # payouts are not per contract
        async with self._sessionmaker() as session:
            income_total = await session.scalar(
                income_q.with_only_columns(
                    func.coalesce(sum_of(Payment.amount_kopecks), 0), maintain_column_froms=True
                ).order_by(None)
            )
            expense_total = await session.scalar(
                expense_q.with_only_columns(
                    func.coalesce(sum_of(Expense.amount_kopecks), 0), maintain_column_froms=True
                ).order_by(None)
            )
            payout_total = await session.scalar(
                payout_q.with_only_columns(
                    func.coalesce(sum_of(Payout.amount_kopecks), 0), maintain_column_froms=True
                ).order_by(None)
            )
            income = [IncomeRow(*row) for row in (await session.execute(income_q.limit(limit)))]
            expenses = list(await session.scalars(expense_q.limit(limit)))
            payouts = [PayoutRow(*row) for row in (await session.execute(payout_q.limit(limit)))]
            cash_in = await session.scalar(select(func.coalesce(sum_of(Payment.amount_kopecks), 0)))
            cash_out = await session.scalar(
                select(func.coalesce(sum_of(Expense.amount_kopecks), 0))
            )
            paid_out = await session.scalar(select(func.coalesce(sum_of(Payout.amount_kopecks), 0)))
        return CashMovements(
            income=income,
            expenses=expenses,
            payouts=payouts,
            income_total=int(income_total or 0),
            expense_total=int(expense_total or 0),
            payout_total=int(payout_total or 0),
            cash_remaining=int(cash_in or 0) - int(cash_out or 0) - int(paid_out or 0),
        )

    async def plan_lines(
        self,
        *,
        day_from: date | None = None,
        day_to: date | None = None,
        lawyer_id: int | None = None,
        client_id: int | None = None,
        status: PlanStatus | None = None,
        limit: int = 300,
    ) -> list[PlanRow]:
        """The income plan across contracts: each line with its contract, client and status."""
        statement = (
            select(PlannedPayment, Contract, Client, Employee)
            .join(Contract, Contract.id == PlannedPayment.contract_id)
            .join(Client, Client.id == Contract.client_id)
            .join(Employee, Employee.id == Contract.lawyer_id)
            .order_by(PlannedPayment.due_on, PlannedPayment.id)
        )
        if day_from is not None:
            statement = statement.where(PlannedPayment.due_on >= day_from)
        if day_to is not None:
            statement = statement.where(PlannedPayment.due_on <= day_to)
        if lawyer_id is not None:
            statement = statement.where(Contract.lawyer_id == lawyer_id)
        if client_id is not None:
            statement = statement.where(Contract.client_id == client_id)
        async with self._sessionmaker() as session:
            rows = (await session.execute(statement.limit(limit * 3))).all()
            # A line's status depends on the contract's earlier lines and all its payments.
            statuses = await self._statuses_of(session, sorted({row[1].id for row in rows}))
        result = [
            PlanRow(planned, contract, client, lawyer, statuses[planned.id])
            for planned, contract, client, lawyer in rows
        ]
        if status is not None:
            result = [row for row in result if row.status is status]
        return result[:limit]


async def paid_plan_lines(session: AsyncSession, contract_ids: Collection[int]) -> set[int]:
    """The ids of these contracts' planned payments already paid, by the income plan's rule
    (see _line_status): payments settle lines in due order, and a line is paid once
    everything received covers it and every earlier line."""
    paid: set[int] = set()
    ids = sorted(contract_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        received: dict[int, int] = {
            contract_id: int(total)
            for contract_id, total in await session.execute(
                select(Payment.contract_id, sum_of(Payment.amount_kopecks))
                .where(Payment.contract_id.in_(chunk))
                .group_by(Payment.contract_id)
            )
        }
        planned_so_far: dict[int, int] = defaultdict(int)
        for planned in await session.scalars(
            select(PlannedPayment)
            .where(PlannedPayment.contract_id.in_(chunk))
            .order_by(PlannedPayment.contract_id, PlannedPayment.due_on, PlannedPayment.id)
        ):
            planned_so_far[planned.contract_id] += planned.amount_kopecks
            if received.get(planned.contract_id, 0) >= planned_so_far[planned.contract_id]:
                paid.add(planned.id)
    return paid


def _line_status(cumulative: int, received: int, due_on: date, today: date) -> PlanStatus:
    """A planned line is paid once everything received covers it and every line due before
    it (`cumulative`); otherwise overdue once its day has passed, or upcoming."""
    if received >= cumulative:
        return PlanStatus.paid
    if due_on < today:
        return PlanStatus.overdue
    return PlanStatus.upcoming


@dataclass(frozen=True)
class LawyerFinances:
    lawyer: Employee
    lawyer_class: LawyerClass | None
    accrued_kopecks: int
    paid_out_kopecks: int
    contracts: int

    @property
    def balance_kopecks(self) -> int:
        return self.accrued_kopecks - self.paid_out_kopecks


@dataclass(frozen=True)
class IncomeRow:
    payment: Payment
    contract: Contract
    client: Client


@dataclass(frozen=True)
class PayoutRow:
    payout: Payout
    lawyer: Employee


@dataclass(frozen=True)
class PlanRow:
    planned: PlannedPayment
    contract: Contract
    client: Client
    lawyer: Employee
    status: PlanStatus


@dataclass(frozen=True)
class CashMovements:
    income: list[IncomeRow]
    expenses: list[Expense]
    payouts: list[PayoutRow]
    income_total: int
    expense_total: int
    payout_total: int
    cash_remaining: int  # all time: received − expenses − payouts


async def _balance(session: AsyncSession, lawyer_id: int) -> int:
    accrued = await session.scalar(
        select(func.coalesce(sum_of(Accrual.amount_kopecks), 0)).where(
            Accrual.lawyer_id == lawyer_id
        )
    )
    paid = await session.scalar(
        select(func.coalesce(sum_of(Payout.amount_kopecks), 0)).where(Payout.lawyer_id == lawyer_id)
    )
    return int(accrued or 0) - int(paid or 0)
