"""Organisation names resolve whatever form staff or reports use."""

from __future__ import annotations

import pytest

from ingest import organisations
from ingest.organisations import build_organisation_index, short_forms


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


WESSEX_VALE = "Wessex Vale NHS Foundation Trust"
SHORT_SPELLING = "Wessex Vale NHS FT opened a respiratory virtual ward."
FULL_SPELLING = "Wessex Vale NHS Foundation Trust saved 2,950 bed days."


@pytest.mark.parametrize("reports", [[SHORT_SPELLING, FULL_SPELLING], [FULL_SPELLING, SHORT_SPELLING]])
def test_nhs_ft_and_the_full_legal_form_are_one_organisation_whichever_is_read_first(reports: list[str]) -> None:
    gazetteer = set(build_organisation_index().canonical_by_key.values())
    index = build_organisation_index(reports)
    assert set(index.canonical_by_key.values()) - gazetteer == {WESSEX_VALE}
    assert index.find(SHORT_SPELLING) == index.find(FULL_SPELLING) == (WESSEX_VALE,)


def test_a_report_writing_only_nhs_ft_is_tagged_with_the_full_legal_form() -> None:
    """Ingest tags a report's chunks before it reads the next report, so the name cannot wait for a longer one."""
    assert build_organisation_index([SHORT_SPELLING]).find(SHORT_SPELLING) == (WESSEX_VALE,)
    text = "Tynebridge Hospitals FT enrolled 1,905 patients."
    assert build_organisation_index([text]).find(text) == ("Tynebridge Hospitals NHS Foundation Trust",)


@pytest.mark.parametrize(
    "question",
    [
        "What did Wessex Vale do?",
        "What did Wessex Vale NHS FT do?",
        "What did Wessex Vale FT do?",
        "What did Wessex Vale Foundation Trust do?",
        "What did Wessex Vale NHS Foundation Trust do?",
        "What is Wessex Vale’s bed-day saving?",
    ],
)
def test_every_spelling_of_a_foundation_trust_in_a_question_names_it(question: str) -> None:
    index = build_organisation_index([SHORT_SPELLING, FULL_SPELLING])
    assert index.find(question, short=True) == (WESSEX_VALE,)


def test_an_nhs_ft_question_names_a_trust_learned_from_the_text() -> None:
    index = build_organisation_index(["Tynebridge Hospitals NHS FT (THFT) led the North East. THFT enrolled most."])
    trust = "Tynebridge Hospitals NHS Foundation Trust"
    assert index.find("what did Tynebridge Hospitals NHS FT do?", short=True) == (trust,)
    assert index.find("and Tynebridge?", short=True) == (trust,)
    assert index.find("THFT's results") == (trust,)


def test_ft_in_prose_is_not_an_organisation() -> None:
    prose = (
        "The FT board met. An NHS FT must publish accounts. Every NHS Foundation Trust has a council of governors. "
        "Our Hospitals FT staff agreed. The Guardian and FT reported it. Band 6 FT nurses were hired."
    )
    index = build_organisation_index([prose])
    assert set(index.canonical_by_key.values()) == set(build_organisation_index().canonical_by_key.values())
    assert index.find(prose) == ()


def test_a_trust_without_its_legal_form_is_not_tagged_as_either_kind_of_trust() -> None:
    """ "X Trust" is written for NHS trusts and foundation trusts alike, and charities are trusts too."""
    index = build_organisation_index([FULL_SPELLING])
    assert index.find("Wessex Vale Trust staff were surveyed.") == ()
    assert build_organisation_index().find("The Nuffield Trust and the Wellcome Trust") == ()


def test_a_name_saved_without_nhs_by_an_earlier_version_gives_way_to_the_full_legal_form() -> None:
    """The index's saved aliases are put back into ``canonical_by_key`` as they were saved (see ingest.pipeline)."""
    index = build_organisation_index()
    index.canonical_by_key.setdefault("wessex vale foundation trust", "Wessex Vale Foundation Trust")
    index.learn_from_text(FULL_SPELLING)
    assert index.find("Wessex Vale Foundation Trust") == (WESSEX_VALE,)
    assert index.find("What did Wessex Vale do?", short=True) == (WESSEX_VALE,)


def test_gazetteer_names_keep_their_canonical_name_in_every_spelling() -> None:
    index = build_organisation_index(["BWC NHS FT and Guy's and St Thomas' FT shared a strategy committee."])
    assert index.find("BWC NHS FT and Guy's and St Thomas' FT") == (
        "Birmingham Women's and Children's NHS Foundation Trust",
        "Guy's and St Thomas' NHS Foundation Trust",
    )
    assert index.find("What has Torbay and South Devon FT done?", short=True) == (
        "Torbay and South Devon NHS Foundation Trust",
    )


