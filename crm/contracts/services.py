"""Contracts: concluded by lawyers, found by any part of the number, listed by period and lawyer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.clients.errors import NoSuchClient
from crm.clients.models import Client, ClientStatus
from crm.contracts.errors import ContractNumberTaken
from crm.contracts.models import Contract, ContractKind, ContractStatus
from crm.core.errors import N_, InvalidInput
from crm.core.formatting import FIRM_TIMEZONE, parse_money, search_key
from crm.core.service import Service
from crm.courts.models import Hearing
from crm.staff.models import Employee
from crm.visits.models import Visit, VisitOutcome

_NUMBER = re.compile(r"^[0-9A-Za-zА-Яа-яЁё/_.-]{1,50}$")


@dataclass(frozen=True)
class ContractRow:
    """A contract as a list shows it: with its client's and lawyer's names."""

    contract: Contract
    client: Client
    lawyer: Employee


class ContractService(Service):
    async def add_contract(
        self,
        *,
        client_id: int,
        lawyer_id: int,
        number: str,
        amount: str,
        essence: str,
        signed_on: date | None = None,
    ) -> Contract:
        """Validate everything first, then write once: a bad field changes nothing.

        The kind is derived: the client's first contract is primary, later ones secondary
        (the repeat contracts the firm wants to see counted).
        """
        number = number.strip()
        if not _NUMBER.fullmatch(number):
            raise InvalidInput(N_("Номер договора: 1–50 символов — буквы, цифры, / - _ ."))
        amount_kopecks = parse_money(amount)
        essence = " ".join(essence.split())
        if not essence:
            raise InvalidInput(N_("Суть договора не заполнена"))
        if len(essence) > 5000:
            raise InvalidInput(N_("Суть договора длиннее 5000 символов"))
        async with self._sessionmaker() as session:
            client = await session.get(Client, client_id)
            if client is None:
                raise NoSuchClient()
            earlier = await session.scalar(
                select(func.count()).select_from(Contract).where(Contract.client_id == client_id)
            )
            # The visit the client is on (if any) ended with this contract.
            visit = await session.scalar(
                select(Visit)
                .where(Visit.client_id == client_id, Visit.outcome == VisitOutcome.arrived)
                .order_by(Visit.checked_in_at.desc(), Visit.id.desc())
                .limit(1)
            )
            contract = Contract(
                number=number,
                client_id=client_id,
                lawyer_id=lawyer_id,
                amount_kopecks=amount_kopecks,
                essence=essence,
                status=ContractStatus.active,
                kind=ContractKind.secondary if earlier else ContractKind.primary,
                signed_on=signed_on or self._now().astimezone(FIRM_TIMEZONE).date(),
                created_at=self._now(),
            )
            session.add(contract)
            client.status = ClientStatus.contracted
            if visit is not None:
                visit.outcome = VisitOutcome.contract
            try:
                await session.commit()
            except IntegrityError:
                raise ContractNumberTaken(
                    N_("Договор № %(number)s уже есть"), number=number
                ) from None
        return contract

    async def set_status(self, contract_id: int, status: ContractStatus) -> Contract:
        """Complete or terminate a contract (or reopen one); a terminated client's status
        becomes former once none of their contracts is active."""
        async with self._sessionmaker() as session:
            contract = await session.get(Contract, contract_id)
            if contract is None:
                raise InvalidInput(N_("Договор не найден"))
            contract.status = status
            await session.flush()
            active = await session.scalar(
                select(func.count())
                .select_from(Contract)
                .where(
                    Contract.client_id == contract.client_id,
                    Contract.status == ContractStatus.active,
                )
            )
            client = await session.get(Client, contract.client_id)
            assert client is not None  # a foreign key
            client.status = ClientStatus.contracted if active else ClientStatus.former
            await session.commit()
        return contract

    async def set_call_period(self, contract_id: int, days: str) -> Contract:
        """How often the lawyer must call the client under this contract; empty: the rule."""
        text = days.strip()
        if text and (not text.isdigit() or not 1 <= int(text) <= 365):
            raise InvalidInput(N_("Период звонков: число дней от 1 до 365 или пусто"))
        async with self._sessionmaker() as session:
            contract = await session.get(Contract, contract_id)
            if contract is None:
                raise InvalidInput(N_("Договор не найден"))
            contract.call_period_days = int(text) if text else None
            await session.commit()
        return contract

    async def get(self, contract_id: int) -> Contract | None:
        return await contract_by_id(self._sessionmaker, contract_id)

    async def search(
        self,
        *,
        number_part: str = "",
        lawyer_id: int | None = None,
        client_id: int | None = None,
        contract_id: int | None = None,
        signed_from: date | None = None,
        signed_to: date | None = None,
        client_name: str = "",
        representative_id: int | None = None,
        status: ContractStatus | None = None,
        limit: int = 200,
    ) -> list[ContractRow]:
        """Contracts matching every filter given; the number by any part of it."""
        statement = (
            select(Contract, Client, Employee)
            .join(Client, Client.id == Contract.client_id)
            .join(Employee, Employee.id == Contract.lawyer_id)
            .order_by(Contract.signed_on.desc(), Contract.id.desc())
            .limit(limit)
        )
        if number_part.strip():
            statement = statement.where(
                Contract.number.contains(number_part.strip()[:50], autoescape=True)
            )
        if lawyer_id is not None:
            statement = statement.where(Contract.lawyer_id == lawyer_id)
        if client_id is not None:
            statement = statement.where(Contract.client_id == client_id)
        if contract_id is not None:
            statement = statement.where(Contract.id == contract_id)
        if signed_from is not None:
            statement = statement.where(Contract.signed_on >= signed_from)
        if signed_to is not None:
            statement = statement.where(Contract.signed_on <= signed_to)
        if search_key(client_name):
            statement = statement.where(
                Client.name_key.contains(search_key(client_name)[:100], autoescape=True)
            )
        if representative_id is not None:
            statement = statement.where(
                Contract.id.in_(
                    select(Hearing.contract_id).where(
                        Hearing.representative_id == representative_id
                    )
                )
            )
        if status is not None:
            statement = statement.where(Contract.status == status)
        async with self._sessionmaker() as session:
            result = await session.execute(statement)
            return [ContractRow(c, client, lawyer) for c, client, lawyer in result.all()]


async def contract_by_id(
    sessionmaker: async_sessionmaker[AsyncSession], contract_id: int
) -> Contract | None:
    async with sessionmaker() as session:
        return await session.get(Contract, contract_id)
