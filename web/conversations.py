"""Pages of recorded calls: player and transcript, search, listening queue, call statistics."""

from __future__ import annotations

import re
from datetime import timedelta

from aiohttp import web

from crm.calls.services import CALL_CENTRE_QUEUE
from crm.calls.statistics import NO_QUEUE
from crm.conversations.search import RecordingCard, clock
from crm.core.permissions import Action, Scope, may, scope_of
from web import charts
from web.access import signed_in, target_of
from web.filters import firm_today
from web.i18n import gettext as _
from web.keys import SERVICES, RecordingAudio
from web.render import render

PARTS = ("mix", "employee", "client")
# Asterisk's WAV: 8 kHz, 16 bits, one channel.
WAV_BYTES_PER_SECOND = 16000
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
PERIODS = (7, 30, 90)


def _audio(request: web.Request) -> RecordingAudio:
    return request.app[SERVICES].vault


def _card(request: web.Request) -> RecordingCard:
    return target_of(request, RecordingCard)


async def recording_card(request: web.Request) -> web.StreamResponse:
    """The call's player, transcript by speaker, talk figures, flags and hashes."""
    view = _card(request)
    user = signed_in(request)
    role, me = user.employee.role, user.employee.id
    live_files = {f.part for f in view.files if f.deleted_at is None}
    lines = [
        {
            "at": clock(segment.start_ms),
            "speaker": segment.speaker,
            "label": _(view.label(segment.speaker)),
            "text": segment.text,
        }
        for segment in view.segments
    ]
    transcript = view.transcript
    return render(
        request,
        "recording_card.html",
        {
            "view": view,
            "lines": lines,
            "parts": [part for part in PARTS if part in live_files],
            "may_listen": may(
                role, Action.listen_recording, owner_id=view.call.employee_id, employee_id=me
            ),
            "may_export": may(
                role, Action.export_recording, owner_id=view.call.employee_id, employee_id=me
            ),
            "share": (
                round(
                    100
                    * transcript.employee_talk_ms
                    / (transcript.employee_talk_ms + transcript.client_talk_ms)
                )
                if transcript and transcript.employee_talk_ms + transcript.client_talk_ms
                else None
            ),
        },
    )


async def recording_audio(request: web.Request) -> web.StreamResponse:
    """The decrypted audio, with byte ranges for seeking; every listen goes to the journal."""
    # The route journals a refusal; a listen is journaled below, once the audio is sent.
    view = _card(request)
    me = signed_in(request).employee.id
    journal = request.app[SERVICES].journal
    part = request.query.get("part", "mix")
    stored = next((f for f in view.files if f.part == part and f.deleted_at is None), None)
    if part not in PARTS or stored is None:
        raise web.HTTPNotFound(text=_("Записи нет (или срок её хранения истёк)"))
    audio = _audio(request)
    size = await audio.size(stored.path)
    start, end, partial = _byte_range(request.headers.get("Range"), size)
    response = web.StreamResponse(status=206 if partial else 200)
    response.content_type = "audio/wav"
    response.content_length = end - start + 1
    response.headers["Accept-Ranges"] = "bytes"
    if partial:
        response.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    # Decrypted audio must not stay in any cache, shared or the browser's own.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'inline; filename="call-{view.call.id}-{part}.wav"'
    sent = 0
    try:
        await response.prepare(request)
        async for chunk in audio.stream(stored.path, start, end):
            await response.write(chunk)
            sent += len(chunk)
        await response.write_eof()
    finally:
        # Who, which call, when (the entry's time), and how long: the audio sent, from where.
        await journal.record(
            me,
            Action.listen_recording.value,
            object_type="call",
            object_id=view.call.id,
            detail=(
                f"{part}: {clock(start * 1000 // WAV_BYTES_PER_SECOND)}, "
                f"{sent / WAV_BYTES_PER_SECOND:.1f} с"
            ),
        )
    return response


def _byte_range(header: str | None, size: int) -> tuple[int, int, bool]:
    """(first, last, partial) of a single-range Range header; 416 if it cannot be served."""
    if not header:
        return 0, max(size - 1, 0), False
    match = _RANGE.fullmatch(header.strip())
    if match is None or not (match.group(1) or match.group(2)):
        raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    first, last = match.groups()
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    else:  # "bytes=-500": the last 500 bytes
        start = max(size - int(last), 0)
        end = size - 1
    if start > end or start >= size:
        raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    return start, end, True


async def evidence_export(request: web.Request) -> web.StreamResponse:
    """A zip of the audio, transcript, call record and hashes, for a dispute."""
    view = _card(request)
    bundle = await _audio(request).evidence_bundle(view)
    return web.Response(
        body=bundle,
        content_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="call-{view.call.id}-evidence.zip"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def transcript_search(request: web.Request) -> web.StreamResponse:
    user = signed_in(request)
    query = request.query.get("q", "").strip()[:200]
    own_only = scope_of(user.employee.role, Action.search_transcripts) == Scope.own
    hits = (
        await request.app[SERVICES].conversation_search.search(
            query, employee_id=user.employee.id if own_only else None
        )
        if query
        else []
    )
    return render(request, "transcript_search.html", {"query": query, "hits": hits})


async def listening_queue(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    return render(
        request,
        "listening_queue.html",
        {
            "items": await services.listening_queue.calls(),
            "contracts": await services.contract_risk.contracts(),
        },
    )


async def call_statistics(request: web.Request) -> web.StreamResponse:
    try:
        days = int(request.query.get("days", "30"))
    except ValueError:
        days = 30
    days = days if days in PERIODS else 30
    until = firm_today()
    stats = await request.app[SERVICES].call_statistics.of_period(
        until - timedelta(days=days - 1), until
    )
    per_day = charts.column_chart(
        [row.label for row in stats.by_day],
        [
            charts.Series(_("отвеченные"), [row.answered for row in stats.by_day]),
            charts.Series(_("пропущенные"), [row.missed for row in stats.by_day]),
        ],
        title=_("Звонки по дням"),
        chart_id="calls-by-day",
        stacked=True,
    )
    shares = [
        (row.label, 100 * row.talk_share) for row in stats.by_employee if row.talk_share is not None
    ]
    share_chart = charts.bar_chart(
        shares,
        title=_("Доля речи сотрудника в разговоре"),
        chart_id="talk-share",
        measure=charts.PERCENT,
    )
    return render(
        request,
        "call_statistics.html",
        {
            "stats": stats,
            # The dialplan's names of queues, as people call them.
            "queue_names": {CALL_CENTRE_QUEUE: _("Колл-центр"), NO_QUEUE: _("Без очереди")},
            "days": days,
            "periods": PERIODS,
            "per_day": per_day,
            "share_chart": share_chart if shares else None,
        },
    )
