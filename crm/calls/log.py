"""The call log: inbound call-centre calls and outgoing calls, with filters and comments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from crm.calls.errors import NoSuchCall
from crm.calls.events import CallDirection
from crm.calls.models import Call
from crm.clients.models import Client
from crm.core.errors import N_
from crm.core.firm_calendar import firm_day_bounds
from crm.core.inputs import multiline_text
from crm.core.service import Service
from crm.staff.models import Employee
from crm.visits.models import Visit


@dataclass(frozen=True)
class CallRow:
    """A call as the lists show it; `came_at` is when its client last came to the office."""

    call: Call
    client: Client | None
    employee: Employee | None
    came_at: datetime | None

    @property
    def talk_seconds(self) -> int | None:
        if self.call.answered_at is None or self.call.ended_at is None:
            return None
        return max(0, int((self.call.ended_at - self.call.answered_at).total_seconds()))


class CallLogService(Service):
    async def calls(
        self,
        *,
        direction: CallDirection | None = None,
        day_from: date | None = None,
        day_to: date | None = None,
        employee_id: int | None = None,
        client_id: int | None = None,
        client_lawyer_id: int | None = None,
        limit: int = 300,
    ) -> list[CallRow]:
        """Calls by the firm's calendar days (inclusive), newest first."""
        came = (
            select(Visit.client_id, func.max(Visit.checked_in_at).label("came_at"))
            .where(Visit.checked_in_at.is_not(None))
            .group_by(Visit.client_id)
            .subquery()
        )
        statement = (
            select(Call, Client, Employee, came.c.came_at)
            .outerjoin(Client, Client.id == Call.client_id)
            .outerjoin(Employee, Employee.id == Call.employee_id)
            .outerjoin(came, came.c.client_id == Call.client_id)
            .order_by(Call.started_at.desc(), Call.id.desc())
            .limit(limit)
        )
        if direction is not None:
            statement = statement.where(Call.direction == direction)
        if day_from is not None:
            statement = statement.where(Call.started_at >= firm_day_bounds(day_from)[0])
        if day_to is not None:
            statement = statement.where(Call.started_at < firm_day_bounds(day_to)[1])
        if employee_id is not None:
            statement = statement.where(Call.employee_id == employee_id)
        if client_id is not None:
            statement = statement.where(Call.client_id == client_id)
        if client_lawyer_id is not None:
            statement = statement.where(Client.lawyer_id == client_lawyer_id)
        async with self._sessionmaker() as session:
            rows = (await session.execute(statement)).all()
        return [
            CallRow(call, client, employee, came_at) for call, client, employee, came_at in rows
        ]

    async def get(self, call_id: int) -> Call | None:
        async with self._sessionmaker() as session:
            return await session.get(Call, call_id)

    async def set_comment(self, call_id: int, text: str) -> Call:
        """The employee's comment on the call (what was agreed), replacing an earlier one."""
        comment = multiline_text(text, N_("Комментарий к звонку"), 2000)
        async with self._sessionmaker() as session:
            call = await session.get(Call, call_id)
            if call is None:
                raise NoSuchCall()
            call.comment = comment
            await session.commit()
        return call
