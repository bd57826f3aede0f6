"""Page speed: every GET page of the web interface, timed server-side, on a firm of 60,000 clients.

Run from the repository root (nothing else needs to be running):

    .venv/bin/python -m benchmarks.pages [--clients 60000] [--requests 20] [--json FILE]

The database: `lexcrm.demo_data` generates the firm (60,000 clients by default, with their
year of calls, visits, contracts, payments, hearings and notes) into a fresh SQLite file
migrated to the current schema. The file and its key file are cached under
/var/cache/lexcrm/bench-pages (or the temporary folder if that is not writable), keyed by
the generator version, the size, the seed, the date and the schema's head revision, so a
re-run the same day starts at once. Each run works on a copy: page views write the journal.

The application: the real one, `lexcrm.wiring.open_services` + `build_web_app`, served in this
process on a free loopback port, with one extra outermost middleware that takes the time
from the request reaching the application to the handler's response being ready (the
session check, the permission check, the journal write, the queries and the template are
all inside; the network and the client are not).

The pages: every GET route of the application, found in its router (so pages added later
are measured without touching this script); the websocket and static files are left out.
A route with an id gets a real one: the client, contract, lawyer or call with the most
history (the heaviest card), among the employee's own for a lawyer. Each page is fetched
once to find its GET forms and tab links; from those come the variants with the heaviest
filters the form offers: a name part, a contract number part, a period of a whole year,
the busiest employee, and all of them together. The director and a lawyer are measured on
every variant; the other jobs on their pages without filters. A page a job may not open
(403) is listed, not timed.

Per page: 2 warm-up requests, then --requests timed ones (fewer if a page takes more than
--max-seconds in all); nearest-rank p50 and p95, and the maximum. A p95 above 150 ms is
flagged, and with --explain the slowest SQL statements of one request of each flagged page
are printed with SQLite's EXPLAIN QUERY PLAN. This is not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html.parser
import json
import logging
import math
import os
import platform
import re
import shutil
import socket
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import aiohttp
from aiohttp import web
from alembic.script import ScriptDirectory
from sqlalchemy import event

from crm.core.crypto import KeyRing
from crm.core.db import alembic_config, upgrade_database_async
from crm.core.formatting import FIRM_TIMEZONE
from crm.core.roles import Role
from lexcrm.demo_data.generator import generate_firm
from lexcrm.demo_data.plan import DEMO_PASSWORD, GENERATOR_VERSION, FirmPlan
from lexcrm.demo_data.vocabulary import LOGIN_PREFIX
from lexcrm.services import Services, open_services
from lexcrm.settings import Settings
from lexcrm.wiring import build_web_app, tune_collector_for_serving

TARGET_P95_MS = 150.0
WARMUP_REQUESTS = 2
CACHE_ROOTS = (
    Path("/var/cache/lexcrm/bench-pages"),
    Path(tempfile.gettempdir()) / "lexcrm-bench-pages",
)
NAME_PART = "ова"  # in most women's surnames and patronymics: the broadest name search
NUMBER_PART = "12"  # in about one contract number in ten
# Form fields that narrow a list to one employee, and fields searched by a name part.
EMPLOYEE_FIELDS = frozenset({"employee", "lawyer", "representative", "cashier", "operator"})
NAME_FIELDS = frozenset({"q", "name", "client", "client_name", "search"})
NUMBER_FIELDS = frozenset({"number", "contract_number"})
FULLY_MEASURED = (Role.director, Role.lawyer)
# The websocket is no page; static files (left out too) are the web server's, not the CRM's.
NOT_PAGES = frozenset({"/ws"})


class BenchmarkError(Exception):
    """The benchmark cannot go on; the message says why."""


class OneLineErrors(logging.Filter):
    """A page that fails is reported by its status; its error is shown once, on one line."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            record.msg, record.args, record.exc_info = f"{type(error).__name__}: {error}", (), None
            record.msg = record.msg.splitlines()[0][:300]
        if record.getMessage() in self._seen:
            return False
        self._seen.add(record.getMessage())
        return True


# --- the database ---------------------------------------------------------------------------


def schema_head() -> str:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return str(script.get_current_head())


def cache_folder(clients: int, seed: int, today: date) -> Path:
    key = f"g{GENERATOR_VERSION}-{clients}c-seed{seed}-{today.isoformat()}-schema{schema_head()}"
    for root in CACHE_ROOTS:
        with contextlib.suppress(OSError):
            root.mkdir(parents=True, exist_ok=True)
            if os.access(root, os.W_OK):
                return root / key
    raise BenchmarkError("no writable cache folder: " + ", ".join(map(str, CACHE_ROOTS)))


