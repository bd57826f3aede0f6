"""Clients and their encrypted phones: adding, finding by number in any format, atomicity."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.clients.errors import NoSuchClient
from crm.clients.models import Client, ClientPhone, ClientStatus
from crm.clients.services import ClientService, short_name_of
from crm.core.crypto import PersonalDataCipher
from crm.core.errors import CiphertextInvalid, InvalidInput, InvalidPhoneNumber
from crm.core.roles import Role
from crm.staff.errors import NoSuchEmployee
from crm.staff.services import StaffService


@pytest.fixture
def clients(
    sessionmaker: async_sessionmaker[AsyncSession], cipher: PersonalDataCipher
) -> ClientService:
    return ClientService(sessionmaker, cipher)


async def _row_counts(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessionmaker() as session:
        client_count = (
            await session.execute(select(func.count()).select_from(Client))
        ).scalar_one()
        phone_count = (
            await session.execute(select(func.count()).select_from(ClientPhone))
        ).scalar_one()
    return client_count, phone_count


async def _phone_rows(sessionmaker: async_sessionmaker[AsyncSession]) -> list[ClientPhone]:
    async with sessionmaker() as session:
        return list((await session.execute(select(ClientPhone))).scalars())


@pytest.mark.parametrize(
    ("full_name", "short_name"),
    [
        ("Иванов Иван Иванович", "Иванов И. И."),
        ("Иванов  иван", "Иванов И."),
        ("Иванов", "Иванов"),
        ("Салтыков-Щедрин Михаил Евграфович", "Салтыков-Щедрин М. Е."),
    ],
)
def test_short_name(full_name: str, short_name: str) -> None:
    assert short_name_of(full_name) == short_name


async def test_add_client_with_one_number_in_several_formats(
    clients: ClientService, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    client = await clients.add_client(
        "Иванов Иван Иванович",
        ["8 921 123-45-67", "+7 (921) 123-45-67", "9211234567", "89211234567"],
        topic="Раздел имущества",
        source="Сайт",
        first_contact_on=date(2024, 3, 1),
    )
    assert client.code == f"c{client.id}"
    assert client.short_name == "Иванов И. И."
    assert client.status is ClientStatus.lead
    assert client.first_contact_on == date(2024, 3, 1)
    phones = await _phone_rows(sessionmaker)
    assert len({phone.number_index for phone in phones}) == 1
    assert len(phones) == 1  # the same number typed four ways is one number
    assert await clients.phone_numbers(client.id) == ["+79211234567"]


async def test_find_clients_by_any_format_of_their_number(clients: ClientService) -> None:
    ivanov = await clients.add_client("Иванов Иван", ["+7 921 123-45-67", "8 812 315-17-01"])
    ivanova = await clients.add_client("Иванова Анна", ["89211234567"])  # a shared number
    await clients.add_client("Петров Пётр", ["+7 921 765-43-21"])
    for typed in ["8 921 123-45-67", "+79211234567", "921 123 45 67"]:
        assert [c.id for c in await clients.find_clients_by_phone(typed)] == [ivanov.id, ivanova.id]
    assert [c.id for c in await clients.find_clients_by_phone("(812) 315-17-01")] == [ivanov.id]
    assert await clients.find_clients_by_phone("+7 921 000-00-00") == []
    with pytest.raises(InvalidPhoneNumber):
        await clients.find_clients_by_phone("123")


async def test_bad_phone_writes_nothing(
    clients: ClientService, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # The good number comes first: a service that wrote as it went would leave it behind.
    with pytest.raises(InvalidPhoneNumber) as caught:
        await clients.add_client("Иванов Иван", ["+7 921 123-45-67", "+7 921 12"])
    assert "921" not in str(caught.value)
    assert await _row_counts(sessionmaker) == (0, 0)


async def test_unknown_lawyer_writes_nothing(
    clients: ClientService, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    with pytest.raises(NoSuchEmployee):
        await clients.add_client("Иванов Иван", ["+7 921 123-45-67"], lawyer_id=4242)
    assert await _row_counts(sessionmaker) == (0, 0)


async def test_client_with_a_lawyer(
    clients: ClientService, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lawyer = await StaffService(sessionmaker).create_employee(
        "lawyer", "Юристов Юрий", Role.lawyer, "long enough password"
    )
    client = await clients.add_client("Иванов Иван", [], lawyer_id=lawyer.id)
    assert (await clients.get_client(client.id)).lawyer_id == lawyer.id


@pytest.mark.parametrize("full_name", ["", "   ", "Я" * 201])
async def test_client_needs_a_name(
    clients: ClientService, sessionmaker: async_sessionmaker[AsyncSession], full_name: str
) -> None:
    with pytest.raises(InvalidInput):
        await clients.add_client(full_name, ["+7 921 123-45-67"])
    assert await _row_counts(sessionmaker) == (0, 0)


async def test_first_contact_defaults_to_today_in_st_petersburg(
    sessionmaker: async_sessionmaker[AsyncSession], cipher: PersonalDataCipher
) -> None:
    # 22:30 UTC on 31 December is already 1 January in St Petersburg.
    late_evening_utc = datetime(2024, 12, 31, 22, 30, tzinfo=UTC)
    clients = ClientService(sessionmaker, cipher, now=lambda: late_evening_utc)
    client = await clients.add_client("Иванов Иван", [])
    assert client.first_contact_on == date(2025, 1, 1)
    assert (await clients.get_client(client.id)).created_at == late_evening_utc


async def test_add_phone(clients: ClientService) -> None:
    client = await clients.add_client("Иванов Иван", ["+7 921 123-45-67"])
    await clients.add_phone(client.id, "8 (812) 315-17-01")
    await clients.add_phone(client.id, "8 921 123 45 67")  # already there: not added again
    assert sorted(await clients.phone_numbers(client.id)) == ["+78123151701", "+79211234567"]
    with pytest.raises(NoSuchClient):
        await clients.add_phone(4242, "+7 921 123-45-67")
    with pytest.raises(InvalidPhoneNumber):
        await clients.add_phone(client.id, "abc")


async def test_unknown_client(clients: ClientService) -> None:
    with pytest.raises(NoSuchClient) as caught:
        await clients.get_client(4242)
    assert caught.value.http_status == 404
    with pytest.raises(NoSuchClient):
        await clients.phone_numbers(4242)


async def test_ciphertext_copied_to_another_phone_row_is_refused(
    clients: ClientService, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # Someone with write access to the database moves Petrov's number onto Ivanov's row:
    # the telephony side must get an error, not Petrov's number when it dials Ivanov.
    ivanov = await clients.add_client("Иванов Иван", ["+7 921 123-45-67"])
    petrov = await clients.add_client("Петров Пётр", ["+7 921 765-43-21"])
    async with sessionmaker() as session:
        rows = {
            row.client_id: row for row in (await session.execute(select(ClientPhone))).scalars()
        }
        rows[ivanov.id].number_ciphertext = rows[petrov.id].number_ciphertext
        await session.commit()
    assert await clients.phone_numbers(petrov.id) == ["+79217654321"]
    with pytest.raises(CiphertextInvalid):
        await clients.phone_numbers(ivanov.id)


async def test_deleting_a_client_deletes_its_phones(
    clients: ClientService, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    client = await clients.add_client("Иванов Иван", ["+7 921 123-45-67", "+7 812 315-17-01"])
    async with sessionmaker() as session:
        await session.delete(await session.get(Client, client.id))
        await session.commit()
    assert await _row_counts(sessionmaker) == (0, 0)
