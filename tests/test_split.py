"""Structure-aware splitting: outline, case studies, kinds, organisations, page numbers, budgets."""

from __future__ import annotations

from pathlib import Path

import pptx
from fpdf import FPDF
from pptx.util import Inches

from assistant.records import Chunk, DocumentInfo, LoadedDocument, PageText
from assistant.ui_format import source_location
from ingest.loaders import load_document
from ingest.organisations import build_organisation_index
from ingest.split import MAX_CASE_STUDY_TOKENS, MAX_CHUNK_TOKENS, _blocks, estimate_tokens, split_document
from tests.conftest import TINY_REPORT
from tests.test_loaders import CASE_STUDY_HEADING, LEARNING_REPORT_TITLE, _slide_deck, labelled_pdf, learning_report


def _document(text: str, pages: tuple[PageText, ...] | None = None, title: str = "Report") -> LoadedDocument:
    return LoadedDocument(
        path=Path("report.md"),
        doc_id="report",
        info=DocumentInfo(title=title),
        pages=pages or (PageText(None, text),),
        content_hash="x",
        file_format="markdown",
    )


def _split(text: str) -> list:
    return split_document(_document(text), build_organisation_index([text]))


def test_case_study_is_one_chunk_tagged_with_its_organisation() -> None:
    chunks = _split(TINY_REPORT)
    studies = [chunk for chunk in chunks if chunk.kind == "case_study"]
    assert len(studies) == 2
    eeast = studies[0]
    assert eeast.case_study_title == "Using Trust-wide surveys in EEAST to gather pain points"
    assert "East of England Ambulance Service NHS Trust" in eeast.organisations
    assert "£50 voucher" in eeast.text and "130 responses" in eeast.text
    assert eeast.text.startswith("Case Study:")
    assert set(studies[1].organisations) >= {"Chelsea and Westminster Hospital NHS Foundation Trust", "CW+"}


def test_section_path_follows_the_report_outline() -> None:
    chunks = _split(TINY_REPORT)
    eeast = next(chunk for chunk in chunks if chunk.kind == "case_study")
    assert eeast.section_path[0] == "Vision & Strategy"
    assert eeast.section_path[1] == "Key theme 1: Ensuring strategy is needs-led"
    assert eeast.domain == "Vision & Strategy"
    funding = next(chunk for chunk in chunks if "rely heavily" in chunk.text)
    assert funding.section_path[:2] == (
        "Governance & Resources",
        "Key theme 2: Securing recurrent funding sources for core activities",
    )


def test_kinds_are_recognised() -> None:
    chunks = _split(TINY_REPORT)
    kinds = {chunk.kind for chunk in chunks}
    assert {"case_study", "best_practice", "statistic"} <= kinds
    statistic = next(chunk for chunk in chunks if "94% (n=17)" in chunk.text)
    assert statistic.kind == "statistic"
    practice = next(chunk for chunk in chunks if "Trust-wide surveys to surface" in chunk.text)
    assert practice.kind == "best_practice"


def test_contents_page_is_not_indexed_and_text_is_verbatim() -> None:
    chunks = _split(TINY_REPORT)
    assert not any("\t3\t" in chunk.text for chunk in chunks)
    for chunk in chunks:
        for paragraph in chunk.text.split("\n\n"):
            assert paragraph.strip() in TINY_REPORT


def test_embed_text_carries_title_and_section_context() -> None:
    chunk = next(c for c in _split(TINY_REPORT) if "rely heavily" in c.text)
    assert chunk.embed_text.startswith("Report. Governance & Resources > Key theme 2")
    assert chunk.embed_text.endswith(chunk.text)


def test_long_sections_are_split_within_the_token_budget() -> None:
    paragraph = "Innovation teams support staff to test new ideas in practice across the trust. " * 12
    text = "Long section\n\n" + "\n\n".join(paragraph for _ in range(6))
    chunks = _split(text)
    assert len(chunks) >= 3
    assert all(estimate_tokens(chunk.text) <= MAX_CHUNK_TOKENS for chunk in chunks)


