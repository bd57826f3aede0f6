"""Renders extensions.conf from the templates in dialplan/templates and data from the CRM."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).parent / "templates"

# An extension is what Asterisk matches literally in `exten =>`; anything else could turn
# into a pattern or break the line, so it is checked rather than escaped.
_EXTENSION = re.compile(r"^[0-9]{2,8}$")


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
    extensions: Sequence[InternalExtension] = field(default_factory=tuple)
    ring_seconds: int = 30
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


def render_extensions(data: DialplanData) -> str:
    """The text of extensions.conf for these data."""
    if not data.recording_dir.startswith("/") or any(c in data.recording_dir for c in ";\n,()"):
        raise InvalidDialplanData("Папка записей должна быть абсолютным путём без ; , ( )")
    extensions = sorted(data.extensions, key=lambda ext: ext.extension)
    if len({ext.extension for ext in extensions}) != len(extensions):
        raise InvalidDialplanData("Внутренние номера повторяются")
    template = _environment().get_template("extensions.conf.j2")
    return template.render(
        recording_dir=data.recording_dir,
        extensions=extensions,
        ring_seconds=data.ring_seconds,
        test_tone_seconds=data.test_tone_seconds,
        test_listen_seconds=data.test_listen_seconds,
    )
