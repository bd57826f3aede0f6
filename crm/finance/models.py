"""Tables of money: the income plan, payments received, expenses, accruals and payouts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.clock import utc_now
from crm.core.tables import Base


class PlannedPayment(Base):
    """The income plan: a payment a lawyer expects from the client under a contract."""

    __tablename__ = "planned_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Payment(Base):
    """Money the cashier received from a client under a contract."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[date] = mapped_column(Date, index=True)
    cashier_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Expense(Base):
    """Money the firm paid out: how much, to whom, for what (under a contract or not)."""

    __tablename__ = "expenses"

    id: Mapped[int] = mapped_column(primary_key=True)
    spent_on: Mapped[date] = mapped_column(Date, index=True)
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    payee: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(500))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    cashier_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Accrual(Base):
    """A lawyer's share of one client payment, fixed when the payment is received."""

    __tablename__ = "accruals"

    id: Mapped[int] = mapped_column(primary_key=True)
    lawyer_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), unique=True)
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    # The class rate at the time: a later change of class does not rewrite past accruals.
    basis_points: Mapped[int] = mapped_column()
    accrued_on: Mapped[date] = mapped_column(Date, index=True)


class Payout(Base):
    """Money the cashier paid a lawyer against their accruals."""

    __tablename__ = "payouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    lawyer_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date, index=True)
    cashier_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    comment: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
