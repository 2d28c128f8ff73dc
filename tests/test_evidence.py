"""Choosing the quoted evidence points: which source sentences, how many, in what order."""

from __future__ import annotations

from collections.abc import Callable

from assistant.context import ScoredSentence
from assistant.evidence import (
    MAX_POINTS,
    PER_SOURCE,
    EvidencePoint,
    about_organisation,
    answering_row,
    render_evidence,
    select_evidence,
)
from assistant.records import ChunkKind, Source
from tests.conftest import make_chunk


def _source(number: int, organisations: tuple[str, ...] = (), kind: ChunkKind = "text") -> Source:
    chunk = make_chunk(number, kind=kind, organisations=organisations)
    return Source(number=number, chunk=chunk, passage="")


def _sentence(number: int, position: int, score: float, text: str | None = None) -> ScoredSentence:
    text = text or f"Source {number} sentence {position} says something useful about the question here."
    return ScoredSentence(number=number, position=position, text=text, score=score)


SOURCES = [_source(n) for n in range(1, 6)]


def test_several_sentences_of_the_best_source_beat_a_weaker_source() -> None:
    """A fact answer usually spans sentences of the top passage; the rank prior keeps them together."""
    scored = [
        _sentence(1, 0, 0.60),
        _sentence(1, 1, 0.55),
        _sentence(1, 2, 0.50),
        _sentence(4, 0, 0.58),
        _sentence(5, 0, 0.30),
    ]
    points = select_evidence(scored, SOURCES)
    chosen = [(p.number, p.text) for p in points]
    assert [n for n, _ in chosen] == [1, 1, 1, 4]
    assert all(f"Source {n} sentence" in text for n, text in chosen)


def test_sentences_far_below_the_best_are_left_out() -> None:
    scored = [_sentence(1, 0, 0.80), _sentence(2, 0, 0.40), _sentence(3, 0, 0.30)]
    assert [p.number for p in select_evidence(scored, SOURCES)] == [1]


def test_no_more_than_the_cap_per_source_and_overall() -> None:
    scored = [_sentence(n, i, 0.9 - i * 0.01) for n in (1, 2, 3, 4) for i in range(8)]
    points = select_evidence(scored, SOURCES)
    assert len(points) == MAX_POINTS
    assert max(sum(1 for p in points if p.number == n) for n in (1, 2, 3, 4)) == PER_SOURCE


def test_examples_questions_hear_each_source_first() -> None:
    sources = [_source(n, (f"Trust {n}",), "case_study") for n in range(1, 6)]
    scored = [_sentence(1, i, 0.9) for i in range(PER_SOURCE + 1)] + [_sentence(n, 0, 0.75) for n in (2, 3, 4)]
    spread = select_evidence(scored, sources, spread_sources=True, max_points=4)
    focused = select_evidence(scored, sources, spread_sources=False, max_points=PER_SOURCE + 1)
    assert [p.number for p in spread] == [1, 2, 3, 4]
    assert [p.number for p in focused] == [1] * PER_SOURCE + [2]


def _names(known: tuple[str, ...]) -> Callable[[str, bool], tuple[str, ...]]:
    """A stand-in for ``OrganisationIndex.find``: the known names the text contains."""
    return lambda text, short: tuple(name for name in known if name in text)


def test_a_question_about_one_trust_is_not_answered_with_another_trusts_work() -> None:
    """Asked about Buckinghamshire, a point on Cambridgeshire's jointly funded roles reads as Bucks' work."""
    known = ("Buckinghamshire", "Cambridgeshire", "Gloucestershire County Council", "Gloucestershire Hospitals")
    sources = [
        _source(1, ("Buckinghamshire",), "case_study"),
        _source(2, ("Cambridgeshire",), "best_practice"),
        _source(3, ("Gloucestershire Hospitals",), "case_study"),
        _source(4),
    ]
    own = _sentence(1, 0, 0.8, "The board meets quarterly to decide which innovations to take forward.")
    partner = _sentence(1, 1, 0.7, "Gloucestershire County Council sits on the board alongside the university.")
    named_elsewhere = _sentence(4, 0, 0.7, "Buckinghamshire also shares its pathway with neighbouring trusts.")
    general = _sentence(4, 1, 0.6, "Most sites have a panel that prioritises innovations against strategy.")
    other_named = _sentence(2, 0, 0.9, "Cambridgeshire has two innovation roles funded by a partner.")
    other_case_study = _sentence(3, 0, 0.9, "The trust brought the council and the university together.")
    scored = [own, partner, named_elsewhere, general, other_named, other_case_study]

    kept = about_organisation(scored, sources, "Buckinghamshire", _names(known))

    assert kept == [own, partner, named_elsewhere, general]


