"""Office visits: operators book them, reception checks clients in, lawyers record outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from crm.calls.models import Call
from crm.clients.errors import NoSuchClient
from crm.clients.models import Client, ClientStatus
from crm.core.errors import N_, InvalidInput
from crm.core.firm_calendar import firm_day_bounds
from crm.core.inputs import optional_text
from crm.core.roles import Role
from crm.core.service import Service
from crm.staff.models import Employee
from crm.visits.errors import NoSuchVisit
from crm.visits.models import Visit, VisitOutcome

BOOKING_HORIZON = timedelta(days=120)  # a visit further away is a typing error
# Outcomes a visit can end with once the client came (or did not).
CLOSING_OUTCOMES = (VisitOutcome.contract, VisitOutcome.no_contract, VisitOutcome.no_show)


@dataclass(frozen=True)
class VisitRow:
    """A visit as lists show it: with the client, the lawyer and who booked it."""

    visit: Visit
    client: Client
    lawyer: Employee | None
    booked_by: Employee | None


class VisitService(Service):
    async def book(
        self,
        client_id: int,
        *,
        booked_by_id: int,
        scheduled_at: datetime,
        lawyer_id: int | None = None,
        comment: str = "",
        call_id: int | None = None,
    ) -> Visit:
        """Book a visit; the time must be ahead (within a working quarter of a year)."""
        now = self._now()
        if scheduled_at < now - timedelta(minutes=30):
            raise InvalidInput(N_("Время визита уже прошло"))
        if scheduled_at > now + BOOKING_HORIZON:
            raise InvalidInput(N_("Визит можно записать не дальше чем на 120 дней вперёд"))
        text = optional_text(comment, N_("Комментарий"), 2000)
        async with self._sessionmaker() as session:
            if await session.get(Client, client_id) is None:
                raise NoSuchClient()
            if lawyer_id is not None:
                await _lawyer(session, lawyer_id)
            if call_id is not None:
                # The id comes from the form: a stale or forged one would otherwise fail on
                # the foreign key as a server error.
                call = await session.get(Call, call_id)
                if call is None or call.client_id not in (None, client_id):
                    raise InvalidInput(N_("Звонок не найден"))
            visit = Visit(
                client_id=client_id,
                booked_by_id=booked_by_id,
                lawyer_id=lawyer_id,
                call_id=call_id,
                scheduled_at=scheduled_at,
                outcome=VisitOutcome.booked,
                comment=text,
                created_at=now,
            )
            session.add(visit)
            await session.commit()
        return visit

    async def check_in(
        self, visit_id: int, *, reception_id: int, lawyer_id: int | None = None
    ) -> Visit:
        """The client came: mark the visit, hand the client to a lawyer if they have none."""
        async with self._sessionmaker() as session:
            visit = await session.get(Visit, visit_id)
            if visit is None:
                raise NoSuchVisit()
            if visit.outcome is not VisitOutcome.booked:
                raise InvalidInput(N_("Клиент по этой записи уже отмечен"))
            if lawyer_id is not None:
                await _lawyer(session, lawyer_id)
                visit.lawyer_id = lawyer_id
            client = await session.get(Client, visit.client_id)
            assert client is not None  # a foreign key
            visit.outcome = VisitOutcome.arrived
            visit.checked_in_at = self._now()
            visit.checked_in_by_id = reception_id
            _client_came(client, visit.lawyer_id)
            await session.commit()
        return visit

    async def walk_in(self, client_id: int, *, reception_id: int, lawyer_id: int) -> Visit:
        """A client who came without booking: a visit that starts checked in."""
        now = self._now()
        async with self._sessionmaker() as session:
            client = await session.get(Client, client_id)
            if client is None:
                raise NoSuchClient()
            await _lawyer(session, lawyer_id)
            # A second press of the button must not count the client as having come twice.
            if await session.scalar(
                select(Visit.id)
                .where(Visit.client_id == client_id, Visit.outcome == VisitOutcome.arrived)
                .limit(1)
            ):
                raise InvalidInput(N_("Клиент уже в офисе: его визит ещё не закрыт"))
            visit = Visit(
                client_id=client_id,
                lawyer_id=lawyer_id,
                scheduled_at=now,
                checked_in_at=now,
                checked_in_by_id=reception_id,
                outcome=VisitOutcome.arrived,
                created_at=now,
            )
            session.add(visit)
            _client_came(client, lawyer_id)
            await session.commit()
        return visit

    async def close(self, visit_id: int, outcome: VisitOutcome) -> Visit:
        """How the visit ended: a contract, no contract, or the client did not come."""
        if outcome not in CLOSING_OUTCOMES:
            raise InvalidInput(N_("Неверный итог визита"))
        async with self._sessionmaker() as session:
            visit = await session.get(Visit, visit_id)
            if visit is None:
                raise NoSuchVisit()
            if visit.outcome in CLOSING_OUTCOMES:
                raise InvalidInput(N_("Итог визита уже записан"))
            if outcome is VisitOutcome.no_show and visit.outcome is VisitOutcome.arrived:
                raise InvalidInput(N_("Клиент уже отмечен как пришедший"))
            if outcome is not VisitOutcome.no_show and visit.outcome is VisitOutcome.booked:
                # The client would count as having come while still a lead who never came.
                raise InvalidInput(N_("Сначала отметьте приход клиента на ресепшене"))
            visit.outcome = outcome
            await session.commit()
        return visit

    async def get(self, visit_id: int) -> Visit | None:
        async with self._sessionmaker() as session:
            return await session.get(Visit, visit_id)

    async def visits(
        self,
        *,
        day_from: date | None = None,
        day_to: date | None = None,
        lawyer_id: int | None = None,
        booked_by_id: int | None = None,
        client_id: int | None = None,
        employee_id: int | None = None,
        limit: int = 300,
    ) -> list[VisitRow]:
        """Visits by the firm's calendar days (inclusive), newest first unless one day."""
        lawyer, booker = aliased(Employee), aliased(Employee)
        statement = (
            select(Visit, Client, lawyer, booker)
            .join(Client, Client.id == Visit.client_id)
            .outerjoin(lawyer, lawyer.id == Visit.lawyer_id)
            .outerjoin(booker, booker.id == Visit.booked_by_id)
            .limit(limit)
        )
        if day_from is not None:
            statement = statement.where(Visit.scheduled_at >= firm_day_bounds(day_from)[0])
        if day_to is not None:
            statement = statement.where(Visit.scheduled_at < firm_day_bounds(day_to)[1])
        one_day = day_from is not None and day_from == day_to
        statement = statement.order_by(
            Visit.scheduled_at if one_day else Visit.scheduled_at.desc(), Visit.id
        )
        if lawyer_id is not None:
            statement = statement.where(Visit.lawyer_id == lawyer_id)
        if booked_by_id is not None:
            statement = statement.where(Visit.booked_by_id == booked_by_id)
        if client_id is not None:
            statement = statement.where(Visit.client_id == client_id)
        if employee_id is not None:
            # "Everything by one employee": the visits they booked, held or checked in.
            statement = statement.where(
                (Visit.lawyer_id == employee_id)
                | (Visit.booked_by_id == employee_id)
                | (Visit.checked_in_by_id == employee_id)
            )
        async with self._sessionmaker() as session:
            rows = (await session.execute(statement)).all()
        return [VisitRow(visit, client, law, book) for visit, client, law, book in rows]


async def _lawyer(session: AsyncSession, lawyer_id: int) -> Employee:
    lawyer = await session.get(Employee, lawyer_id)
    if lawyer is None or lawyer.role is not Role.lawyer or not lawyer.is_active:
        raise InvalidInput(N_("Выбранный сотрудник не юрист"))
    return lawyer


def _client_came(client: Client, lawyer_id: int | None) -> None:
    if client.status is ClientStatus.lead:
        client.status = ClientStatus.visited
    if client.lawyer_id is None and lawyer_id is not None:
        client.lawyer_id = lawyer_id
