"""Driving the carrier simulator: a call into the firm from any number, as a carrier would."""

from __future__ import annotations

import asyncio
import contextlib

from crm.core.phones import normalise_phone
from lexcrm.asterisk_runtime import AsteriskRuntime
from lexcrm.settings import Settings
from telephony.ami import AmiClient, AmiConfig, AmiRequestFailed, AmiUnavailable


def _ami_config(runtime: AsteriskRuntime) -> AmiConfig:
    credentials = runtime.credentials()
    return AmiConfig(
        host="127.0.0.1",
        port=runtime.settings.ami_port,
        username=credentials.ami_username,
        secret=credentials.ami_secret,
    )


async def _with_ami(runtime: AsteriskRuntime, action: dict[str, str]) -> None:
    client = AmiClient(_ami_config(runtime), on_event=lambda _message: None)
    task = asyncio.create_task(client.run(), name="ami-once")
    try:
        await client.wait_connected(10)
        await client.send_action(action)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def place_simulated_call(
    simulator: AsteriskRuntime, settings: Settings, caller: str, talk_seconds: int
) -> None:
    """The simulator calls the firm's number with `caller` as the caller number."""
    number = normalise_phone(caller, settings.phone_region)
    await _with_ami(
        simulator,
        {
            "Action": "Originate",
            "Channel": f"PJSIP/{settings.firm_number.lstrip('+')}@lexcrm",
            "CallerID": f"<{number}>",
            "Context": "carrier-client-speaks",
            "Exten": "s",
            "Priority": "1",
            "Variable": f"TALK_SECONDS={max(1, min(talk_seconds, 3600))}",
            "Timeout": "60000",
            "Async": "true",
        },
    )


async def ami_health(settings: Settings) -> str:
    """One line on the controller's link: can it log in to AMI right now?"""
    runtime = AsteriskRuntime(settings)
    try:
        await _with_ami(runtime, {"Action": "Ping"})
    except (AmiUnavailable, AmiRequestFailed, TimeoutError) as error:
        return f"недоступен ({type(error).__name__})"
    return "вход выполнен, Ping отвечает"
