"""Russian first, English second: every text translated, each request in its own language."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from crm.core.roles import Role
from crm.staff.models import Employee
from tests.web.conftest import LAWYER_LOGIN, LAWYER_NAME, Client, ClientFactory, csrf_field, log_in
from web.i18n import LANG_COOKIE, LOCALE_DIR, ROLE_TITLES, accepted_language, load_catalogues
from web.keys import WebServices
from web.language import local_target

ROOT = Path(__file__).resolve().parents[2]
ENGLISH_PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po"


def _english_catalog() -> Catalog:
    with ENGLISH_PO.open("rb") as source:
        return read_po(source, locale="en")


def _extracted_msgids() -> dict[str, str]:
    """Every msgid in the templates, web/ and the marked messages of crm/, as babel.cfg has
    pybabel extract them."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config, "babel.cfg")
    found: dict[str, str] = {}
    for folder in ("web", "crm"):
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map, options_map
        ):
            for msgid in message if isinstance(message, tuple) else (message,):
                if msgid:
                    found.setdefault(msgid, f"{folder}/{filename}:{lineno}")
    return found


def test_extraction_sees_the_templates_and_the_python_side() -> None:
    msgids = _extracted_msgids()
    assert "Выйти" in msgids  # base.html
    assert "Неверный логин или пароль." in msgids  # web/auth.py
    assert "никто не ответил" in msgids  # marked with N_ in web/callbacks.py
    assert "Договор не найден" in msgids  # a domain error's message, marked in crm/


def test_every_interface_text_has_an_english_translation() -> None:
    """New UI text cannot ship untranslated: README.md, "Languages", says how to add one."""
    catalog = _english_catalog()
    untranslated = []
    for msgid, where in _extracted_msgids().items():
        message = catalog.get(msgid)
        strings = message.string if message is not None else ""
        if (
            message is None
            or message.fuzzy  # left out of the compiled catalogue, as msgfmt does
            or not all(strings if isinstance(strings, tuple) else (strings,))
        ):
            untranslated.append(f"{where}: {msgid!r}")
    assert not untranslated, "missing from web/locale/en/LC_MESSAGES/messages.po:\n" + "\n".join(
        untranslated
    )


def test_english_translations_keep_their_placeholders() -> None:
    # Babel's checkers: a translation that drops or renames %(name)s breaks at run time.
    problems = [
        f"{message.id!r}: {errors}" for message, errors in _english_catalog().check() if errors
    ]
    assert not problems


def test_every_job_title_from_crm_is_marked_for_translation() -> None:
    assert {role.title_ru for role in Role} == set(ROLE_TITLES)


def test_the_catalogue_is_compiled_when_loaded() -> None:
    catalogues = load_catalogues()
    assert catalogues["en"].gettext("Выйти") == "Log out"
    assert catalogues["ru"].gettext("Выйти") == "Выйти"
    assert catalogues["en"].gettext("текст, которого нет в каталоге") == (
        "текст, которого нет в каталоге"
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-GB,en;q=0.9,ru;q=0.8", "en"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
        ("de-DE,de;q=0.9,en;q=0.5", "en"),
        ("de-DE", None),
        ("en;q=0", None),  # q=0 means "not acceptable"
        ("ru;q=0.5, EN ; q=0.7", "en"),
        ("en;q=abc,ru", "ru"),
        ("*", None),
        ("", None),
    ],
)
def test_accept_language(header: str, expected: str | None) -> None:
    assert accepted_language(header) == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/clients?q=x", "/clients?q=x"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/x\r\nSet-Cookie: a=b", "/"),
        ("", "/"),
    ],
)
def test_the_switch_goes_back_only_to_this_site(target: str, expected: str) -> None:
    assert local_target(target) == expected


async def test_default_is_russian_and_accept_language_gives_english(
    client: Client, lawyer: Employee
) -> None:
    await log_in(client)
    russian = await client.get("/clients")
    page = await russian.text()
    assert '<html lang="ru">' in page and "Клиенты" in page and "Выйти" in page
    assert "Юрист" in page  # the job title in the header
    assert russian.headers["Content-Language"] == "ru"

    english = await client.get("/clients", headers={"Accept-Language": "en-GB,en;q=0.9"})
    page = await english.text()
    assert '<html lang="en">' in page
    assert "Clients" in page and "Log out" in page and "Lawyer" in page
    assert "Клиенты" not in page and "Выйти" not in page
    assert english.headers["Content-Language"] == "en"


