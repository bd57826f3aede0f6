"""AmiClient against the session's real Asterisk 22: login, lists, events, refused rights."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from lexcrm.asterisk_runtime import AsteriskRuntime
from telephony.ami import AmiClient, AmiConfig, AmiRequestFailed, AmiState
from tests.support.waiting import eventually

pytestmark = pytest.mark.asterisk


@dataclass
class Connected:
    client: AmiClient
    events: list[Any]

    def of_channel(self, uniqueid: str) -> list[str]:
        return [e.Event for e in self.events if e.get("Uniqueid") == uniqueid]


def ami_config(asterisk: AsteriskRuntime) -> AmiConfig:
    credentials = asterisk.credentials()
    return AmiConfig(
        host="127.0.0.1",
        port=asterisk.settings.ami_port,
        username=credentials.ami_username,
        secret=credentials.ami_secret,
    )


@pytest.fixture
async def ami(asterisk: AsteriskRuntime) -> AsyncIterator[Connected]:
    events: list[Any] = []
    client = AmiClient(ami_config(asterisk), on_event=events.append)
    task = asyncio.create_task(client.run(), name="ami-real")
    try:
        await client.wait_connected(10)
        yield Connected(client, events)
    finally:
        task.cancel()
        await asyncio.wait({task})
    assert task.cancelled()


async def test_logs_in_and_is_healthy(ami: Connected) -> None:
    health = ami.client.health()
    assert health.state == AmiState.CONNECTED
    assert health.last_error is None
    [pong] = await ami.client.send_action({"Action": "Ping"})
    assert pong.Response == "Success" and pong.Ping == "Pong"

    # UserEvent (the `user` write class) comes back as an event: a marker that everything
    # Asterisk sent before it has been delivered, and a UTF-8 round trip.
    await ami.client.send_action(
        {"Action": "UserEvent", "UserEvent": "lexcrm-marker", "Note": "Иванов Иван"}
    )
    markers = await eventually(lambda: [e for e in ami.events if e.Event == "UserEvent"], timeout=5)
    assert markers[0].Note == "Иванов Иван"
    # FullyBooted (sent right after login) and Shutdown are `system` events, which this
    # user may not read: a restart of Asterisk shows up only as a lost link or no Pong.
    assert not any(e.Event in ("FullyBooted", "Shutdown") for e in ami.events)


async def test_core_show_channels_is_a_list_ending_in_complete(ami: Connected) -> None:
    answer = await ami.client.send_action({"Action": "CoreShowChannels"})
    assert answer[0].Response == "Success"
    assert answer[0].EventList == "start"
    assert answer[-1].Event == "CoreShowChannelsComplete"
    items = [m for m in answer[1:-1] if m.Event == "CoreShowChannel"]
    assert len(items) == len(answer) - 2
    assert answer[-1].ListItems == str(len(items))


async def test_originate_produces_newchannel_and_hangup_for_our_channel_id(
    ami: Connected,
) -> None:
    call_id = f"ami-{uuid.uuid4().hex}"
    [response] = await ami.client.send_action(
        {
            "Action": "Originate",
            "Channel": "Local/echo@lexcrm-test",
            "Context": "lexcrm-test",
            "Exten": "record",
            "Priority": "1",
            # Our own id for the ;1 half of the Local channel: events are matched by it.
            "ChannelId": call_id,
            "Timeout": "10000",
            "Async": "true",
        }
    )
    # With Async, Asterisk answers at once; the call's outcome comes as OriginateResponse.
    assert response.Response == "Success"
    await eventually(lambda: "Newchannel" in ami.of_channel(call_id), timeout=10)
    answer = await ami.client.send_action({"Action": "CoreShowChannels"})
    assert call_id in {m.get("Uniqueid") for m in answer}
    await eventually(lambda: "Hangup" in ami.of_channel(call_id), timeout=20)
    names = ami.of_channel(call_id)
    assert names.index("Newchannel") < names.index("Hangup")
    outcome = [
        e
        for e in ami.events
        if e.Event == "OriginateResponse" and e.get("ActionID") == response.ActionID
    ]
    assert [e.Response for e in outcome] == ["Success"]


async def test_command_action_is_refused(ami: Connected) -> None:
    # The AMI user has no `command` right: a leaked AMI password cannot run CLI commands.
    with pytest.raises(AmiRequestFailed) as refused:
        await ami.client.send_action({"Action": "Command", "Command": "core show version"})
    assert "Permission denied" in refused.value.message
    assert ami.client.health().state == AmiState.CONNECTED


async def test_cut_link_fails_nothing_twice_and_comes_back(ami: Connected) -> None:
    link = ami.client._link  # only our own transport: the session's Asterisk stays up
    assert link is not None and link.transport is not None
    link.transport.abort()
    await eventually(lambda: ami.client.health().reconnects == 1, timeout=10)
    await ami.client.wait_connected(5)
    [pong] = await ami.client.send_action({"Action": "Ping"})
    assert pong.Ping == "Pong"
