"""Renders extensions.conf from the templates in dialplan/templates and data from the CRM."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import jinja2

from crm.core.phones import EXTENSION_DIGITS

TEMPLATES = Path(__file__).parent / "templates"

# An extension is what Asterisk matches literally in `exten =>`; anything else could turn
# into a pattern or break the line, so it is checked rather than escaped.
_EXTENSION = re.compile(rf"^{EXTENSION_DIGITS}$")
_FIRM_NUMBER = re.compile(r"^\+[1-9][0-9]{6,14}$")


class InvalidDialplanData(ValueError):
    """Data that would not make a valid, literal dialplan line."""


@dataclass(frozen=True)
class InternalExtension:
    """An employee's desk phone, reachable from the other desk phones by its number."""

    extension: str

    def __post_init__(self) -> None:
        if not _EXTENSION.match(self.extension):
            raise InvalidDialplanData(
                f"Внутренний номер {self.extension!r} должен состоять из 2–8 цифр"
            )


@dataclass(frozen=True)
class DialplanData:
    """Everything extensions.conf depends on."""

    recording_dir: str
    # Keyed-hash pepper and AES key of the masking table
    # (crm.calls.masking.AsteriskMaskingSecrets).
    pepper: str
    seal_key: str
    # The masking table: a config file AST_CONFIG() reads, next to extensions.conf.
    masks_file: str = "lexcrm-clients.conf"
    firm_number: str = "+78120000000"
    firm_name: str = "Юридическая фирма"
    recording_notice: bool = True
    notice_sound: str = "lexcrm/recording-notice"
    extensions: Sequence[InternalExtension] = field(default_factory=tuple)
    ring_seconds: int = 20
    outbound_ring_seconds: int = 60
    queue_timeout: int = 120
    test_tone_seconds: int = 2
    test_listen_seconds: int = 4


def _environment() -> jinja2.Environment:
    # Not HTML: autoescape would turn quotes into entities inside Asterisk's config.
    return jinja2.Environment(  # noqa: S701
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


# Characters that would end an argument, start a variable or a comment in a dialplan line.
_UNSAFE = set(';,()$[]{}"\\|^\n\r')


def _check_safe(what: str, value: str) -> None:
    if not value or any(ch in _UNSAFE or not ch.isprintable() for ch in value):
        raise InvalidDialplanData(f"{what}: пустое значение или недопустимые символы")


def render_extensions(data: DialplanData) -> str:
    """The text of extensions.conf for these data."""
    if not data.recording_dir.startswith("/") or any(c in data.recording_dir for c in ";\n,()"):
        raise InvalidDialplanData("Папка записей должна быть абсолютным путём без ; , ( )")
    _check_safe("Ключ маскировки", data.pepper + data.seal_key)
    if len(data.seal_key) != 16:
        raise InvalidDialplanData("Ключ AES для Asterisk должен быть длиной 16 символов")
    _check_safe("Таблица маскировки", data.masks_file)
    _check_safe("Звук уведомления о записи", data.notice_sound)
    _check_safe("Название фирмы", data.firm_name)
    if not _FIRM_NUMBER.match(data.firm_number):
        raise InvalidDialplanData("Номер фирмы должен быть в виде +7XXXXXXXXXX")
    extensions = sorted(data.extensions, key=lambda ext: ext.extension)
    if len({ext.extension for ext in extensions}) != len(extensions):
        raise InvalidDialplanData("Внутренние номера повторяются")
    template = _environment().get_template("extensions.conf.j2")
    values = {f.name: getattr(data, f.name) for f in fields(data)}
    values["extensions"] = extensions
    return template.render(values)
