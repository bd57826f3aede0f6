"""Live updates over a websocket: screen-pops to the employee whose phone rings."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import WSMsgType, web

from crm.calls.events import ClientCard, ScreenPop
from web.access import signed_in
from web.keys import SERVICES

log = logging.getLogger(__name__)


class LiveHub:
    """Open websockets by employee. Runs in the event loop."""

    def __init__(self) -> None:
        self._sockets: defaultdict[int, set[web.WebSocketResponse]] = defaultdict(set)

    def add(self, employee_id: int, socket: web.WebSocketResponse) -> None:
        self._sockets[employee_id].add(socket)

    def remove(self, employee_id: int, socket: web.WebSocketResponse) -> None:
        self._sockets[employee_id].discard(socket)
        if not self._sockets[employee_id]:
            del self._sockets[employee_id]

    async def send(self, employee_id: int, payload: dict[str, Any]) -> None:
        for socket in list(self._sockets.get(employee_id, ())):
            try:
                # A browser that stopped reading (a laptop asleep) must not hold up the
                # screen-pops of everyone else.
                async with asyncio.timeout(SEND_TIMEOUT):
                    await socket.send_json(payload)
            except (ConnectionError, RuntimeError, TimeoutError):
                self.remove(employee_id, socket)
                await socket.close()


HUB = web.AppKey("live_hub", LiveHub)
SEND_TIMEOUT = 2.0


def card_payload(card: ClientCard | None) -> dict[str, Any] | None:
    # Only what the card shows: the client's number is not part of a card at all.
    if card is None:
        return None
    return {
        "id": card.client_id,
        "code": card.code,
        "short_name": card.short_name,
        "full_name": card.full_name,
        "topic": card.topic,
        "status": card.status,
        "is_new": card.is_new,
        "url": f"/clients/{card.client_id}",
    }


def screen_pop_payload(event: ScreenPop) -> dict[str, Any]:
    return {
        "type": "screen-pop",
        "linkedid": event.linkedid,
        "at": event.at.isoformat(),
        "client": card_payload(event.card),
    }


async def live_hub_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the hub and the task that feeds it from the bus."""
    hub = LiveHub()
    app[HUB] = hub
    bus = app[SERVICES].bus

    async def forward() -> None:
        async with bus.subscribe(ScreenPop) as queue:
            while True:
                event = await queue.get()
                try:
                    if isinstance(event, ScreenPop):
                        await hub.send(event.employee_id, screen_pop_payload(event))
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("a screen-pop could not be sent")

    task = asyncio.create_task(forward(), name="live-hub")
    yield
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


async def websocket(request: web.Request) -> web.StreamResponse:
    user = signed_in(request)
    socket = web.WebSocketResponse(heartbeat=30)
    await socket.prepare(request)
    hub = request.app[HUB]
    hub.add(user.employee.id, socket)
    try:
        async for message in socket:
            if message.type == WSMsgType.ERROR:
                break
    finally:
        hub.remove(user.employee.id, socket)
    return socket
