"""Screen-pop latency: from the operator's phone ringing to the client card in the browser.

Run as root from the repository root (nothing else needs to be running):

    .venv/bin/python -m benchmarks.screen_pop --calls 50 [--json FILE]

It starts its own firm PBX (Asterisk) and carrier simulator on free loopback ports under a
unique instance name, one sipp desk phone (an operator in the call-centre queue, reached by a
static contact, answering every call), and in this process the CRM database, the call
controller and the web interface on a free port. A "browser" runs in a child process: it logs
in as the operator and keeps the /ws websocket open. The carrier then places the calls one
after another: half from a known client (in the CRM, so in the masking table), half from new
numbers (each becomes a lead). Every number is made up at run time.

Per call:
  t0 = the `Timestamp` header (Asterisk's own clock, `timestampevents = yes`) of the PBX's
       AMI `DialBegin` event whose DestChannel is the operator's `PJSIP/<ext>-…` channel,
       i.e. the moment Asterisk starts ringing the phone. The later `Newstate` (ChannelState
       5, Ringing: the phone's 180 arrived) is reported as a second row;
  t1 = `time.time()` in the browser process when the call's `screen-pop` message (matched
       by linkedid) arrives on its websocket;
  latency = t1 - t0 (same machine, same clock).

Pacing: one call at a time. The next call is placed once this one's pop arrived, all its
channels hung up, and the queue's wrap-up (`wrapuptime = 5` in queues.conf, counted by
app_queue from the member's LastCall in whole seconds) is over, as QueueStatus tells. The
firm answers before the queue, so the caller's talk time (1.5 s by default) starts then;
a call then takes 6 s from one placement to the next, about 5.5 min for 50 calls + 1 warm-up.
(2 s of talk would cost 7 s a call: the call would end past a whole second.)

Percentiles are nearest-rank over the measured calls (with 50 calls p99 is the maximum).
Everything it started is stopped and its folders removed at the end, also on failure,
Ctrl+C or SIGTERM. This is not a test: pytest does not collect it (testpaths = tests).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import platform
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import aiohttp

from crm.core.roles import Role
from lexcrm.asterisk_runtime import AsteriskRuntime, SipPhone, carrier_simulator
from lexcrm.services import open_services
from lexcrm.settings import Settings
from lexcrm.wiring import run_controller, serve_web
from tests.conftest import asterisk_test_settings
from tests.support.ami import ami_session
from tests.support.ports import free_tcp_port
from tests.support.sipp import SippPhone

REPO_ROOT = Path(__file__).resolve().parent.parent
OPERATOR_EXTENSION = "1003"
OPERATOR_LOGIN = "operator"
QUEUE = "lexcrm-callcentre"
RING_EVENT = "DialBegin"
KNOWN_CLIENT_NAME = "Бенчмарков Игорь Семёнович"
_CSRF_FIELD = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]*)">')
T = TypeVar("T")


class BenchmarkError(Exception):
    """The benchmark cannot go on; the message says why."""


# --- set-up -----------------------------------------------------------------------------


def benchmark_settings(data_dir: Path, instance: str, ring_seconds: int) -> Settings:
    """The tests' Asterisk settings (free ports, a key file), but calls reach the queue at once."""
    return asterisk_test_settings(data_dir, instance).with_overrides(
        web_port=free_tcp_port(), recording_notice=False, ring_seconds=ring_seconds
    )


class FictionalNumbers:
    """Made-up Russian mobile numbers (+7 921 555-xx-xx, as the tests use), never repeated."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def fresh(self) -> str:
        for _ in range(1000):
            number = f"+7921555{secrets.randbelow(10_000):04d}"
            if number not in self._used:
                self._used.add(number)
                return number
        raise BenchmarkError("no unused made-up number left")


def queue_wrapup_seconds(pbx: AsteriskRuntime) -> int:
    """`wrapuptime` of the call-centre queue as rendered: the operator's pause after a call."""
    text = (pbx.etc_dir / "queues.conf").read_text(encoding="utf-8")
    section = text.split(f"[{QUEUE}]", 1)[-1].split("\n[", 1)[0]
    match = re.search(r"^\s*wrapuptime\s*=\s*(\d+)", section, re.MULTILINE)
    return int(match.group(1)) if match else 0


# --- what the PBX reports ------------------------------------------------------------------


