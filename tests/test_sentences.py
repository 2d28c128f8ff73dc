"""Sentence units: lists stay with their introduction, short labels get no vector of their own."""

from __future__ import annotations

from ingest.sentences import LIST_GROUP_WORDS, indexed_sentences, split_sentences


def test_a_list_is_one_unit_with_the_line_that_introduces_it() -> None:
    text = (
        "Functions play several roles. These can broadly be categorised as:\n\n"
        "1. Identifying strategic priorities\n2. Growing innovation culture\n3. Securing external funding\n\n"
        "Most functions play each role to some extent."
    )
    assert split_sentences(text) == [
        "Functions play several roles.",
        "These can broadly be categorised as: Identifying strategic priorities; Growing innovation culture; "
        "Securing external funding.",
        "Most functions play each role to some extent.",
    ]


def test_a_short_heading_introduces_the_list_under_it() -> None:
    units = split_sentences("Outcome measures\n\n- External funding generated\n- Formal contracts signed")
    assert units == ["Outcome measures: External funding generated; Formal contracts signed."]


def test_a_full_sentence_before_a_list_is_not_taken_as_its_heading() -> None:
    units = split_sentences("The survey closed in May.\n\n- Cost-savings\n- Staff confidence")
    assert units == ["The survey closed in May.", "Cost-savings; Staff confidence."]


def test_a_long_list_is_cut_into_groups_that_each_keep_the_introduction() -> None:
    items = "\n".join(f"- item number {n} with a few more words here" for n in range(20))
    units = split_sentences(f"Recommendations:\n\n{items}")
    assert len(units) > 1
    assert all(unit.startswith("Recommendations: ") for unit in units)
    assert all(len(unit.split()) <= LIST_GROUP_WORDS + 1 for unit in units)
    assert sum(unit.count("item number") for unit in units) == 20


def test_indexed_sentences_skip_labels_but_never_leave_a_chunk_without_a_vector() -> None:
    text = "Articulating\n\nROI n=7\n\nThe biggest challenge was releasing staff time for innovation."
    assert indexed_sentences(text) == ["The biggest challenge was releasing staff time for innovation."]
    assert indexed_sentences("Articulating\n\nROI") == ["Articulating\n\nROI"]


def test_a_table_cell_is_named_by_its_column_and_the_header_row_is_not_a_unit() -> None:
    text = (
        "Standalone innovation function\tPart of a broader function covering QI\n"
        "Benefits: Can raise the visibility of innovation. Risks: Efforts may not be aligned.\t"
        "Benefits: Can benefit from pooled resources."
    )
    assert split_sentences(text) == [
        "Standalone innovation function – Benefits: Can raise the visibility of innovation.",
        "Standalone innovation function – Risks: Efforts may not be aligned.",
        "Part of a broader function covering QI – Benefits: Can benefit from pooled resources.",
    ]


def test_a_table_row_led_by_a_label_reads_as_one_unit() -> None:
    text = (
        "Approach\tTrade-offs\nSingle team covering digital\tSupports joined-up approaches; May lack digital expertise"
    )
    assert split_sentences(text) == [
        "Approach: Trade-offs",
        "Single team covering digital: Supports joined-up approaches; May lack digital expertise",
    ]


def test_a_list_item_wrapped_onto_the_next_line_is_one_unit() -> None:
    text = (
        "- Of the 114 comments that were collated, further sub-categorisation resulted in these being\n"
        "separated into 172 responses.\n"
        "- The event was co-developed to capture feedback from the\n"
        "Health Innovation Network and provider colleagues.\n"
        "- Research and Development\n"
        "Head of Innovation"
    )
    units = split_sentences(text)
    assert units[0].startswith("Of the 114 comments") and "172 responses" in units[0]
    assert "from the; Health" not in units[0] and "from the Health Innovation Network" in units[0]
    assert units[0].endswith("Research and Development.")
    assert units[1] == "Head of Innovation"


OCR_CHALLENGES = (
    "- Key challenges to overcome are:\n\n1.\n\n"
    "Current processes: Navigating current structures to enable adoption\n\n"
    "Alignment of priorities: Aligning national and local innovation priorities\n\n"
    "Cultural shift: Creating the shift in culture for system-wide working\n\n"
    "The event closed with a summary."
)


def test_paragraphs_that_open_with_a_label_are_a_list_under_the_line_before() -> None:
    assert split_sentences(OCR_CHALLENGES) == [
        "- Key challenges to overcome are: Current processes: Navigating current structures to enable adoption; "
        "Alignment of priorities: Aligning national and local innovation priorities; Cultural shift: Creating the "
        "shift in culture for system-wide working.",
        "The event closed with a summary.",
    ]
    # Two labelled paragraphs are not yet a list.
    two = "Current processes: Navigating structures today\n\nCultural shift: Creating the shift in culture"
    assert split_sentences(two) == [
        "Current processes: Navigating structures today",
        "Cultural shift: Creating the shift in culture",
    ]


def test_a_labelled_paragraph_joined_into_a_list_is_also_indexed_alone() -> None:
    indexed = indexed_sentences(OCR_CHALLENGES)
    assert "Alignment of priorities: Aligning national and local innovation priorities" in indexed
    assert any(unit.startswith("- Key challenges to overcome are: Current processes") for unit in indexed)
    assert len(indexed) == len(set(indexed))


def test_a_table_row_is_one_statement_with_its_columns_named() -> None:
    """A row of bare figures means nothing without its header: the model read one trust's cost as another's."""
    text = (
        "Results by region are given below for each site.\n"
        "Trust | Patients | Cost per patient | Staff trained\n"
        "Severn Marches Ambulance Service | 3,180 | £27 | 140\n"
        "Wessex Vale NHS FT | 2,950 | £310 | 58\n"
        "Most sites kept the service going.\n\n"
        "Project | Virtual wards\nLead | Jane Smith\nStatus | Complete\n\n"
        "Two lines of OCR | with a stray bar each\nsecond line | of slide text."
    )
    assert split_sentences(text) == [
        "Results by region are given below for each site.",
        "Severn Marches Ambulance Service: Patients 3,180; Cost per patient £27; Staff trained 140.",
        "Wessex Vale NHS FT: Patients 2,950; Cost per patient £310; Staff trained 58.",
        "Most sites kept the service going.",
        "Project: Virtual wards.",
        "Lead: Jane Smith.",
        "Status: Complete.",
        "Two lines of OCR | with a stray bar each second line | of slide text.",
    ]
