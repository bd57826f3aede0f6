"""Tables of clients and their phone numbers, which are kept only encrypted."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.clock import utc_now
from crm.core.tables import Base, string_enum


def new_phone_id() -> str:
    """A fresh client_phones id; made in Python because the ciphertext is bound to it."""
    return uuid.uuid4().hex


class ClientStatus(StrEnum):
    lead = "lead"
    visited = "visited"
    contracted = "contracted"
    former = "former"


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # "Фамилия И. О.": what Asterisk shows as the caller's name.
    short_name: Mapped[str] = mapped_column(String(100))
    # crm.core.formatting.search_key(full_name): what name search compares (case and ё folded).
    name_key: Mapped[str] = mapped_column(String(200), index=True, server_default="")
    first_contact_on: Mapped[date] = mapped_column(Date, index=True)
    topic: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[ClientStatus] = mapped_column(
        string_enum(ClientStatus), default=ClientStatus.lead
    )
    lawyer_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    @property
    def code(self) -> str:
        """The masked identity Asterisk shows instead of the client's number, e.g. "c1234"."""
        return f"c{self.id}"

    def __repr__(self) -> str:
        return f"Client(id={self.id!r})"


class ClientPhone(Base):
    """A client's phone number, encrypted; there is deliberately no plaintext column."""

    __tablename__ = "client_phones"

    # Generated in Python before the insert: the ciphertext's associated data includes it.
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_phone_id)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    number_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # HMAC of the E.164 number. Not unique: relatives and colleagues share numbers.
    number_index: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    def __repr__(self) -> str:
        return f"ClientPhone(id={self.id!r}, client_id={self.client_id!r})"