class PbxWatcher:
    """The PBX's AMI events that matter here, from the benchmark's own AMI link."""

    def __init__(self, extension: str) -> None:
        self._operator = f"PJSIP/{extension}-"
        self.dial_begins: list[tuple[str, float]] = []  # (linkedid, Timestamp) in order
        self.ringing: dict[str, float] = {}  # linkedid → Timestamp of Newstate 5 (Ringing)
        self.live: dict[str, set[str]] = {}  # linkedid → uniqueids of its live channels
        self.ended: dict[str, float] = {}  # linkedid → Timestamp of its last channel's Hangup
        self.missing_timestamps = 0

    def on_event(self, _manager: Any, message: Any) -> None:
        event = {str(key): str(value) for key, value in dict(message).items()}
        name = event.get("Event", "")
        raw = event.get("Timestamp", "")
        try:
            at = float(raw)
        except ValueError:
            self.missing_timestamps += 1
            at = math.nan
        if name == "DialBegin" and event.get("DestChannel", "").startswith(self._operator):
            self.dial_begins.append((event.get("DestLinkedid", ""), at))
        elif (
            name == "Newstate"
            and event.get("Channel", "").startswith(self._operator)
            and event.get("ChannelState") == "5"
        ):
            self.ringing.setdefault(event.get("Linkedid", ""), at)
        elif name == "Newchannel":
            self.live.setdefault(event.get("Linkedid", ""), set()).add(event.get("Uniqueid", ""))
        elif name == "Hangup":
            linkedid = event.get("Linkedid", "")
            channels = self.live.get(linkedid)
            if channels is not None:
                channels.discard(event.get("Uniqueid", ""))
                if not channels:
                    del self.live[linkedid]
                    self.ended[linkedid] = at


# --- the browser ---------------------------------------------------------------------------


async def browser_main(base_url: str, login: str) -> None:
    """The child process: logs in, opens /ws, prints one JSON line per message received."""
    password = sys.stdin.readline().rstrip("\n")
    jar = aiohttp.CookieJar(unsafe=True)  # cookies of 127.0.0.1 (an IP address) too
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(base_url + "login") as response:
            match = _CSRF_FIELD.search(await response.text())
        if match is None:
            raise BenchmarkError("the login page has no csrf_token field")
        form = {"csrf_token": match.group(1), "login": login, "password": password}
        async with session.post(base_url + "login", data=form, allow_redirects=False) as response:
            if response.status != 303:
                raise BenchmarkError(f"login as {login} failed: HTTP {response.status}")
        async with session.ws_connect(base_url + "ws") as socket:
            print("ready", flush=True)
            async for message in socket:
                received = time.time()  # t1, before anything else is done with the message
                if message.type == aiohttp.WSMsgType.TEXT:
                    print(json.dumps({"t1": received, "data": message.data}), flush=True)