def test_oversized_case_study_is_split_but_keeps_its_tag() -> None:
    body = "In Leeds Teaching Hospitals NHS Trust the team mapped the digital governance pathway. " * 40
    chunks = _split(f"Case Study: Leeds Teaching Hospitals NHS Trust\n\n{body}")
    assert estimate_tokens(body) > MAX_CASE_STUDY_TOKENS
    assert len(chunks) > 1
    assert all(chunk.kind == "case_study" for chunk in chunks)
    assert all("Leeds Teaching Hospitals NHS Trust" in chunk.organisations for chunk in chunks)


def test_chunk_ids_are_stable_and_change_with_text() -> None:
    first = _split(TINY_REPORT)
    again = _split(TINY_REPORT)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    edited = _split(TINY_REPORT.replace("130 responses", "140 responses"))
    assert {c.chunk_id for c in first} != {c.chunk_id for c in edited}
    assert len({c.chunk_id for c in first} & {c.chunk_id for c in edited}) >= len(first) - 1


def test_pdf_pages_are_kept_on_chunks(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    texts = [
        "Governance and resources\nSmaller sites rely heavily on programme funding to support core activity.",
        "Case Study: Torbay and South Devon NHS Foundation Trust\nTheir digital innovation service is about 80% self funded through external income.",
        "Culture and capabilities\nFellowships give clinicians protected time to work on innovation projects.",
    ]
    for text in texts:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    path = tmp_path / "report.pdf"
    pdf.output(str(path))
    document = load_document(path)
    chunks = split_document(document, build_organisation_index())
    page_of = {chunk.page for chunk in chunks if "80% self funded" in chunk.text}
    assert page_of == {2}
    torbay = next(chunk for chunk in chunks if "80% self funded" in chunk.text)
    assert torbay.kind == "case_study"
    assert "Torbay and South Devon NHS Foundation Trust" in torbay.organisations
    assert {chunk.page for chunk in chunks if "Fellowships" in chunk.text} == {3}


def test_a_case_study_heading_repeated_on_pdf_pages_tags_each_page_with_its_trust(tmp_path: Path) -> None:
    """The heading that opens the case study on three pages repeats word for word, as a running header does;
    dropped as one, those pages were filed under "Introduction" and "Key findings" with no trust named."""
    document = load_document(learning_report(tmp_path / "learning-report.pdf"))
    chunks = split_document(document, build_organisation_index())

    studies = [chunk for chunk in chunks if chunk.kind == "case_study"]
    assert sorted(chunk.page for chunk in studies) == [2, 3, 5]
    assert all(chunk.section_path == (CASE_STUDY_HEADING,) for chunk in studies)
    assert all("Leeds Teaching Hospitals NHS Trust" in chunk.organisations for chunk in studies)
    assert {chunk.page for chunk in chunks if chunk.kind != "case_study"} == {1, 4, 6}
    assert not any(LEARNING_REPORT_TITLE in chunk.text for chunk in chunks), "the running header and footer go"


def test_a_fragment_slide_joins_the_passage_after_it() -> None:
    body = " ".join(["Staff described the capacity to adopt change as the biggest barrier they face."] * 4)
    text = f"## Articulating\n\nROI n=7\n\n## Capacity\n\n{body}\n\n## Statistics\n\n94% (n=17) of Sites agreed."
    chunks = _split(text)
    joined = next(chunk for chunk in chunks if "ROI n=7" in chunk.text)
    assert "biggest barrier" in joined.text
    assert joined.section_path[-1] == "Capacity"
    assert not any(chunk.text.strip() == "ROI n=7" for chunk in chunks)
    # A short passage with a kind of its own is kept apart, so a kind filter still finds it.
    assert any(chunk.kind == "statistic" and "94% (n=17)" in chunk.text for chunk in chunks)


# An OCR'd slide deck as plain text: slides are separated by wide gaps, titles wrap, a quote's attribution
# closes a slide, the programme's name is printed on divider slides, and a last slide is a contact card.
SLIDE_GAP = "\n\n\n\n"
OCR_DECK = SLIDE_GAP.join(
    [
        "Executive Summary 1/4\n\nThe rapid insight event welcomed 94 attendees and explored four key questions "
        "about rewiring the ecosystem.",
        "Rapid insight findings\n\nInnovation Ecosystem Programme",
        "Method\n\nWe asked the following questions:\n\nWhat are the challenges to rewiring the\necosystem?"
        "\n\nWhat further support would your organisation need?",
        "Executive Summary 3/4\n\nWhat further support\nwould your organisation\nneed to deliver the\n"
        "recommendations?\n\nWe mapped the responses into eight areas for support: a clear mandate, training and "
        "capacity building, and simpler procurement.",
        "Quotes\n\n\u201cWe need dedicated time, networks of people and a repository of programmes to make a "
        "difference with this.\u201d\n\nRepresentative from a health innovation network",
        "Summary and next\nsteps\n\nIt is recommended that the points captured in the report are reviewed by the "
        "Advisory Group, and iterated as part of the Locality Partnership as it evolves over the coming year.",
        "Connect with us\n\nContact: Cheryl Davies, Senior Programme Manager\nEmail: cheryl.davies@example.net",
    ]
)


def _split_deck() -> list[Chunk]:
    document = _document(OCR_DECK, title="Innovation Ecosystem Programme: rapid insight event report")
    return split_document(document, build_organisation_index([OCR_DECK]))


def _containing(chunks: list[Chunk], text: str) -> Chunk:
    return next(chunk for chunk in chunks if text in chunk.text)


def test_a_slide_title_wrapped_over_lines_names_its_slide() -> None:
    chunks = _split_deck()
    next_steps = _containing(chunks, "reviewed by the")
    assert next_steps.section_path == ("Summary and next steps",)
    # The attribution that closed the slide before is that slide's text, not the next slide's heading.
    quote = _containing(chunks, "Representative from a health innovation network")
    assert quote.section_path == ("Quotes",)
    assert "Representative from a health innovation network" not in next_steps.section


def test_a_question_heads_the_panel_under_it_but_a_listed_question_does_not() -> None:
    chunks = _split_deck()
    support = _containing(chunks, "eight areas for support")
    assert support.section_path == (
        "Executive Summary 3/4",
        "What further support would your organisation need to deliver the recommendations?",
    )
    listed = _containing(chunks, "What are the challenges to rewiring the")
    assert listed.section_path == ("Method",)
    assert "What further support would your organisation need?" in listed.text


def test_a_line_repeating_the_document_title_is_dropped() -> None:
    chunks = _split_deck()
    assert not any("Innovation Ecosystem Programme" in chunk.text for chunk in chunks)
    assert not any("Innovation Ecosystem Programme" in part for chunk in chunks for part in chunk.section_path)


def test_a_short_slide_of_its_own_section_is_not_folded_into_the_one_before() -> None:
    chunks = _split_deck()
    contact = _containing(chunks, "Cheryl Davies")
    assert contact.section_path == ("Connect with us",)
    assert "reviewed by the" not in contact.text


def test_a_wrapped_diagram_line_starting_with_recommendations_is_not_a_recommendation() -> None:
    text = (
        "Integration\n\nThere is a\nrequirement to\nalign these\n\nrecommendations\nwith R&I or other\nexisting plans"
    )
    chunks = _split(text)
    assert all(chunk.kind != "recommendation" for chunk in chunks)
    labelled = _split("Next steps\n\nRecommendations: trusts should ringfence time for innovation leads.")
    assert any(chunk.kind == "recommendation" for chunk in labelled)


def test_a_list_is_not_cut_from_the_line_that_introduces_it() -> None:
    opening = " ".join(["Innovation functions work across the organisation with many partners."] * 14)
    intro = "Each innovation function has evolved to play a range of roles. These can broadly be categorised as:"
    items = "\n".join(f"{n}. Role number {n} of the innovation function in its organisation" for n in range(1, 6))
    chunks = _split(f"Key Finding\n\n{opening}\n\n{intro}\n\n{items}\n\nMost functions play each role.")
    listing = _containing(chunks, "1. Role number 1")
    assert len(chunks) > 1
    assert intro in listing.text and "5. Role number 5" in listing.text


def _styled_report(path: Path, heading_style: tuple[str, int]) -> Path:
    """Two pages, each a heading over body text whose narrow column leaves short lines without a full stop
    ("Partnerships with local", "universities and charities"), as a two-column layout does."""
    pdf = FPDF()
    pdf.set_title("Innovation review 2024")
    pages = [
        ("Funding the innovation function", "Most sites rely on core funding", "from their own trust budgets."),
        ("Working with partners", "Partnerships with local", "universities and charities help."),
    ]
    for heading, *body in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", heading_style[0], heading_style[1])
        pdf.cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        for line in body:
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 6, "Sites described their approach in interviews and a self-assessment. " * 6)
    pdf.output(str(path))
    return path


