"""Notes in a client's communication history, on the client or one of their contracts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from crm.clients.errors import NoSuchClient
from crm.clients.models import Client
from crm.contracts.models import Contract
from crm.core.errors import N_, InvalidInput
from crm.core.inputs import multiline_text
from crm.core.service import Service
from crm.notes.models import Note
from crm.staff.models import Employee


@dataclass(frozen=True)
class NoteRow:
    note: Note
    author: Employee


class NoteService(Service):
    async def add(
        self, client_id: int, *, author_id: int, text: str, contract_id: int | None = None
    ) -> Note:
        body = multiline_text(text, N_("Заметка"), 5000)
        async with self._sessionmaker() as session:
            if await session.get(Client, client_id) is None:
                raise NoSuchClient()
            if contract_id is not None:
                contract = await session.get(Contract, contract_id)
                if contract is None or contract.client_id != client_id:
                    raise InvalidInput(N_("Договор не этого клиента"))
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
