"""The income plan and payments: what lawyers expect, what the cashier received, what is overdue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.errors import InvalidInput
from crm.formatting import parse_money
from crm.models import Contract, Payment, PlannedPayment, utc_now

Clock = Callable[[], datetime]
PLAN_HORIZON = timedelta(days=3 * 366)  # a due date further away is a typing error


class PlanStatus(StrEnum):
    paid = "paid"
    overdue = "overdue"
    upcoming = "upcoming"


@dataclass(frozen=True)
class PlanLine:
    planned: PlannedPayment
    status: PlanStatus


class NoSuchContract(InvalidInput):
    error_id = "no-such-contract"
    http_status = 404


class FinanceService:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, now: Clock = utc_now
    ) -> None:
        self._sessionmaker = sessionmaker
        self._now = now

    async def plan_payment(
        self, contract_id: int, *, due_on: date, amount: str, by_employee_id: int
    ) -> PlannedPayment:
        """Add an expected payment to a contract's income plan."""
        kopecks = _money(amount)
        today = self._now().date()
        if not today - timedelta(days=31) <= due_on <= today + PLAN_HORIZON:
            raise InvalidInput("Дата платежа: не раньше месяца назад и не позже трёх лет вперёд")
        async with self._sessionmaker() as session:
            if await session.get(Contract, contract_id) is None:
                raise NoSuchContract("Договор не найден")
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
        kopecks = _money(amount)
        async with self._sessionmaker() as session:
            if await session.get(Contract, contract_id) is None:
                raise NoSuchContract("Договор не найден")
            payment = Payment(
                contract_id=contract_id,
                amount_kopecks=kopecks,
                received_on=received_on or self._now().date(),
                cashier_id=cashier_id,
                created_at=self._now(),
            )
            session.add(payment)
            await session.commit()
        return payment

    async def plan_of(self, contract_id: int) -> tuple[list[PlanLine], list[Payment]]:
        """The contract's plan, each line paid, overdue or upcoming, and its payments.

        Payments settle planned lines in due order: a line is paid once everything
        received covers it and every earlier line.
        """
        async with self._sessionmaker() as session:
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
        today = self._now().date()
        lines, cumulative = [], 0
        for item in planned:
            cumulative += item.amount_kopecks
            if received >= cumulative:
                status = PlanStatus.paid
            elif item.due_on < today:
                status = PlanStatus.overdue
            else:
                status = PlanStatus.upcoming
            lines.append(PlanLine(item, status))
        return lines, payments


def _money(amount: str) -> int:
    try:
        return parse_money(amount)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