def test_pdf_headings_come_from_the_fonts_not_from_short_lines(tmp_path: Path) -> None:
    """Without font information "Partnerships with local" and "Most sites rely on core funding" were
    headings too, filing the text under broken body lines."""
    for style in (("B", 14), ("", 16), ("B", 10)):
        document = load_document(_styled_report(tmp_path / f"styled-{style[0]}{style[1]}.pdf", style))
        chunks = split_document(document, build_organisation_index())

        assert document.headings_from_fonts
        assert {chunk.section for chunk in chunks} == {"Funding the innovation function", "Working with partners"}
        partners = next(chunk for chunk in chunks if "universities and charities" in chunk.text)
        assert "Partnerships with local" in partners.text
        assert partners.page == 2


def test_pdf_in_one_font_still_finds_headings_from_the_lines(tmp_path: Path) -> None:
    """A PDF whose headings are set like its body gives the fonts nothing to go on: the splitter's line
    rules apply as before, so a heading on its own line still names the section."""
    document = load_document(_styled_report(tmp_path / "plain.pdf", ("", 10)))
    chunks = split_document(document, build_organisation_index())

    assert not document.headings_from_fonts
    assert "Funding the innovation function" in {part for chunk in chunks for part in chunk.section_path}


def test_pdf_sub_headings_are_shown_without_the_marks_that_made_them_headings(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.set_title("Innovation review 2024")
    for chapter, section in (("Governance and resources", "Funding models"), ("Culture", "Protected time")):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 18)
        pdf.cell(0, 12, chapter, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(0, 8, section, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(0, 6, "Sites described their approach in interviews and a self-assessment. " * 4)
    path = tmp_path / "nested.pdf"
    pdf.output(str(path))

    chunks = split_document(load_document(path), build_organisation_index())

    assert {chunk.section for chunk in chunks} == {
        "Governance and resources > Funding models",
        "Culture > Protected time",
    }
    texts = "\n".join(chunk.text for chunk in chunks)
    assert "Funding models" in texts
    assert "#" not in texts


def test_chunks_of_a_pdf_that_names_its_pages_carry_the_printed_name(tmp_path: Path) -> None:
    texts = [
        "Contents\nForeword and summary.",
        "Foreword\nThe programme asked eighteen sites what helps innovation take hold.",
        "Governance and resources\nSmaller sites rely heavily on programme funding to support core activity.",
    ]
    document = load_document(labelled_pdf(tmp_path / "report.pdf", texts))

    chunks = split_document(document, build_organisation_index())

    funding = next(chunk for chunk in chunks if "programme funding" in chunk.text)
    foreword = next(chunk for chunk in chunks if "eighteen sites" in chunk.text)
    assert (funding.page, funding.page_label) == (3, "1")
    assert (foreword.page, foreword.page_label) == (2, "ii")
    assert source_location(funding).endswith("· p. 1 (PDF p. 3)")


def test_a_pdf_case_study_running_over_a_page_break_keeps_its_organisation(tmp_path: Path) -> None:
    """Each PDF page used to start afresh, so a case study's second page lost its organisation and kind; a
    page that opens with a heading ("Culture and capabilities") still does."""
    pdf = FPDF()
    pdf.set_title("Innovation review 2024")
    sections = [
        ("Case Study: Torbay and South Devon NHS Foundation Trust", "Their service earns income from partners. " * 140),
        ("Culture and capabilities", "Fellowships give clinicians protected time for projects. " * 5),
    ]
    for heading, body in sections:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(0, 6, body)
    path = tmp_path / "case-study.pdf"
    pdf.output(str(path))

    chunks = split_document(load_document(path), build_organisation_index())

    torbay = ("Torbay and South Devon NHS Foundation Trust",)
    assert {chunk.page for chunk in chunks if "earns income" in chunk.text} == {1, 2}
    for chunk in chunks:
        if "earns income" in chunk.text:
            assert (chunk.kind, chunk.organisations) == ("case_study", torbay), chunk.page
        else:
            assert chunk.kind != "case_study" and chunk.organisations == () and chunk.page == 3


def test_a_pdf_contents_page_with_dot_leaders_is_not_indexed(tmp_path: Path) -> None:
    """Indexed, the contents page named every section and matched any question a little."""
    pdf = FPDF()
    pdf.set_title("Innovation review 2024")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "Contents", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for entry, leader, page in (
        ("1. Funding the innovation function", ". " * 20, 2),
        ("2. Working with partners", ". " * 20, 2),  # as LaTeX spaces them
        ("3. Culture", "." * 40, 3),
    ):
        pdf.cell(0, 6, f"{entry} {leader} {page}", new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "1. Funding the innovation function", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 6, "Most sites rely on core funding from their own trust budgets. " * 3)
    path = tmp_path / "contents.pdf"
    pdf.output(str(path))

    chunks = split_document(load_document(path), build_organisation_index())

    assert [chunk.section for chunk in chunks] == ["1. Funding the innovation function"]
    assert "...." not in chunks[0].text


def test_a_long_pdf_paragraph_is_cut_at_its_sentences_not_at_its_wrapped_lines(tmp_path: Path) -> None:
    """A PDF's lines are where the page ran out of width. Cut at them as an author's lines are, a case study
    of 200 words became chunks opening mid-sentence ("patient the same day."), with a blank line at every wrap
    so each sentence unit was a fragment of a line."""
    sentences = [
        f"Ward {n} reviewed every reading that crossed a threshold and telephoned the patient the same day."
        for n in range(1, 19)
    ]
    items = [f"- Ward {n} lends a tablet to patients without one" for n in range(1, 26)]
    pdf = FPDF()
    pdf.set_title("Northshire review")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "Remote monitoring", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 6, " ".join(sentences), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 6, "\n".join(items))
    path = tmp_path / "wrapped.pdf"
    pdf.output(str(path))
    document = load_document(path)

    chunks = split_document(document, build_organisation_index())

    paragraph = [chunk for chunk in chunks if "reviewed every reading" in chunk.text]
    assert len(paragraph) >= 2
    page = " ".join(document.pages[0].text.split())
    for chunk in paragraph:
        body = chunk.text.removeprefix("Remote monitoring").strip().split("\n\n- ")[0]
        assert body.startswith("Ward ") and body.endswith("same day."), body[:60]
        assert "\n\n" not in body
        assert " ".join(body.split()) in page, "a chunk is a verbatim run of the page's text"
    listing = [chunk for chunk in chunks if "lends a tablet" in chunk.text]
    assert len(listing) >= 2
    for chunk in listing:
        items = chunk.text[chunk.text.index("- Ward") :].splitlines()
        assert all(line.startswith("- Ward ") for line in items), "the list is cut between its items"


def test_a_numbered_case_study_heading_is_a_case_study() -> None:
    for heading in (
        "3. Case Study: Riverside Community Health NHS Trust",
        "3.2 Case study: Riverside Community Health NHS Trust",
    ):
        chunks = _split(f"## {heading}\n\nThe trust monitored 610 heart failure patients at home by tablet.")

        assert [(chunk.kind, chunk.case_study_title) for chunk in chunks] == [
            ("case_study", "Riverside Community Health NHS Trust")
        ], heading


def test_numbered_slide_titles_on_consecutive_pages_name_their_slides_and_pages(tmp_path: Path) -> None:
    titles = ["Method", *(f"Key theme {number}" for number in range(1, 6)), "Summary"]
    document = load_document(_slide_deck(tmp_path / "deck.pdf", titles))

    chunks = split_document(document, build_organisation_index())

    assert [(chunk.section, chunk.page) for chunk in chunks] == [(title, n) for n, title in enumerate(titles, 1)]


def test_a_sentence_cut_by_a_page_break_stays_with_its_start() -> None:
    """The second page's chunk opened "all 48 rooms in 2023." and the sentence on the first page had lost
    its figures; the words that finish it are cited at the page where it starts."""
    first = "Case Study: Meadowbank Care Home\nNight checks woke residents.\nThe home introduced acoustic monitoring in"
    second = "all 48 rooms in 2023. Night staff received alerts on a handheld device.\nFalls at night fell by half."
    document = _document("", pages=(PageText(1, first), PageText(2, second)))

    chunks = split_document(document, build_organisation_index([first, second]))

    opening = _containing(chunks, "acoustic monitoring")
    assert "acoustic monitoring in\nall 48 rooms in 2023." in opening.text
    assert opening.page == 1
    assert all(not chunk.text.startswith("all 48") for chunk in chunks)
    assert "Night staff received alerts on a handheld device." in " ".join(chunk.text for chunk in chunks)


def test_a_page_break_moves_back_only_the_words_up_to_the_first_sentence_end() -> None:
    """A sentence end counts before a number too: "in 2023. 45 more rooms ..." moved the whole paragraph of
    the next page back, and it was cited at the page before."""
    first = (
        "The pilot ran across the three hospital sites of the trust for a year\n"
        "and the team reported that the new rooms had been refurbished across"
    )
    second = (
        "all 48 rooms in 2023. 45 more rooms were planned for 2024 and the board approved\n"
        "the funding for them in March after a long review of the costs involved."
    )
    document = _document("", pages=(PageText(1, first), PageText(2, second)))

    blocks = _blocks(document, "Report")

    assert [(block.page, block.text.split("\n")[-1]) for block in blocks] == [
        (1, "all 48 rooms in 2023."),
        (2, "the funding for them in March after a long review of the costs involved."),
    ]
    assert blocks[1].text.startswith("45 more rooms were planned")


def test_a_page_ending_with_a_full_sentence_keeps_its_break() -> None:
    sentence = "The home introduced acoustic monitoring in every room and trained its night staff to use it."
    first = f"Approach\n{sentence} {sentence} {sentence}"
    second = "and then the next report begins here without a capital letter, as some exported lists do. " * 3
    document = _document("", pages=(PageText(1, first), PageText(2, second)))

    chunks = split_document(document, build_organisation_index([first, second]))

    assert [chunk.page for chunk in chunks if "next report" in chunk.text] == [2]


def _two_page_pdf(path: Path, first: list[str], second: list[str]) -> Path:
    """Two pages of body text; a line starting "# " is set as a bold heading (so headings come from fonts)."""
    pdf = FPDF()
    for lines in (first, second):
        pdf.add_page()
        for line in lines:
            heading = line.startswith("# ")
            pdf.set_font("helvetica", "B" if heading else "", 14 if heading else 10)
            pdf.cell(0, 6, line.removeprefix("# "), new_x="LMARGIN", new_y="NEXT")
    path.write_bytes(bytes(pdf.output()))
    return path


def test_a_sidebar_before_a_page_break_takes_no_continuation(tmp_path: Path) -> None:
    """A journal page ended with its metadata sidebar ("Received 4 October 2005 ... DOI ..."), and the next
    page's opening words, which finish a sentence of the body, were moved onto the end of the sidebar."""
    body = [
        "# Work and family",
        "Shift workers often find that the balance between work and family life is harder",
        "to keep than for day workers, and the strain is shared by their families.",
    ]
    sidebar = [
        "# Employee Relations",
        "29,2",
        "162",
        "Received 4 October 2005",
        "Revised 7 March 2006",
        "DOI 10.1108/0142545",
    ]
    second = [
        "that result in gaps between workers and the rest of their life. For the shift worker,",
        "the issues of balance, stress and coping are both more complex and more compelling.",
    ]
    path = _two_page_pdf(tmp_path / "journal.pdf", body + sidebar, second)

    text = "\n\n".join(chunk.text for chunk in split_document(load_document(path), build_organisation_index()))

    assert "that result in gaps between workers" in text
    assert "DOI 10.1108/0142545\nthat result" not in text


def test_chart_labels_before_a_page_break_take_no_continuation(tmp_path: Path) -> None:
    labels = ["Strongly agree", "Agree", "Neutral", "Disagree", "0% 10% 20% 30%"]
    second = ["generally seen as walkable and suitable for cycling to work.", "Second, the network needs lighting."]
    first = ["# Survey results", "Most respondents rated the paths as safe.", "# Ratings", *labels]
    path = _two_page_pdf(tmp_path / "survey.pdf", first, second)

    text = "\n\n".join(chunk.text for chunk in split_document(load_document(path), build_organisation_index()))

    assert "generally seen as walkable" in text
    assert "30%\ngenerally" not in text


def _deck_chunks(path: Path, slides: list[tuple[str | None, str | list[tuple[str, ...]]]]) -> list[Chunk]:
    """A PowerPoint deck of titled or untitled slides, each holding a text box or a table, loaded and split."""
    deck = pptx.Presentation()
    for title, content in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[5 if title else 6])
        if title:
            slide.shapes.title.text = title
        if isinstance(content, str):
            slide.shapes.add_textbox(Inches(1), Inches(2), Inches(8), Inches(3)).text_frame.text = content
        else:
            shape = slide.shapes.add_table(len(content), len(content[0]), Inches(1), Inches(2), Inches(6), Inches(2))
            for row, values in enumerate(content):
                for column, value in enumerate(values):
                    shape.table.cell(row, column).text = value
    deck.save(str(path))
    return split_document(load_document(path), build_organisation_index())


