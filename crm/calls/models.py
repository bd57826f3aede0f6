"""Tables of calls: one row per call, callbacks of missed calls, click-to-call requests."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false

from crm.calls.events import CallDirection
from crm.clients.models import new_phone_id
from crm.core.clock import utc_now
from crm.core.tables import Base, string_enum


class Call(Base):
    __tablename__ = "calls"
    # Statistics read a period's calls by day, direction and employee: with every column
    # they need in the index, SQLite never visits the table (a year at 60,000 clients:
    # 208 ms → 107 ms).
    __table_args__ = (
        Index("ix_calls_period_figures", "started_at", "direction", "employee_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Asterisk's linkedid: shared by every channel of one call, so it identifies the call.
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[CallDirection] = mapped_column(string_enum(CallDirection))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    queue: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(index=True)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # On a call the firm placed, when the client's phone began to ring: an unanswered
    # call counts for a reminder by how long the client's phone rang, not the employee's.
    client_ringing_at: Mapped[datetime | None]
    disposition: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    # True when the record was rebuilt from Asterisk's CDRs after the controller was away.
    reconciled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    def __repr__(self) -> str:
        return f"Call(id={self.id!r}, linkedid={self.linkedid!r})"


class CallbackStatus(StrEnum):
    open = "open"
    done = "done"


class CallbackTask(Base):
    """A missed inbound call the call centre must return; nothing missed is ever lost."""

    __tablename__ = "callback_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    due_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[CallbackStatus] = mapped_column(
        string_enum(CallbackStatus), default=CallbackStatus.open
    )
    done_at: Mapped[datetime | None]


class ClickToCallStatus(StrEnum):
    pending = "pending"  # asked for, not yet sent to Asterisk
    sending = "sending"  # being sent: after a crash, check Asterisk before sending again
    originated = "originated"
    failed = "failed"


class ClickToCallRequest(Base):
    """A "Call" click: kept so that a restart neither loses it nor dials the client twice."""

    __tablename__ = "click_to_call_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_phone_id)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    status: Mapped[ClickToCallStatus] = mapped_column(
        string_enum(ClickToCallStatus), default=ClickToCallStatus.pending
    )
    detail: Mapped[str | None] = mapped_column(String(200))

    @property
    def channel_id(self) -> str:
        """The id Asterisk gives the employee's channel: the same on every retry."""
        return f"c2c-{self.id}"  # crm.calls.services.CLICK_TO_CALL_PREFIX
