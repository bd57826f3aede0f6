"""Table of reminders to call clients, with their occasion, window and outcome."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.clock import utc_now
from crm.core.tables import Base, string_enum


class ReminderKind(StrEnum):
    cadence = "cadence"  # the client was not called for a whole period
    manual = "manual"  # set by a person on a client or contract
    payment = "payment"  # a planned payment falls due
    briefing = "briefing"  # the representative calls the client before a hearing
    debrief = "debrief"  # ... and after it
    retry = "retry"  # the client did not answer last time


class ReminderStatus(StrEnum):
    open = "open"
    done = "done"  # a real call settled it
    escalated = "escalated"  # the client did not answer through the whole ladder
    cancelled = "cancelled"  # nothing left to call about (contract closed)


class Reminder(Base):
    """A call an employee must make; it blocks their workspace until a real call settles it."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    kind: Mapped[ReminderKind] = mapped_column(string_enum(ReminderKind))
    reason: Mapped[str] = mapped_column(String(500))
    due_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[ReminderStatus] = mapped_column(
        string_enum(ReminderStatus), default=ReminderStatus.open, index=True
    )
    # One generated reminder per occasion (e.g. "payment:17"): the generator can run again
    # and again without doubling anything.
    occasion: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Which try of the no-answer ladder this is (0: the first).
    attempt: Mapped[int] = mapped_column(default=0, server_default="0")
    # When the employee's browser first showed it: only a call after that settles it.
    shown_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
