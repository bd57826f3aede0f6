"""The call controller: AMI events to call records, screen-pops, click-to-call and masking."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from crm.calls.events import (
    CallAnswered,
    CallDirection,
    CallEnded,
    CallEvent,
    CallRinging,
    CallStarted,
    ClickToCallRequested,
    ClientCard,
    RecordingReady,
    ScreenPop,
)
from crm.calls.masking import MaskEntry
from crm.calls.models import ClickToCallStatus
from crm.calls.services import CallService, ClickToCallService
from telephony.ami import (
    AmiClient,
    AmiConfig,
    AmiHealth,
    AmiRequestFailed,
    AmiState,
    AmiUnavailable,
)
from telephony.ari import AriClient, AriEndpoint, AriError, AriUnavailable, ChannelIdInUse
from telephony.mask_table import write_mask_table
from telephony.reconcile import CdrCall, CdrReader
from telephony.tracker import CallTracker

log = logging.getLogger(__name__)

Publish = Callable[[object], None]
# Takes the recording's files as Asterisk named them; returns where they were stored.


class HandOff(Protocol):
    """Takes a call's recordings into the encrypted store (recordings.vault)."""

    def __call__(
        self, linkedid: str, files: list[Path], *, abandoned: bool = False
    ) -> Awaitable[list[Path]]: ...


# Recordings left in a folder, quiet for so many seconds, by call (recordings.vault).
Leftovers = Callable[[Path, float], Awaitable[dict[str, list[Path]]]]
# A click older than this when the controller gets to it is not placed: the person who
# clicked has moved on, and a call out of the blue minutes later would surprise everyone.
CLICK_TO_CALL_MAX_AGE = timedelta(seconds=60)
MASKS_REFRESH_SECONDS = 30.0
CLICK_POLL_SECONDS = 2.0
# The dialplan's lexcrm-record writes <base>-mix.wav, <base>-client.wav, <base>-employee.wav.
RECORDING_PARTS = ("mix", "client", "employee")


@dataclass(frozen=True)
class ControllerConfig:
    ami: AmiConfig
    ari: AriEndpoint
    masks_file: Path
    # A path as Asterisk reports it → the same file as this machine sees it.
    host_path: Callable[[str], Path]
    # Asterisk's per-leg CDR file (cdr_custom), to rebuild calls the controller missed.
    cdr_file: Path | None = None
    click_to_call_ring_seconds: int = 30
    reconcile_interval: float = 30.0
    # Asterisk's recording folder as this machine sees it, swept for files a hand-off
    # missed (a call whose end was never seen, a file not closed in time).
    recordings_spool: Path | None = None
    spool_quiet_seconds: float = 600.0


