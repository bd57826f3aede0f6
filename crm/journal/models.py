"""Table of the employee-activity journal: who did or was refused what, and when."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.clock import utc_now
from crm.core.tables import Base, string_enum


class JournalOutcome(StrEnum):
    allowed = "allowed"
    denied = "denied"


class JournalEntry(Base):
    """The employee-activity journal: who looked at, exported or was refused what, when."""

    __tablename__ = "journal"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[JournalOutcome] = mapped_column(string_enum(JournalOutcome))
    detail: Mapped[str | None] = mapped_column(String(500))