def test_a_short_slide_in_a_deck_is_not_cited_for_the_next_slides_facts(tmp_path: Path) -> None:
    """Joined to the untitled slide after it, "Waits fell." made one chunk cited "slide 2" whose figures are on
    slide 3."""
    pilot = (
        "The median wait in the emergency department fell from nine hours to four hours after the same day "
        "emergency care unit opened, and admissions fell from 62% to 48% over the six months of the pilot."
    )
    chunks = _deck_chunks(
        tmp_path / "waits.pptx",
        [
            ("Deck about waits", "The programme and its aims for the year ahead in the region."),
            ("Results", "Waits fell."),
            (None, pilot),
        ],
    )

    assert _containing(chunks, "Waits fell.").page_reference == "slide 2"
    assert _containing(chunks, "from nine hours to four hours").page_reference == "slide 3"


def test_an_untitled_table_slide_is_cited_at_its_own_slide(tmp_path: Path) -> None:
    table = [("Site", "Before", "After"), ("Torbay", "9", "4"), ("Leeds", "8", "5")]
    chunks = _deck_chunks(tmp_path / "table.pptx", [("Background", "We started in 2022."), (None, table)])

    assert _containing(chunks, "We started in 2022.").page_reference == "slide 1"
    assert _containing(chunks, "Torbay | 9 | 4").page_reference == "slide 2"


