"""In-process event bus: the controller publishes call events, the web hub and others subscribe."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

log = logging.getLogger(__name__)


class EventBus:
    """Fan-out of events to subscribers, each with its own bounded queue. Runs in the event loop.

    Publishing never blocks the publisher (the call controller): a subscriber that falls
    too far behind loses its oldest events and a warning is logged, rather than holding
    up screen-pops for everyone else.
    """

    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._subscribers: list[tuple[tuple[type, ...], asyncio.Queue[object]]] = []

    def publish(self, event: object) -> None:
        for types, queue in self._subscribers:
            if not isinstance(event, types):
                continue
            if queue.full():
                queue.get_nowait()
                log.warning("a bus subscriber is behind; dropped its oldest event")
            queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(self, *types: type) -> AsyncIterator[asyncio.Queue[object]]:
        """A queue receiving every event of these types published while the block runs."""
        entry = (types, asyncio.Queue[object](maxsize=self._queue_size))
        self._subscribers.append(entry)
        try:
            yield entry[1]
        finally:
            self._subscribers.remove(entry)
