"""Table of web sessions: server-side, one row per login, ended on logout or idleness."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.clock import utc_now
from crm.core.tables import Base


class WebSession(Base):
    __tablename__ = "web_sessions"

    # sha256 hex of the session token: a stolen database does not yield live sessions.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(default=utc_now)
    ended_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"WebSession(employee_id={self.employee_id!r}, ended_at={self.ended_at!r})"