def settings_for(folder: Path, web_port: int = 0) -> Settings:
    return Settings(
        data_dir=folder, key_file=folder / "lexcrm.keys", web_port=web_port, log_level="WARNING"
    )


async def build_database(folder: Path, clients: int, seed: int) -> dict[str, Any]:
    """Generate the firm into `folder` (a new one); returns what was made and how fast."""
    settings = settings_for(folder)
    KeyRing.create_file(settings.key_file)
    started = time.monotonic()
    await upgrade_database_async(settings.database)
    async with open_services(settings, migrate=False) as core:
        summary = await generate_firm(core, FirmPlan(clients=clients, seed=seed))
    # The copy each run takes must hold everything: fold the write-ahead log into the file.
    with sqlite3.connect(folder / "lexcrm.sqlite3") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {
        "rows": summary.rows,
        "generate_seconds": round(summary.seconds, 1),
        "build_seconds": round(time.monotonic() - started, 1),
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "built_at": datetime.now(FIRM_TIMEZONE).isoformat(timespec="seconds"),
    }


async def cached_database(clients: int, seed: int, rebuild: bool) -> tuple[Path, dict[str, Any]]:
    today = datetime.now(FIRM_TIMEZONE).date()
    folder = cache_folder(clients, seed, today)
    meta_file = folder / "meta.json"
    if rebuild:
        shutil.rmtree(folder, ignore_errors=True)
    if meta_file.exists():
        print(f"Database from the cache: {folder}", flush=True)
        return folder, json.loads(meta_file.read_text())
    print(f"Building the database ({clients:,} clients) into {folder} …", flush=True)
    building = folder.with_name(folder.name + f".building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    try:
        meta = await build_database(building, clients, seed)
        (building / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2))
        building.rename(folder)  # whole or not at all: a killed build leaves no cache entry
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return folder, meta


def working_copy(cached: Path, workdir: Path) -> Settings:
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached / "lexcrm.sqlite3", workdir / "lexcrm.sqlite3")
    shutil.copyfile(cached / "lexcrm.keys", workdir / "lexcrm.keys")
    (workdir / "lexcrm.keys").chmod(0o600)
    return settings_for(workdir)


# --- what to request ------------------------------------------------------------------------


