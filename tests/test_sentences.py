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


def test_a_delimiter_row_marks_the_header_of_any_table() -> None:
    """A chart's series are often years, and a one-series chart has two columns: neither header would be taken
    for one by its look, and the figures would be quoted without their names."""
    text = (
        "Category | Staff hours released\n--- | ---\nQ1 2024/25 | 1,240\n\n"
        "Quarter | 2023/24 | 2024/25\n--- | --- | ---\nQ1 | 980 | 1,240"
    )
    assert split_sentences(text) == ["Q1 2024/25: Staff hours released 1,240.", "Q1: 2023/24 980; 2024/25 1,240."]


def test_a_row_ending_in_an_empty_cell_stays_in_its_table() -> None:
    """The empty last cell's space goes when the line is stripped; the row was then one column short."""
    text = "Site | Patients | Cost\nWessex Vale | 2,950 | £310\nHarrowdale | 1,180 | "
    assert split_sentences(text) == ["Wessex Vale: Patients 2,950; Cost £310.", "Harrowdale: Patients 1,180."]


def test_a_row_with_a_label_and_no_values_is_kept_as_its_label() -> None:
    """A Word or HTML section row ("Workforce |  |") was dropped for having no values."""
    text = "Trust | Staff | Cost\nWorkforce |  |\nAlpha | 5 | 6\n\nTrust | Staff | Cost\nWorkforce | |\nAlpha | 5 | 6"
    assert split_sentences(text) == ["Workforce", "Alpha: Staff 5; Cost 6."] * 2


def test_a_stray_bar_at_the_end_of_ocr_lines_makes_no_table_and_loses_no_text() -> None:
    """Two columns whose value cells are empty are OCR text with stray bars, not a table of labels."""
    assert split_sentences("Results |\nGood | outcome\nBad |") == ["Results | Good | outcome Bad |"]
    assert split_sentences("We met | the team\nand said hello |\nthen left | ok") == [
        "We met | the team and said hello | then left | ok"
    ]
    assert split_sentences("We met | the team |\nand said | hello |") == ["We met | the team | and said | hello |"]


def test_a_row_with_an_empty_first_cell_stays_in_its_table_without_the_label_above() -> None:
    """As the HTML and Word readers write an empty first cell ("| 7 | 8") and HTML's empty middle cell
    ("Alpha | | 5"). The label above is not carried down: it may not be this row's."""
    html = "Trust | Cost | Staff\nAlpha | | 5\n| 7 | 8\nGamma | 9 | 10"
    assert split_sentences(html) == ["Alpha: Staff 5.", "Cost 7; Staff 8.", "Gamma: Cost 9; Staff 10."]
    figures_header = "Trust | 2023 | 2024\nAlpha | 5 | \n | 7 | 8\nGamma | 9 | 10"
    assert split_sentences(figures_header) == ["Trust: 2023; 2024.", "Alpha: 5.", "7; 8.", "Gamma: 9; 10."]


def test_markdown_pipe_tables_read_as_rows_under_their_header() -> None:
    spaced = "Costs below.\n| Trust | Cost | Staff |\n| --- | ---: | :---: |\n| A | £27 | 140 |\n|  | £5 | 3 |\nAfter."
    assert split_sentences(spaced) == ["Costs below.", "A: Cost £27; Staff 140.", "Cost £5; Staff 3.", "After."]
    assert split_sentences("|Trust|Cost|\n|---|---|\n|A|£27|\n|B \\| C|£30|") == ["A: Cost £27.", "B | C: Cost £30."]
    assert split_sentences("Trust | Cost |\n--- | --- |\nA | £27 |") == ["A: Cost £27."]
    assert split_sentences("| | 2023 | 2024 |\n|---|---|---|\n| A | 1 | 2 |") == ["A: 2023 1; 2024 2."]
    assert split_sentences("Name | Value\n--- | ---\nNo rows yet.") == ["Name: Value.", "No rows yet."]


def test_a_delimiter_row_is_only_dashes_under_the_header() -> None:
    """A Word table's row of "----" (not applicable) under its first row marks that row as the header, which
    a Word table's first row nearly always is; a row of dashes with a label, or of single dashes, is a row."""
    assert split_sentences("Trust | 2023 | 2024\n---- | ---- | ----\nAlpha | 5 | 6") == ["Alpha: 2023 5; 2024 6."]
    assert split_sentences("Trust | Cost | Staff\nGamma | --- | ---\nAlpha | 5 | 6") == [
        "Gamma: Cost ---; Staff ---.",
        "Alpha: Cost 5; Staff 6.",
    ]
    assert split_sentences("Alpha | 5 | 6\n- | - | -\nGamma | 7 | 8") == ["Alpha: 5; 6.", "-: -; -.", "Gamma: 7; 8."]


def test_a_short_table_row_naming_its_columns_gets_a_vector_of_its_own() -> None:
    """ "Yes: Responses 62%." is three words but a whole statement; a bare label or unnamed figures are not."""
    indexed = indexed_sentences(
        "Question | Responses\n--- | ---\nYes | 62%\nNo | 38%\n\nThe survey closed in May 2024."
    )
    assert indexed == ["Yes: Responses 62%.", "No: Responses 38%.", "The survey closed in May 2024."]
    unnamed = "Workforce | |\nAlpha | 5 | 6\nBeta | 7 | 8\n\nThe survey closed in May 2024."
    assert split_sentences(unnamed)[:3] == ["Workforce", "Alpha: 5; 6.", "Beta: 7; 8."]
    assert indexed_sentences(unnamed) == ["The survey closed in May 2024."]


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


def test_a_sentence_broken_by_a_blank_line_is_joined_but_a_heading_and_a_finished_line_are_not() -> None:
    """OCR'd slides put blank lines inside a bullet; apart, "procurement process" is no statement at all."""
    text = (
        "We mapped the responses into areas for support:\n\n"
        "- Improved and simplified\n\nprocurement process\n\n"
        "- Aligning national priorities with\n\nLocal needs of each system\n\n"
        "- Long-term investment\n\n"
        "Executive Summary 4/4\n\nThe findings will be shared."
    )
    units = split_sentences(text)
    assert units[0] == (
        "We mapped the responses into areas for support: Improved and simplified procurement process; "
        "Aligning national priorities with Local needs of each system; Long-term investment."
    )
    assert units[1:] == ["Executive Summary 4/4", "The findings will be shared."]


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


def test_a_header_s_unit_goes_on_the_bare_figures_under_it() -> None:
    """ "45" under "Response rate %" is 45%; an answer saying so must not look invented."""
    assert split_sentences("Region | Patients | Response rate %\nMidlands | 62 | 45\nLondon | 80 | 62") == [
        "Midlands: Patients 62; Response rate 45%.",
        "London: Patients 80; Response rate 62%.",
    ]
    assert split_sentences(
        "Trust | Cost (£) | Budget £k | Share (%)\nAlpha | 27 | 1,200 | 12.5\nBeta | 30 | 900 | n/a"
    ) == [
        "Alpha: Cost £27; Budget £1,200k; Share 12.5%.",
        "Beta: Cost £30; Budget £900k; Share (%) n/a.",
    ]
