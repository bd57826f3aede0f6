"""Notes in a client's communication history: kept as typed, on the client or their contract."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.clients.errors import NoSuchClient
from crm.clients.models import Client
from crm.contracts.services import ContractService
from crm.core.errors import InvalidInput
from crm.core.roles import Role
from crm.notes.models import Note
from crm.notes.services import NoteService
from crm.staff.models import Employee

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
HTML = '<script>alert("x")</script><img src=x onerror=alert(1)> & «кавычки»'


class Firm:
    def __init__(self, lawyer: int, client: int, other_client: int, contract: int) -> None:
        self.lawyer = lawyer
        self.client = client
        self.other_client = other_client
        self.contract = contract


@pytest.fixture
async def firm(sessionmaker: async_sessionmaker[AsyncSession]) -> Firm:
    async with sessionmaker() as session:
        lawyer = Employee(login="lawyer", full_name="Юрист", role=Role.lawyer, password_hash="x")
        client = Client(full_name="Клиент", short_name="Клиент", first_contact_on=date(2026, 1, 1))
        other = Client(full_name="Другой", short_name="Другой", first_contact_on=date(2026, 1, 1))
        session.add_all([lawyer, client, other])
        await session.commit()
    contract = await ContractService(sessionmaker, now=lambda: NOW).add_contract(
        client_id=client.id, lawyer_id=lawyer.id, number="Д-1", amount="1000", essence="Иск"
    )
    return Firm(lawyer.id, client.id, other.id, contract.id)


async def _notes(sessionmaker: async_sessionmaker[AsyncSession]) -> list[tuple[Any, ...]]:
    async with sessionmaker() as session:
        return [tuple(row) for row in (await session.execute(select(Note.__table__))).all()]


async def test_notes_newest_first_with_their_author(
    sessionmaker: async_sessionmaker[AsyncSession], firm: Firm
) -> None:
    earlier = NoteService(sessionmaker, now=lambda: NOW - timedelta(hours=1))
    notes = NoteService(sessionmaker, now=lambda: NOW)
    first = await earlier.add(firm.client, author_id=firm.lawyer, text="  Позвонил, договорились ")
    second = await notes.add(
        firm.client,
        author_id=firm.lawyer,
        text="Принёс документы:\r\n  - паспорт   \r\n  - иск\n\n",
        contract_id=firm.contract,
    )
    await notes.add(firm.other_client, author_id=firm.lawyer, text="Чужая заметка")
    assert first.text == "Позвонил, договорились" and first.contract_id is None
    # Line breaks and indents stay: a note is read as it was written.
    assert second.text == "Принёс документы:\n  - паспорт\n  - иск"
    assert second.contract_id == firm.contract and second.created_at == NOW
    rows = await notes.of_client(firm.client)
    assert [row.note.id for row in rows] == [second.id, first.id]
    assert {row.author.id for row in rows} == {firm.lawyer}
    assert [row.note.id for row in await notes.of_client(firm.client, limit=1)] == [second.id]
    assert await notes.of_client(999) == []


async def test_markup_is_kept_as_text(
    sessionmaker: async_sessionmaker[AsyncSession], firm: Firm
) -> None:
    notes = NoteService(sessionmaker, now=lambda: NOW)
    note = await notes.add(firm.client, author_id=firm.lawyer, text=HTML)
    (row,) = await notes.of_client(firm.client)
    assert note.text == row.note.text == HTML


async def test_a_note_of_exactly_the_limit_is_accepted(
    sessionmaker: async_sessionmaker[AsyncSession], firm: Firm
) -> None:
    note = await NoteService(sessionmaker).add(firm.client, author_id=firm.lawyer, text="н" * 5000)
    assert len(note.text) == 5000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Заметка"),
        ("   ", "Заметка"),
        ("\r\n \t\n", "Заметка"),
        ("н" * 5001, "длиннее 5000"),
        ("н" * 10_000, "длиннее 5000"),
    ],
)
async def test_a_bad_note_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], firm: Firm, text: str, message: str
) -> None:
    notes = NoteService(sessionmaker, now=lambda: NOW)
    await notes.add(firm.client, author_id=firm.lawyer, text="Уже есть")
    before = await _notes(sessionmaker)
    with pytest.raises(InvalidInput, match=message):
        await notes.add(firm.client, author_id=firm.lawyer, text=text)
    assert await _notes(sessionmaker) == before


async def test_a_note_on_someone_elses_or_a_missing_contract_or_client(
    sessionmaker: async_sessionmaker[AsyncSession], firm: Firm
) -> None:
    notes = NoteService(sessionmaker, now=lambda: NOW)
    before = await _notes(sessionmaker)
    for contract_id in (firm.contract, 999):
        with pytest.raises(InvalidInput, match="Договор не этого клиента"):
            await notes.add(
                firm.other_client, author_id=firm.lawyer, text="Заметка", contract_id=contract_id
            )
    # A missing client is a 404 of its own, not plain bad input.
    with pytest.raises(NoSuchClient, match="Клиент не найден"):
        await notes.add(999, author_id=firm.lawyer, text="Заметка")
    assert await _notes(sessionmaker) == before
