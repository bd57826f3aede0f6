"""Fixtures of the browser tests: the real app on a loopback port, driven by headless Chromium."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Frame,
    Locator,
    Page,
    Response,
    async_playwright,
)
from sqlalchemy.engine import make_url

from crm.clients.models import Client
from crm.core.crypto import KeyRing
from crm.core.roles import Role
from crm.staff.models import Employee
from lexcrm.services import Services, open_services
from lexcrm.settings import Settings
from lexcrm.wiring import serve_web
from tests.support.canaries import canaries_in

# The web tests' session fixture (a database migrated once), lent to these tests: pytest
# finds a fixture by the name this module holds.
from tests.web.conftest import web_migrated_template  # noqa: F401

# Debian's Chromium (scripts/system-deps.sh installs it): Playwright drives it and never
# downloads a browser of its own.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # tests run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Nothing but the app under test on the network: no update checks, sync or field trials.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A step that needs longer than this on a loopback server is a bug, not a slow machine.
STEP_TIMEOUT_MS = 10_000
PASSWORD = "пароль для браузера"
STAFF_NAMES: dict[Role, str] = {
    Role.director: "Волков Игорь Андреевич",
    Role.lawyer: "Петрова Мария Викторовна",
    Role.court_representative: "Соколов Денис Олегович",
    Role.reception: "Кузнецова Ольга Ивановна",
    Role.cashier: "Морозова Елена Павловна",
    Role.call_centre_head: "Новиков Артём Сергеевич",
    Role.operator: "Фёдорова Дарья Алексеевна",
    Role.administrator: "Лебедев Максим Юрьевич",
}
# Client phones, entered the ways people type them; none may ever show on a page.
CLIENT_PHONES = ["+7 921 555-73-01", "8 (921) 555-73-02"]
LEAD_PHONES = ["89215557303"]
# Typed by reception for a client who walks in; no page may show it once it is saved.
WALK_IN_PHONE = "+7 (921) 555-73-04"
CANARIES = ("+79215557301", "+79215557302", "+79215557303", "+79215557304")


@dataclass(frozen=True)
class Firm:
    """The test data: one employee of each job, the lawyer's client and an unassigned lead."""

    staff: dict[Role, Employee]
    client: Client
    lead: Client


class Tab:
    """A browser tab whose every page is checked for canary numbers once it has loaded."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self._unchecked_pages = 0
        page.on("framenavigated", self._on_navigated)
        page.on("pageerror", lambda error: self.errors.append(f"script error: {error}"))
        page.on("console", self._on_console)

    def _on_navigated(self, frame: Frame) -> None:
        if frame.parent_frame is None:
            self._unchecked_pages += 1

    def _on_console(self, message: ConsoleMessage) -> None:
        # Markup injected into a page is stopped by the CSP, and Chromium says so here.
        if "Content Security Policy" in message.text:
            self.errors.append(message.text)

    async def goto(self, path: str) -> Response:
        response = await self.page.goto(path)
        assert response is not None
        await self.check()
        return response

    async def submit(self, button: Locator) -> Response:
        """Clicks a form's button (or a link) and waits for the page the server answers with."""
        return await self._navigate(button.click)

    async def submit_with_enter(self, field: Locator) -> Response:
        """Presses Enter in a form's field, as people submit a search, and waits for the answer."""
        return await self._navigate(lambda: field.press("Enter"))

    async def _navigate(self, action: Callable[[], Awaitable[None]]) -> Response:
        async with self.page.expect_navigation() as navigation:
            await action()
        response = await navigation.value
        await self.check()
        return response

    async def check(self) -> None:
        """The page now shown has no canary number; no page went by unchecked."""
        assert self._unchecked_pages <= 1, "a page was left before it was checked"
        self._unchecked_pages = 0
        leaks = canaries_in(await self.page.content(), CANARIES)
        assert not leaks, f"{self.page.url} shows a client's phone: {leaks}"


