"""The ARI client on a real Asterisk: REST on channels and bridges, and the events websocket."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from lexcrm.asterisk_runtime import AsteriskRuntime
from telephony.ari import AriClient, AriEndpoint, AriEventStream
from tests.support.ports import free_tcp_port
from tests.support.waiting import eventually

pytestmark = pytest.mark.asterisk


def endpoint_of(asterisk: AsteriskRuntime) -> AriEndpoint:
    credentials = asterisk.credentials()
    return AriEndpoint(
        f"http://127.0.0.1:{asterisk.settings.http_port}",
        credentials.ari_username,
        credentials.ari_password,
    )


async def test_events_stream_and_bridges(asterisk: AsteriskRuntime) -> None:
    events: list[dict[str, Any]] = []
    stream = AriEventStream(endpoint_of(asterisk), "lexcrm-test-app", events.append)
    task = asyncio.create_task(stream.run())
    channel_id = f"ari-{uuid.uuid4().hex}"
    bridge_id = f"bridge-{uuid.uuid4().hex}"
    try:
        await asyncio.wait_for(stream.connected.wait(), 10)
        async with AriClient(endpoint_of(asterisk)) as ari:
            await ari.originate_to_app(
                endpoint="Local/echo@lexcrm-test", app="lexcrm-test-app", channel_id=channel_id
            )
            await eventually(
                lambda: any(
                    e["type"] == "StasisStart" and e["channel"]["id"] == channel_id for e in events
                ),
                timeout=10,
            )
            await ari.create_bridge(bridge_id)
            await ari.add_to_bridge(bridge_id, channel_id)
            bridges = {b["id"]: b for b in await ari.bridges()}
            assert channel_id in bridges[bridge_id]["channels"]
            await ari.hangup(channel_id)
            await eventually(
                lambda: any(
                    e["type"] == "StasisEnd" and e["channel"]["id"] == channel_id for e in events
                ),
                timeout=10,
            )
            await ari.destroy_bridge(bridge_id)
            assert bridge_id not in {b["id"] for b in await ari.bridges()}
            assert isinstance(await ari.stored_recordings(), list)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_events_stream_retries_with_capped_backoff() -> None:
    delays: list[float] = []
    enough = asyncio.Event()

    async def record_sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) >= 6:
            enough.set()
            await asyncio.sleep(3600)

    dead = AriEndpoint(f"http://127.0.0.1:{free_tcp_port()}", "u", "p")
    stream = AriEventStream(dead, "app", lambda e: None, backoff_max=5.0, sleep=record_sleep)
    task = asyncio.create_task(stream.run())
    await asyncio.wait_for(enough.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert delays == pytest.approx([1.0, 1.8, 3.24, 5.0, 5.0, 5.0])
    assert not stream.connected.is_set()


async def test_handler_that_raises_does_not_stop_the_stream(asterisk: AsteriskRuntime) -> None:
    seen: list[str] = []

    def flaky(event: dict[str, Any]) -> None:
        seen.append(event["type"])
        raise RuntimeError("handler bug")

    stream = AriEventStream(endpoint_of(asterisk), "lexcrm-flaky-app", flaky)
    task = asyncio.create_task(stream.run())
    try:
        await asyncio.wait_for(stream.connected.wait(), 10)
        async with AriClient(endpoint_of(asterisk)) as ari:
            for _ in range(2):
                channel_id = f"ari-{uuid.uuid4().hex}"
                await ari.originate_to_app(
                    endpoint="Local/echo@lexcrm-test", app="lexcrm-flaky-app", channel_id=channel_id
                )
                await eventually(lambda: seen.count("StasisStart") >= 1, timeout=10)
                await ari.hangup(channel_id)
        await eventually(lambda: seen.count("StasisStart") >= 2, timeout=10)
        assert stream.failures == 0  # the link never dropped
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