class Database:
    """Read-only look-ups of the benchmark's own: which ids are the heaviest to show."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(self._path)) as db:
            return db.execute(sql, params).fetchall()

    def value(self, sql: str, *params: object) -> int | None:
        found = self.rows(sql, *params)
        return None if not found or found[0][0] is None else int(found[0][0])

    def employee(self, login: str) -> tuple[int, Role]:
        found = self.rows("SELECT id, role FROM employees WHERE login = ?", login)
        if not found:
            raise BenchmarkError(f"no employee {login!r} in the generated firm")
        return int(found[0][0]), Role(found[0][1])

    def busyness(self) -> dict[int, int]:
        """Rows each employee is named in: the busiest one makes the heaviest filter."""
        counts: dict[int, int] = {}
        for table, column in (
            ("calls", "employee_id"),
            ("contracts", "lawyer_id"),
            ("visits", "booked_by_id"),
            ("visits", "lawyer_id"),
            ("hearings", "representative_id"),
            ("payments", "cashier_id"),
            ("accruals", "lawyer_id"),
            ("journal", "employee_id"),
        ):
            for employee_id, count in self.rows(
                f"SELECT {column}, count(*) FROM {table} WHERE {column} IS NOT NULL "  # noqa: S608
                f"GROUP BY {column}"
            ):
                counts[int(employee_id)] = counts.get(int(employee_id), 0) + int(count)
        return counts

    def heaviest_id(self, placeholder: str, me: int, role: Role) -> int | None:
        """A real id for a route's {placeholder}, the one with the most to show; for a
        lawyer among their own, for a court representative among those they represent."""
        own_clients = {
            Role.lawyer: "c.lawyer_id = ?",
            Role.court_representative: (
                "c.id IN (SELECT k.client_id FROM contracts k JOIN hearings h "
                "ON h.contract_id = k.id WHERE h.representative_id = ?)"
            ),
        }
        own_contracts = {
            Role.lawyer: "k.lawyer_id = ?",
            Role.court_representative: (
                "k.id IN (SELECT contract_id FROM hearings WHERE representative_id = ?)"
            ),
        }
        if placeholder == "client_id":
            where = own_clients.get(role)
            return self.value(
                "SELECT c.id FROM clients c JOIN calls x ON x.client_id = c.id "  # noqa: S608
                f"{'WHERE ' + where if where else ''} GROUP BY c.id ORDER BY count(*) DESC LIMIT 1",
                *([me] if where else []),
            )
        if placeholder == "contract_id":
            where = own_contracts.get(role)
            return self.value(
                "SELECT k.id FROM contracts k LEFT JOIN payments p ON p.contract_id = k.id "  # noqa: S608
                f"LEFT JOIN hearings h ON h.contract_id = k.id {'WHERE ' + where if where else ''} "
                "GROUP BY k.id ORDER BY count(p.id) + count(h.id) DESC LIMIT 1",
                *([me] if where else []),
            )
        if placeholder in ("lawyer_id", "employee_id"):
            if role is Role.lawyer:
                return me
            return self.value(
                "SELECT lawyer_id FROM accruals GROUP BY lawyer_id ORDER BY count(*) DESC LIMIT 1"
            )
        if placeholder == "call_id":
            own = "WHERE employee_id = ?" if role is Role.lawyer else ""
            return self.value(
                "SELECT id FROM calls "  # noqa: S608
                f"{own} ORDER BY NOT EXISTS (SELECT 1 FROM recording_files r "
                "WHERE r.linkedid = calls.linkedid), answered_at IS NULL, id DESC LIMIT 1",
                *([me] if own else []),
            )
        # A route added later: its table is the placeholder's plural ("visit_id": visits).
        table = placeholder.removesuffix("_id") + "s"
        with contextlib.suppress(sqlite3.Error):
            return self.value(f"SELECT max(id) FROM {table}")  # noqa: S608
        return None


@dataclass
class Form:
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # hidden and current values
    text_inputs: dict[str, str] = field(default_factory=dict)  # name → type (text, date)
    choices: dict[str, list[str]] = field(default_factory=dict)  # select or radio → values


class PageParser(html.parser.HTMLParser):
    """The GET forms of a page and the links it offers (tabs often carry a query)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            is_get = a.get("method", "get").lower() == "get"
            self._form = Form(a.get("action", "")) if is_get else None
            if self._form is not None:
                self.forms.append(self._form)
        elif self._form is None or (not a.get("name") and tag != "option"):
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "hidden" or (kind == "checkbox" and "checked" in a):
                self._form.fields.append((a["name"], a.get("value", "on")))
            elif kind == "radio":
                self._form.choices.setdefault(a["name"], []).append(a.get("value", ""))
                if "checked" in a:
                    self._form.fields.append((a["name"], a.get("value", "")))
            elif kind in ("text", "search", "date", ""):
                self._form.text_inputs[a["name"]] = kind or "text"
        elif tag == "select":
            self._select = a["name"]
            self._form.choices[self._select] = []
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._form.choices[self._select].append(value)
            if "selected" in a and value:
                self._form.fields.append((self._select, value))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def filter_variants(
    form: Form, busyness: dict[int, int], today: date
) -> list[tuple[str, list[tuple[str, str]]]]:
    """(label, query) of each heavy filter the form offers alone, then all of them at once."""
    base = list(form.fields)
    filters: list[tuple[str, list[tuple[str, str]]]] = []
    inputs = form.text_inputs
    if "from" in inputs and "to" in inputs:
        # A date input sends ISO dates; a text one takes them as Russians write them.
        layout = "%Y-%m-%d" if inputs["from"] == "date" else "%d.%m.%Y"
        year = [
            ("from", (today - timedelta(days=365)).strftime(layout)),
            ("to", today.strftime(layout)),
        ]
        if "period" in form.choices:  # the preset must give way to the dates
            year.append(("period", "custom" if "custom" in form.choices["period"] else ""))
        filters.append(("a year", year))
    for name in inputs:
        if name in NAME_FIELDS:
            filters.append((f"{name}={NAME_PART}", [(name, NAME_PART)]))
        elif name in NUMBER_FIELDS:
            filters.append((f"{name}={NUMBER_PART}", [(name, NUMBER_PART)]))
    for name, options in form.choices.items():
        ids = [int(value) for value in options if value.isdigit()]
        if name in EMPLOYEE_FIELDS and ids:
            busiest = max(ids, key=lambda employee: busyness.get(employee, 0))
            filters.append((f"{name}=busiest", [(name, str(busiest))]))
    variants = []
    for label, values in filters:
        replaced = {key for key, _value in values}
        variants.append((label, [kv for kv in base if kv[0] not in replaced] + values))
    if len(filters) > 1:
        combined = [kv for _label, values in filters for kv in values]
        replaced = {key for key, _value in combined}
        variants.append(("all filters", [kv for kv in base if kv[0] not in replaced] + combined))
    return variants


