"""Court hearings: scheduled by representatives under contracts, with the result afterwards."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from crm.clients.models import Client
from crm.contracts.models import Contract
from crm.core.errors import N_, InvalidInput
from crm.core.firm_calendar import firm_day_bounds
from crm.core.inputs import multiline_text, required_text
from crm.core.roles import Role
from crm.core.service import Service
from crm.courts.errors import NoSuchHearing
from crm.courts.models import Hearing
from crm.staff.models import Employee

_CASE_NUMBER = re.compile(r"^[0-9A-Za-zА-Яа-яЁё/_.:()№ -]{1,64}$")


@dataclass(frozen=True)
class HearingRow:
    hearing: Hearing
    contract: Contract
    client: Client
    representative: Employee


class CourtService(Service):
    async def schedule(
        self,
        contract_id: int,
        *,
        court: str,
        case_number: str,
        starts_at: datetime,
        representative_id: int,
        by_employee_id: int,
    ) -> Hearing:
        court = required_text(court, N_("Суд"), 200)
        case_number = " ".join(case_number.split())
        if not _CASE_NUMBER.fullmatch(case_number):
            raise InvalidInput(N_("Номер дела: до 64 символов — буквы, цифры, / - _ . : № ( )"))
        now = self._now()
        if not now - timedelta(days=366) <= starts_at <= now + timedelta(days=2 * 366):
            raise InvalidInput(
                N_("Дата заседания: не раньше года назад и не позже двух лет вперёд")
            )
        async with self._sessionmaker() as session:
            if await session.get(Contract, contract_id) is None:
                raise InvalidInput(N_("Договор не найден"))
            representative = await session.get(Employee, representative_id)
            if (
                representative is None
                or representative.role is not Role.court_representative
                or not representative.is_active
            ):
                raise InvalidInput(N_("Выбранный сотрудник не защитник в суде"))
            hearing = Hearing(
                contract_id=contract_id,
                court=court,
                case_number=case_number,
                starts_at=starts_at,
                representative_id=representative_id,
                created_by_id=by_employee_id,
                created_at=now,
            )
            session.add(hearing)
            await session.commit()
        return hearing

    async def record_result(self, hearing_id: int, result: str) -> Hearing:
        text = multiline_text(result, N_("Результат"), 5000)
        async with self._sessionmaker() as session:
            hearing = await session.get(Hearing, hearing_id)
            if hearing is None:
                raise NoSuchHearing()
            if hearing.starts_at > self._now():
                raise InvalidInput(N_("Результат записывают после заседания"))
            hearing.result = text
            hearing.result_recorded_at = self._now()
            await session.commit()
        return hearing

    async def get(self, hearing_id: int) -> Hearing | None:
        async with self._sessionmaker() as session:
            return await session.get(Hearing, hearing_id)

    async def represents(self, representative_id: int, client_id: int) -> bool:
        """Does this representative have a hearing in any of the client's contracts?"""
        async with self._sessionmaker() as session:
            found = await session.scalar(
                select(
                    exists().where(
                        Hearing.representative_id == representative_id,
                        Hearing.contract_id == Contract.id,
                        Contract.client_id == client_id,
                    )
                )
            )
        return bool(found)

    async def hearings(
        self,
        *,
        day_from: date | None = None,
        day_to: date | None = None,
        representative_id: int | None = None,
        lawyer_id: int | None = None,
        client_id: int | None = None,
        contract_id: int | None = None,
        limit: int = 300,
    ) -> list[HearingRow]:
        """Hearings by the firm's calendar days (inclusive), in date order."""
        representative = aliased(Employee)
        statement = (
            select(Hearing, Contract, Client, representative)
            .join(Contract, Contract.id == Hearing.contract_id)
            .join(Client, Client.id == Contract.client_id)
            .join(representative, representative.id == Hearing.representative_id)
            .order_by(Hearing.starts_at, Hearing.id)
            .limit(limit)
        )
        if day_from is not None:
            statement = statement.where(Hearing.starts_at >= firm_day_bounds(day_from)[0])
        if day_to is not None:
            statement = statement.where(Hearing.starts_at < firm_day_bounds(day_to)[1])
        if representative_id is not None:
            statement = statement.where(Hearing.representative_id == representative_id)
        if lawyer_id is not None:
            statement = statement.where(Contract.lawyer_id == lawyer_id)
        if client_id is not None:
            statement = statement.where(Contract.client_id == client_id)
        if contract_id is not None:
            statement = statement.where(Hearing.contract_id == contract_id)
        async with self._sessionmaker() as session:
            rows = (await session.execute(statement)).all()
        return [HearingRow(*row) for row in rows]
