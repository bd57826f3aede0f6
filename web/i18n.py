"""Languages of the interface: Russian msgids, the English catalogue, each request's language."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from gettext import GNUTranslations, NullTranslations
from io import BytesIO
from pathlib import Path

import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE = "ru"
LANGUAGES = ("ru", "en")
LANG_COOKIE = "lang"
# Accept-Language is sent by every browser: a header of hundreds of entries is not one.
_MAX_ACCEPT_ENTRIES = 32

Catalogues = Mapping[str, NullTranslations]


def N_(message: str) -> str:  # N_ is a name pybabel extracts by default
    """Marks a text for extraction where it is defined; it is translated where it is shown."""
    return message


# crm names the jobs in Russian (Role.title_ru) and stays free of the web's languages; the
# header shows them through gettext, so their msgids are marked here for extraction. A test
# checks this list against crm.core.roles.
ROLE_TITLES = (
    N_("Руководитель"),
    N_("Юрист"),
    N_("Защитник в суде"),
    N_("Ресепшин"),
    N_("Кассир"),
    N_("Руководитель КЦ"),
    N_("Оператор КЦ"),
    N_("Администратор"),
)


@dataclass(frozen=True)
class Language:
    """A language a request is served in, with its translations."""

    code: str
    translations: NullTranslations


# The msgids are the Russian texts, so Russian needs no catalogue: NullTranslations gives
# every msgid back as it is. This is also what code outside a request sees.
_RUSSIAN = Language(DEFAULT_LANGUAGE, NullTranslations())
# Each request runs in its own task, and a task works on its own copy of the context: one
# request's language never leaks into another's, however many run at once.
_current: ContextVar[Language] = ContextVar("lexcrm_language", default=_RUSSIAN)


def compile_po(path: Path, locale: str) -> GNUTranslations:
    """The .po file compiled to .mo in memory: no build step, and never a stale .mo."""
    with path.open("rb") as source:
        catalog = read_po(source, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return GNUTranslations(compiled)


def load_catalogues(locale_dir: Path = LOCALE_DIR) -> dict[str, NullTranslations]:
    """Every language's translations, read from web/locale/<code>/LC_MESSAGES/messages.po."""
    catalogues: dict[str, NullTranslations] = {DEFAULT_LANGUAGE: _RUSSIAN.translations}
    for code in LANGUAGES:
        if code != DEFAULT_LANGUAGE:
            catalogues[code] = compile_po(locale_dir / code / "LC_MESSAGES" / "messages.po", code)
    return catalogues


def gettext(message: str) -> str:
    """`message` (a Russian msgid) in the current request's language."""
    return _current.get().translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _current.get().translations.ngettext(singular, plural, n)


def current_language() -> str:
    return _current.get().code


def accepted_language(header: str) -> str | None:
    """The interface language the browser prefers most (Accept-Language), if it takes one."""
    best, best_q = None, 0.0
    for entry in header.split(",")[:_MAX_ACCEPT_ENTRIES]:
        tag, _, params = entry.partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        code = tag.strip().lower().split("-")[0]
        # Strictly greater: of equal weights the first listed wins, as RFC 9110 intends.
        if code in LANGUAGES and 0.0 < q <= 1.0 and q > best_q:
            best, best_q = code, q
    return best


def request_language(request: web.Request) -> str:
    """The `lang` cookie set by the switch, else Accept-Language, else Russian."""
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return accepted_language(request.headers.get("Accept-Language", "")) or DEFAULT_LANGUAGE


def language_middleware(catalogues: Catalogues) -> Middleware:
    """Serves each request in its language: pages, refusals and form errors alike."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        code = request_language(request)
        token = _current.set(Language(code, catalogues[code]))
        try:
            return await handler(request)
        finally:
            _current.reset(token)

    return middleware


def install(templates: jinja2.Environment) -> None:
    """Gives every template `_`, `gettext` and `ngettext` of the request being rendered.

    Installed once: the functions read the request's language from the context variable,
    so the shared Environment holds no per-request state. Newstyle gettext escapes the
    values put into a translated text (`_("Клиент %(name)s", name=...)`) and needs a
    literal percent sign written as `%%`.
    """
    templates.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts them
    # install_gettext_callables is added to the Environment by the jinja2.ext.i18n extension.
    templates.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=gettext, ngettext=ngettext, newstyle=True
    )
