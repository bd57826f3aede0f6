"""Tables of the firm's staff: employees with their job, head and desk phone; lawyer classes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.clock import utc_now
from crm.core.roles import Role
from crm.core.tables import Base, string_enum


class Employee(Base):
    __tablename__ = "employees"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(string_enum(Role))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The employee's SIP phone, e.g. "1001"; NULL for those without a phone.
    sip_extension: Mapped[str | None] = mapped_column(String(16), unique=True)
    # Lawyers only: the class decides the share of client payments accrued to them.
    lawyer_class_id: Mapped[int | None] = mapped_column(ForeignKey("lawyer_classes.id"))
    # The employee's head (a lawyer's head of department): where unanswered reminders go.
    head_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    def __repr__(self) -> str:
        return f"Employee(id={self.id!r}, login={self.login!r}, role={self.role!r})"


class LawyerClass(Base):
    """A lawyer's class: the share of each client payment accrued to the contract's lawyer."""

    __tablename__ = "lawyer_classes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    # Hundredths of a percent: 2500 is 25 %; integers so that accruals add up exactly.
    accrual_basis_points: Mapped[int] = mapped_column()