def test_ocr_noise_from_a_slide_diagram_is_never_quoted() -> None:
    """Lines OCR read off a mind map are not statements; a dash, a colon or brackets in prose are fine."""
    noise = [
        "Deputy C- ie Stra:egy and Trands ormaftlon Officer.",
        ") Strate-gy « Commercial Innovation and Growth ) Board Chair « Evaluation and Transformation.",
        "Deputy Chief Executive Officer : iaf c. _ - Research Partnerships.",
    ]
    prose = [
        "Key corporate functions - such as IG, procurement, and finance - must work closely with the team.",
        "Main sources of core funding: internal budgets (11 Sites); NHS charity partner (3 Sites).",
    ]
    scored = [_sentence(1, i, 0.9, text) for i, text in enumerate(noise + prose)]
    assert [p.text for p in select_evidence(scored, SOURCES)] == prose


def test_points_are_verbatim_in_source_order_with_their_number() -> None:
    scored = [
        _sentence(2, 3, 0.9, "Funding rose to £1.2 million in 2024 across the whole region."),
        _sentence(1, 5, 0.7, "The charity paid for two innovation fellows in the first year."),
    ]
    rendered = render_evidence(select_evidence(scored, SOURCES))
    assert rendered.splitlines() == [
        "- The charity paid for two innovation fellows in the first year. [1]",
        "- Funding rose to £1.2 million in 2024 across the whole region. [2]",
    ]


def test_fragments_and_weak_sentences_are_never_quoted() -> None:
    scored = [_sentence(1, 0, 0.9, "Key theme 2:"), _sentence(2, 0, 0.2), _sentence(3, 0, 0.9, "Too short.")]
    assert select_evidence(scored, SOURCES) == []


def test_questions_headings_and_cut_fragments_are_never_quoted_as_evidence() -> None:
    texts = [
        "Q1 What are the challenges to rewiring the innovation ecosystem in your area?",
        "of programmes, an interactive model of connection to ensure we maximise this.",
        "Common KPI areas for innovation functions include these:",
        "The rapid insight event welcomed 94 attendees and explored four key questions.",
    ]
    scored = [_sentence(1, position, 0.9, text) for position, text in enumerate(texts)]
    points = select_evidence(scored, SOURCES)
    assert [point.text for point in points] == [texts[3]]


def test_a_long_slide_statement_without_a_full_stop_is_quoted_but_a_heading_is_not() -> None:
    """Slides state findings without a full stop; a long line in lower case is a statement, a title is not."""
    statement = (
        "Current processes: Navigating current structures and processes to enable innovation adoption and "
        "implementation"
    )
    heading = "Leveraging Links Between Internal Strengths And Wider Regional And National Objectives Today"
    short = "Developing Communities of Practice across the whole region"
    scored = [_sentence(1, position, 0.9, text) for position, text in enumerate((statement, heading, short))]
    assert [point.text for point in select_evidence(scored, SOURCES)] == [statement]


def test_a_contact_line_with_an_email_address_can_be_quoted_but_a_social_handle_cannot() -> None:
    contact = "Contact: Cheryl Davies, Senior Programme Manager Email: cheryl.davies@hiwessex.net"
    handle = "Follow the programme on social media at @InnovationNHS for all the latest news."
    scored = [_sentence(1, 0, 0.9, contact), _sentence(1, 1, 0.9, handle)]
    assert [point.text for point in select_evidence(scored, SOURCES)] == [contact]


def test_the_passages_own_heading_is_never_a_point() -> None:
    heading = "Supporting innovators to navigate corporate function requirements and the broader innovation pathway"
    chunk = make_chunk(1, section_path=("Portfolio & Methods", f"Key theme 1: {heading}"))
    source = Source(number=1, chunk=chunk, passage="")
    statement = "Innovation teams help staff navigate procurement, information governance and clinical safety."
    scored = [_sentence(1, 0, 0.9, heading), _sentence(1, 1, 0.8, statement)]
    assert [p.text for p in select_evidence(scored, [source])] == [statement]


def test_the_model_reads_its_sources_without_markup() -> None:
    """Given Markdown links the small model copied them into its answer, where they showed raw."""
    from assistant.config import PROMPTS_DIR
    from assistant.context import render_sources
    from assistant.prompts import load_prompt_set

    passage = "[The Health Foundation](#) commissioned **Innovation Unit** in <u>2024</u>."
    source = Source(number=1, chunk=make_chunk(1, passage), passage=passage)
    rendered = render_sources([source], load_prompt_set(PROMPTS_DIR).source)
    assert "The Health Foundation commissioned Innovation Unit in 2024." in rendered
    assert "](#)" not in rendered and "**" not in rendered


