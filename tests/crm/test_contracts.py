"""Contracts: what a lawyer types is checked before anything is written; search by number part."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.clients.models import Client, ClientStatus
from crm.contracts.errors import ContractNumberTaken
from crm.contracts.models import Contract, ContractKind
from crm.contracts.services import ContractService
from crm.core.errors import InvalidInput
from crm.core.formatting import parse_money
from crm.core.roles import Role
from crm.staff.models import Employee


@pytest.mark.parametrize(
    ("text", "kopecks"),
    [
        ("150000", 15_000_000),
        ("1 250 000,50", 125_000_050),
        ("1\u202f250\u00a0000,5 ₽", 125_000_050),
        ("99.99", 9_999),
        ("0,01", 1),
    ],
)
def test_money_as_people_type_it(text: str, kopecks: int) -> None:
    assert parse_money(text) == kopecks


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "10,123", "-5", "0", "1e6", "9" * 30])
def test_money_that_is_not_money_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_money(text)


async def _people(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessionmaker() as session:
        lawyer = Employee(login="l1", full_name="Юрист", role=Role.lawyer, password_hash="x")
        client = Client(
            full_name="Клиент К К", short_name="Клиент К. К.", first_contact_on=date(2026, 1, 1)
        )
        session.add_all([lawyer, client])
        await session.commit()
        return lawyer.id, client.id


async def _count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Contract)) or 0)


async def test_first_contract_is_primary_then_secondary_and_client_becomes_contracted(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    lawyer_id, client_id = await _people(sessionmaker)
    service = ContractService(sessionmaker)
    first = await service.add_contract(
        client_id=client_id,
        lawyer_id=lawyer_id,
        number="Д-2026/15",
        amount="150 000",
        essence="Развод",
    )
    second = await service.add_contract(
        client_id=client_id,
        lawyer_id=lawyer_id,
        number="Д-2026/16",
        amount="50000",
        essence="Раздел",
    )
    assert first.kind == ContractKind.primary and second.kind == ContractKind.secondary
    async with sessionmaker() as session:
        client = await session.get(Client, client_id)
        assert client is not None and client.status == ClientStatus.contracted
    found = await service.search(number_part="2026/1")
    assert {row.contract.number for row in found} == {"Д-2026/15", "Д-2026/16"}
    assert [row.contract.number for row in await service.search(number_part="/16")] == ["Д-2026/16"]
    assert await service.search(number_part="%") == []  # a LIKE wildcard is just a character


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("number", "", "Номер"),
        ("number", "Д 15; DROP", "Номер"),
        ("amount", "сто тысяч", "Сумма"),
        ("amount", "-100", "Сумма"),
        ("essence", "   ", "Суть"),
        ("essence", "x" * 5001, "Суть"),
    ],
)
async def test_bad_input_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], field: str, value: str, message: str
) -> None:
    lawyer_id, client_id = await _people(sessionmaker)
    values = {"number": "Д-1", "amount": "1000", "essence": "Консультация", field: value}
    with pytest.raises(InvalidInput, match=message):
        await ContractService(sessionmaker).add_contract(
            client_id=client_id, lawyer_id=lawyer_id, **values
        )
    assert await _count(sessionmaker) == 0


async def test_a_number_is_used_once(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    lawyer_id, client_id = await _people(sessionmaker)
    service = ContractService(sessionmaker)
    await service.add_contract(
        client_id=client_id, lawyer_id=lawyer_id, number="Д-7", amount="1000", essence="А"
    )
    with pytest.raises(ContractNumberTaken):
        await service.add_contract(
            client_id=client_id, lawyer_id=lawyer_id, number="Д-7", amount="2000", essence="Б"
        )
    assert await _count(sessionmaker) == 1


async def test_period_filter(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    lawyer_id, client_id = await _people(sessionmaker)
    service = ContractService(sessionmaker)
    for number, signed in (("A-1", date(2026, 1, 10)), ("A-2", date(2026, 2, 10))):
        contract = await service.add_contract(
            client_id=client_id, lawyer_id=lawyer_id, number=number, amount="1000", essence="x"
        )
        async with sessionmaker() as session:
            stored = await session.get(Contract, contract.id)
            assert stored is not None
            stored.signed_on = signed
            await session.commit()
    rows = await service.search(signed_from=date(2026, 2, 1), signed_to=date(2026, 2, 28))
    assert [row.contract.number for row in rows] == ["A-2"]