# --- measuring --------------------------------------------------------------------------------


class ServerClock:
    """The outermost middleware: how long the application took over each request."""

    def __init__(self) -> None:
        self.last_ms = math.nan

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            self.last_ms = (time.perf_counter() - started) * 1000


class StatementLog:
    """The SQL statements of one request, with their times, when asked for."""

    def __init__(self, core: Services) -> None:
        self.recording = False
        self.statements: list[tuple[float, str, Any]] = []
        self._started: dict[int, float] = {}
        engine = core.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, _conn: Any, cursor: Any, *_args: Any) -> None:
        if self.recording:
            self._started[id(cursor)] = time.perf_counter()

    def _after(self, _conn: Any, cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        started = self._started.pop(id(cursor), None)
        if self.recording and started is not None:
            self.statements.append(((time.perf_counter() - started) * 1000, statement, parameters))

    @contextlib.contextmanager
    def record(self) -> Iterator[None]:
        self.statements, self.recording = [], True
        try:
            yield
        finally:
            self.recording = False


@dataclass
class PageResult:
    role: str
    route: str
    variant: str
    url: str
    status: int
    samples_ms: list[float] = field(default_factory=list)
    slowest_sql: list[dict[str, Any]] = field(default_factory=list)
    sql_ms: float | None = None  # all statements of one request, with --explain
    statements: int | None = None

    @property
    def p50(self) -> float | None:
        return nearest_rank(sorted(self.samples_ms), 50) if self.samples_ms else None

    @property
    def p95(self) -> float | None:
        return nearest_rank(sorted(self.samples_ms), 95) if self.samples_ms else None

    @property
    def max(self) -> float | None:
        return max(self.samples_ms) if self.samples_ms else None

    @property
    def over_target(self) -> bool:
        return self.p95 is not None and self.p95 > TARGET_P95_MS


def nearest_rank(ordered: Sequence[float], percent: float) -> float:
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1]


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="csrf_token"')


async def log_in(session: aiohttp.ClientSession, base: str, login: str, password: str) -> None:
    async with session.get(base + "/login") as response:
        match = _CSRF.search(await response.text())
    if match is None:
        raise BenchmarkError("the login page has no csrf_token field")
    form = {"csrf_token": match.group(1) or match.group(2), "login": login, "password": password}
    async with session.post(base + "/login", data=form, allow_redirects=False) as response:
        if response.status != 303:
            raise BenchmarkError(f"login as {login} failed: HTTP {response.status}")


@dataclass
class Run:
    base: str
    clock: ServerClock
    sql: StatementLog
    database: Database
    requests: int
    max_seconds: float
    explain: bool
    results: list[PageResult] = field(default_factory=list)


async def fetch(session: aiohttp.ClientSession, run: Run, url: str) -> tuple[int, str, float]:
    async with session.get(run.base + url, allow_redirects=False) as response:
        body = await response.read()
        text = body.decode("utf-8", "replace") if "html" in response.content_type else ""
        return response.status, text, run.clock.last_ms


async def measure_page(
    session: aiohttp.ClientSession, run: Run, role: Role, route: str, variant: str, url: str
) -> PageResult:
    status, _text, _ms = await fetch(session, run, url)
    result = PageResult(role.value, route, variant, url, status)
    if status != 200:
        return result
    for _ in range(WARMUP_REQUESTS - 1):
        await fetch(session, run, url)
    started = time.monotonic()
    while len(result.samples_ms) < run.requests:
        status, _text, elapsed = await fetch(session, run, url)
        if status != 200:
            result.status = status
            break
        result.samples_ms.append(elapsed)
        if time.monotonic() - started > run.max_seconds and len(result.samples_ms) >= 3:
            break
    if run.explain and result.over_target:
        with run.sql.record():
            await fetch(session, run, url)
        result.sql_ms = round(sum(ms for ms, _sql, _params in run.sql.statements), 1)
        result.statements = len(run.sql.statements)
        result.slowest_sql = explain(run.database, sorted(run.sql.statements, reverse=True)[:3])
    mark = "  SLOW" if result.over_target else ""
    print(
        f"  {role.value:<20} {url[:70]:<70} {status} "
        f"p50 {cell(result.p50)} p95 {cell(result.p95)} ms{mark}",
        flush=True,
    )
    return result