class CallController:
    """Runs in the event loop. One instance per PBX; every entry point catches and logs."""

    def __init__(
        self,
        config: ControllerConfig,
        calls: CallService,
        clicks: ClickToCallService,
        publish: Publish,
        hand_off: HandOff,
        *,
        leftovers: Leftovers | None = None,
        tracker: CallTracker | None = None,
    ) -> None:
        self._config = config
        self._calls = calls
        self._clicks = clicks
        self._publish = publish
        self._hand_off = hand_off
        self._leftovers = leftovers
        self._tracker = tracker or CallTracker()
        self._ami = AmiClient(config.ami, on_event=self.on_ami_event, on_state=self._on_ami_state)
        # Per live call: what the dialplan told us that the tracker does not carry.
        self._sealed: dict[str, str] = {}
        self._cards: dict[str, ClientCard | None] = {}
        self._masks_dirty = asyncio.Event()
        self._resync_wanted = asyncio.Event()
        self._events = asyncio.Lock()
        self._masked_codes: set[str] = set()
        self._masked_entries: list[MaskEntry] | None = None
        self._cdr = CdrReader(config.cdr_file) if config.cdr_file else None
        self._reconcile_wanted = asyncio.Event()
        # True once the live calls were resynced after the current AMI login: only then
        # may the CDRs be compared with the tracker (a stale tracker would misjudge them).
        self._synced = False
        self._masks_lock = asyncio.Lock()
        # Calls whose client was attached after they had started (see _announced).
        self._attached_late: set[str] = set()
        # Recordings are moved outside the event path: waiting for MixMonitor to close a
        # file must not hold up other calls' screen-pops.
        self._background: set[asyncio.Task[None]] = set()
        # Recording files being handed off right now: a sweep of the spool must not take
        # a file a hand-off is encrypting (two writers of one sealed file).
        self._handing_off: set[Path] = set()

    @property
    def ami(self) -> AmiClient:
        return self._ami

    async def run(self, click_requests: asyncio.Queue[object]) -> None:
        """The controller's long-lived tasks; returns only when cancelled."""
        self._masks_dirty.set()
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._ami.run(), name="ami")
                tasks.create_task(self._keep_masks_current(), name="masking-table")
                tasks.create_task(self._resync_after_connect(), name="ami-resync")
                tasks.create_task(self._place_clicks(click_requests), name="click-to-call")
                tasks.create_task(self._reconcile_regularly(), name="cdr-reconcile")
        finally:
            # Recordings being stored when the controller stops are finished, not torn
            # out half-written with a database connection left open; they take seconds.
            if self._background:
                await asyncio.shield(asyncio.gather(*self._background, return_exceptions=True))

    # --- AMI events --------------------------------------------------------------------
    async def on_ami_event(self, message: Mapping[str, Any]) -> None:
        event = {str(key): str(value) for key, value in dict(message).items()}
        if event.get("Event") == "UserEvent" and event.get("UserEvent") == "LexcrmCall":
            if event.get("Sealed") and event.get("Linkedid"):
                self._sealed[event["Linkedid"]] = event["Sealed"]
        async with self._events:
            for domain_event in self._tracker.feed(event):
                await self._handle_safely(domain_event)

    async def _handle_safely(self, event: CallEvent) -> None:
        try:
            await self._handle(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            # One bad event must not stop the tracking of every other call.
            log.exception("call %s: %s not handled", event.linkedid, type(event).__name__)

    async def _handle(self, event: CallEvent) -> None:
        if isinstance(event, CallStarted):
            card = await self._calls.call_started(
                event.linkedid,
                event.direction,
                event.client_code,
                self._sealed.pop(event.linkedid, None),
                event.at,
                caller_extension=self._caller_extension(event.linkedid),
            )
            self._cards[event.linkedid] = card
            if card is not None and card.is_new:
                self._masks_dirty.set()  # the lead's next call is then recognised
        elif isinstance(event, CallRinging):
            await self._screen_pop(event)
        elif isinstance(event, CallAnswered):
            await self._calls.call_answered(event.linkedid, event.extension, event.at)
        elif isinstance(event, CallEnded):
            self._cards.pop(event.linkedid, None)
            self._sealed.pop(event.linkedid, None)
            self._attached_late.discard(event.linkedid)
            if event.inferred and self._cdr is not None:
                # Ended while we were cut off: the CDRs say how, so the record stays open
                # for reconciliation rather than being closed with a guess.
                self._reconcile_wanted.set()
            else:
                await self._calls.call_ended(
                    event.linkedid,
                    event.disposition,
                    event.answered_by,
                    event.at,
                    client_ringing_at=event.client_ringing_at,
                    queue=event.queue,
                )
            self._masks_dirty.set()  # sticky routing may have changed
        elif isinstance(event, RecordingReady):
            files = [self._config.host_path(name) for name in event.files]
            self._store_in_background(event.linkedid, files)
        self._publish(event)

    def _in_background(self, work: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background work of the controller failed")

        task = asyncio.create_task(guarded(), name="controller-background")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _store_in_background(
        self, linkedid: str, files: list[Path], *, abandoned: bool = False
    ) -> None:
        """Hand a call's files off outside the event path; the files are claimed at once,
        so no sweep takes them meanwhile, and a stopping controller waits for the work."""
        files = [path for path in files if path not in self._handing_off]
        if not files:
            return
        self._handing_off.update(files)

        async def store() -> None:
            try:
                await self._store_recording(linkedid, files, abandoned=abandoned)
            finally:
                self._handing_off.difference_update(files)

        self._in_background(store())

    async def _store_recording(
        self, linkedid: str, files: list[Path], *, abandoned: bool = False
    ) -> None:
        # The vault records what it stored in the recording ledger, a late part with the rest.
        await self._hand_off(linkedid, files, abandoned=abandoned)

    def _caller_extension(self, linkedid: str) -> str | None:
        """The desk phone whose channel started the call, if an employee's did."""
        view = self._tracker.call(linkedid)
        first = next((c for c in view.channels if c.uniqueid == linkedid), None) if view else None
        return first.extension if first else None

    async def _screen_pop(self, event: CallRinging) -> None:
        employee = await self._calls.employee_by_extension(event.extension)
        if employee is None:
            return
        if event.linkedid in self._cards:
            card = self._cards[event.linkedid]
        else:
            card = await self._calls.client_of_call(event.linkedid)
        self._publish(ScreenPop(employee.id, event.linkedid, event.at, card))

    # --- reconnects ----------------------------------------------------------------------
    def _on_ami_state(self, health: AmiHealth) -> None:
        if health.state == AmiState.CONNECTED:
            self._resync_wanted.set()
        else:
            self._synced = False

    async def _resync_after_connect(self) -> None:
        """After every (re)connect: what is live now, per Asterisk, replaces what we thought."""
        while True:
            await self._resync_wanted.wait()
            self._resync_wanted.clear()
            try:
                await self._resync()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("resync after reconnect failed (%s); retrying", type(error).__name__)
                await asyncio.sleep(5)
                if self._ami.health().state == AmiState.CONNECTED:
                    self._resync_wanted.set()

    async def _resync(self) -> None:
        messages = await self._ami.send_action({"Action": "CoreShowChannels"})
        channels = [
            {str(k): str(v) for k, v in dict(m).items()}
            for m in messages
            if dict(m).get("Event") == "CoreShowChannel"
        ]
        recovered = await self._recover_announcements(channels)
        async with self._events:
            for event in recovered:
                if self._started_unannounced(event):
                    await self._attach_client_late(event)
                    continue
                for domain_event in self._tracker.feed(event):
                    await self._handle_safely(domain_event)
            for domain_event in self._tracker.resync(channels, datetime.now(UTC)):
                await self._handle_safely(domain_event)
        # Now that the live calls are known, the CDRs tell what ended meanwhile.
        self._synced = True
        self._reconcile_wanted.set()

    async def _recover_announcements(self, channels: list[dict[str, str]]) -> list[dict[str, str]]:
        """The dialplan's announcements of calls we did not see start, rebuilt from the
        variables it also keeps on each call's first channel (direction, client, recording).
        """
        rebuilt = []
        now = f"{datetime.now(UTC).timestamp():.6f}"
        for channel in channels:
            linkedid = channel.get("Linkedid", "")
            if channel.get("Uniqueid") != linkedid or self._announced(linkedid):
                continue
            values = {}
            for variable in (
                "LEXCRM_DIRECTION",
                "LEXCRM_CODE",
                "LEXCRM_SEALED",
                "LEXCRM_RECORDING",
            ):
                values[variable] = await self._getvar(channel.get("Channel", ""), variable)
            base = {
                "Event": "UserEvent",
                "Channel": channel.get("Channel", ""),
                "Uniqueid": linkedid,
                "Linkedid": linkedid,
                "Timestamp": now,
            }
            if values["LEXCRM_SEALED"]:
                self._sealed[linkedid] = values["LEXCRM_SEALED"]  # an unknown caller: a lead
            if values["LEXCRM_DIRECTION"]:
                rebuilt.append(
                    base
                    | {
                        "UserEvent": "LexcrmCall",
                        "Direction": values["LEXCRM_DIRECTION"],
                        "Client": values["LEXCRM_CODE"],
                        "Sealed": values["LEXCRM_SEALED"],
                    }
                )
            if values["LEXCRM_RECORDING"]:
                recording = values["LEXCRM_RECORDING"]
                files = "^".join(f"{recording}-{part}.wav" for part in RECORDING_PARTS)
                rebuilt.append(base | {"UserEvent": "LexcrmRecording", "Files": files})
        return rebuilt

    def _announced(self, linkedid: str) -> bool:
        """Whether the tracker has what the dialplan's announcement says of this call.

        A call that began before the controller logged in is often first seen through a
        live event (a phone ringing, a hang-up) that comes before the resync: the tracker
        then knows the call but not its client, which only the announcement tells."""
        view = self._tracker.call(linkedid)
        if view is None:
            return False
        if linkedid in self._attached_late:
            return True
        return view.client_code is not None or view.direction is CallDirection.internal

    def _started_unannounced(self, announcement: Mapping[str, str]) -> bool:
        if announcement.get("UserEvent") != "LexcrmCall":
            return False
        view = self._tracker.call(announcement["Linkedid"])
        return view is not None and view.started

    async def _attach_client_late(self, announcement: Mapping[str, str]) -> None:
        """A call already recorded without its client: the recovered announcement names
        the client (a lead for an unknown caller), and the record takes it."""
        linkedid = announcement["Linkedid"]
        self._sealed.pop(linkedid, None)
        try:
            direction = CallDirection(announcement["Direction"].lower())
            view = self._tracker.call(linkedid)
            assert view is not None  # checked by the caller, under the same lock
            card = await self._calls.call_started(
                linkedid,
                direction,
                announcement.get("Client") or None,
                announcement.get("Sealed") or None,
                view.first_seen_at,
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the client of call %s could not be attached", linkedid)
            return
        self._attached_late.add(linkedid)  # a later reconnect need not ask again
        if card is not None:
            self._cards[linkedid] = card
            if card.is_new:
                self._masks_dirty.set()

    async def _getvar(self, channel: str, variable: str) -> str:
        try:
            messages = await self._ami.send_action(
                {"Action": "Getvar", "Channel": channel, "Variable": variable}
            )
        except (AmiUnavailable, AmiRequestFailed, TimeoutError):
            return ""
        value = str(dict(messages[0]).get("Value", "") or "") if messages else ""
        return "" if value == "(null)" else value

    # --- reconciliation from CDRs -------------------------------------------------------
    async def _reconcile_regularly(self) -> None:
        if self._cdr is None:
            return
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._config.reconcile_interval):
                    await self._reconcile_wanted.wait()
            self._reconcile_wanted.clear()
            if not self._synced:
                continue  # cut off from Asterisk, or not resynced yet: the tracker is stale
            try:
                await self.reconcile()
                await self.sweep_spool()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reconciliation from CDRs failed; will retry")

    async def sweep_spool(self) -> int:
        """Hand off recordings left in Asterisk's folder: quiet for long and of no live
        call, so no hand-off is coming for them (the call ended while nobody watched, or
        MixMonitor had not closed a file in time). No plaintext recording stays there."""
        spool = self._config.recordings_spool
        if spool is None or self._leftovers is None or not self._synced:
            return 0
        leftovers = await self._leftovers(spool, self._config.spool_quiet_seconds)
        live = self._tracker.active_calls()
        swept = 0
        for linkedid, files in leftovers.items():
            # The dialplan records on the call's first channel, whose unique id is the
            # call's linkedid: a file of a live call is never taken, nor one being handed
            # off already.
            files = [path for path in files if path not in self._handing_off]
            if linkedid in live or not files:
                continue
            self._store_in_background(linkedid, files, abandoned=True)
            swept += 1
        if swept:
            log.warning("%d calls' recordings were left in the spool; storing them", swept)
        return swept

    async def reconcile(self) -> int:
        """Record every call in the CDR file that the controller has no ended record of."""
        if self._cdr is None:
            return 0
        cdr_calls, offset = await asyncio.to_thread(self._cdr.read_new)
        rebuilt = 0
        async with self._events:
            live = self._tracker.active_calls()
            for call in cdr_calls.values():
                if call.linkedid in live:
                    # Still going (a queue attempt's leg is written before the end): kept
                    # for the next pass, with the lines still to come.
                    self._cdr.defer(call)
                    continue
                existing = await self._calls.get_call(call.linkedid)
                if existing is not None and existing.ended_at is not None:
                    if existing.client_id is None and (call.client_code or call.sealed_number):
                        # Ended before the resync could recover its announcement: the
                        # CDRs name the client the live events did not.
                        card = await self._calls.call_started(
                            call.linkedid,
                            call.direction or call.guessed_direction,
                            call.client_code,
                            call.sealed_number,
                            call.started_at,
                        )
                        if card is not None and card.is_new:
                            self._masks_dirty.set()
                    continue
                await self._rebuild(call)
                rebuilt += 1
        # Only now are these lines done with: a failure above reads them again next time.
        self._cdr.commit(offset)
        if rebuilt:
            log.info("rebuilt %d calls from CDRs", rebuilt)
            self._masks_dirty.set()
        return rebuilt

    async def _rebuild(self, call: CdrCall) -> None:
        await self._calls.call_started(
            call.linkedid,
            call.direction or call.guessed_direction,
            call.client_code,
            call.sealed_number,
            call.started_at,
            reconciled=True,
        )
        if call.answered_by is not None and call.answered_at is not None:
            await self._calls.call_answered(call.linkedid, call.answered_by, call.answered_at)
        await self._calls.call_ended(
            call.linkedid, call.disposition, call.answered_by, call.ended_at
        )
        files = [self._config.host_path(name) for name in call.recording_files]
        files = [path for path in files if path.exists()]
        if files:
            self._store_in_background(call.linkedid, files)

    # --- masking table -------------------------------------------------------------------
    async def _keep_masks_current(self) -> None:
        while True:
            # Events mark the table dirty; clients added in the CRM are picked up within
            # MASKS_REFRESH_SECONDS even when no call event says so.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(MASKS_REFRESH_SECONDS):
                    await self._masks_dirty.wait()
            self._masks_dirty.clear()
            try:
                await self.write_masks()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the masking table was not written; will retry")
                await asyncio.sleep(5)
                self._masks_dirty.set()

    async def write_masks(self) -> None:
        # One writer at a time: an older snapshot must never be written after a newer one.
        async with self._masks_lock:
            rows = await self._calls.masking_rows()
            entries = rows
            if entries == self._masked_entries:
                return  # nothing changed: the dialplan's cached copy stays valid
            await asyncio.to_thread(write_mask_table, self._config.masks_file, entries)
            self._masked_entries = entries
            self._masked_codes = {entry.client_code for entry in entries}
        log.info("masking table written: %d numbers", len(entries))

    # --- click-to-call -------------------------------------------------------------------
    async def _place_clicks(self, click_requests: asyncio.Queue[object]) -> None:
        # The bus wakes us at once; the stored requests are also polled, so that clicks
        # stored while we were away, or by a web process elsewhere, are placed too.
        while True:
            try:
                for request in await self._clicks.unfinished():
                    if request.status == ClickToCallStatus.pending:
                        await self.place_click(request.id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("stored click-to-call requests could not be read")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLICK_POLL_SECONDS):
                    item = await click_requests.get()
                    if isinstance(item, ClickToCallRequested):
                        await self.place_click(item.request_id)

    async def place_click(self, request_id: str) -> None:
        """Ring the employee's phone; once answered, the dialplan dials the client.

        The channel id is derived from the request, so whatever happens — a retry, a
        restart between sending and recording that it was sent — Asterisk refuses a
        second channel with that id while the call exists, and an old 'sending' request is
        checked against Asterisk before anything is sent again.
        """
        try:
            await self._place_click(request_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("click-to-call %s failed", request_id)
            # Failed only if it never reached Asterisk: an error after the originate must
            # not invite the employee to click again and dial the client twice.
            with contextlib.suppress(Exception):
                if await self._calls.get_call(f"c2c-{request_id}") is None:
                    await self._clicks.finish(
                        request_id, ClickToCallStatus.failed, "внутренняя ошибка"
                    )

    async def _place_click(self, request_id: str) -> None:
        request = await self._clicks.claim(request_id)
        if request is None:
            await self._settle_interrupted(request_id)
            return
        if datetime.now(UTC) - request.created_at > CLICK_TO_CALL_MAX_AGE:
            await self._clicks.finish(request.id, ClickToCallStatus.failed, "запрос устарел")
            return
        employee, client = await self._clicks.employee_and_client(request)
        if employee is None or client is None or not employee.sip_extension:
            await self._clicks.finish(
                request.id, ClickToCallStatus.failed, "нет телефона сотрудника или клиента"
            )
            return
        if client.code not in self._masked_codes:
            await self.write_masks()  # a client added a moment ago: the dialplan needs it
        if client.code not in self._masked_codes:
            await self._clicks.finish(request.id, ClickToCallStatus.failed, "у клиента нет номера")
            return
        name = _caller_id_name(client.short_name)
        async with AriClient(self._config.ari) as ari:
            if await ari.get_channel(request.channel_id) is not None:
                await self._clicks.finish(request.id, ClickToCallStatus.originated)
                return
            try:
                await ari.originate_to_dialplan(
                    endpoint=f"PJSIP/{employee.sip_extension}",
                    context="lexcrm-call-client",
                    extension=client.code,
                    channel_id=request.channel_id,
                    caller_id=f'"{name}" <{client.code}>',
                    timeout_seconds=self._config.click_to_call_ring_seconds,
                )
            except ChannelIdInUse:
                pass  # placed already by an earlier attempt: exactly what we want
            except AriUnavailable as error:
                # No answer in time does not mean nothing happened: look before failing.
                if await ari.get_channel(request.channel_id) is None:
                    await self._clicks.finish(
                        request.id, ClickToCallStatus.failed, f"Asterisk: {type(error).__name__}"
                    )
                    return
            except AriError as error:
                await self._clicks.finish(
                    request.id, ClickToCallStatus.failed, f"Asterisk: {type(error).__name__}"
                )
                return
        await self._clicks.finish(request.id, ClickToCallStatus.originated)

    async def _settle_interrupted(self, request_id: str) -> None:
        """A request left 'sending' by a crash: find out whether it went out; never resend.

        Sending again could ring the client a second time if the first call has already
        ended (its channel id is free again), so an unconfirmed request is marked failed
        and the employee clicks again if the call did not happen.
        """
        request = next((r for r in await self._clicks.unfinished() if r.id == request_id), None)
        if request is None or request.status != ClickToCallStatus.sending:
            return  # done already, or another worker is placing it right now
        async with AriClient(self._config.ari) as ari:
            live = await ari.get_channel(request.channel_id) is not None
        if live or await self._calls.get_call(request.channel_id) is not None:
            await self._clicks.finish(request.id, ClickToCallStatus.originated)
        else:
            await self._clicks.finish(request.id, ClickToCallStatus.failed, "не подтверждён")


def _caller_id_name(name: str) -> str:
    return "".join(ch for ch in name if ch not in '"<>\\\r\n')[:40]
