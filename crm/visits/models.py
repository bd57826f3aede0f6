"""Table of office visits: booked, checked in, closed with an outcome."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.clock import utc_now
from crm.core.tables import Base, string_enum


class VisitOutcome(StrEnum):
    booked = "booked"  # an operator booked it; the client has not come yet
    arrived = "arrived"  # reception checked the client in; the talk is going on
    contract = "contract"  # the visit ended with a contract
    no_contract = "no_contract"
    no_show = "no_show"


class Visit(Base):
    """A client's visit to the office: booked by an operator, checked in by reception."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    lawyer_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    # The call during which it was booked: outgoing-call lists show the visit it led to.
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    scheduled_at: Mapped[datetime] = mapped_column(index=True)
    checked_in_at: Mapped[datetime | None]
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    outcome: Mapped[VisitOutcome] = mapped_column(
        string_enum(VisitOutcome), default=VisitOutcome.booked
    )
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
