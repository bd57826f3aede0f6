"""The call card of a recorded call (transcript, flags, job) and the search over transcripts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text

from crm.calls.models import Call
from crm.clients.models import Client
from crm.conversations.models import (
    CallFlag,
    RecordingFile,
    Transcript,
    TranscriptionJob,
    TranscriptSegment,
)
from crm.conversations.speech import stems, stems_match
from crm.conversations.transcription import SEARCH_TABLE, job_of
from crm.core.formatting import fold
from crm.core.service import Service
from crm.staff.models import Employee


@dataclass(frozen=True)
class RecordingCard:
    """A recorded call's card: the call, who was on it, its recordings, transcript and flags."""

    call: Call
    client: Client | None
    employee: Employee | None
    files: list[RecordingFile]
    transcript: Transcript | None
    segments: list[TranscriptSegment]
    flags: list[CallFlag]
    job: TranscriptionJob | None

    def label(self, speaker: str) -> str:
        """ "Клиент", or the employee's job ("Юрист", "Оператор КЦ"): how a line is headed."""
        if speaker == "client":
            return "Клиент"
        return self.employee.role.title_ru if self.employee else "Сотрудник"

    def transcript_lines(self) -> list[str]:
        """The conversation as text, one utterance a line: "[0:05] Юрист: Добрый день"."""
        return [f"[{clock(s.start_ms)}] {self.label(s.speaker)}: {s.text}" for s in self.segments]


@dataclass(frozen=True)
class SearchHit:
    call: Call
    client: Client | None
    employee: Employee | None
    excerpts: list[TranscriptSegment]


def clock(ms: int) -> str:
    """A moment of a call as m:ss ("1:05")."""
    return f"{ms // 60000}:{ms // 1000 % 60:02d}"


class ConversationSearch(Service):
    """Reading recorded calls: one call's card, and transcript search."""

    async def recording_card(self, call_id: int) -> RecordingCard | None:
        async with self._sessionmaker() as session:
            call = await session.get(Call, call_id)
            if call is None:
                return None
            transcript = await session.scalar(
                select(Transcript).where(Transcript.linkedid == call.linkedid)
            )
            segments = (
                list(
                    await session.scalars(
                        select(TranscriptSegment)
                        .where(TranscriptSegment.transcript_id == transcript.id)
                        .order_by(TranscriptSegment.start_ms, TranscriptSegment.id)
                    )
                )
                if transcript
                else []
            )
            return RecordingCard(
                call=call,
                client=await session.get(Client, call.client_id) if call.client_id else None,
                employee=(
                    await session.get(Employee, call.employee_id) if call.employee_id else None
                ),
                files=list(
                    await session.scalars(
                        select(RecordingFile)
                        .where(RecordingFile.linkedid == call.linkedid)
                        .order_by(RecordingFile.part, RecordingFile.id)
                    )
                ),
                transcript=transcript,
                segments=segments,
                flags=list(
                    await session.scalars(
                        select(CallFlag)
                        .where(CallFlag.linkedid == call.linkedid)
                        .order_by(CallFlag.at_ms, CallFlag.id)
                    )
                ),
                job=await job_of(session, call.linkedid),
            )

    async def search(
        self, query: str, *, employee_id: int | None = None, limit: int = 50
    ) -> list[SearchHit]:
        """Calls whose transcript has every word of `query` (any form of a Russian word).

        `employee_id`: only that employee's calls (own scope).
        """
        wanted = stems(query)
        if not wanted:
            return []
        async with self._sessionmaker() as session:
            dialect = session.get_bind().dialect.name
            if dialect == "postgresql":
                matches = select(Transcript.linkedid).where(
                    func.to_tsvector("russian", Transcript.text).op("@@")(
                        func.plainto_tsquery("russian", fold(query))
                    )
                )
            else:
                # Stems hold letters and digits only, so quoting cannot break the syntax;
                # a prefix query finds the forms Snowball leaves on a longer stem.
                expression = " ".join(f'"{s}"*' if len(s) >= 4 else f'"{s}"' for s in wanted)
                matches = (
                    select(text("linkedid"))
                    .select_from(text(SEARCH_TABLE))
                    .where(
                        text("transcript_search MATCH :expression").bindparams(
                            expression=expression
                        )
                    )
                )
            statement = (
                select(Call, Client, Employee, Transcript)
                .join(Transcript, Transcript.linkedid == Call.linkedid)
                .outerjoin(Client, Client.id == Call.client_id)
                .outerjoin(Employee, Employee.id == Call.employee_id)
                .where(Call.linkedid.in_(matches))
                .order_by(Call.started_at.desc(), Call.id.desc())
                .limit(limit)
            )
            if employee_id is not None:
                statement = statement.where(Call.employee_id == employee_id)
            rows = (await session.execute(statement)).all()
            hits = []
            for call, client, employee, transcript in rows:
                segments = await session.scalars(
                    select(TranscriptSegment)
                    .where(TranscriptSegment.transcript_id == transcript.id)
                    .order_by(TranscriptSegment.start_ms, TranscriptSegment.id)
                )
                excerpts = [s for s in segments if _mentions(s.text, wanted)][:3]
                hits.append(SearchHit(call, client, employee, excerpts))
            return hits


def _mentions(spoken: str, wanted: list[str]) -> bool:
    said = stems(spoken)
    return any(stems_match(w, s) for w in wanted for s in said)