def test_a_heading_is_written_once_in_its_chunk_however_many_kinds_of_passage_follow_it() -> None:
    # Prose and statistics alternate under one heading; each run of one kind is a unit of its own, and each
    # unit used to repeat the heading. Four copies of "Sub-domain maturity ratings" made this chunk outrank,
    # for any question about maturity ratings, the passage that answered it.
    text = (
        "# Vision & Strategy\n\n## Sub-domain maturity ratings\n\n"
        "Sites are making good progress to develop their vision and strategy.\n\n"
        "All Sites have an agreed vision with 29% (n=5) proud to share this.\n\n"
        "Overall, Sites are less confident in communicating their vision across their organisation.\n\n"
        "- Only 1 Site (6%) scored themselves as proud to share for communicating priorities."
    )
    chunks = _split(text)
    ratings = _containing(chunks, "29% (n=5)")
    assert ratings.text.count("Sub-domain maturity ratings") == 1
    assert ratings.text.startswith("Sub-domain maturity ratings")
    assert "less confident" in ratings.text and "Only 1 Site (6%)" in ratings.text
    assert ratings.section_path[-1] == "Sub-domain maturity ratings"


def test_slides_under_one_title_joined_into_a_chunk_carry_the_title_once() -> None:
    # An appendix whose title slide is followed by one short slide per item: each slide was a fragment joined
    # to the next, and each repeated the title, which is in the source once.
    text = SLIDE_GAP.join(
        [
            "Thanks\n\nThe team would like to thank every Innovation Lead and team who gave their time to this research.",
            "Appendix\n\nAdopting Innovation Wheel",
            "PARTNERSHIPS & GOVERNANCE\nStructures, relationships and processes that support shared decision making.",
            "VISION AND VALUES\nSetting a shared tone and direction for innovation adoption.",
            "CO-PRODUCTION\nMaking decisions and working in equal partnership with citizens and staff.",
        ]
    )
    wheel = _containing(_split(text), "VISION AND VALUES")
    assert wheel.text.count("Adopting Innovation Wheel") == 1
    assert all(item in wheel.text for item in ("PARTNERSHIPS & GOVERNANCE", "VISION AND VALUES", "CO-PRODUCTION"))
    assert wheel.section_path == ("Appendix", "Adopting Innovation Wheel")


