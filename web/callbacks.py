"""The call centre's list of missed calls to return, with how long is left for each."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from crm.permissions import Action
from web.access import authorise
from web.keys import SERVICES
from web.render import render

REASONS = {
    "abandoned": "клиент не дождался ответа",
    "no_answer": "никто не ответил",
    "busy": "занято",
    "failed": "не удалось соединить",
    "unknown": "звонок пропущен",
}


def countdown(due: datetime, now: datetime) -> str:
    minutes = int((due - now).total_seconds() // 60)
    if minutes >= 0:
        return f"осталось {minutes} мин"
    return f"просрочено на {-minutes} мин"


async def callbacks(request: web.Request) -> web.StreamResponse:
    await authorise(
        request,
        Action.view_callbacks,
        refusal="Список перезвонов — для колл-центра и руководителя",
    )
    now = datetime.now(UTC)
    rows = [
        {
            "client": client,
            "reason": REASONS.get(task.reason, task.reason),
            "created": task.created_at.astimezone(UTC),
            "countdown": countdown(task.due_at, now),
            "overdue": task.due_at < now,
        }
        for task, client in await request.app[SERVICES].calls.open_callbacks()
    ]
    return render(request, "callbacks.html", {"rows": rows})