def explain(database: Database, statements: list[tuple[float, str, Any]]) -> list[dict[str, Any]]:
    explained = []
    for ms, statement, parameters in statements:
        try:
            plan = [
                row[-1] for row in database.rows("EXPLAIN QUERY PLAN " + statement, *parameters)
            ]
        except (sqlite3.Error, TypeError) as error:
            plan = [f"(no plan: {error})"]
        explained.append({"ms": round(ms, 1), "sql": " ".join(statement.split()), "plan": plan})
    return explained


def page_routes(app: web.Application) -> list[web.AbstractResource]:
    """Every resource with a GET route that is a page of the CRM."""
    pages = []
    for resource in app.router.resources():
        if isinstance(resource, web.StaticResource) or resource.canonical in NOT_PAGES:
            continue
        if any(route.method == "GET" for route in resource):
            pages.append(resource)
    return pages


def route_of(app: web.Application, path: str) -> web.AbstractResource | None:
    """The page resource a path belongs to, if any."""
    for resource in page_routes(app):
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(resource.canonical))
        if re.fullmatch(pattern, path):
            return resource
    return None


async def measure_role(
    app: web.Application, run: Run, role: Role, login: str, busyness: dict[int, int]
) -> None:
    jar = aiohttp.CookieJar(unsafe=True)  # the app is on 127.0.0.1, an IP address
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        await log_in(session, run.base, login, DEMO_PASSWORD)
        me, _role = run.database.employee(login)
        today = datetime.now(FIRM_TIMEZONE).date()
        seen: set[str] = set()
        queue: list[tuple[str, str, str]] = []  # (route, variant, url)
        for resource in page_routes(app):
            placeholders = re.findall(r"\{(\w+)\}", resource.canonical)
            ids = {name: run.database.heaviest_id(name, me, role) for name in placeholders}
            if any(value is None for value in ids.values()):
                print(f"  {role.value:<20} {resource.canonical}: no id to show, skipped")
                continue
            url = resource.canonical
            for name, value in ids.items():
                url = url.replace("{" + name + "}", str(value))
            queue.append((resource.canonical, "", url))
        while queue:
            route, variant, url = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            status, text, _ms = await fetch(session, run, url)
            if status == 200 and text and role in FULLY_MEASURED and not variant:
                queue.extend(discover(app, url, text, busyness, today))
            run.results.append(await measure_page(session, run, role, route, variant, url))
            if status != 200:
                print(f"  {role.value:<20} {url[:70]:<70} {status} (not timed)")


def discover(
    app: web.Application, url: str, text: str, busyness: dict[int, int], today: date
) -> list[tuple[str, str, str]]:
    """More URLs of the same pages from a page: its tab links and its filter forms."""
    parser = PageParser()
    parser.feed(text)
    found = []
    for href in parser.links:
        parts = urlsplit(urljoin(url, href))
        resource = route_of(app, parts.path) if parts.query and not parts.netloc else None
        if resource is not None and "{" not in resource.canonical:
            found.append((resource.canonical, "tab " + parts.query, f"{parts.path}?{parts.query}"))
    for form in parser.forms:
        parts = urlsplit(urljoin(url, form.action or url))
        resource = route_of(app, parts.path)
        if resource is None:
            continue
        inherited = parse_qsl(urlsplit(url).query) if parts.path == urlsplit(url).path else []
        form.fields = [kv for kv in inherited if kv[0] not in dict(form.fields)] + form.fields
        for label, query in filter_variants(form, busyness, today):
            found.append((resource.canonical, label, f"{parts.path}?{urlencode(query)}"))
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(
    settings: Settings, core: Services, clock: ServerClock
) -> AsyncIterator[web.Application]:
    app = build_web_app(settings, core)
    app.middlewares.insert(0, clock.middleware)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", settings.web_port)
    await site.start()
    tune_collector_for_serving()  # as `lexcrm run` does
    try:
        yield app
    finally:
        await runner.cleanup()