def test_the_table_row_a_question_names_by_label_and_column_answers_it() -> None:
    table = (
        "Region | Patients enrolled | Bed days saved | Cost per bed day saved\n"
        "Midlands | 2,340 | 7,450 | GBP 88\nLondon | 3,015 | 9,800 | GBP 71\n\n"
        "London enrolled the most patients and had the lowest cost per bed day saved."
    )
    chart = "Category | Wessex Vale | Harrowdale\n--- | --- | ---\nQ3 2024/25 | 505 | 240\nQ4 2024/25 | 560 | 300"
    sources = [Source(1, make_chunk(1, table), table), Source(2, make_chunk(2, chart), chart)]
    regions = [
        EvidencePoint(1, "Midlands: Patients enrolled 2,340; Bed days saved 7,450; Cost per bed day saved GBP 88."),
        EvidencePoint(1, "London: Patients enrolled 3,015; Bed days saved 9,800; Cost per bed day saved GBP 71."),
        EvidencePoint(1, "London enrolled the most patients and had the lowest cost per bed day saved."),
    ]
    quarters = [
        EvidencePoint(2, "Q3 2024/25: Wessex Vale 505; Harrowdale 240."),
        EvidencePoint(2, "Q4 2024/25: Wessex Vale 560; Harrowdale 300."),
    ]
    assert answering_row("How many bed days were saved in London?", regions, sources) == regions[1]
    assert answering_row("How many staff hours did Harrowdale release in Q4 2024/25?", quarters, sources) == quarters[1]
    assert answering_row("What was the mortality rate in London?", regions, sources) is None  # no column asked about
    assert answering_row("Which region saved the most bed days?", regions, sources) is None  # no row named
    assert answering_row("Bed days saved in London and the Midlands?", regions, sources) is None  # not one answer
    # A point that opens with a label but is no row of a table in its source (a list, a case study's) is not one.
    listed = [EvidencePoint(1, "London: Bed days saved rose; patients enrolled fell.")]
    assert (
        answering_row("How many bed days were saved in London?", listed, [Source(1, make_chunk(1, "x"), "x")]) is None
    )


def test_a_follow_up_s_row_is_named_by_the_conversation_and_its_column_by_the_question() -> None:
    table = (
        "Trust | Patients | Cost per patient | Staff trained\n"
        "Severn Marches Ambulance Service | 3,180 | £27 | 140\nWessex Vale NHS FT | 412 | £310 | 58"
    )
    sources = [Source(1, make_chunk(1, table), table)]
    points = [
        EvidencePoint(1, "Severn Marches Ambulance Service: Patients 3,180; Cost per patient £27; Staff trained 140."),
        EvidencePoint(1, "Wessex Vale NHS FT: Patients 412; Cost per patient £310; Staff trained 58."),
    ]
    earlier = "What did Severn Marches Ambulance Service do?"
    assert answering_row("how many staff did they train?", points, sources, earlier) == points[0]
    assert answering_row("how many staff did they train?", points, sources) is None
    assert answering_row("what happened next?", points, sources, earlier) is None  # no column asked about


def test_a_point_under_a_practice_s_heading_is_quoted_with_the_name_of_the_practice() -> None:
    from ingest.sentences import split_sentences

    text = (
        "Key theme 1\n\nStimulating organisation-wide interest in innovation\n\n"
        "Raising the profile of innovation across the organisation is a vital role for NHS innovation functions.\n\n"
        "Developing Communities of Practice\n\n"
        "Often these are set up around specific technology areas such as XR or AI and sustain exploration. "
        "They meet every month and share what has worked with staff across the whole trust."
    )
    sentences = split_sentences(text)
    source = Source(number=1, chunk=make_chunk(1, text=text, kind="best_practice"), passage="")
    scored = [ScoredSentence(1, position, sentence, 0.8) for position, sentence in enumerate(sentences)]
    points = [p.text for p in select_evidence(scored, [source])]
    assert "Developing Communities of Practice: Often these are set up around specific technology areas" in points[1]
    assert points[0].startswith("Stimulating organisation-wide interest in innovation: Raising the profile")
    assert points[2] == "They meet every month and share what has worked with staff across the whole trust.", (
        "the heading is written once for the points in a row under it"
    )
    # A sentence that already says what its heading names stands as written.
    said = ScoredSentence(1, 4, "Developing Communities of Practice around XR and AI sustains exploration.", 0.8)
    assert select_evidence([said], [source])[0].text == said.text
    # A case study's points are named by its organisation, not its sub-headings.
    case = Source(number=1, chunk=make_chunk(1, text=text, kind="case_study", organisations=("Leeds",)), passage="")
    assert not any("Communities of Practice:" in p.text for p in select_evidence(scored, [case]))
