"""The refusal gates' text tests, with a fixed vocabulary standing in for the corpus lookup."""

from __future__ import annotations

from assistant.refusal import (
    foreign_terms,
    specific_terms,
    term_coverage,
    unknown_names,
    unknown_words,
    unsourced_names,
)

CORPUS = {"funding", "charity", "scaling", "innovation", "change", "project", "manager"}


def _knows(word: str) -> bool:
    return word in CORPUS


def test_specific_terms_leave_out_generic_and_short_words() -> None:
    assert specific_terms("How do NHS trusts fund their innovation team?") == {"fund"}


def test_coverage_matches_word_forms_and_staff_synonyms() -> None:
    passages = ["Innovations are scaling quickly with charity funding."]
    coverage, terms = term_coverage("Who credits money for getting things scaled?", passages)
    # "scaled" finds "scaling" by stem; "money" finds "funding" through the staff vocabulary; "getting" and
    # "things" only frame the question.
    assert terms == 3 and coverage == 2 / 3


def test_framing_words_are_not_terms_but_capital_abbreviations_are() -> None:
    question = "We're a smallish trust in deficit. Any examples of a team that mostly pays its own way with XR?"
    assert specific_terms(question) == {"smallish", "deficit", "pays", "xr"}


def test_a_short_abbreviation_is_covered_only_as_a_whole_word() -> None:
    assert term_coverage("Which trusts get income from XR?", ["Income from their XR testbed."]) == (1.0, 2)
    assert term_coverage("Which trusts get income from XR?", ["Income from the Oxray testbed."]) == (0.5, 2)


def test_unknown_words_count_a_staff_synonym_the_corpus_uses_as_known() -> None:
    assert unknown_words(["money", "quarterly", "charity"], _knows) == ["quarterly"]


def test_a_name_is_unknown_when_any_of_its_words_is() -> None:
    assert unknown_names(["Agenda for Change", "Change Project"], _knows) == ["Agenda for Change"]


def test_foreign_terms_are_the_question_names_the_corpus_never_holds_whole() -> None:
    phrases = {"funding", "mandate", "medtech", "innovation unit", "women's and children's", "hins", "icbs"}
    question = (
        "Is the MedTech Funding Mandate, or a CQC or DCB0129 rule, in Innovation Unit's or Birmingham Women's "
        "and Children's reports, or the HINs and ICBs ones?"
    )
    names = ("MedTech Funding Mandate", "Innovation Unit's", "Birmingham Women's and Children's", "HINs and ICBs")

    found = foreign_terms(question, names, lambda phrase: phrase in phrases or phrase.startswith("birmingham"))

    # Each word of "MedTech Funding Mandate" is known, the name is not; a possessive or a pair of known names
    # is no new name; a one-letter word is never a term.
    assert found == ["MedTech Funding Mandate", "CQC", "DCB0129"]


def test_unsourced_names_are_capitalised_words_in_the_answer_the_corpus_never_uses() -> None:
    answer = (
        "Funding works like in Denmark: Sweden too. The Scottish Innovation Network (SIN) copies the Charity "
        "model [1]. Interestingly, Torbay works with Leeds and Westminstr.\n1. Norway\n- Wales is quoted."
    )
    knows = CORPUS | {"charity", "torbay"}

    found = unsourced_names(answer, knows.__contains__, ("Leeds trust",), lambda word: word == "Westminstr")

    # "Funding" opens the answer, "Sweden" follows a colon, "Interestingly" a citation and "Norway" a list
    # number (any word is capitalised there); "- Wales" is a bullet line; "Charity" and "Innovation" are in the
    # corpus, in any case; "Leeds" is where the asker works; "Westminstr" is a report word mistyped.
    assert found == ["Denmark", "Scottish", "Network", "SIN"]
    assert unsourced_names("We met NHSX [1].", knows.__contains__, misspelt=lambda word: not word.isupper()) == [
        "NHSX"
    ], "an abbreviation is passed to the typo test as written"
