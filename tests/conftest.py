"""Shared fixtures: a private data directory per test, a tiny corpus, and a deterministic fake embedder.

The fake embedder hashes words into a small vector space, so tests about wiring, ingestion and citation
checks run in milliseconds and give the same result every time; retrieval quality is tested separately with
the real model (tests marked ``slow``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings, load_settings
from assistant.records import Chunk, ChunkKind

TINY_REPORT = """Contents

<u>Vision and strategy</u>\t3\t<u>Governance and resources</u>\t9
<u>Culture & capabilities</u>\t12\t<u>Thanks</u>\t20



Vision & Strategy

In this domain we asked Sites about how they define innovation.



Key theme 1

Ensuring strategy is needs-led

Focusing innovation strategies on real-world problems experienced by staff and patients is critical.

Best practice approaches

Surveys for deeper problem analysis

A number of Sites are using Trust-wide surveys to surface initial problem areas.

Case Study: Using Trust-wide surveys in EEAST to gather pain points

In East Of England Ambulance Service NHS Trust (EEAST), the innovation team worked with the survey team to send a survey to all staff. Anyone completing the survey was entered into a prize draw for a £50 voucher.

The survey received approximately 130 responses across a range of staff bands.



Governance & Resources

Governance & Resources

94% (n=17) Sites are proud to share or are making progress on developing clear governance arrangements.



Key theme 2

Securing recurrent funding sources for core activities

Smaller Sites often rely heavily on NHS InSites funding to support core activity.

Best practice approaches

Strategic engagement with NHS charities around shared objectives

A number of Sites have been strengthening their innovation partnerships with local NHS charities.

Case Study: Chelsea and Westminster Hospital NHS Foundation Trust and CW+ working in partnership

In Chelsea and Westminster Hospital NHS Foundation Trust, the trust-wide innovation programme is funded by its charity CW+. This relationship has been formalised through an MoU.



Culture & Capabilities

Culture & Capabilities

Innovation Fellowship programs

Mid and South Essex NHS Foundation Trust runs an innovation fellowship giving clinicians protected time for one day a week.
"""

TINY_EVENT = """Executive Summary 1/2

The rapid insight event welcomed 94 attendees and explored four key questions about the innovation ecosystem.



Challenges

Funding to translate evidence into implementation was the most cited challenge, followed by cultural shift.
"""


class FakeEmbedder:
    """Bag-of-words hashed into 128 dimensions, L2-normalised: similar wording -> similar vectors."""

    name = "fake-hash-embedder"
    dimension = 128
    max_tokens = 256

    def __init__(self) -> None:
        self.calls = 0

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        matrix = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                stem = word[:6]
                bucket = int(hashlib.md5(stem.encode()).hexdigest(), 16) % self.dimension
                matrix[row, bucket] += 1.0
            norm = np.linalg.norm(matrix[row])
            matrix[row] = matrix[row] / norm if norm else matrix[row]
        return matrix

    def embed_query(self, text: str) -> np.ndarray:
        result: np.ndarray = self.embed_documents([text])[0]
        return result

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", llm_backend="fake", refusal_threshold=0.2)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "learning-report.md").write_text(TINY_REPORT, encoding="utf-8")
    (folder / "rapid-insight.txt").write_text(TINY_EVENT, encoding="utf-8")
    (folder / "metadata.json").write_text(
        '{"learning-report.md": {"title": "Tiny learning report", "year": 2025},'
        ' "rapid-insight.txt": {"title": "Tiny rapid insight report", "year": 2024}}',
        encoding="utf-8",
    )
    return folder


def make_chunk(
    position: int,
    text: str = "",
    section_path: tuple[str, ...] = ("S",),
    kind: ChunkKind = "text",
    organisations: tuple[str, ...] = (),
) -> Chunk:
    """A chunk of one test document ("d"), identified by its position, for tests that need no index."""
    return Chunk(
        chunk_id=f"c{position}",
        doc_id="d",
        doc_title="Doc",
        text=text,
        embed_text=text,
        section_path=section_path,
        page=None,
        kind=kind,
        organisations=organisations,
        position=position,
    )
