"""Organisation names resolve whatever form staff or reports use."""

from __future__ import annotations

import pytest

from ingest.organisations import build_organisation_index


@pytest.mark.parametrize(
    ("mention", "canonical"),
    [
        ("What did EEAST do?", "East of England Ambulance Service NHS Trust"),
        ("tell me about bht", "Buckinghamshire Healthcare NHS Trust"),
        ("how does CW+ fund things", "CW+"),
        ("anything from GSTT?", "Guy's and St Thomas' NHS Foundation Trust"),
        ("Guy’s and St Thomas’ leadership", "Guy's and St Thomas' NHS Foundation Trust"),
        (
            "Birmingham Women’s & Children’s NHS Foundation Trust",
            "Birmingham Women's and Children's NHS Foundation Trust",
        ),
    ],
)
def test_aliases_resolve_to_canonical_names(mention: str, canonical: str) -> None:
    assert build_organisation_index().find(mention) == (canonical,)


def test_abbreviations_and_nhs_names_are_learned_from_text() -> None:
    text = "Wessex Valley Partnership NHS Foundation Trust (WVPFT) ran a pilot. Later, WVPFT scaled it."
    index = build_organisation_index([text])
    assert index.find("what did WVPFT achieve") == ("Wessex Valley Partnership NHS Foundation Trust",)


def test_generic_words_are_not_organisations() -> None:
    index = build_organisation_index(["Each Foundation Trust and every Mental Health Trust is different."])
    assert index.find("a Foundation Trust and a Mental Health Trust") == ()


def test_no_partial_word_matches() -> None:
    assert build_organisation_index().find("The MSEx score improved") == ()