class Browser:
    """The browser child process, seen from the benchmark: the screen-pops it received."""

    def __init__(self) -> None:
        self.pops: dict[str, tuple[float, dict[str, Any]]] = {}  # linkedid → (t1, message)
        self.other_messages = 0
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self, base_url: str, login: str, password: str) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.screen_pop",
            "--browser",
            base_url,
            "--login",
            login,
            cwd=REPO_ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(password.encode() + b"\n")  # not on the command line
        await self._process.stdin.drain()
        self._process.stdin.close()
        async with asyncio.timeout(30):
            line = await self._process.stdout.readline()
        if line.strip() != b"ready":
            raise BenchmarkError("the browser process did not log in and open /ws")
        self._reader = asyncio.create_task(self._read(self._process.stdout))

    async def _read(self, stdout: asyncio.StreamReader) -> None:
        async for line in stdout:
            record = json.loads(line)
            message = json.loads(record["data"])
            if isinstance(message, dict) and message.get("type") == "screen-pop":
                self.pops.setdefault(str(message.get("linkedid")), (record["t1"], message))
            else:
                self.other_messages += 1

    def alive(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            try:
                async with asyncio.timeout(5):
                    await self._process.wait()
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


# --- one run --------------------------------------------------------------------------------


@dataclass
class CallResult:
    index: int  # 0-based; warm-up calls first
    warmup: bool
    caller: str  # "known" client or "new" lead (the number itself is not kept)
    linkedid: str | None = None
    placed_at: float | None = None
    dial_begin: float | None = None  # t0
    ringing: float | None = None  # Newstate 5 on the operator's channel
    pop_received: float | None = None  # t1
    card_ok: bool | None = None
    ended: bool = False

    @property
    def latency_ms(self) -> float | None:
        if self.dial_begin is None or self.pop_received is None:
            return None
        return (self.pop_received - self.dial_begin) * 1000

    @property
    def latency_from_ringing_ms(self) -> float | None:
        if self.ringing is None or self.pop_received is None:
            return None
        return (self.pop_received - self.ringing) * 1000


@dataclass
class RunConfig:
    calls: int
    warmup: int
    talk_seconds: float
    ring_seconds: int
    keep: bool
    results: list[CallResult] = field(default_factory=list)


async def until(check: Callable[[], T | None], within: float, interval: float = 0.005) -> T | None:
    """`check()` once it is truthy, or None after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(interval)


async def place_call(carrier_ami: Any, carrier: AsteriskRuntime, caller: str, talk: float) -> None:
    """The carrier calls the firm from `caller` (as tests' call_the_firm); the caller hangs
    up `talk` seconds after the firm answers (which it does before the queue)."""
    response = await carrier_ami.send_action(
        {
            "Action": "Originate",
            "Channel": f"PJSIP/{carrier.settings.firm_number.lstrip('+')}@lexcrm",
            "CallerID": f"<{caller}>",
            "Context": "carrier-client-speaks",
            "Exten": "s",
            "Priority": "1",
            "Variable": f"TALK_SECONDS={talk:g}",
            "Timeout": "30000",
            "Async": "true",
        }
    )
    first = response[0] if isinstance(response, list) else response
    if first.Response != "Success":
        raise BenchmarkError(f"the carrier simulator refused the call: {first.Message}")


async def wait_operator_free(pbx_ami: Any, extension: str, queue_wrapup: int) -> None:
    """Until the queue will ring the operator again: app_queue keeps a member in wrap-up for
    `wrapuptime` seconds after a call, counted from LastCall (whole seconds)."""
    response = await pbx_ami.send_action({"Action": "QueueStatus", "Queue": QUEUE})
    messages = response if isinstance(response, list) else [response]
    free_at = time.time() + queue_wrapup + 0.2  # if Asterisk says nothing: the whole wrap-up
    for message in messages:
        member = {str(k): str(v) for k, v in dict(message).items()}
        if member.get("Event") != "QueueMember":
            continue
        if not member.get("Location", member.get("StateInterface", "")).endswith(extension):
            continue
        wrapup = int(member.get("Wrapuptime", "0") or 0) or queue_wrapup
        last_call = int(member.get("LastCall", "0") or 0)
        free_at = last_call + wrapup + 0.1
    delay = free_at - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


async def controller_connected(pbx: AsteriskRuntime, own_links: int) -> bool:
    """True once the controller's AMI link is up next to the benchmark's own."""
    output = await asyncio.to_thread(pbx.rx, "manager show connected")
    match = re.search(r"(\d+) users? connected", output)
    return match is not None and int(match.group(1)) > own_links


async def measure(
    pbx: AsteriskRuntime, carrier: AsteriskRuntime, phone: SippPhone, run: RunConfig
) -> None:
    settings = pbx.settings
    password = secrets.token_urlsafe(16)
    numbers = FictionalNumbers()
    known_number = numbers.fresh()
    queue_wrapup = queue_wrapup_seconds(pbx)
    async with open_services(settings) as core:
        await core.staff.create_employee(
            OPERATOR_LOGIN,
            "Оператор Бенчмарк",
            Role.operator,
            password,
            sip_extension=OPERATOR_EXTENSION,
        )
        known = await core.clients.add_client(KNOWN_CLIENT_NAME, [known_number])
        controller = asyncio.create_task(run_controller(settings, core), name="controller")
        browser = Browser()
        try:
            async with (
                serve_web(settings, core) as base_url,
                ami_session(pbx) as (pbx_ami, _pbx_log),
                ami_session(carrier) as (carrier_ami, _carrier_log),
            ):
                watcher = PbxWatcher(OPERATOR_EXTENSION)
                pbx_ami.register_event("*", watcher.on_event)
                # The controller writes the masking table at start: the known client is in it.
                known_line = f"code = {known.code}"
                if not await until(
                    lambda: known_line in _read(pbx.masks_file), within=30, interval=0.1
                ):
                    raise BenchmarkError("the controller did not write the masking table")
                for _ in range(100):
                    if controller.done():
                        controller.result()  # raises what stopped it
                        raise BenchmarkError("the controller stopped")
                    if await controller_connected(pbx, own_links=1):
                        break
                    await asyncio.sleep(0.2)
                else:
                    raise BenchmarkError("the controller did not connect to AMI")
                await browser.start(base_url, OPERATOR_LOGIN, password)
                phone.start()
                print(
                    f"Ready: {run.warmup} warm-up call(s), then {run.calls} measured; "
                    f"ringing event: {RING_EVENT}.",
                    flush=True,
                )
                total = run.warmup + run.calls
                for index in range(total):
                    if controller.done():
                        controller.result()
                        raise BenchmarkError("the controller stopped")
                    if not browser.alive():
                        raise BenchmarkError("the browser process exited")
                    warmup = index < run.warmup
                    measured = index - run.warmup
                    caller = "known" if not warmup and measured % 2 == 0 else "new"
                    number = known_number if caller == "known" else numbers.fresh()
                    result = CallResult(index, warmup, caller)
                    run.results.append(result)
                    await one_call(
                        result, number, known.code, watcher, browser, carrier_ami, carrier, run
                    )
                    label = "warm-up" if warmup else f"call {measured + 1}/{run.calls}"
                    latency = result.latency_ms
                    shown = f"{latency:7.1f} ms" if latency is not None else "   NO POP"
                    if result.dial_begin is None:
                        shown = "   NOT RUNG"
                    print(f"{label:>14} ({caller:5}): {shown}", flush=True)
                    if index + 1 < total:
                        await wait_operator_free(pbx_ami, OPERATOR_EXTENSION, queue_wrapup)
                if watcher.missing_timestamps:
                    raise BenchmarkError("AMI events without Timestamp: timestampevents is off")
        finally:
            await browser.stop()
            controller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await controller


async def one_call(
    result: CallResult,
    number: str,
    known_code: str,
    watcher: PbxWatcher,
    browser: Browser,
    carrier_ami: Any,
    carrier: AsteriskRuntime,
    run: RunConfig,
) -> None:
    seen = len(watcher.dial_begins)
    result.placed_at = time.time()
    await place_call(carrier_ami, carrier, number, run.talk_seconds)
    dial = await until(
        lambda: watcher.dial_begins[seen] if len(watcher.dial_begins) > seen else None,
        within=run.talk_seconds + 10,
    )
    if dial is None:
        await asyncio.sleep(run.talk_seconds + 2)  # let the unrung call end before the next
        return
    linkedid, result.dial_begin = dial
    result.linkedid = linkedid
    pop = await until(lambda: browser.pops.get(linkedid), within=run.talk_seconds + 10)
    result.ended = await until(lambda: watcher.ended.get(linkedid), within=60) is not None
    result.ringing = watcher.ringing.get(linkedid)
    if pop is None:
        return
    result.pop_received, message = pop
    card = message.get("client") or {}
    if result.caller == "known":
        result.card_ok = card.get("code") == known_code and card.get("is_new") is False
    else:
        result.card_ok = card.get("is_new") is True


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


# --- the report ----------------------------------------------------------------------------


def nearest_rank(sorted_values: Sequence[float], percent: float) -> float:
    rank = max(1, math.ceil(percent / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "p50": None, "p90": None, "p99": None, "max": None, "min": None}
    return {
        "count": len(ordered),
        "p50": round(nearest_rank(ordered, 50), 2),
        "p90": round(nearest_rank(ordered, 90), 2),
        "p99": round(nearest_rank(ordered, 99), 2),
        "max": round(ordered[-1], 2),
        "min": round(ordered[0], 2),
    }


def machine() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def build_report(run: RunConfig, seconds: float, asterisk_version: str) -> dict[str, Any]:
    measured = [r for r in run.results if not r.warmup]

    def latencies(calls: Sequence[CallResult]) -> list[float]:
        return [r.latency_ms for r in calls if r.latency_ms is not None]

    rung = [r for r in measured if r.dial_begin is not None]
    return {
        "benchmark": "screen-pop latency (operator's phone rings → card in the browser)",
        "t0": f"PBX AMI {RING_EVENT} Timestamp, DestChannel PJSIP/{OPERATOR_EXTENSION}-…",
        "t1": "time.time() in the browser process when the screen-pop message arrives",
        "percentiles": "nearest rank",
        "calls_placed": len(measured),
        "calls_rung": len(rung),
        "pops_missing": sum(1 for r in rung if r.pop_received is None),
        "wrong_cards": sum(1 for r in measured if r.card_ok is False),
        "calls_not_ended": sum(1 for r in rung if not r.ended),
        "warmup_calls": run.warmup,
        "talk_seconds": run.talk_seconds,
        "latency_ms": summary(latencies(measured)),
        "latency_ms_known_client": summary(latencies([r for r in measured if r.caller == "known"])),
        "latency_ms_new_lead": summary(latencies([r for r in measured if r.caller == "new"])),
        "latency_ms_from_newstate_ringing": summary(
            [r.latency_from_ringing_ms for r in measured if r.latency_from_ringing_ms is not None]
        ),
        "machine": machine() | {"asterisk": asterisk_version},
        "duration_seconds": round(seconds, 1),
        "calls": [
            asdict(r)
            | {"latency_ms": r.latency_ms, "latency_from_ringing_ms": r.latency_from_ringing_ms}
            for r in run.results
        ],
    }


def print_report(report: dict[str, Any]) -> None:
    def cell(value: float | int | None) -> str:
        return "—" if value is None else f"{value:.1f}"

    rows = [
        (f"{RING_EVENT} → pop", report["latency_ms"]),
        ("  known client", report["latency_ms_known_client"]),
        ("  new lead", report["latency_ms_new_lead"]),
        ("Newstate Ringing → pop", report["latency_ms_from_newstate_ringing"]),
    ]
    print()
    print(
        f"Screen-pop latency, {report['calls_placed']} calls "
        f"({report['warmup_calls']} warm-up not counted)"
    )
    print(f"t0: {report['t0']}")
    print(f"t1: {report['t1']}")
    print(f"{'':24} {'count':>5} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}  (ms)")
    for label, stats in rows:
        print(
            f"{label:24} {stats['count']:>5} {cell(stats['p50']):>8} {cell(stats['p90']):>8} "
            f"{cell(stats['p99']):>8} {cell(stats['max']):>8}"
        )
    print(
        f"missing pops: {report['pops_missing']}   calls never rung: "
        f"{report['calls_placed'] - report['calls_rung']}   wrong cards: {report['wrong_cards']}"
    )
    m = report["machine"]
    print(
        f"machine: {m['nproc']} × {m['cpu_model']}, Linux {m['kernel']}, "
        f"Python {m['python']}, {m['asterisk']}"
    )
    print(f"duration: {report['duration_seconds']:.0f} s")


# --- main ----------------------------------------------------------------------------------


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.screen_pop",
        description=__doc__.split("\n", 1)[0] if __doc__ else None,
    )
    parser.add_argument("--calls", type=int, default=50, help="measured calls (default 50)")
    parser.add_argument("--warmup", type=int, default=1, help="calls first, not counted (1)")
    parser.add_argument(
        "--talk-seconds",
        type=float,
        default=1.5,
        help="the caller hangs up this long after the firm answers (1.5)",
    )
    parser.add_argument("--ring-seconds", type=int, default=5, help="queue ring timeout (5)")
    parser.add_argument("--json", type=Path, help="also write the report (with every call) here")
    parser.add_argument("--keep", action="store_true", help="keep the run folders (debugging)")
    parser.add_argument("--browser", help=argparse.SUPPRESS)  # the child process's mode
    parser.add_argument("--login", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.browser:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(browser_main(args.browser, args.login))
        return 0
    if args.calls < 1:
        print("--calls must be at least 1", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="lexcrm-bench-"))
    instance = f"bench-{os.getpid()}-{secrets.token_hex(3)}"
    run = RunConfig(args.calls, args.warmup, args.talk_seconds, args.ring_seconds, args.keep)
    pbx: AsteriskRuntime | None = None
    carrier: AsteriskRuntime | None = None
    phone: SippPhone | None = None
    try:
        settings = benchmark_settings(workdir / "var", instance, args.ring_seconds)
        phone = SippPhone(workdir / "sipp-operator", calls=args.calls + args.warmup)
        operator = SipPhone(
            OPERATOR_EXTENSION,
            secrets.token_urlsafe(12),
            "Оператор Бенчмарк",
            in_queue=True,
            static_contact=phone.contact(OPERATOR_EXTENSION),
        )
        pbx = AsteriskRuntime(settings, phones=(operator,))
        carrier = carrier_simulator(settings)
        print(f"Starting Asterisk {instance} and its carrier simulator…", flush=True)
        pbx.up()
        carrier.up()
        version = pbx.rx("core show version").split(" built by")[0].strip()
        asyncio.run(measure(pbx, carrier, phone, run))
    except KeyboardInterrupt:
        print("\nInterrupted: stopping everything.", file=sys.stderr)
        return 130
    except BenchmarkError as error:
        print(f"Benchmark failed: {error}", file=sys.stderr)
        return 1
    finally:
        if phone is not None:
            phone.stop()
        for runtime in (carrier, pbx):
            if runtime is not None:
                with contextlib.suppress(Exception):
                    runtime.down()
                if not args.keep:
                    shutil.rmtree(runtime.run_dir, ignore_errors=True)
        if args.keep:
            print(f"Kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report = build_report(run, time.monotonic() - started, version)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    return 0 if report["pops_missing"] == 0 and report["calls_rung"] == args.calls else 1


if __name__ == "__main__":
    sys.exit(main())
