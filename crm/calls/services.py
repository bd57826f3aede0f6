"""Use-cases of calls: records from telephony events, leads from unknown callers, callbacks."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.calls.events import CallDirection, ClientCard, Disposition
from crm.calls.masking import AsteriskMaskingSecrets, MaskEntry
from crm.calls.models import (
    Call,
    CallbackStatus,
    CallbackTask,
    ClickToCallRequest,
    ClickToCallStatus,
)
from crm.clients.errors import NoSuchClient
from crm.clients.models import Client
from crm.clients.services import ClientService
from crm.core.clock import Clock, utc_now
from crm.core.errors import CiphertextInvalid, InvalidPhoneNumber
from crm.core.service import Service
from crm.staff.models import Employee

log = logging.getLogger(__name__)


LEAD_NAME = "Новый клиент"
CLICK_TO_CALL_PREFIX = "c2c-"
CALL_CENTRE_QUEUE = "lexcrm-callcentre"  # the dialplan's queue (extensions.conf.j2)
LEAD_SOURCE = "входящий звонок"


def client_id_of_code(code: str | None) -> int | None:
    """c1234 → 1234; anything else (a lead's "new…" code, empty) → None."""
    if code and code.startswith("c") and code[1:].isdigit():
        return int(code[1:])
    return None


def card_of(client: Client, *, is_new: bool = False) -> ClientCard:
    return ClientCard(
        client_id=client.id,
        code=client.code,
        short_name=client.short_name,
        full_name=client.full_name,
        topic=client.topic,
        status=str(client.status),
        is_new=is_new,
    )


class CallService(Service):
    """Turns what the telephony side reports into call records, leads and callback tasks.

    Every method is idempotent per linkedid: events replayed after a reconnect, or a
    call seen both live and in the CDRs, never make a second record.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clients: ClientService,
        masking: AsteriskMaskingSecrets,
        *,
        callback_delay: timedelta = timedelta(minutes=15),
        now: Clock = utc_now,
    ) -> None:
        super().__init__(sessionmaker, now=now)
        self._clients = clients
        self._masking = masking
        self._callback_delay = callback_delay

    async def call_started(
        self,
        linkedid: str,
        direction: CallDirection,
        client_code: str | None,
        sealed_number: str | None,
        at: datetime,
        *,
        reconciled: bool = False,
        caller_extension: str | None = None,
    ) -> ClientCard | None:
        """Record the call (once) and return the card of its client, creating a lead if new.

        `caller_extension`: the desk phone that placed the call, for calls employees make;
        whoever placed a call to a client is its employee even if nobody answered.
        """
        card = await self._resolve_client(client_code, sealed_number)
        if linkedid.startswith(CLICK_TO_CALL_PREFIX):
            # Rung from the CRM: the employee's leg comes first and looks like an internal
            # call until the dialplan dials the client, but the call is to a client.
            direction = CallDirection.outbound
            if card is None:
                card = await self._client_of_click(linkedid.removeprefix(CLICK_TO_CALL_PREFIX))
        caller = await self.employee_by_extension(caller_extension) if caller_extension else None
        async with self._sessionmaker() as session:
            call = await _call_by_linkedid(session, linkedid)
            if call is None:
                session.add(
                    Call(
                        linkedid=linkedid,
                        direction=direction,
                        client_id=card.client_id if card else None,
                        employee_id=caller.id if caller else None,
                        started_at=at,
                        reconciled=reconciled,
                    )
                )
                try:
                    await session.commit()
                except IntegrityError:
                    await session.rollback()  # recorded meanwhile by another path
            elif call.client_id is None and card is not None:
                # Learnt late (the controller came up mid-call): the client is attached now,
                # to the call and to the callback it may already have made.
                call.client_id = card.client_id
                await session.execute(
                    update(CallbackTask)
                    .where(CallbackTask.call_id == call.id, CallbackTask.client_id.is_(None))
                    .values(client_id=card.client_id)
                )
                if call.disposition == Disposition.answered.value and call.ended_at is not None:
                    await _close_callbacks_of(session, card.client_id, call)
                await session.commit()
        return card

    async def _client_of_click(self, request_id: str) -> ClientCard | None:
        # A click-to-call's first channel carries the request's id; the client is known
        # from the request even when the dialplan's announcement was missed.
        async with self._sessionmaker() as session:
            request = await session.get(ClickToCallRequest, request_id)
            client = await session.get(Client, request.client_id) if request else None
        return card_of(client) if client else None

    async def _resolve_client(
        self, client_code: str | None, sealed_number: str | None
    ) -> ClientCard | None:
        client_id = client_id_of_code(client_code)
        if client_id is not None:
            try:
                return card_of(await self._clients.get_client(client_id))
            except NoSuchClient:
                log.warning("call names client %s that does not exist", client_code)
                return None
        if not sealed_number:
            return None
        try:
            number = self._masking.unseal(sealed_number)
            existing = await self._clients.find_clients_by_phone(number)
            if existing:
                return card_of(existing[0])
            lead = await self._clients.add_client(LEAD_NAME, [number], source=LEAD_SOURCE)
        except (CiphertextInvalid, InvalidPhoneNumber):
            log.warning("an unknown caller's number could not be read; no lead was made")
            return None
        return card_of(lead, is_new=True)

    async def client_of_call(self, linkedid: str) -> ClientCard | None:
        async with self._sessionmaker() as session:
            call = await _call_by_linkedid(session, linkedid)
            client = await session.get(Client, call.client_id) if call and call.client_id else None
        return card_of(client) if client else None

    async def employee_by_extension(self, extension: str) -> Employee | None:
        async with self._sessionmaker() as session:
            return await session.scalar(
                select(Employee).where(
                    Employee.sip_extension == extension, Employee.is_active.is_(True)
                )
            )

    async def call_answered(self, linkedid: str, extension: str, at: datetime) -> None:
        employee = await self.employee_by_extension(extension)
        async with self._sessionmaker() as session:
            call = await _call_by_linkedid(session, linkedid)
            if call is None or call.answered_at is not None:
                return
            call.answered_at = at
            call.employee_id = employee.id if employee else None
            await session.commit()

    async def call_ended(
        self,
        linkedid: str,
        disposition: Disposition,
        answered_by: str | None,
        at: datetime,
        *,
        client_ringing_at: datetime | None = None,
        queue: str | None = None,
    ) -> CallbackTask | None:
        """Close the record; a missed inbound call becomes a callback task for the call centre.

        `client_ringing_at`: when the client's phone began to ring, on a call the firm placed;
        `queue`: the queue the caller waited in.
        """
        employee = await self.employee_by_extension(answered_by) if answered_by else None
        async with self._sessionmaker() as session:
            call = await _call_by_linkedid(session, linkedid)
            if call is None or call.ended_at is not None:
                return None
            call.ended_at = at
            call.disposition = disposition.value
            call.client_ringing_at = client_ringing_at
            call.queue = queue or call.queue
            if employee is not None and call.employee_id is None:
                call.employee_id = employee.id
            task = None
            if call.client_id is not None and disposition == Disposition.answered:
                await _close_callbacks_of(session, call.client_id, call)
            if call.direction == CallDirection.inbound and disposition != Disposition.answered:
                task = CallbackTask(
                    call_id=call.id,
                    client_id=call.client_id,
                    reason=disposition.value,
                    due_at=at + self._callback_delay,
                )
                session.add(task)
            await session.commit()
        return task

    async def masking_rows(self, sticky_days: int = 30) -> list[MaskEntry]:
        """The whole masking table: every number of every client, keyed, sealed, routed."""
        numbers = await self._clients.all_phone_numbers()
        since = self._now() - timedelta(days=sticky_days)
        async with self._sessionmaker() as session:
            clients = {c.id: c for c in await session.scalars(select(Client))}
            extensions = {
                e.id: e.sip_extension
                for e in await session.scalars(select(Employee).where(Employee.is_active.is_(True)))
                if e.sip_extension
            }
            # Sticky routing: the employee who last called the client without reaching them.
            sticky: dict[int, int] = {}
            missed_outbound = await session.execute(
                select(Call.client_id, Call.employee_id)
                .where(
                    Call.direction == CallDirection.outbound,
                    Call.disposition != Disposition.answered.value,
                    Call.started_at >= since,
                    Call.client_id.is_not(None),
                    Call.employee_id.is_not(None),
                )
                .order_by(Call.started_at, Call.id)
            )
            for client_id, employee_id in missed_outbound:
                if client_id is not None and employee_id is not None:
                    sticky[client_id] = employee_id
        rows = []
        for client_id, number in numbers:
            client = clients[client_id]
            lawyer = extensions.get(client.lawyer_id) if client.lawyer_id else None
            sticky_employee = sticky.get(client_id)
            rows.append(
                MaskEntry(
                    caller_key=self._masking.caller_key(number),
                    client_code=client.code,
                    display_name=client.short_name,
                    sealed_number=self._masking.seal(number),
                    lawyer_extension=lawyer or "",
                    sticky_extension=extensions.get(sticky_employee, "") if sticky_employee else "",
                )
            )
        return rows

    async def get_call(self, linkedid: str) -> Call | None:
        async with self._sessionmaker() as session:
            return await _call_by_linkedid(session, linkedid)

    async def open_callbacks(self) -> list[tuple[CallbackTask, Client | None]]:
        """Missed calls still to return, soonest due first, with their clients."""
        async with self._sessionmaker() as session:
            result = await session.execute(
                select(CallbackTask, Client)
                .outerjoin(Client, Client.id == CallbackTask.client_id)
                .where(CallbackTask.status == CallbackStatus.open)
                .order_by(CallbackTask.due_at, CallbackTask.id)
            )
            return [(task, client) for task, client in result.all()]


class ClickToCallService(Service):
    """Stored "Call" clicks: placed once, never twice, even across a crash."""

    async def request(self, employee_id: int, client_id: int) -> ClickToCallRequest:
        async with self._sessionmaker() as session:
            if await session.get(Client, client_id) is None:
                raise NoSuchClient()
            request = ClickToCallRequest(
                employee_id=employee_id, client_id=client_id, created_at=self._now()
            )
            session.add(request)
            await session.commit()
        return request

    async def claim(self, request_id: str) -> ClickToCallRequest | None:
        """pending → sending, atomically; None if someone else has it or it is done."""
        async with self._sessionmaker() as session:
            result = await session.execute(
                update(ClickToCallRequest)
                .where(
                    ClickToCallRequest.id == request_id,
                    ClickToCallRequest.status == ClickToCallStatus.pending,
                )
                .values(status=ClickToCallStatus.sending)
            )
            await session.commit()
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            return await session.get(ClickToCallRequest, request_id)

    async def finish(
        self, request_id: str, status: ClickToCallStatus, detail: str | None = None
    ) -> None:
        async with self._sessionmaker() as session:
            request = await session.get(ClickToCallRequest, request_id)
            if request is not None:
                request.status = status
                request.detail = detail
                await session.commit()

    async def unfinished(self) -> list[ClickToCallRequest]:
        async with self._sessionmaker() as session:
            result = await session.scalars(
                select(ClickToCallRequest)
                .where(
                    ClickToCallRequest.status.in_(
                        [ClickToCallStatus.pending, ClickToCallStatus.sending]
                    )
                )
                .order_by(ClickToCallRequest.created_at, ClickToCallRequest.id)
            )
            return list(result)

    async def employee_and_client(
        self, request: ClickToCallRequest
    ) -> tuple[Employee | None, Client | None]:
        async with self._sessionmaker() as session:
            return (
                await session.get(Employee, request.employee_id),
                await session.get(Client, request.client_id),
            )


async def _close_callbacks_of(session: AsyncSession, client_id: int, call: Call) -> None:
    """The client was reached on `call`: their open callbacks are done, whoever called."""
    await session.execute(
        update(CallbackTask)
        .where(
            CallbackTask.client_id == client_id,
            CallbackTask.status == CallbackStatus.open,
            CallbackTask.call_id != call.id,
        )
        .values(status=CallbackStatus.done, done_at=call.ended_at)
    )


async def _call_by_linkedid(session: AsyncSession, linkedid: str) -> Call | None:
    return await session.scalar(select(Call).where(Call.linkedid == linkedid))
