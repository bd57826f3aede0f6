"""The masking table file the dialplan reads: caller hash to client code, name and routing."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from crm.calls.masking import MaskEntry

# Asterisk config syntax has no escaping: characters that would open a section, start a
# comment or break a line are dropped from names.
_CONFIG_UNSAFE = re.compile(r'[\[\];"\\\r\n\x00-\x1f]')


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
