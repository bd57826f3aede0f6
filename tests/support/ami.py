"""A test's own AMI link to a real Asterisk: collects events and sends actions (panoramisk)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from panoramisk import Manager

from lexcrm.asterisk_runtime import AsteriskRuntime

QUIET_LOG = logging.getLogger("tests.support.ami")
QUIET_LOG.setLevel(logging.WARNING)


class EventLog:
    """Every AMI event received, as plain dicts, in order."""

    def __init__(self) -> None:
        self.events: list[dict[str, str]] = []

    def on_event(self, manager: Manager, message: Any) -> None:
        self.events.append({str(k): str(v) for k, v in dict(message).items()})

    def named(self, name: str, **fields: str) -> list[dict[str, str]]:
        return [
            event
            for event in self.events
            if event.get("Event") == name and all(event.get(k) == v for k, v in fields.items())
        ]


@asynccontextmanager
async def ami_session(runtime: AsteriskRuntime) -> AsyncIterator[tuple[Manager, EventLog]]:
    credentials = runtime.credentials()
    manager = Manager(
        host="127.0.0.1",
        port=runtime.settings.ami_port,
        username=credentials.ami_username,
        secret=credentials.ami_secret,
        ping_delay=0,
        # panoramisk logs every message at DEBUG, caller numbers included; the tests that
        # hunt for leaked numbers in the product's logs must not find the test's own.
        log=QUIET_LOG,
    )
    log = EventLog()
    manager.register_event("*", log.on_event)
    await manager.connect()
    try:
        yield manager, log
    finally:
        manager.close()


def first_message(response: Any) -> Any:
    # With Async, panoramisk gathers the response and the later OriginateResponse event.
    return response[0] if isinstance(response, list) else response
