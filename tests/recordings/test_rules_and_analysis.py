"""Keyword rules in any word form, numbers kept out of transcripts, and the talk figures."""

from __future__ import annotations

from crm.conversations.models import CallFlagKind
from crm.conversations.speech import NUMBER_REDACTED, redact_numbers
from crm.conversations.transcription import SpokenSegment
from recordings.analysis import Interval, talk_metrics
from recordings.rules import SpeechRules


def said(speaker: str, text: str, at: int = 0) -> SpokenSegment:
    return SpokenSegment(speaker, at, at + 1000, text)


def test_russian_default_rules_catch_other_forms_of_the_words() -> None:
    rules = SpeechRules.load()
    hits = rules.match(
        [
            said("client", "Я хочу расторгнуть договор и чтобы мне вернули деньги", 1000),
            said("client", "Найду другого юриста, мы же суд проиграли", 5000),
            said("employee", "Запишите мой номер, лучше напишите мне в Телеграме", 9000),
        ]
    )
    found = {(hit.kind, hit.phrase) for hit in hits}
    assert (CallFlagKind.risk, "расторгнуть") in found
    assert (CallFlagKind.risk, "другого юриста") in found
    assert (CallFlagKind.risk, "суд проиграли") in found
    assert (CallFlagKind.poaching, "запишите мой номер") in found
    assert (CallFlagKind.poaching, "в телеграме") in found
    assert [hit.at_ms for hit in hits] == sorted(hit.at_ms for hit in hits)


def test_a_rule_listens_to_its_own_side_only() -> None:
    rules = SpeechRules.load()
    # The employee saying "расторгнуть" (explaining the contract) is no risk signal.
    assert rules.match([said("employee", "Договор можно расторгнуть в любой момент")]) == []


def test_phone_numbers_never_reach_a_transcript() -> None:
    for spoken in ("мой номер 8 921 555-11-99", "+7 (921) 555 11 99", "89215551199"):
        text = redact_numbers(spoken)
        assert NUMBER_REDACTED in text and "555" not in text
    assert redact_numbers("встреча 12.03 в 15:00") == "встреча 12.03 в 15:00"


def test_talk_figures_from_each_side() -> None:
    employee = [Interval(0, 4000), Interval(10_000, 12_000)]
    client = [Interval(4200, 9000), Interval(11_000, 15_000), Interval(40_000, 41_000)]
    metrics = talk_metrics(employee, client, 45_000)
    assert metrics.employee_talk_ms == 6000
    assert metrics.client_talk_ms == 9800
    assert metrics.longest_silence_ms == 25_000  # 15 s to 40 s: nobody spoke
    assert metrics.overlaps == 1  # 11 s to 12 s
    assert metrics.interruptions == 1  # the client cut in a second into the employee's turn
