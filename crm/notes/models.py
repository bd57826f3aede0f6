"""Table of notes in a client's communication history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.clock import utc_now
from crm.core.tables import Base


class Note(Base):
    """A note in a client's communication history (on the client or one of their contracts)."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
