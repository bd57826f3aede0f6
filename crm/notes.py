"""Notes in a client's communication history, on the client or one of their contracts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.errors import InvalidInput, NoSuchClient
from crm.inputs import multiline_text
from crm.models import Client, Contract, Employee, Note, utc_now

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class NoteRow:
    note: Note
    author: Employee


class NoteService:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, now: Clock = utc_now
    ) -> None:
        self._sessionmaker = sessionmaker
        self._now = now

    async def add(
        self, client_id: int, *, author_id: int, text: str, contract_id: int | None = None
    ) -> Note:
        body = multiline_text(text, "Заметка", 5000)
        async with self._sessionmaker() as session:
            if await session.get(Client, client_id) is None:
                raise NoSuchClient()
            if contract_id is not None:
                contract = await session.get(Contract, contract_id)
                if contract is None or contract.client_id != client_id:
                    raise InvalidInput("Договор не этого клиента")
            note = Note(
                client_id=client_id,
                contract_id=contract_id,
                author_id=author_id,
                text=body,
                created_at=self._now(),
            )
            session.add(note)
            await session.commit()
        return note

    async def of_client(self, client_id: int, *, limit: int = 200) -> list[NoteRow]:
        async with self._sessionmaker() as session:
            rows = (
                await session.execute(
                    select(Note, Employee)
                    .join(Employee, Employee.id == Note.author_id)
                    .where(Note.client_id == client_id)
                    .order_by(Note.created_at.desc(), Note.id.desc())
                    .limit(limit)
                )
            ).all()
        return [NoteRow(note, author) for note, author in rows]