def test_learning_a_documents_names_does_not_rekey_every_stored_alias_for_each_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """300 new names in a document against 3,000 saved aliases took 5.7 s when each name learned made the whole
    lookup again. Counting keys made, not timing, keeps the test fast and steady: once per alias and a few per
    name is about 8,000; once per alias per name would be 900,000."""
    index = build_organisation_index()
    for number in range(3000):  # as ingest.pipeline puts back the aliases an index saved
        index.canonical_by_key.setdefault(f"stored {number} nhs trust", f"Stored {number} NHS Trust")
    names_before = len(set(index.canonical_by_key.values()))
    document = " ".join(f"Newtown{number} Vale NHS Foundation Trust ran a pilot." for number in range(300))
    keys_made = 0
    make_key = organisations._key

    def counting_key(name: str) -> str:
        nonlocal keys_made
        keys_made += 1
        return make_key(name)

    monkeypatch.setattr(organisations, "_key", counting_key)
    index.learn_from_text(document)
    assert len(set(index.canonical_by_key.values())) == names_before + 300
    assert keys_made < 10 * (3000 + 300)
    assert index.find("Newtown299 Vale NHS FT and Stored 7 NHS Trust") == (
        "Newtown299 Vale NHS Foundation Trust",
        "Stored 7 NHS Trust",
    )


def test_aliases_put_straight_into_the_index_are_found_after_earlier_lookups() -> None:
    """ingest.pipeline and assistant.pipeline put saved aliases straight into ``canonical_by_key``, past ``add``."""
    index = build_organisation_index([FULL_SPELLING])
    assert index.find("WVFT's results", short=True) == index.find("WVFT") == ()
    assert index.canonical("WVFT") is None
    index.canonical_by_key.setdefault("wvft", WESSEX_VALE)
    assert index.canonical("WVFT") == WESSEX_VALE
    assert index.find("WVFT's results", short=True) == index.find("WVFT") == (WESSEX_VALE,)


@pytest.mark.parametrize(
    "prose",
    [
        "Primary Care FT staff were hard to recruit.",
        "Adult Social Care FT vacancies fell by a third.",
        "Health and Social Care FT posts rose in 2024.",
        "Each Mental Health Foundation Trust should name an innovation lead.",
        "Each Mental Health FT should name an innovation lead.",
        "In Each Mental Health NHS FT the lead reports to the board.",
        "Many Teaching Hospitals FT boards have a digital lead.",
        "Two Teaching Hospitals NHS Foundation Trust sites joined.",
        "Several Children’s Hospital FT teams and Most Community Healthcare FT teams replied.",
    ],
)
def test_a_kind_of_trust_or_a_full_time_ft_is_not_an_organisation(prose: str) -> None:
    """ "FT" is full-time too, and a name made only of kind words says what sort of trust, not which one: before,
    "Mental Health NHS Foundation Trust" was learned and answered every question about mental health trusts."""
    gazetteer = build_organisation_index()
    index = build_organisation_index([prose])
    assert set(index.canonical_by_key.values()) == set(gazetteer.canonical_by_key.values())
    assert index.find(prose) == ()
    assert index.of_kind("What have mental health trusts done?") == ()


def test_trusts_named_for_health_or_care_are_still_learned_from_their_ft_spelling() -> None:
    text = (
        "Both Mersey Care FT and Oxford Health FT joined; Our Sheffield Health and Social Care FT team, "
        "Each Kent Community Health NHS FT site and Wessex Vale FT and Tynebridge Hospitals FT reported."
    )
    index = build_organisation_index([text])
    assert index.find(text) == (
        "Mersey Care NHS Foundation Trust",
        "Oxford Health NHS Foundation Trust",
        "Sheffield Health and Social Care NHS Foundation Trust",
        "Kent Community Health NHS Foundation Trust",
        "Tynebridge Hospitals NHS Foundation Trust",
    )


def test_a_name_without_a_legal_form_is_asked_about_by_its_place() -> None:
    """Reports' tables often drop the legal form ("Mercia Valley University Hospitals"); staff ask "Mercia Valley"."""
    index = build_organisation_index()
    index.learn_from_text("Midlands | Mercia Valley University Hospitals | 2,340 | 7,450")
    assert index.find("How many patients did Mercia Valley enrol?", short=True) == (
        "Mercia Valley University Hospitals",
    )
    assert index.find("How many patients did Mercia Valley enrol?") == ()  # a report's "in Mercia Valley" is a place
    assert short_forms("University Hospitals") == [] and short_forms("Community Health Services") == []
    # A heading the name pattern misread gives no short form: "what are the key findings?" names no one.
    index.learn_from_text("Key Findings University Hospitals data were collected in 2024.")
    assert index.find("What are the key findings?", short=True) == ()
