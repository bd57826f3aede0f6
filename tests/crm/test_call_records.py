"""Call records from the telephony side: a client learnt late reaches the call and its callbacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.calls.events import CallDirection, Disposition
from crm.calls.masking import AsteriskMaskingSecrets
from crm.calls.models import Call, CallbackStatus, CallbackTask
from crm.calls.services import CallService
from crm.clients.services import ClientService
from crm.conversations.models import RecordingFile
from crm.conversations.recordings import RecordingLedger, StoredRecording
from crm.core.crypto import KeyRing, PersonalDataCipher

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def clients(
    sessionmaker: async_sessionmaker[AsyncSession], cipher: PersonalDataCipher
) -> ClientService:
    return ClientService(sessionmaker, cipher)


@pytest.fixture
def calls(
    sessionmaker: async_sessionmaker[AsyncSession], clients: ClientService, keyring: KeyRing
) -> CallService:
    return CallService(sessionmaker, clients, AsteriskMaskingSecrets.derive(keyring))


async def _callbacks(sessionmaker: async_sessionmaker[AsyncSession]) -> list[CallbackTask]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(CallbackTask).order_by(CallbackTask.id)))


async def test_a_missed_call_recorded_without_its_client_gets_it_later_with_its_callback(
    sessionmaker: async_sessionmaker[AsyncSession], calls: CallService, clients: ClientService
) -> None:
    client = await clients.add_client("Ершова Вера Павловна", ["+79210001122"])
    # Seen first by its hang-up: no announcement, so no client.
    assert await calls.call_started("L1", CallDirection.inbound, None, None, START) is None
    task = await calls.call_ended("L1", Disposition.abandoned, None, START + timedelta(seconds=9))
    assert task is not None and task.client_id is None
    card = await calls.call_started("L1", CallDirection.inbound, client.code, None, START)
    assert card is not None and card.client_id == client.id
    (callback,) = await _callbacks(sessionmaker)
    assert callback.client_id == client.id and callback.status is CallbackStatus.open
    async with sessionmaker() as session:
        (call,) = await session.scalars(select(Call))
    assert call.client_id == client.id


async def test_an_answered_call_whose_client_comes_late_closes_the_clients_callbacks(
    sessionmaker: async_sessionmaker[AsyncSession], calls: CallService, clients: ClientService
) -> None:
    client = await clients.add_client("Ершова Вера Павловна", ["+79210001122"])
    await calls.call_started("L1", CallDirection.inbound, client.code, None, START)
    await calls.call_ended("L1", Disposition.abandoned, None, START + timedelta(seconds=9))
    # The client calls again and is answered, but the record learns who it was only later.
    later = START + timedelta(minutes=5)
    await calls.call_started("L2", CallDirection.inbound, None, None, later)
    await calls.call_ended("L2", Disposition.answered, None, later + timedelta(minutes=2))
    assert [t.status for t in await _callbacks(sessionmaker)] == [CallbackStatus.open]
    await calls.call_started("L2", CallDirection.inbound, client.code, None, later)
    (callback,) = await _callbacks(sessionmaker)
    assert callback.status is CallbackStatus.done
    assert callback.done_at == later + timedelta(minutes=2)


async def test_a_client_already_known_is_not_replaced(
    sessionmaker: async_sessionmaker[AsyncSession], calls: CallService, clients: ClientService
) -> None:
    first = await clients.add_client("Ершова Вера Павловна", ["+79210001122"])
    other = await clients.add_client("Лосев Пётр Ильич", ["+79210003344"])
    await calls.call_started("L1", CallDirection.inbound, first.code, None, START)
    await calls.call_started("L1", CallDirection.inbound, other.code, None, START)
    async with sessionmaker() as session:
        (call,) = await session.scalars(select(Call))
    assert call.client_id == first.id


async def test_a_part_stored_late_joins_the_calls_recording_files(
    sessionmaker: async_sessionmaker[AsyncSession], calls: CallService
) -> None:
    await calls.call_started("L1", CallDirection.inbound, None, None, START)
    ledger = RecordingLedger(sessionmaker)

    def stored(path: str) -> StoredRecording:
        part = path.removesuffix(".wav.enc").rsplit("-", 1)[1]
        return StoredRecording(part, path, "0" * 64, 16000, 1000)

    await ledger.recording_stored(
        "L1", [stored("/store/L1-mix.wav.enc"), stored("/store/L1-client.wav.enc")]
    )
    await ledger.recording_stored(
        "L1", [stored("/store/L1-employee.wav.enc"), stored("/store/L1-mix.wav.enc")]
    )
    async with sessionmaker() as session:
        files = await session.scalars(
            select(RecordingFile.path)
            .where(RecordingFile.linkedid == "L1")
            .order_by(RecordingFile.id)
        )
        recording_files = list(files)
    assert recording_files == [
        "/store/L1-mix.wav.enc",
        "/store/L1-client.wav.enc",
        "/store/L1-employee.wav.enc",
    ]
