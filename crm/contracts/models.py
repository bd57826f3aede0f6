"""Table of contracts: concluded by a lawyer with a client, with a sum and a status."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.clock import utc_now
from crm.core.tables import Base, string_enum


class ContractStatus(StrEnum):
    draft = "draft"
    active = "active"
    completed = "completed"
    terminated = "terminated"


class ContractKind(StrEnum):
    primary = "primary"
    secondary = "secondary"


class Contract(Base):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(50), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    lawyer_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    # Kopecks, never floats: sums must add up to the kopeck.
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    essence: Mapped[str] = mapped_column(Text)
    status: Mapped[ContractStatus] = mapped_column(
        string_enum(ContractStatus), default=ContractStatus.draft
    )
    kind: Mapped[ContractKind] = mapped_column(string_enum(ContractKind))
    signed_on: Mapped[date | None] = mapped_column(Date, index=True)
    # How often the lawyer must call the client under this contract; NULL: the firm's rule.
    call_period_days: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    def __repr__(self) -> str:
        return f"Contract(id={self.id!r}, number={self.number!r})"
