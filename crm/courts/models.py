"""Table of court hearings under contracts, with the representative and the result."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.clock import utc_now
from crm.core.tables import Base


class Hearing(Base):
    """A court hearing under a contract, attended by a court representative."""

    __tablename__ = "hearings"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    court: Mapped[str] = mapped_column(String(200))
    case_number: Mapped[str] = mapped_column(String(64), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    representative_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    result: Mapped[str | None] = mapped_column(Text)
    result_recorded_at: Mapped[datetime | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