def text_of(shown: str) -> str:
    """Text as a person reads it: any run of spaces (no-break ones too) is one space."""
    return " ".join(shown.split())


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    """One headless Chromium for the session: starting it takes about a second."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@dataclass(frozen=True)
class FirmTemplate:
    """The test data, written once: a database file and the key its phones are encrypted with."""

    database: Path
    key_file: Path
    firm: Firm


def database_file(settings: Settings) -> Path:
    """The SQLite file the settings point the core at."""
    path = make_url(settings.database).database
    assert path is not None, "the browser tests run on SQLite"
    return Path(path)


@pytest.fixture(scope="session")
async def firm_template(
    tmp_path_factory: pytest.TempPathFactory,
    web_migrated_template: Path,  # noqa: F811 - the fixture imported above
) -> FirmTemplate:
    """Written once per session, and copied for each test."""
    folder = tmp_path_factory.mktemp("browser-firm")
    settings = Settings(data_dir=folder, key_file=folder / "lexcrm.keys")
    KeyRing.create_file(settings.key_file)
    shutil.copyfile(web_migrated_template, database_file(settings))
    async with open_services(settings, migrate=False) as core:
        (first_role, first_name), *others = STAFF_NAMES.items()
        first = await core.staff.create_employee(first_role.value, first_name, first_role, PASSWORD)
        staff = {first_role: first}
        # Everyone shares the password, so they share its hash: each argon2 hash more would
        # cost half a second of CPU on a busy machine.
        async with core.sessionmaker() as session:
            for role, name in others:
                staff[role] = Employee(
                    login=role.value,
                    full_name=name,
                    role=role,
                    password_hash=first.password_hash,
                    is_active=True,
                )
                session.add(staff[role])
            await session.commit()
        client = await core.clients.add_client(
            "Смирнова Анна Сергеевна",
            CLIENT_PHONES,
            topic="Раздел имущества",
            lawyer_id=staff[Role.lawyer].id,
        )
        lead = await core.clients.add_client(
            "Григорьев Павел Ильич", LEAD_PHONES, topic="Трудовой спор"
        )
    database = database_file(settings)
    # Copied as one file: everything must be in it, nothing left in a write-ahead log.
    assert not database.with_name(database.name + "-wal").exists()
    return FirmTemplate(database, settings.key_file, Firm(staff=staff, client=client, lead=lead))


@pytest.fixture
async def core(settings: Settings, firm_template: FirmTemplate) -> AsyncIterator[Services]:
    """The process's real CRM core, on this test's own copy of the firm's database."""
    database = database_file(settings)
    database.parent.mkdir(parents=True)
    shutil.copyfile(firm_template.database, database)
    settings.key_file.parent.mkdir(mode=0o700, parents=True)
    shutil.copy(firm_template.key_file, settings.key_file)  # with its mode: 0600, or not loaded
    async with open_services(settings, migrate=False) as opened:
        yield opened


@pytest.fixture
def firm(firm_template: FirmTemplate, core: Services) -> Firm:
    """The test data as it stands in this test's database (`core`)."""
    return firm_template.firm


@pytest.fixture
async def base_url(settings: Settings, core: Services) -> AsyncIterator[str]:
    """The web interface served the way `lexcrm run` serves it, on a free loopback port."""
    async with serve_web(settings, core) as url:
        yield url


TabOpener = Callable[[], Awaitable[Tab]]


@pytest.fixture
async def open_tab(chromium: Browser, base_url: str) -> AsyncIterator[TabOpener]:
    """Opens tabs, each in a fresh browser context (its own cookies): one per person when a
    test needs two people at once. Each is checked and closed at the end of the test."""
    opened: list[tuple[BrowserContext, Tab]] = []

    async def open_one() -> Tab:
        context = await chromium.new_context(
            base_url=base_url, locale="ru-RU", timezone_id="Europe/Moscow"
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        one = Tab(await context.new_page())
        opened.append((context, one))
        return one

    yield open_one
    try:
        for _context, one in opened:
            await one.check()
    finally:
        for context, _one in opened:
            await context.close()
    for _context, one in opened:
        assert not one.errors


@pytest.fixture
async def tab(open_tab: TabOpener) -> Tab:
    """A tab in a fresh browser context (no cookies of other tests)."""
    return await open_tab()
