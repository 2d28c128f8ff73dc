"""Evidence points: the sentences from the sources that best answer the question, quoted and cited.

The embedded 1.5B model writes a fluent opening but, given several sources, moves facts between
organisations and rounds numbers. So the answer's points are not generated: they are the source sentences
that score highest against the question, copied verbatim (numbers and names intact), at most one per source
first so several organisations are heard, each ending with its [n]. The model's job shrinks to a short direct
answer on top, which is also what keeps generation time low. Any model-written claim is still checked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.context import ScoredSentence
from assistant.records import Source

MIN_WORDS = 7
MAX_WORDS = 70
_NOISE = re.compile(r"https?://|@|www\.|^\W*$")
_MARKUP = re.compile(r"\*\*|__|</?u>|<[^>]+>")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")


@dataclass(frozen=True)
class EvidencePoint:
    number: int
    text: str

    def render(self) -> str:
        return f"- {self.text} [{self.number}]"


def select_evidence(
    scored: Sequence[ScoredSentence], sources: Sequence[Source], max_points: int = 4, min_score: float = 0.25
) -> list[EvidencePoint]:
    """Best sentences, one per source on the first pass, then the next best; shown in source order."""
    by_number = {source.number: source for source in sources}
    usable = sorted((s for s in scored if _usable(s.text) and s.score >= min_score), key=lambda s: -s.score)
    chosen: list[ScoredSentence] = []
    for pass_limit in (1, 2):
        for sentence in usable:
            if len(chosen) >= max_points:
                break
            if sentence in chosen or sum(1 for c in chosen if c.number == sentence.number) >= pass_limit:
                continue
            if pass_limit == 2 and chosen and sentence.score < 0.75 * chosen[0].score:
                continue
            chosen.append(sentence)
    chosen.sort(key=lambda s: (s.number, s.position))
    return [EvidencePoint(s.number, _attributed(s.text, by_number[s.number])) for s in chosen]


def render_evidence(points: Sequence[EvidencePoint]) -> str:
    return "\n".join(point.render() for point in points)


def _usable(sentence: str) -> bool:
    words = sentence.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS or _NOISE.search(sentence):
        return False
    stripped = sentence.rstrip()
    complete = stripped.endswith((".", "!", "?", "”", '"', ")")) or bool(
        re.match(r"^(?:[-*•●▪]|\d{1,2}[.)])\s", sentence)
    )
    return complete and not stripped.endswith(":") and not sentence.lower().startswith("case study")


def _attributed(sentence: str, source: Source) -> str:
    """Prefix the organisation when the sentence does not name it ("The survey received ..." -> who?)."""
    clean = _LINK.sub(r"\1", _MARKUP.sub("", sentence)).strip()
    clean = re.sub(r"^[-*•●▪]\s+", "", clean)
    clean = re.sub(r"^\*(.+)\*$", r"\1", clean).strip()
    organisations = source.chunk.organisations
    if source.chunk.kind != "case_study" or not organisations:
        return clean
    lowered = clean.lower()
    named = any(part.lower() in lowered for name in organisations for part in _short_forms(name))
    return clean if named else f"{organisations[0]}: {clean}"


def _short_forms(name: str) -> tuple[str, ...]:
    words = [w for w in re.split(r"\s+", name) if w.lower() not in {"nhs", "foundation", "trust", "the", "and"}]
    return (name, " ".join(words[:2])) if words else (name,)
