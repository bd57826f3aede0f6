"""Keyword rules over transcripts: risk of losing the client, and employees poaching clients."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from crm.conversations.models import CallFlagKind
from crm.conversations.speech import stems, stems_match
from crm.conversations.transcription import FlagHit, SpokenSegment

DEFAULT_RULES_FILE = Path(__file__).with_name("speech_rules.toml")
SPEAKERS = ("client", "employee", "any")
# Words a speaker puts between a phrase's words ("напишите мне, пожалуйста, в телеграм").
MAX_WORDS_BETWEEN = 2


class RulesFileInvalid(Exception):
    """The rules file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class SpeechRule:
    name: str
    kind: CallFlagKind
    speaker: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class SpeechRules:
    rules: tuple[SpeechRule, ...]

    @classmethod
    def load(cls, path: Path | None = None) -> SpeechRules:
        """The rules of `path`, or the built-in Russian ones."""
        path = path or DEFAULT_RULES_FILE
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise RulesFileInvalid(f"Файл правил {path} не читается: {error}") from None
        rules = []
        for number, raw in enumerate(data.get("rule", []), start=1):
            try:
                rule = SpeechRule(
                    name=str(raw["name"]),
                    kind=CallFlagKind(raw["kind"]),
                    speaker=str(raw.get("speaker", "any")),
                    phrases=tuple(str(p) for p in raw["phrases"]),
                )
            except (KeyError, ValueError, TypeError):
                raise RulesFileInvalid(
                    f"Файл правил {path}, правило {number}: нужны name, kind "
                    f"(risk или poaching) и phrases"
                ) from None
            if rule.speaker not in SPEAKERS:
                raise RulesFileInvalid(
                    f"Файл правил {path}, правило {rule.name!r}: speaker — client, employee или any"
                )
            rules.append(rule)
        return cls(tuple(rules))

    def match(self, segments: Sequence[SpokenSegment]) -> list[FlagHit]:
        """Each rule's phrases found in what the rule's side said, first time each."""
        hits: dict[tuple[str, str], FlagHit] = {}
        said = [(segment, stems(segment.text)) for segment in segments]
        for rule in self.rules:
            for phrase in rule.phrases:
                wanted = stems(phrase)
                for segment, words in said:
                    if rule.speaker not in ("any", segment.speaker):
                        continue
                    if (rule.name, phrase) not in hits and _contains(words, wanted):
                        hits[(rule.name, phrase)] = FlagHit(
                            rule.kind, rule.name, phrase, segment.speaker, segment.start_ms
                        )
        return sorted(hits.values(), key=lambda hit: hit.at_ms)


def _contains(words: list[str], phrase: list[str]) -> bool:
    if not phrase:
        return False
    for start, word in enumerate(words):
        if not stems_match(phrase[0], word):
            continue
        position = start
        for wanted in phrase[1:]:
            window = words[position + 1 : position + 2 + MAX_WORDS_BETWEEN]
            found = next((i for i, w in enumerate(window) if stems_match(wanted, w)), None)
            if found is None:
                break
            position += 1 + found
        else:
            return True
    return False
