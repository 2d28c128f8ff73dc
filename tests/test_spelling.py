"""Mistyped question words read as the report words they were meant to be, and real words left alone."""

from __future__ import annotations

import random

import pytest

from assistant.query import plan_query
from assistant.records import Turn
from assistant.spelling import Correction, SpellingCorrector, edit_distance, is_english
from evals.golden_check import GoldItem
from evals.typos import mistype, with_typos
from ingest.organisations import build_organisation_index

REPORT_WORDS = [
    *("innovation", "funding", "fellowship", "fellowships", "sites", "steps", "committees", "torbay", "board"),
    *("organisations", "prioritise", "centre", "color"),
]
PASSAGES = {"sites": 12, "steps": 2}


@pytest.fixture
def spell() -> SpellingCorrector:
    return SpellingCorrector(REPORT_WORDS, lambda word: PASSAGES.get(word, 1))


def test_mistyped_words_are_read_as_the_report_words(spell: SpellingCorrector) -> None:
    corrected = spell("inovation fundng for small teams?")
    assert corrected.text == "innovation funding for small teams?"
    assert corrected.corrections == (Correction("inovation", "innovation"), Correction("fundng", "funding"))


def test_a_tie_goes_to_the_word_more_passages_use(spell: SpellingCorrector) -> None:
    assert spell("stes").text == "sites"  # "steps" is one edit away too, but rarer


def test_a_slip_in_the_first_letter_is_corrected_too(spell: SpellingCorrector) -> None:
    for typed in ("gunding", "ufnding", "unding", "ffunding"):
        assert spell(typed).text == "funding", typed


def test_swapped_letters_cost_one_edit_and_long_words_allow_two(spell: SpellingCorrector) -> None:
    assert edit_distance("fudning", "funding", 2) == 1
    assert spell("cmomittes").text == "committees"  # swap + drop, nine letters
    assert spell("baord").text == "board"
    assert spell("bxxrd").text == "bxxrd", "two edits are too many for a five-letter word"


def test_capitalisation_is_kept(spell: SpellingCorrector) -> None:
    assert spell("What did Torbya do?").text == "What did Torbay do?"


def test_real_words_the_reports_never_use_stay_as_typed(spell: SpellingCorrector) -> None:
    question = "paracetamol dose in Denmark - theyre trialling a paediatric programme to prioritise, lol, EPR"
    assert spell(question).corrections == ()


def test_british_spellings_and_missing_apostrophes_are_english() -> None:
    for word in ("prioritise", "organisation", "colour", "centre", "paediatric", "programme", "theyre", "dont"):
        assert is_english(word), word
    for typo in ("fundng", "inovation", "sitse"):
        assert not is_english(typo), typo


def test_the_plan_searches_with_the_corrected_question_and_keeps_the_corrections(spell: SpellingCorrector) -> None:
    plan = plan_query("which trusts run innovation felowships?", [], build_organisation_index(), spell=spell)
    assert "fellowships" in plan.search_text and "felowships" not in plan.search_text
    assert '"fellowships"' in plan.lexical and "felowships" not in plan.lexical
    assert plan.corrections == (Correction("felowships", "fellowships"),)


def test_a_follow_up_carries_the_corrected_previous_question(spell: SpellingCorrector) -> None:
    history = [Turn("user", "Which sites run fellowhsips?"), Turn("assistant", "Several do [1].")]
    plan = plan_query("and how are they funded?", history, build_organisation_index(), spell=spell)
    assert plan.is_follow_up and "fellowships" in plan.search_text
    assert plan.corrections == (), "only the new question's corrections are reported"


def test_eval_typos_are_deterministic_and_leave_short_words_alone() -> None:
    item = GoldItem(id="q1", kind="fact", question="How are innovation fellowships funded at Torbay?")
    first, second = with_typos(item, 2), with_typos(item, 2)
    assert first == second and first.question != item.question
    changed = [(a, b) for a, b in zip(item.question.split(), first.question.split(), strict=True) if a != b]
    assert len(changed) == 2
    for original, typed in changed:
        assert len(original) >= 5 and edit_distance(original, typed, 2) == 1
    assert mistype("How are we?", 2, random.Random(0)) == "How are we?"


def test_a_word_spelt_the_other_side_of_the_atlantic_is_read_the_reports_way_without_a_note(
    spell: SpellingCorrector,
) -> None:
    corrected = spell("How do organizations prioritize? Which center? What colour?")
    assert corrected.text == "How do organisations prioritise? Which centre? What color?"
    assert all(correction.variant for correction in corrected.corrections) and corrected.typos == ()
    plan = plan_query("Which organizations run fellowhsips?", [], build_organisation_index(), spell=spell)
    assert '"organisations"' in plan.lexical and "organizations" not in plan.search_text
    assert plan.corrections == (Correction("fellowhsips", "fellowships"),), "spelling variants are not reported"
