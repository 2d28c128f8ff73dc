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


def test_a_name_never_runs_across_a_line_break() -> None:
    """A PDF page's heading over its organisation line is two things, not one organisation."""
    text = "Westbrook Falls Prevention Programme\nNorth Shire ICB | Official\n\nNorth Shire ICB ran the pilot."
    index = build_organisation_index([text])
    assert set(index.canonical_by_key.values()) >= {"North Shire ICB"}
    assert not any("\n" in name or "Programme" in name for name in index.canonical_by_key.values())


def test_generic_words_are_not_organisations() -> None:
    index = build_organisation_index(["Each Foundation Trust and every Mental Health Trust is different."])
    assert index.find("a Foundation Trust and a Mental Health Trust") == ()


def test_no_partial_word_matches() -> None:
    assert build_organisation_index().find("The MSEx score improved") == ()


@pytest.mark.parametrize(
    ("question", "canonical"),
    [
        ("What has Leeds done on innovation?", "Leeds Teaching Hospitals NHS Trust"),
        ("How does Buckinghamshire decide what to take forward?", "Buckinghamshire Healthcare NHS Trust"),
        ("what did bucks do", "Buckinghamshire Healthcare NHS Trust"),
        ("Anything from North West Ambulance?", "North West Ambulance Service NHS Trust"),
        ("Kings College process map", "King's College Hospital NHS Foundation Trust"),
    ],
)
def test_questions_may_use_short_forms(question: str, canonical: str) -> None:
    assert build_organisation_index().find(question, short=True) == (canonical,)


def test_short_forms_are_for_questions_not_for_tagging_reports() -> None:
    assert build_organisation_index().find("The event was held in Leeds.") == ()


def test_an_ambiguous_or_too_generic_short_form_names_nobody() -> None:
    index = build_organisation_index()
    # Two trusts and a partnership start with "Birmingham"; a county council shares "Gloucestershire".
    assert index.find("What is Birmingham doing?", short=True) == ()
    assert index.find("Is Gloucestershire involved?", short=True) == ()
    # "North West" alone is a region, not the ambulance trust.
    assert index.find("Which trusts in the North West?", short=True) == ()
    learned = build_organisation_index(["Riverside University NHS Trust and Riverside Community NHS Trust met."])
    assert learned.find("What did Riverside do?", short=True) == ()


def test_a_kind_of_organisation_names_every_organisation_of_that_kind() -> None:
    index = build_organisation_index()
    assert index.of_kind("what have ambulance trusts done?") == (
        "East of England Ambulance Service NHS Trust",
        "North West Ambulance Service NHS Trust",
    )
    assert "Alder Hey Children's NHS Foundation Trust" in index.of_kind("any children's hospitals doing this?")
    assert index.of_kind("what did the ambulance crews say?") == ()  # a kind of organisation, not of staff
    assert index.of_kind("what did HIN and ICB people say?") == ()


def test_a_possessive_names_its_organisation_and_guys_keeps_its_s() -> None:
    """ "What is Torbay's budget?" asks about Torbay: before, the possessive hid the name from retrieval's boost."""
    index = build_organisation_index()
    assert index.find("EEAST's staff survey", short=True) == ("East of England Ambulance Service NHS Trust",)
    assert index.find("What is Torbay’s budget?", short=True) == ("Torbay and South Devon NHS Foundation Trust",)
    assert index.find("Guy's and St Thomas' NHS Foundation Trust") == ("Guy's and St Thomas' NHS Foundation Trust",)
    assert index.find("the sites' budgets and the trusts' plans") == ()


def test_a_kind_inside_a_trusts_name_does_not_name_every_trust_of_that_kind() -> None:
    index = build_organisation_index(["Severn Marches Ambulance Service NHS Trust cut its costs."])
    assert index.of_kind("What did Severn Marches Ambulance Service NHS Trust spend per patient?") == ()
    assert index.of_kind("What did East of England Ambulance Service do?") == ()
    kind = index.of_kind("What are ambulance trusts doing about staff surveys?")
    assert "Severn Marches Ambulance Service NHS Trust" in kind
    assert "East of England Ambulance Service NHS Trust" in kind
