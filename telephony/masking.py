"""The masking table the dialplan reads: caller hash to client code, name and routing."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Asterisk config syntax has no escaping: characters that would open a section, start a
# comment or break a line are dropped from names.
_CONFIG_UNSAFE = re.compile(r'[\[\];"\\\r\n\x00-\x1f]')
_CODE = re.compile(r"^c[1-9][0-9]*$")
_EXTENSION = re.compile(r"^([0-9]{2,8})?$")
_HEX = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class MaskEntry:
    """One client number as the dialplan knows it: never the number, only its keyed hash."""

    caller_key: str  # SHA1(pepper + E.164), see crm.masking
    client_code: str  # "c1234"
    display_name: str  # shown on the desk phone instead of the number
    sealed_number: str  # AES_ENCRYPT token of the number, for dialling the client by code
    lawyer_extension: str = ""
    sticky_extension: str = ""  # who last tried to reach this client

    def __post_init__(self) -> None:
        if not _HEX.match(self.caller_key):
            raise ValueError("caller_key must be a SHA1 hex digest")
        if not _CODE.match(self.client_code):
            raise ValueError("client_code must look like c1234")
        if not (
            _EXTENSION.match(self.lawyer_extension) and _EXTENSION.match(self.sticky_extension)
        ):
            raise ValueError("extensions are 2-8 digits or empty")
        if not re.fullmatch(r"[A-Za-z0-9+/=]+", self.sealed_number):
            raise ValueError("sealed_number must be base64")


def clean_display_name(name: str, limit: int = 40) -> str:
    return " ".join(_CONFIG_UNSAFE.sub(" ", name).split())[:limit]


def render_mask_table(entries: Iterable[MaskEntry]) -> str:
    lines = ["; Masking table written by the lexcrm controller. Do not edit.", ""]
    dial_sections: dict[str, str] = {}
    for entry in entries:
        lines += [
            f"[{entry.caller_key}]",
            f"code = {entry.client_code}",
            f"name = {clean_display_name(entry.display_name)}",
            f"lawyer = {entry.lawyer_extension}",
            f"sticky = {entry.sticky_extension}",
            "",
        ]
        # A client with several numbers is dialled on the first one listed.
        dial_sections.setdefault(entry.client_code, entry.sealed_number)
    for code, sealed in dial_sections.items():
        lines += [f"[code-{code}]", f"sealed = {sealed}", ""]
    return "\n".join(lines)


def write_mask_table(path: Path, entries: Iterable[MaskEntry]) -> None:
    """Replace the table in one rename, so that the dialplan never reads half a file."""
    text = render_mask_table(entries)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".lexcrm-clients-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
