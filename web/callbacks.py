"""The call centre's list of missed calls to return, with how long is left for each."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from web.i18n import N_
from web.i18n import gettext as _
from web.keys import SERVICES
from web.render import render

REASONS = {
    "abandoned": N_("клиент не дождался ответа"),
    "no_answer": N_("никто не ответил"),
    "busy": N_("занято"),
    "failed": N_("не удалось соединить"),
    "unknown": N_("звонок пропущен"),
}


def countdown(due: datetime, now: datetime) -> str:
    minutes = int((due - now).total_seconds() // 60)
    if minutes >= 0:
        return _("осталось %(minutes)d мин") % {"minutes": minutes}
    return _("просрочено на %(minutes)d мин") % {"minutes": -minutes}


async def callbacks(request: web.Request) -> web.StreamResponse:
    now = datetime.now(UTC)
    rows = [
        {
            "client": client,
            "reason": _(REASONS[task.reason]) if task.reason in REASONS else task.reason,
            "created": task.created_at.astimezone(UTC),
            "countdown": countdown(task.due_at, now),
            "overdue": task.due_at < now,
        }
        for task, client in await request.app[SERVICES].calls.open_callbacks()
    ]
    return render(request, "callbacks.html", {"rows": rows})