def test_a_line_introducing_the_headings_after_it_opens_the_passage_it_introduces() -> None:
    text = SLIDE_GAP.join(
        [
            "Research insights\n\nIn the following sections we provide an overview of the insights from the research.",
            "Reflections on the maturity ratings\n\nWhere Sites are making progress:\n\nStrong foundations\n\n"
            "The areas that received the highest proportion of positive ratings were core foundations such as "
            "governance, vision and strategy, and problem definition and prioritisation across the Sites.\n\n"
            "Where Sites are experiencing challenges:\n\nStaff capacity and capabilities\n\n"
            "A key challenge for all Sites is enabling staff across the organisation to access the time and "
            "resources to progress innovation. This scored the highest proportion of 1s across all Subdomains.",
        ]
    )
    chunks = _split(text)
    strong = _containing(chunks, "core foundations")
    staff = _containing(chunks, "A key challenge")
    assert "experiencing challenges" not in strong.text, "the line belongs to what it introduces"
    assert staff.text.startswith("Where Sites are experiencing challenges:\n\nStaff capacity and capabilities")
    assert staff.section_path[-1] == "Staff capacity and capabilities"
    assert "Where Sites are making progress:\n\nStrong foundations" in strong.text
    assert sum(chunk.text.count("Where Sites are") for chunk in chunks) == 2, "no text is lost or repeated"
