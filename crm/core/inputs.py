"""Checks of free text typed by employees: trimmed, required or optional, bounded in length."""

from __future__ import annotations

from crm.core.errors import N_, InvalidInput


def required_text(value: str, what: str, max_length: int) -> str:
    """`value` with runs of whitespace folded; a clear error if it is empty or too long."""
    cleaned = " ".join(value.split())
    if not cleaned:
        raise InvalidInput(N_("Поле «%(field)s» не заполнено"), field=what)
    if len(cleaned) > max_length:
        raise InvalidInput(
            N_("Поле «%(field)s» длиннее %(length)s символов"), field=what, length=max_length
        )
    return cleaned


def optional_text(value: str | None, what: str, max_length: int) -> str | None:
    """Like `required_text`, but empty means None."""
    if value is None or not value.strip():
        return None
    return required_text(value, what, max_length)


def multiline_text(value: str, what: str, max_length: int) -> str:
    """A note or comment: line breaks kept, trailing spaces dropped, never empty."""
    lines = [line.rstrip() for line in value.replace("\r\n", "\n").split("\n")]
    cleaned = "\n".join(lines).strip()
    if not cleaned:
        raise InvalidInput(N_("Поле «%(field)s» не заполнено"), field=what)
    if len(cleaned) > max_length:
        raise InvalidInput(
            N_("Поле «%(field)s» длиннее %(length)s символов"), field=what, length=max_length
        )
    return cleaned