async def measure(settings: Settings, args: argparse.Namespace) -> list[PageResult]:
    database = Database(settings.data_dir / "lexcrm.sqlite3")
    busyness = database.busyness()
    async with open_services(settings, migrate=False) as core:
        clock = ServerClock()
        sql = StatementLog(core)
        async with serve(settings, core, clock) as app:
            run = Run(
                f"http://127.0.0.1:{settings.web_port}",
                clock,
                sql,
                database,
                args.requests,
                args.max_seconds,
                args.explain,
            )
            for role in Role:
                if args.roles and role.value not in args.roles:
                    continue
                print(f"{role.title_ru} ({role.value}):", flush=True)
                await measure_role(app, run, role, LOGIN_PREFIX[role], busyness)
    return run.results


# --- the report -------------------------------------------------------------------------------


def cell(value: float | None) -> str:
    return "     —" if value is None else f"{value:6.1f}"


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
        "sqlite": sqlite3.sqlite_version,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def print_report(results: list[PageResult], meta: dict[str, Any], info: dict[str, Any]) -> None:
    print()
    rows = ", ".join(f"{table} {count:,}" for table, count in meta["rows"].items())
    print(f"Data: {rows}")
    print(f"Generated in {meta['generate_seconds']} s ({meta['build_seconds']} s with the schema)")
    print(
        f"Machine: {info['nproc']} × {info['cpu_model']}, Linux {info['kernel']}, "
        f"Python {info['python']}, SQLite {info['sqlite']}, load {info['load_average']}"
    )
    print()
    print(f"{'role':<20} {'page':<100} {'n':>3} {'p50':>6} {'p95':>6} {'max':>6}  ms")
    for result in sorted(results, key=lambda r: (r.route, r.role, r.url)):
        if not result.samples_ms:
            continue
        flag = "  > 150" if result.over_target else ""
        print(
            f"{result.role:<20} {result.url[:100]:<100} {len(result.samples_ms):>3} "
            f"{cell(result.p50)} {cell(result.p95)} {cell(result.max)}{flag}"
        )
    refused = sorted({(r.role, r.route, r.status) for r in results if not r.samples_ms})
    if refused:
        print()
        print("Not timed (status of the first request):")
        for role, route, status in refused:
            print(f"  {role:<20} {route:<50} {status}")
    slow = [r for r in results if r.over_target]
    print()
    print(f"Pages over the {TARGET_P95_MS:.0f} ms p95 target: {len(slow)}")
    for result in slow:
        print(f"  {result.role:<20} {result.url}  p95 {cell(result.p95)} ms")
        if result.statements is not None:
            print(f"      SQL: {result.statements} statements, {result.sql_ms} ms in all")
        for statement in result.slowest_sql:
            print(f"      {statement['ms']:.1f} ms  {statement['sql'][:300]}")
            for step in statement["plan"]:
                print(f"          {step}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.pages",
        description=__doc__.split("\n", 1)[0] if __doc__ else None,
    )
    parser.add_argument("--clients", type=int, default=60_000, help="size of the firm (60000)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (1)")
    parser.add_argument("--requests", type=int, default=20, help="timed requests a page (20)")
    parser.add_argument(
        "--max-seconds", type=float, default=10.0, help="time budget a page, ≥ 3 requests (10)"
    )
    parser.add_argument("--roles", nargs="*", help="only these jobs (e.g. director lawyer)")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the slow pages' SQL")
    parser.add_argument("--rebuild", action="store_true", help="generate the database afresh")
    parser.add_argument("--json", type=Path, help="also write the report (every sample) here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.requests < 1 or args.clients < 1:
        print("--requests and --clients must be at least 1", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(OneLineErrors())
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="lexcrm-bench-pages-"))
    try:
        cached, meta = asyncio.run(cached_database(args.clients, args.seed, args.rebuild))
        settings = working_copy(cached, workdir).with_overrides(web_port=free_port())
        results = asyncio.run(measure(settings, args))
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130
    except BenchmarkError as error:
        print(f"Benchmark failed: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    info = machine()
    print_report(results, meta, info)
    print(f"duration: {time.monotonic() - started:.0f} s")
    if args.json:
        report = {
            "benchmark": "server-side time of every GET page",
            "target_p95_ms": TARGET_P95_MS,
            "percentiles": "nearest rank",
            "data": meta,
            "machine": info,
            "pages": [asdict(r) | {"p50": r.p50, "p95": r.p95, "max": r.max} for r in results],
        }
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
