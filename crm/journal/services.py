"""The employee-activity journal: every card view, export and refused access, written at once."""

from __future__ import annotations

from sqlalchemy import select

from crm.core.service import Service
from crm.journal.models import JournalEntry, JournalOutcome


class JournalService(Service):
    """Appends to the journal in its own transaction, so a failed request still leaves a trace."""

    async def record(
        self,
        employee_id: int | None,
        action: str,
        *,
        object_type: str | None = None,
        object_id: str | int | None = None,
        allowed: bool = True,
        detail: str | None = None,
    ) -> None:
        async with self._sessionmaker() as session:
            session.add(
                JournalEntry(
                    at=self._now(),
                    employee_id=employee_id,
                    action=action,
                    object_type=object_type,
                    object_id=None if object_id is None else str(object_id),
                    outcome=JournalOutcome.allowed if allowed else JournalOutcome.denied,
                    detail=detail[:500] if detail else None,
                )
            )
            await session.commit()

    async def entries(
        self, *, employee_id: int | None = None, limit: int = 200
    ) -> list[JournalEntry]:
        async with self._sessionmaker() as session:
            query = select(JournalEntry).order_by(JournalEntry.id.desc()).limit(limit)
            if employee_id is not None:
                query = query.where(JournalEntry.employee_id == employee_id)
            return list(await session.scalars(query))