async def test_english_pages_have_no_russian_of_their_own(
    client: Client, lawyer: Employee, web_services: WebServices
) -> None:
    """Only data (names, topics) may stay Russian on an English page."""
    found = await web_services.clients.add_client("Белова Ольга", [], lawyer_id=lawyer.id)
    await web_services.contracts.add_contract(
        client_id=found.id, lawyer_id=lawyer.id, number="1", amount="1000", essence="x"
    )
    await log_in(client)
    english = {"Accept-Language": "en"}
    data = ("Белова Ольга", "Белова О.", LAWYER_NAME, 'title="Русский"', "Белова")
    for path in (f"/clients/{found.id}", "/clients?q=Белова", "/contracts"):
        page = await (await client.get(path, headers=english)).text()
        assert "Log out" in page, path
        leftover = page
        for text in data:
            leftover = leftover.replace(text, "")
        cyrillic = [char for char in leftover if "\u0400" <= char <= "\u04ff"]
        assert not cyrillic, (path, "".join(cyrillic)[:80])


async def test_the_switch_sets_a_cookie_that_outranks_accept_language(
    client: Client, lawyer: Employee
) -> None:
    await log_in(client)
    token = csrf_field(await (await client.get("/")).text())
    response = await client.post(
        "/lang",
        data={"csrf_token": token, "lang": "en", "next": "/clients?q=x"},
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == "/clients?q=x"
    assert response.cookies[LANG_COOKIE].value == "en"
    assert response.cookies[LANG_COOKIE]["httponly"] is True
    page = await (await client.get("/clients", headers={"Accept-Language": "ru"})).text()
    assert "Log out" in page

    await client.post("/lang", data={"csrf_token": token, "lang": "ru", "next": "/"})
    page = await (await client.get("/clients", headers={"Accept-Language": "en"})).text()
    assert "Выйти" in page


async def test_the_switch_needs_the_csrf_token(client: Client, lawyer: Employee) -> None:
    await log_in(client)
    response = await client.post("/lang", data={"lang": "en"}, allow_redirects=False)
    assert response.status == 403
    assert LANG_COOKIE not in response.cookies


async def test_the_switch_works_on_the_login_page(new_client: ClientFactory) -> None:
    browser = await new_client()
    page = await (await browser.get("/login")).text()
    assert 'action="/lang"' in page
    token = csrf_field(page)  # the login form's double-submit token
    response = await browser.post(
        "/lang", data={"csrf_token": token, "lang": "en", "next": "/login"}, allow_redirects=False
    )
    assert response.status == 303 and response.headers["Location"] == "/login"
    page = await (await browser.get("/login")).text()
    assert "Password" in page and "Пароль" not in page

    stranger = await new_client()  # a forged form from another site: no matching cookie
    refused = await stranger.post(
        "/lang", data={"csrf_token": token, "lang": "en"}, allow_redirects=False
    )
    assert refused.status == 403
    assert LANG_COOKIE not in refused.cookies


async def test_an_unknown_language_is_refused(client: Client, lawyer: Employee) -> None:
    await log_in(client)
    token = csrf_field(await (await client.get("/")).text())
    response = await client.post("/lang", data={"csrf_token": token, "lang": "de"})
    assert response.status == 400


async def test_refusals_and_form_errors_speak_the_request_language(
    new_client: ClientFactory, lawyer: Employee
) -> None:
    browser = await new_client()
    await log_in(browser)
    refused = await browser.get("/journal", headers={"Accept-Language": "en"})
    assert refused.status == 403
    assert await refused.text() == "The journal is for the management and the administrator"
    refused = await browser.get("/journal")
    assert await refused.text() == "Журнал доступен руководству и администратору"

    anonymous = await new_client()
    form = csrf_field(await (await anonymous.get("/login")).text())
    wrong = await anonymous.post(
        "/login",
        data={"csrf_token": form, "login": LAWYER_LOGIN, "password": "не тот"},
        headers={"Accept-Language": "en"},
    )
    assert wrong.status == 401
    assert "Wrong login or password." in await wrong.text()


async def test_concurrent_requests_each_keep_their_own_language(
    client: Client, lawyer: Employee
) -> None:
    """The Environment is shared: one request's language must never reach another's page."""
    await log_in(client)
    languages = ["en", "ru"] * 15

    async def fetch(language: str) -> tuple[str, str]:
        response = await client.get("/clients?q=x", headers={"Accept-Language": language})
        return language, await response.text()

    for language, page in await asyncio.gather(*(fetch(language) for language in languages)):
        expected, other = ("Log out", "Выйти") if language == "en" else ("Выйти", "Log out")
        assert expected in page and other not in page, language
