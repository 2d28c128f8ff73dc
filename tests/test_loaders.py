"""Loading files into text: real PDFs, Word and HTML files are generated here, so every format path runs."""

from __future__ import annotations

import copy
import datetime
import hashlib
import io
import json
import pickle
import re
from collections.abc import Callable
from pathlib import Path

import docx
import pptx
import pytest
from fpdf import FPDF
from lxml import etree
from PIL import Image
from pptx.chart.data import BubbleChartData, CategoryChartData, XyChartData
from pptx.enum.chart import XL_CHART_TYPE
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.opc.package import Part
from pptx.opc.packuri import PackURI
from pptx.oxml import parse_xml
from pptx.oxml.ns import qn
from pptx.oxml.xmlchemy import OxmlElement
from pptx.presentation import Presentation as PptxPresentation
from pptx.slide import Slide
from pptx.util import Inches
from pypdf import PageObject, PdfReader, PdfWriter

from assistant.config import BUNDLED_CORPUS
from assistant.records import DocumentInfo
from ingest.loaders import (
    SUPPORTED_SUFFIXES,
    UnreadableDocument,
    discover_files,
    document_id,
    flatten_inline_html,
    load_document,
    read_corpus_metadata,
)
from ingest.pdf_headings import PageStyles, _letters, _read_by_columns, _Run, heading_levels, mark_headings, page_styles
from ingest.sentences import split_sentences

# --------------------------------------------------------------------------------------------- helpers


def pdf_bytes(pages: list[str], title: str | None = None) -> bytes:
    """A real PDF with one page per entry; an empty entry makes a page with no text at all."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    if title is not None:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def write_pdf(path: Path, pages: list[str], title: str | None = None) -> Path:
    path.write_bytes(pdf_bytes(pages, title))
    return path


def encrypted_pdf(path: Path, user_password: str) -> Path:
    writer = PdfWriter(clone_from=io.BytesIO(pdf_bytes(["Confidential innovation findings."])))
    writer.encrypt(user_password, owner_password="owner-secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    path.write_bytes(buffer.getvalue())
    return path


DIAGRAM_NS = "http://schemas.openxmlformats.org/drawingml/2006/diagram"


def unreadable_reason(path: Path) -> str:
    with pytest.raises(UnreadableDocument) as caught:
        load_document(path)
    assert caught.value.path == path
    return caught.value.reason


# --------------------------------------------------------------------------------------------- PDF


def test_pdf_pages_keep_their_one_based_numbers(tmp_path: Path) -> None:
    path = write_pdf(
        tmp_path / "report.pdf",
        ["Alpha site set up a clinical panel.", "Beta site hired a data analyst.", "Gamma site ran a pilot."],
    )

    document = load_document(path)

    assert [page.number for page in document.pages] == [1, 2, 3]
    assert "Alpha site" in document.pages[0].text
    assert "Beta site" in document.pages[1].text
    assert "Gamma site" in document.pages[2].text
    assert "Beta" not in document.pages[0].text
    assert document.file_format == "pdf"
    assert document.warnings == ()


def test_pdf_text_is_cleaned_but_keeps_line_breaks(tmp_path: Path) -> None:
    path = write_pdf(
        tmp_path / "layout.pdf",
        ["Spreading innova-\ntion needs time.\nNHS-\nEngland funded it.\nTable value\n42\nlast line\n7"],
    )

    text = load_document(path).pages[0].text

    assert "Spreading innovation needs time." in text
    assert "NHS-\nEngland" in text, "a capitalised continuation is a real hyphen, not a split word"
    assert "\n42\n" in text, "a bare number inside the page is content, not a page number"
    assert text.endswith("last line"), "the trailing page number is dropped"


class _ReportWithFooter(FPDF):
    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("helvetica", size=9)
        self.cell(0, 10, f"Page {self.page_no()} of 2", align="C")


def test_pdf_footer_page_numbers_are_dropped(tmp_path: Path) -> None:
    pdf = _ReportWithFooter()
    pdf.set_font("helvetica", size=12)
    for body in ["Governance matters.", "Culture matters."]:
        pdf.add_page()
        pdf.multi_cell(0, 8, body)
    path = tmp_path / "footer.pdf"
    path.write_bytes(bytes(pdf.output()))

    document = load_document(path)

    assert [page.text for page in document.pages] == ["Governance matters.", "Culture matters."]


class _ReportWithRunningLines(FPDF):
    """Every page carries a three-line header (title, page number, edition) and a footer whose number is the
    printed page number (the cover is unnumbered, so it is the PDF page minus one)."""

    def header(self) -> None:
        self.set_font("helvetica", size=9)
        for line in ("Northshire NHS Trust | Innovation review", str(self.page_no()), "Final report_2024"):
            self.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("helvetica", size=9)
        self.cell(0, 10, f"Innovation review 2024 | {self.page_no() - 1}", align="C")


def test_pdf_running_headers_and_footers_are_dropped_but_numbered_headings_kept(tmp_path: Path) -> None:
    pdf = _ReportWithRunningLines()
    bodies = [
        "Key theme 1\nFunding comes from the charity.",
        "Teams are small.",
        "Key theme 2\nStaff need protected time.",
        "Boards sponsor innovation.",
        "Key theme 3\nPartners share posts.",
    ]
    for body in bodies:
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        pdf.multi_cell(0, 8, body)
    path = tmp_path / "running.pdf"
    path.write_bytes(bytes(pdf.output()))

    document = load_document(path)

    assert [page.text for page in document.pages] == bodies
    assert [page.number for page in document.pages] == [1, 2, 3, 4, 5]


LEARNING_REPORT_TITLE = "NHS InSites Learning Report"
CASE_STUDY_HEADING = "Case study: Leeds Teaching Hospitals NHS Trust"
# Each page: what stands above its heading (a line of text, or blank space), the heading, and its body.
_LEARNING_REPORT_PAGES = [
    (
        "",
        "Introduction",
        "This report shares what sites learned in the second year of the programme.\n"
        "Eight trusts took part, from acute hospitals to community providers.\n"
        "Each site assessed its innovation function against the same framework.",
    ),
    (
        "",
        CASE_STUDY_HEADING,
        "The virtual ward team monitored 420 patients at home over the winter.\n"
        "The ward freed an average of 35 hospital beds a day.\n"
        "Consultants reviewed every patient on a daily video round.",
    ),
    (
        "The virtual ward grew in its second year.",
        CASE_STUDY_HEADING,
        "Nurses triaged alerts from a central hub staffed around the clock.\n"
        "Readmissions within 30 days fell by 12 per cent.\n"
        "Community teams took over patients who needed visits.",
    ),
    (
        "",
        "Key findings",
        "Sites that protected staff time sustained their projects for longer.\n"
        "Boards that sponsored innovation funded it from core budgets.\n"
        "Partnerships with universities brought evaluation skills.",
    ),
    (
        "\n",
        CASE_STUDY_HEADING,
        "Patients rated the service 4.7 out of 5 in the exit survey.\n"
        "The trust now funds the virtual ward from its core budget.\n"
        "Two neighbouring trusts have adopted the same model.",
    ),
    (
        "",
        "Next steps",
        "The programme will publish a self-assessment tool in spring.\n"
        "Sites will repeat the assessment after twelve months.\n"
        "Findings will be shared through the regional networks.",
    ),
]


def learning_report(path: Path, title_style: tuple[str, int] = ("", 9)) -> Path:
    """A six-page report whose pages carry its title as a running header (in ``title_style``) and a footer
    with the page number, and whose case study opens three of them with the same heading, set in bold
    above the body, at three heights: under the header, under a line of text, and under a picture's space."""

    class _Report(FPDF):
        def header(self) -> None:
            self.set_font("helvetica", *title_style)
            self.cell(0, 8, LEARNING_REPORT_TITLE, new_x="LMARGIN", new_y="NEXT")
            self.ln(4)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("helvetica", size=9)
            self.cell(0, 10, f"{LEARNING_REPORT_TITLE} 2025 | {self.page_no()}", align="C")

    pdf = _Report()
    for above, heading, body in _LEARNING_REPORT_PAGES:
        pdf.add_page()
        pdf.set_font("helvetica", size=11)
        if above.strip():
            pdf.multi_cell(0, 7, above, new_x="LMARGIN", new_y="NEXT")
        elif above:
            pdf.ln(30)
        pdf.set_font("helvetica", "B", 14)
        pdf.cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=11)
        pdf.multi_cell(0, 7, body)
    pdf.output(str(path))
    return path


@pytest.mark.parametrize("title_style", [("", 9), ("B", 14)], ids=["small-title", "title-set-as-a-heading"])
def test_a_heading_repeated_word_for_word_is_kept_while_the_running_header_goes(
    tmp_path: Path, title_style: tuple[str, int]
) -> None:
    """The case study's heading opens three of six pages word for word, as a running header would, and was
    dropped as one (its pages then lost their case study). It moves with the text above it; the report's
    title stays in one place, and goes even when it is set as large and bold as the heading."""
    document = load_document(learning_report(tmp_path / "learning-report.pdf", title_style))

    expected = [
        "\n".join(part for part in (above.strip(), f"# {heading}", body) if part)
        for above, heading, body in _LEARNING_REPORT_PAGES
    ]
    assert [page.text for page in document.pages] == expected
    assert [page.number for page in document.pages] == [1, 2, 3, 4, 5, 6]


def labelled_pdf(path: Path, texts: list[str]) -> Path:
    """A PDF whose first two sheets are numbered i, ii and whose third starts the printed numbering at 1,
    as a report with a cover and a contents page is."""
    writer = PdfWriter(clone_from=io.BytesIO(pdf_bytes(texts)))
    writer.set_page_label(0, 1, style="/r")
    writer.set_page_label(2, len(texts) - 1, style="/D", start=1)
    buffer = io.BytesIO()
    writer.write(buffer)
    path.write_bytes(buffer.getvalue())
    return path


def test_pdf_printed_page_names_are_kept_beside_the_sheet_numbers(tmp_path: Path) -> None:
    texts = ["Contents and foreword.", "Executive summary.", "Governance matters.", "Culture matters."]
    labelled = load_document(labelled_pdf(tmp_path / "labelled.pdf", texts))
    plain = load_document(write_pdf(tmp_path / "plain.pdf", texts))

    assert [(page.number, page.label) for page in labelled.pages] == [(1, "i"), (2, "ii"), (3, "1"), (4, "2")]
    assert [page.label for page in plain.pages] == [None] * 4, "a PDF that names no pages gets no labels"


def test_pdf_page_numbers_printed_in_the_footers_name_the_pages_when_the_pdf_names_none(tmp_path: Path) -> None:
    texts = [
        "Annual innovation report 2024",
        "Contents and foreword.",
        "Governance matters.\n\n1",
        "Culture matters.\n\n2",
        "A full-page chart of funding.",
        "Funding matters.\n\nPage 4",
    ]
    footed = load_document(write_pdf(tmp_path / "footed.pdf", texts))
    topics = ["Governance.", "Culture.", "Funding.", "Workforce."]
    same = load_document(write_pdf(tmp_path / "same.pdf", [f"{topic}\n\n{n}" for n, topic in enumerate(topics, 1)]))
    dated = load_document(write_pdf(tmp_path / "dated.pdf", [f"{t}\n\n{year}" for year, t in enumerate(topics, 2024)]))

    # The chart sheet prints no number but sits between numbered ones; the cover and contents come before.
    labels = [(page.number, page.label) for page in footed.pages]
    assert labels == [(1, None), (2, None), (3, "1"), (4, "2"), (5, "3"), (6, "4")]
    assert footed.pages[2].text == "Governance matters.", "the printed number is not left in the text"
    assert [page.label for page in same.pages] == [None] * 4, "a printed number equal to the sheet adds nothing"
    assert [page.label for page in dated.pages] == [None] * 4, "years on successive pages are no page numbers"


def test_pdf_whose_page_names_cannot_be_read_keeps_its_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = labelled_pdf(tmp_path / "labelled.pdf", ["Alpha.", "Beta.", "Gamma."])

    def broken(_reader: PdfReader) -> list[str]:
        raise ValueError("malformed number tree")

    monkeypatch.setattr(PdfReader, "page_labels", property(broken))
    document = load_document(path)

    assert [(page.number, page.label) for page in document.pages] == [(1, None), (2, None), (3, None)]
    assert "Gamma." in document.pages[2].text


def test_pdf_title_comes_from_metadata_when_sensible(tmp_path: Path) -> None:
    titled = write_pdf(tmp_path / "a.pdf", ["Body text of the report."], title="Spreading Innovation in the NHS")
    placeholder = write_pdf(tmp_path / "b.pdf", ["First line as title\nMore body."], title="Microsoft Word - b.docx")

    assert load_document(titled).info.title == "Spreading Innovation in the NHS"
    assert load_document(placeholder).info.title == "First line as title"


def test_pdf_without_text_is_reported_as_scanned(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "scan.pdf", ["", ""])

    assert unreadable_reason(path) == "no extractable text: it looks like a scanned PDF; run OCR on it first"


def test_pdf_blank_page_among_text_pages_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "mixed.pdf", ["Words on page one.", "", "Words on page three."])

    document = load_document(path)

    assert [page.number for page in document.pages] == [1, 3]
    assert any("page(s) 2" in warning for warning in document.warnings)


def test_pdf_with_a_password_is_refused_with_advice(tmp_path: Path) -> None:
    path = encrypted_pdf(tmp_path / "locked.pdf", user_password="secret")

    assert unreadable_reason(path) == "encrypted PDF: remove the password and ingest it again"


def test_pdf_encrypted_with_an_empty_password_loads(tmp_path: Path) -> None:
    path = encrypted_pdf(tmp_path / "protected.pdf", user_password="")

    document = load_document(path)

    assert "Confidential innovation findings." in document.pages[0].text


def test_truncated_pdf_is_reported_as_damaged(tmp_path: Path) -> None:
    whole = pdf_bytes(["Some text that will be cut off."])
    path = tmp_path / "cut.pdf"
    path.write_bytes(whole[: len(whole) // 2])

    assert unreadable_reason(path).startswith("damaged or not a valid PDF (")


def test_file_named_pdf_that_is_not_a_pdf_is_reported_as_damaged(tmp_path: Path) -> None:
    path = tmp_path / "fake.pdf"
    path.write_text("just some words", encoding="utf-8")

    assert unreadable_reason(path) == "damaged or not a valid PDF (no PDF header)"


def test_one_failing_pdf_page_becomes_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_pdf(tmp_path / "flaky.pdf", ["Good first page.", "Broken page.", "Good third page."])
    original = PageObject.extract_text

    def fail_on_broken_page(page: PageObject, *args: object, **kwargs: object) -> str:
        text = original(page)
        if "Broken" in text:
            raise ValueError("bad content stream")
        return text

    monkeypatch.setattr(PageObject, "extract_text", fail_on_broken_page)

    document = load_document(path)

    assert [page.number for page in document.pages] == [1, 3]
    assert "page 2: could not extract text" in document.warnings


def test_pdf_parser_complaints_become_a_warning_not_terminal_noise(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    whole = pdf_bytes(["Text that survives a broken cross-reference table."])
    start = whole.rindex(b"startxref")
    path = tmp_path / "repaired.pdf"
    path.write_bytes(whole[:start] + b"startxref\n999999\n%%EOF\n")

    document = load_document(path)

    assert "survives" in document.pages[0].text
    assert any("PDF parser repaired" in warning for warning in document.warnings)
    assert capfd.readouterr().err == ""


# --------------------------------------------------------------------------------------------- text


def test_markdown_is_kept_verbatim_with_lf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_bytes(b"# Key findings\r\n\r\n- **Bold** claim [link](x)\r\nlast")

    document = load_document(path)

    assert document.pages[0].number is None
    assert document.pages[0].text == "# Key findings\n\n- **Bold** claim [link](x)\nlast"
    assert document.info.title == "Key findings"
    assert document.file_format == "markdown"
    assert document.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_inline_html_in_markdown_table_cells_becomes_sentences_with_the_words_kept(tmp_path: Path) -> None:
    """Markdown exported from Word keeps table cells as HTML; users must not be shown the markup."""
    path = tmp_path / "table.md"
    cell = (
        '<p>Benefits:</p> <ul style="list-style-type: none"> • Supports joined-up approaches • Can benefit from '
        'pooled resources <p>Risks / drawbacks:</p> <ul style="list-style-type: none"> • Risk of duplication'
    )
    path.write_text(f"# Models\n\nSingle team\tSeparate teams\n{cell}\tPlain cell text\n", encoding="utf-8")

    text = load_document(path).pages[0].text

    assert "<" not in text and "•" not in text
    assert text.split("\n")[3] == (
        "Benefits: Supports joined-up approaches; Can benefit from pooled resources. "
        "Risks / drawbacks: Risk of duplication.\tPlain cell text"
    )
    assert text.split("\n")[2] == "Single team\tSeparate teams"


def test_utf8_bom_is_not_part_of_the_text(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfCaf\xc3\xa9 culture matters")

    document = load_document(path)

    assert document.pages[0].text == "Café culture matters"
    assert document.warnings == ()
    assert document.file_format == "text"


def test_windows_1252_text_is_decoded_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "legacy.txt"
    path.write_bytes("“Smart” café – £5".encode("cp1252"))

    document = load_document(path)

    assert document.pages[0].text == "“Smart” café – £5"
    assert document.warnings == ("not UTF-8; read as Windows-1252",)


def test_utf16_text_with_a_bom_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "notepad.txt"
    path.write_bytes("Innovation £ funding\r\nline two".encode("utf-16"))

    document = load_document(path)

    assert document.pages[0].text == "Innovation £ funding\nline two"
    assert document.warnings == ()


def test_binary_bytes_in_a_text_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

    assert unreadable_reason(path) == "binary file, not text"


@pytest.mark.parametrize("name", ["empty.md", "blank.txt", "empty.pdf", "empty.html", "empty.docx"])
def test_empty_or_whitespace_files_are_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"" if name.startswith("empty") else b"  \n\t\r\n ")

    assert unreadable_reason(path) == "empty file"


def test_title_falls_back_to_first_short_line_then_to_file_name(tmp_path: Path) -> None:
    first_line = tmp_path / "plain.txt"
    first_line.write_text("\n\nRapid insight event\nBody of the report.", encoding="utf-8")
    long_line = tmp_path / "innovation_ecosystem-notes.txt"
    long_line.write_text("word " * 100, encoding="utf-8")

    assert load_document(first_line).info.title == "Rapid insight event"
    assert load_document(long_line).info.title == "Innovation ecosystem notes"


def test_given_document_info_wins(tmp_path: Path) -> None:
    path = tmp_path / "report.md"
    path.write_text("# Heading in the file\n", encoding="utf-8")
    info = DocumentInfo(title="Catalogue title", publisher="NHS England", year=2024, kind="case study")

    assert load_document(path, info).info == info


# --------------------------------------------------------------------------------------------- DOCX


def test_docx_headings_become_markdown_and_tables_become_rows(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("Learning report", level=1)
    document.add_paragraph("Sites built capacity.")
    document.add_paragraph("")
    document.add_heading("Governance", level=2)
    table = document.add_table(rows=2, cols=2)
    for row, values in zip(table.rows, [("Site", "Lead"), ("Essex", "Dr A")], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("After the table.")
    path = tmp_path / "report.docx"
    document.save(str(path))

    loaded = load_document(path)

    assert loaded.pages[0].number is None
    assert loaded.pages[0].text == (
        "# Learning report\n\nSites built capacity.\n\n## Governance\n\nSite | Lead\nEssex | Dr A\n\nAfter the table."
    )
    assert loaded.info.title == "Learning report"
    assert loaded.file_format == "docx"


def test_damaged_docx_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 this zip stops here")

    assert unreadable_reason(path).startswith("damaged or not a Word .docx file (")


def test_old_word_doc_saved_as_docx_gets_specific_advice(tmp_path: Path) -> None:
    path = tmp_path / "old.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)

    assert "save it as .docx" in unreadable_reason(path)


# --------------------------------------------------------------------------------------------- PPTX


def _picture() -> io.BytesIO:
    image = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(image, format="PNG")
    image.seek(0)
    return image


def _bulleted_text_box(slide: Slide, top: float, lines: list[str]) -> None:
    """A text box whose paragraphs after the first carry their own bullet, as Google Slides exports them."""
    box = slide.shapes.add_textbox(Inches(0.5), Inches(top), Inches(8), Inches(1)).text_frame
    box.text = lines[0]
    for line in lines[1:]:
        paragraph = box.add_paragraph()
        paragraph.text = line
        paragraph._p.get_or_add_pPr().append(OxmlElement("a:buChar"))


def learning_deck(path: Path, title: str = "SDEC learning deck") -> Path:
    """A five-slide deck: title slide; bullets, footer, date, slide number and notes; a hidden slide; text
    boxes, a table, a group and a bulleted text box placed out of reading order; a slide of one picture."""
    deck = pptx.Presentation()
    deck.core_properties.title = title
    layouts = {layout.name: layout for layout in deck.slide_layouts}

    cover = deck.slides.add_slide(layouts["Title Slide"])
    cover.shapes.title.text = "Same Day Emergency Care: what we learnt"
    cover.placeholders[1].text = "Northshire ICS learning event, March 2024"

    why = deck.slides.add_slide(layouts["Title and Content"])
    why.shapes.title.text = "Why we changed"
    body = why.placeholders[1].text_frame
    body.text = "Patients waited over 9 hours in ED"
    for text, level in [("Most went home the same day", 1), ("Staff morale was low", 0)]:
        paragraph = body.add_paragraph()
        paragraph.text, paragraph.level = text, level
    why.shapes.add_textbox(Inches(0.5), Inches(6.2), Inches(8), Inches(0.4)).text_frame.text = "Source: trust audit."
    for chrome, text in [("Footer", "NHS Northshire ICS"), ("Date", "March 2024"), ("Slide Number", "2")]:
        layout_placeholder = next(shape for shape in why.slide_layout.placeholders if shape.name.startswith(chrome))
        why.shapes.clone_placeholder(layout_placeholder)
        next(shape for shape in why.placeholders if shape.name.startswith(chrome)).text = text
    why.notes_slide.notes_text_frame.text = (
        "The audit covered 1,200 attendances.\n\nWe took it to the board in May, and it funded a pilot."
    )

    hidden = deck.slides.add_slide(layouts["Title and Content"])
    hidden.shapes.title.text = "Draft figures, do not share"
    hidden.element.set("show", "0")

    results = deck.slides.add_slide(layouts["Two Content"])
    results.shapes.title.text = "Results after\vsix months"
    results.shapes.add_textbox(Inches(5), Inches(1.5), Inches(4), Inches(0.5)).text_frame.text = "Staff view"
    results.shapes.add_textbox(Inches(0.5), Inches(1.5), Inches(4), Inches(0.5)).text_frame.text = "Patient view"
    table = results.shapes.add_table(3, 3, Inches(0.5), Inches(2.5), Inches(8), Inches(1.2)).table
    for row, values in enumerate([("Measure", "Before", "After"), ("Median wait", "9 hours", "4 hours")]):
        for column, value in enumerate(values):
            table.cell(row, column).text = value
    table.cell(2, 0).text = "Admissions"
    table.cell(2, 1).merge(table.cell(2, 2))
    table.cell(2, 1).text = "down  from 62%\nto 48%"
    group = results.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(0.5), Inches(4.6), Inches(4), Inches(0.4)).text_frame.text = "Then the team"
    group.shapes.add_textbox(Inches(0.5), Inches(4.1), Inches(4), Inches(0.4)).text_frame.text = "First the pilot"
    _bulleted_text_box(results, 5.5, ["Next steps:", "Extend to weekends", "Share the model"])

    pictures = deck.slides.add_slide(layouts["Blank"])
    pictures.shapes.add_picture(_picture(), Inches(1), Inches(1))

    deck.save(str(path))
    return path


def test_pptx_reads_each_shown_slide_as_a_page_numbered_as_powerpoint_numbers_it(tmp_path: Path) -> None:
    document = load_document(learning_deck(tmp_path / "sdec.pptx"))

    assert [(page.number, page.label) for page in document.pages] == [(1, None), (2, None), (4, None)]
    assert [page.text for page in document.pages] == [
        "# Same Day Emergency Care: what we learnt\n\nNorthshire ICS learning event, March 2024",
        "# Why we changed\n\n"
        "- Patients waited over 9 hours in ED\n  - Most went home the same day\n- Staff morale was low\n\n"
        "Source: trust audit.\n\n"
        "Speaker notes:\nThe audit covered 1,200 attendances.\nWe took it to the board in May, and it funded a pilot.",
        "# Results after six months\n\n"
        "Patient view\n\nStaff view\n\n"
        "Measure | Before | After\nMedian wait | 9 hours | 4 hours\nAdmissions | down from 62% to 48%\n\n"
        "First the pilot\n\nThen the team\n\n"
        "Next steps:\n- Extend to weekends\n- Share the model",
    ]
    assert document.warnings == ("no text on slide(s) 5: images only? run OCR if they matter",)
    assert document.info.title == "SDEC learning deck"
    assert document.file_format == "pptx"
    assert document.headings_from_fonts, "slide titles are the deck's headings; nothing else is guessed as one"


def test_pptx_without_a_real_title_is_named_by_its_first_slide(tmp_path: Path) -> None:
    document = load_document(learning_deck(tmp_path / "deck.pptx", title="PowerPoint Presentation"))

    assert document.info.title == "Same Day Emergency Care: what we learnt"


def test_pptx_table_cell_merged_down_keeps_the_rows_other_cells_under_their_headers(tmp_path: Path) -> None:
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Results"
    table = slide.shapes.add_table(3, 3, Inches(1), Inches(1.5), Inches(6), Inches(2)).table
    for r, row in enumerate([("Site", "Measure", "Value"), ("Torbay", "Wait", "4h"), ("", "Admissions", "48%")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(1, 0).merge(table.cell(2, 0))
    path = tmp_path / "merged.pptx"
    deck.save(str(path))

    text = load_document(path).pages[0].text
    assert "Site | Measure | Value\nTorbay | Wait | 4h\n | Admissions | 48%" in text


def test_pptx_of_pictures_only_is_refused_as_needing_ocr(tmp_path: Path) -> None:
    deck = pptx.Presentation()
    for _ in range(2):
        deck.slides.add_slide(deck.slide_layouts[6]).shapes.add_picture(_picture(), Inches(1), Inches(1))
    path = tmp_path / "scanned.pptx"
    deck.save(str(path))

    assert unreadable_reason(path) == "no extractable text: it looks like a deck of pictures; run OCR on it first"


def test_old_or_password_protected_powerpoint_gets_specific_advice(tmp_path: Path) -> None:
    path = tmp_path / "old.pptx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)

    assert unreadable_reason(path) == (
        "old PowerPoint .ppt format (or password-protected): remove the password or save it as .pptx"
    )


def test_old_binary_office_files_are_reported_with_what_to_do(tmp_path: Path) -> None:
    deck, report = tmp_path / "deck.ppt", tmp_path / "report.doc"
    for path in (deck, report):
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)

    found, problems = discover_files([deck, report])

    assert found == []
    assert [(problem.path, problem.reason) for problem in problems] == [
        (deck, "old PowerPoint .ppt format: save it as .pptx"),
        (report, "old Word .doc format: save it as .docx"),
    ]


def test_truncated_pptx_is_refused_as_damaged(tmp_path: Path) -> None:
    whole = learning_deck(tmp_path / "whole.pptx").read_bytes()
    path = tmp_path / "cut.pptx"
    path.write_bytes(whole[: len(whole) // 2])

    assert unreadable_reason(path) == "damaged or not a PowerPoint .pptx file (File is not a zip file)"


def test_word_document_named_pptx_is_refused_as_another_office_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.pptx"
    document = docx.Document()
    document.add_paragraph("Meeting notes.")
    document.save(str(path))

    assert unreadable_reason(path) == (
        "not a PowerPoint file: another Office document (Word or Excel?) named .pptx; check the file"
    )


def _saved(deck: PptxPresentation, path: Path) -> Path:
    deck.save(str(path))
    return path


def test_pptx_chart_is_read_as_its_title_and_a_table_of_its_values(tmp_path: Path) -> None:
    """A chart-only slide was reported as "images only? run OCR" although its words are in the file; its
    values, the answer to "how long was the wait in February?", were then left out."""
    deck = pptx.Presentation()
    chart_data = CategoryChartData()
    chart_data.categories = ["Jan", "Feb"]
    chart_data.add_series("Median wait (hours)", (9, 4.5))
    titled = deck.slides.add_slide(deck.slide_layouts[5])
    titled.shapes.title.text = "Waits by month"
    size = (Inches(1), Inches(1.5), Inches(6), Inches(4))
    chart = titled.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, *size, chart_data).chart
    chart.has_title = True
    chart.chart_title.text_frame.text = "Median wait fell\nfrom 9 to 4 hours"
    deck.slides.add_slide(deck.slide_layouts[6]).shapes.add_chart(XL_CHART_TYPE.LINE, *size, chart_data)

    document = load_document(_saved(deck, tmp_path / "charts.pptx"))

    table = "Category | Median wait (hours)\n--- | ---\nJan | 9\nFeb | 4.5"
    assert [(page.number, page.text) for page in document.pages] == [
        (1, f"# Waits by month\n\nChart: Median wait fell from 9 to 4 hours\n{table}"),
        (2, f"Chart\n{table}"),
    ]
    assert document.warnings == ()
    # A one-series chart is two columns: its header still names the value.
    assert split_sentences(document.pages[1].text) == [
        "Chart",
        "Jan: Median wait (hours) 9.",
        "Feb: Median wait (hours) 4.5.",
    ]


def _chart_slide_text(
    tmp_path: Path,
    chart_type: XL_CHART_TYPE,
    chart_data: CategoryChartData | XyChartData,
    title: str = "",
) -> tuple[str, tuple[str, ...]]:
    """The text and warnings of a one-slide deck showing only this chart."""
    deck = pptx.Presentation()
    frame = deck.slides.add_slide(deck.slide_layouts[6]).shapes.add_chart(
        chart_type, Inches(1), Inches(1), Inches(8), Inches(5), chart_data
    )
    if title:
        frame.chart.has_title = True
        frame.chart.chart_title.text_frame.text = title
    document = load_document(_saved(deck, tmp_path / "chart.pptx"))
    return "\n\n".join(page.text for page in document.pages), document.warnings


def test_pptx_chart_values_are_written_in_their_number_format(tmp_path: Path) -> None:
    """A 62% bar is stored as 0.62, and 1,240 hours as 1240."""
    chart_data = CategoryChartData(number_format="0%")
    chart_data.categories = ["Q1 2024/25", "Q2 2024/25"]
    chart_data.add_series("Seen within 2 hours", (0.62, 0.7))
    chart_data.add_series("Seen within 4 hours", (0.905, 0.9125), number_format="0.0%")
    chart_data.add_series("Staff hours released", (1240, 13105.4), number_format="#,##0")
    chart_data.add_series("Saving", (41250, 52000.5), number_format="[$£-809]#,##0")
    chart_data.add_series("Cost per patient", (27.5, 31), number_format='"£"#,##0.00')
    chart_data.add_series("Beds", (12.0, 0.25), number_format="General")

    text, warnings = _chart_slide_text(tmp_path, XL_CHART_TYPE.COLUMN_CLUSTERED, chart_data, "Results by quarter")

    assert text == (
        "Chart: Results by quarter\n"
        "Category | Seen within 2 hours | Seen within 4 hours | Staff hours released | Saving | Cost per patient | Beds\n"
        "--- | --- | --- | --- | --- | --- | ---\n"
        "Q1 2024/25 | 62% | 90.5% | 1,240 | £41,250 | £27.50 | 12\n"
        "Q2 2024/25 | 70% | 91.3% | 13,105 | £52,001 | £31.00 | 0.25"
    )
    assert warnings == ()
    assert split_sentences(text)[1] == (
        "Q1 2024/25: Seen within 2 hours 62%; Seen within 4 hours 90.5%; Staff hours released 1,240; "
        "Saving £41,250; Cost per patient £27.50; Beds 12."
    )


def test_pptx_chart_series_named_by_years_head_the_rows_and_a_blank_value_is_left_out(tmp_path: Path) -> None:
    """Series named "2023/24" hold figures, so without the delimiter row the header would be taken for data;
    a quarter not yet reported is a blank cell, which must not break the table."""
    chart_data = CategoryChartData(number_format="#,##0")
    chart_data.categories = ["Q1", "Q2", "Q3"]
    chart_data.add_series("2023/24", (980, 1010, 1105))
    chart_data.add_series("2024/25", (1240, 1310, None))

    text, _ = _chart_slide_text(tmp_path, XL_CHART_TYPE.LINE, chart_data)

    assert (
        text
        == "Chart\nCategory | 2023/24 | 2024/25\n--- | --- | ---\nQ1 | 980 | 1,240\nQ2 | 1,010 | 1,310\nQ3 | 1,105 | "
    )
    assert split_sentences(text) == [
        "Chart",
        "Q1: 2023/24 980; 2024/25 1,240.",
        "Q2: 2023/24 1,010; 2024/25 1,310.",
        "Q3: 2023/24 1,105.",
    ]


def test_pptx_chart_date_and_number_categories_are_written_as_shown(tmp_path: Path) -> None:
    """Dates are stored as Excel day counts (45292 is 1 January 2024) and shown in the categories' format."""
    by_month = CategoryChartData()
    by_month.categories = [datetime.date(2024, 1, 1), datetime.date(2024, 2, 1)]
    by_month.categories.number_format = "mmm yyyy"
    by_month.add_series("Referrals", (310, 295))
    by_year = CategoryChartData()
    by_year.categories = [2022, 2023]
    by_year.add_series("Referrals", (3100, 3480))

    months, _ = _chart_slide_text(tmp_path, XL_CHART_TYPE.COLUMN_CLUSTERED, by_month)
    years, _ = _chart_slide_text(tmp_path, XL_CHART_TYPE.COLUMN_CLUSTERED, by_year)

    assert months.splitlines()[3:] == ["Jan 2024 | 310", "Feb 2024 | 295"]
    assert years.splitlines()[3:] == ["2022 | 3100", "2023 | 3480"]


def test_pptx_pie_chart_reads_each_slice(tmp_path: Path) -> None:
    chart_data = CategoryChartData(number_format="0%")
    chart_data.categories = ["Over 65", "Under 65"]
    chart_data.add_series("Share of patients", (0.62, 0.38))

    text, _ = _chart_slide_text(tmp_path, XL_CHART_TYPE.PIE, chart_data, "Who used the virtual ward")

    assert split_sentences(text) == [
        "Chart: Who used the virtual ward",
        "Over 65: Share of patients 62%.",
        "Under 65: Share of patients 38%.",
    ]


def test_pptx_scatter_chart_reads_x_values_in_place_of_categories(tmp_path: Path) -> None:
    """Each series has its own x values; the series' points at one x share a row."""
    points = XyChartData()
    wessex = points.add_series("Wessex Vale", number_format="0%")
    for x, y in [(1, 0.5), (2, 0.75)]:
        wessex.add_data_point(x, y)
    harrowdale = points.add_series("Harrowdale", number_format="0%")
    for x, y in [(2, 0.25), (4, 0.4)]:
        harrowdale.add_data_point(x, y)
    deck = pptx.Presentation()
    chart = (
        deck.slides.add_slide(deck.slide_layouts[6])
        .shapes.add_chart(XL_CHART_TYPE.XY_SCATTER, Inches(1), Inches(1), Inches(8), Inches(5), points)
        .chart
    )
    chart.category_axis.axis_title.text_frame.text = "Weeks after go-live"
    # python-pptx gives the x values the y values' format; a sheet formats its x column on its own.
    for code in chart._chartSpace.iter(qn("c:formatCode")):
        if code.getparent().getparent().getparent().tag == qn("c:xVal"):
            code.text = "General"

    document = load_document(_saved(deck, tmp_path / "scatter.pptx"))

    assert document.pages[0].text == (
        "Chart\nWeeks after go-live | Wessex Vale | Harrowdale\n--- | --- | ---\n1 | 50% | \n2 | 75% | 25%\n4 |  | 40%"
    )
    assert split_sentences(document.pages[0].text)[1:] == [
        "1: Wessex Vale 50%.",
        "2: Wessex Vale 75%; Harrowdale 25%.",
        "4: Harrowdale 40%.",
    ]


def test_pptx_bubble_chart_reads_its_points_as_a_scatter_chart_does(tmp_path: Path) -> None:
    bubbles = BubbleChartData()
    sites = bubbles.add_series("Patients per nurse")
    sites.add_data_point(1, 4.5, 10)
    sites.add_data_point(3, 6, 5)

    text, warnings = _chart_slide_text(tmp_path, XL_CHART_TYPE.BUBBLE, bubbles)

    assert split_sentences(text) == ["Chart", "1: Patients per nurse 4.5.", "3: Patients per nurse 6."]
    assert warnings == ()


def test_pptx_chart_of_two_plots_reads_their_series_side_by_side(tmp_path: Path) -> None:
    """A bar-and-line chart keeps each kind of series in its own plot, over the same categories."""
    chart_data = CategoryChartData()
    chart_data.categories = ["Q1", "Q2"]
    chart_data.add_series("Admissions", (120, 140))
    chart_data.add_series("Bed days saved", (300, 410))
    deck = pptx.Presentation()
    chart = (
        deck.slides.add_slide(deck.slide_layouts[6])
        .shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(1), Inches(1), Inches(8), Inches(5), chart_data)
        .chart
    )
    bars = chart.plots[0]._element
    line = OxmlElement("c:lineChart")
    line.append(
        parse_xml('<c:grouping xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" val="standard"/>')
    )
    line.append(bars.findall(qn("c:ser"))[1])
    for axis_id in bars.findall(qn("c:axId")):
        line.append(copy.deepcopy(axis_id))
    bars.addnext(line)

    document = load_document(_saved(deck, tmp_path / "combo.pptx"))

    assert len(chart.plots) == 2
    assert document.pages[0].text.splitlines()[1:] == [
        "Category | Admissions | Bed days saved",
        "--- | --- | ---",
        "Q1 | 120 | 300",
        "Q2 | 140 | 410",
    ]


def test_pptx_long_chart_is_cut_into_headed_tables_and_capped(tmp_path: Path) -> None:
    """Cut at its lines by the splitter, a long table lost its header; past 60 rows, the rest is noted."""
    chart_data = CategoryChartData(number_format="#,##0")
    chart_data.categories = [f"Day {day}" for day in range(1, 201)]
    chart_data.add_series("Virtual ward patients", [1000 + day for day in range(1, 201)])

    text, warnings = _chart_slide_text(tmp_path, XL_CHART_TYPE.LINE, chart_data, "Patients per day")

    blocks = text.split("\n\n")
    assert len(blocks) > 2 and warnings == ()
    for block in blocks[:-1]:
        assert block.splitlines()[:3] == ["Chart: Patients per day", "Category | Virtual ward patients", "--- | ---"]
        assert len(block) <= 300
    assert blocks[-1] == "(The chart has 200 rows of data; only the first 60 are read.)"
    units = split_sentences(text)
    rows = [unit for unit in units if unit.startswith("Day ")]
    assert rows[0] == "Day 1: Virtual ward patients 1,001." and rows[-1] == "Day 60: Virtual ward patients 1,060."
    assert len(rows) == 60


def test_pptx_chart_without_words_is_reported_as_unread_not_as_a_picture(tmp_path: Path) -> None:
    deck = pptx.Presentation()
    deck.slides.add_slide(deck.slide_layouts[5]).shapes.title.text = "Waits by month"
    points = XyChartData()
    points.add_series("").add_data_point(1, 9)
    chart_slide = deck.slides.add_slide(deck.slide_layouts[6])
    chart_slide.shapes.add_chart(XL_CHART_TYPE.XY_SCATTER, Inches(1), Inches(1), Inches(6), Inches(4), points)

    document = load_document(_saved(deck, tmp_path / "scatter.pptx"))

    assert [page.number for page in document.pages] == [1]
    assert document.warnings == ("slide 2: chart/diagram text not read",)


def _add_smartart(slide: Slide, boxes: list[str]) -> None:
    """A SmartArt graphic frame and its data part, as PowerPoint writes them (without the layout, style and
    colour parts, which hold no text)."""
    points = "".join(
        f'<dgm:pt modelId="{{{number}}}"><dgm:prSet/><dgm:spPr/><dgm:t><a:bodyPr/><a:p><a:r><a:t>{text}</a:t></a:r>'
        "</a:p></dgm:t></dgm:pt>"
        for number, text in enumerate(boxes, start=1)
    )
    data = (
        f'<dgm:dataModel xmlns:dgm="{DIAGRAM_NS}" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        f'<dgm:ptLst><dgm:pt modelId="{{0}}" type="doc"><dgm:prSet/><dgm:spPr/></dgm:pt>{points}</dgm:ptLst>'
        "</dgm:dataModel>"
    )
    part = Part(
        PackURI("/ppt/diagrams/data1.xml"),
        "application/vnd.openxmlformats-officedocument.drawingml.diagramData+xml",
        slide.part.package,
        data.encode(),
    )
    relationship = slide.part.relate_to(part, RT.DIAGRAM_DATA)
    frame = (
        f'<p:graphicFrame xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" '
        f'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:dgm="{DIAGRAM_NS}" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<p:nvGraphicFramePr><p:cNvPr id="90" name="Diagram 1"/><p:cNvGraphicFramePr/><p:nvPr/></p:nvGraphicFramePr>'
        '<p:xfrm><a:off x="914400" y="1828800"/><a:ext cx="5486400" cy="3200400"/></p:xfrm>'
        f'<a:graphic><a:graphicData uri="{DIAGRAM_NS}"><dgm:relIds r:dm="{relationship}" r:lo="" r:qs="" r:cs=""/>'
        "</a:graphicData></a:graphic></p:graphicFrame>"
    )
    slide.shapes._spTree.append(parse_xml(frame))


def test_pptx_smartart_boxes_are_read(tmp_path: Path) -> None:
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "How the pilot ran"
    _add_smartart(slide, ["Plan the unit", "Open 8am to 8pm", "Review after six months"])

    document = load_document(_saved(deck, tmp_path / "smartart.pptx"))

    assert document.pages[0].text == "# How the pilot ran\n\nPlan the unit\nOpen 8am to 8pm\nReview after six months"
    assert document.warnings == ()


def test_pptx_shape_that_cannot_be_read_costs_a_warning_not_the_deck(tmp_path: Path) -> None:
    """An ink drawing (a content part) is a shape python-pptx has no class for: it raised, and the whole deck
    was refused as damaged."""
    deck = pptx.Presentation()
    cover = deck.slides.add_slide(deck.slide_layouts[5])
    cover.shapes.title.text = "Results"
    ink = etree.SubElement(cover.shapes._spTree, qn("p:contentPart"))
    ink.set(qn("r:id"), "rId99")
    cover.shapes.add_textbox(Inches(1), Inches(2), Inches(6), Inches(1)).text_frame.text = "Waits fell by half."
    deck.slides.add_slide(deck.slide_layouts[5]).shapes.title.text = "Next steps"

    document = load_document(_saved(deck, tmp_path / "inked.pptx"))

    assert [(page.number, page.text) for page in document.pages] == [
        (1, "# Results\n\nWaits fell by half."),
        (2, "# Next steps"),
    ]
    assert len(document.warnings) == 1
    assert document.warnings[0].startswith("slide 1: a shape could not be read and was left out (")


def test_pptx_whose_slides_are_all_hidden_says_so(tmp_path: Path) -> None:
    deck = pptx.Presentation()
    for title in ("Draft", "Spare"):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.element.set("show", "0")

    reason = unreadable_reason(_saved(deck, tmp_path / "hidden.pptx"))

    assert reason == "every slide is hidden: unhide the slides to index (PowerPoint: Slide Show > Hide Slide)"


def test_pptx_of_empty_placeholders_says_it_has_no_text_rather_than_asking_for_ocr(tmp_path: Path) -> None:
    deck = pptx.Presentation()
    for layout in (deck.slide_layouts[0], deck.slide_layouts[1]):
        deck.slides.add_slide(layout)

    reason = unreadable_reason(_saved(deck, tmp_path / "unfilled.pptx"))

    assert reason == "no text on any slide: its slides hold only empty placeholders or shapes"


# --------------------------------------------------------------------------------------------- HTML


def test_html_keeps_visible_text_with_markdown_headings(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        """<!doctype html><html><head><title>Case studies &amp; learning</title>
        <style>body { color: red }</style></head>
        <body><header>Site banner</header><nav><a href="/">Home</a></nav>
        <script>var secret = "do not index";</script>
        <h1>Spreading   innovation</h1>
        <p>Trusts &amp; partners<br>worked together.</p>
        <ul><li>First point</li><li>Second point</li></ul>
        <table><tr><th>Site</th><th>Lead</th></tr><tr><td>Essex</td><td>Dr A</td></tr></table>
        <h2>Next steps</h2><div>Keep going.</div>
        <footer>Copyright notice</footer></body></html>""",
        encoding="utf-8",
    )

    document = load_document(path)
    text = document.pages[0].text

    assert text == (
        "# Spreading innovation\n\nTrusts & partners\nworked together.\n\n- First point\n- Second point\n\n"
        "Site | Lead\nEssex | Dr A\n\n## Next steps\n\nKeep going."
    )
    assert document.info.title == "Case studies & learning"
    assert document.file_format == "html"


def test_html_with_only_markup_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "shell.htm"
    path.write_text("<html><body><script>app()</script><nav>Menu</nav></body></html>", encoding="utf-8")

    assert unreadable_reason(path) == "empty file"


# --------------------------------------------------------------------------------------------- discovery


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("NHS InSites Report (2025).pdf", "nhs-insites-report-2025"),
        ("nhs-insites-learning-report.md", "nhs-insites-learning-report"),
        ("Café_Culture--Final.DOCX", "cafe-culture-final"),
        ("  spaced  out .txt", "spaced-out"),
    ],
)
def test_document_id_is_a_slug_of_the_file_name(file_name: str, expected: str) -> None:
    assert document_id(Path("some/folder") / file_name) == expected


def test_document_id_of_a_name_without_ascii_is_stable_and_distinct() -> None:
    first = document_id(Path("报告.pdf"))

    assert first == document_id(Path("other/报告.pdf"))
    assert first != document_id(Path("摘要.pdf"))
    assert first.startswith("document-")


def test_discover_files_walks_folders_sorted_and_skips_hidden_and_metadata(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / ".git").mkdir()
    names = ["b.md", "a.pdf", "metadata.json", ".hidden.md", "~$draft.docx", "~$deck.pptx", "deck.pptx", "sub/c.txt"]
    for name in [*names, ".git/d.md"]:
        (corpus / name).write_text("x", encoding="utf-8")

    found, problems = discover_files([corpus])

    assert found == [corpus / "a.pdf", corpus / "b.md", corpus / "deck.pptx", corpus / "sub" / "c.txt"]
    assert problems == []


def test_discover_files_reports_unsupported_and_missing_paths(tmp_path: Path) -> None:
    sheet = tmp_path / "Budget.XLSX"
    sheet.write_bytes(b"PK")
    notes = tmp_path / "notes.md"
    notes.write_text("x", encoding="utf-8")
    missing = tmp_path / "gone.pdf"

    found, problems = discover_files([sheet, notes, missing, notes])

    assert found == [notes]
    assert [(problem.path, problem.reason) for problem in problems] == [
        (sheet, "unsupported file type '.xlsx' (supported: " + ", ".join(sorted(SUPPORTED_SUFFIXES)) + ")"),
        (missing, "file not found"),
    ]
    assert str(problems[1]) == "gone.pdf: file not found"


def test_unreadable_document_survives_pickling() -> None:
    error = UnreadableDocument(Path("x/report.pdf"), "empty file")

    restored = pickle.loads(pickle.dumps(error))

    assert (restored.path, restored.reason, str(restored)) == (
        error.path,
        "empty file",
        "report.pdf: empty file",
    )


def test_load_document_refuses_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "deck.key"
    path.write_bytes(b"PK")

    assert unreadable_reason(path).startswith("unsupported file type '.key'")


# --------------------------------------------------------------------------------------------- metadata


def test_corpus_metadata_is_read_into_document_info(tmp_path: Path) -> None:
    (tmp_path / "metadata.json").write_text(
        json.dumps({"a.pdf": {"title": " A report ", "publisher": "NHS", "year": 2024, "kind": "summary"}}),
        encoding="utf-8",
    )

    assert read_corpus_metadata(tmp_path) == {
        "a.pdf": DocumentInfo(title="A report", publisher="NHS", year=2024, kind="summary")
    }


def test_missing_metadata_file_means_no_catalogue(tmp_path: Path) -> None:
    assert read_corpus_metadata(tmp_path) == {}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"a.pdf": {"title": "x",}', "not valid JSON"),
        ('["a.pdf"]', "expected an object"),
        ('{"a.pdf": {"publisher": "NHS"}}', "entry 'a.pdf' needs a non-empty 'title'"),
        ('{"a.pdf": {"title": "x", "year": "soon"}}', "entry 'a.pdf' has a 'year' that is not a number"),
    ],
)
def test_malformed_metadata_names_the_file_and_the_problem(tmp_path: Path, content: str, problem: str) -> None:
    (tmp_path / "metadata.json").write_text(content, encoding="utf-8")

    with pytest.raises(ValueError) as caught:
        read_corpus_metadata(tmp_path)

    assert str(tmp_path / "metadata.json") in str(caught.value)
    assert problem in str(caught.value)


# --------------------------------------------------------------------------------------------- real corpus


def test_ocr_bullets_become_list_items_but_quotations_and_plus_signs_stay(tmp_path: Path) -> None:
    """OCR reads a slide's round bullet as "«"; left as it is, the list is one run-on sentence quoted with "«"."""
    path = tmp_path / "slides.txt"
    path.write_text(
        "Q1 summary\n« 85% of comments were from HIN representatives\n+ 14% were from ICB colleagues\n"
        "» 50 comments were aligned to a theme\n. Governance and oversight\n. . . innovation\n"
        "« Un mot » en français.\n« Une citation\nsur deux lignes »\n\nNet change:\n+ 5 points\n",
        encoding="utf-8",
    )
    assert load_document(path).pages[0].text == (
        "Q1 summary\n- 85% of comments were from HIN representatives\n- 14% were from ICB colleagues\n"
        "- 50 comments were aligned to a theme\n- Governance and oversight\n. . . innovation\n"
        "« Un mot » en français.\n« Une citation\nsur deux lignes »\n\nNet change:\n+ 5 points\n"
    )


def test_bundled_corpus_loads_with_catalogue_titles_and_verbatim_text_apart_from_inline_html() -> None:
    """Verbatim apart from inline HTML and the OCR'd bullets ("«" or ". " at a line's start) of the slide report."""
    catalogue = read_corpus_metadata(BUNDLED_CORPUS)
    files, problems = discover_files([BUNDLED_CORPUS])

    assert problems == []
    assert sorted(path.name for path in files) == sorted(catalogue)
    for path in files:
        document = load_document(path, catalogue[path.name])
        assert document.info.title == catalogue[path.name].title
        assert document.info.year == catalogue[path.name].year
        assert len(document.pages) == 1
        bullets_as_items = re.sub(r"(?m)^(?:[«»+]|\.(?= [A-Z])) ", "- ", path.read_text(encoding="utf-8"))
        assert document.pages[0].text == flatten_inline_html(bullets_as_items)
        assert document.warnings == ()


class _PageWithUnreadableStyles:
    """A page whose text runs come with no text matrix, as a damaged content stream can give them."""

    def extract_text(self, visitor_text: Callable[..., None]) -> str:
        visitor_text("Funding the innovation function", [1, 0, 0, 1, 0, 0], None, {"/BaseFont": "/Arial-Bold"}, 14)
        visitor_text("Most sites rely on core funding.", [1, 0, 0, 1, 0, 0], None, {"/BaseFont": "/Arial"}, 10)
        return "Funding the innovation function\nMost sites rely on core funding."


def test_unreadable_font_styles_cost_the_headings_not_the_text() -> None:
    text, styles = page_styles(_PageWithUnreadableStyles())  # type: ignore[arg-type]

    assert text == "Funding the innovation function\nMost sites rely on core funding."
    assert styles.lines == ()


def test_bullets_in_a_symbol_font_become_bullets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Word exports its bullets in the Symbol or Wingdings font, which text extraction returns as private-use
    characters; left as they are, the list was not read as a list and quotes showed an empty box."""
    extracted = "Sites fund their teams by:\n\uf0b7 core trust budgets\n  \uf0a7\tcharity grants\nSee \uf0e0 p. 4"
    monkeypatch.setattr("ingest.loaders.page_styles", lambda page: (extracted, PageStyles(())))

    text = load_document(write_pdf(tmp_path / "bullets.pdf", ["placeholder"])).pages[0].text

    assert text == "Sites fund their teams by:\n• core trust budgets\n  • charity grants\nSee \uf0e0 p. 4"


def test_a_wrapped_heading_is_joined_but_a_complete_or_numbered_one_is_not() -> None:
    headings = {"Developingthe": 2, "innovationstrategy": 2, "Whatdositesneed?": 2, "3.1Respondents": 2}
    text = "Developing the\ninnovation strategy\nBody text.\nWhat do sites need?\n3.1 Respondents\nMore text."

    assert mark_headings(text, headings) == (
        "## Developing the innovation strategy\nBody text.\n## What do sites need?\n## 3.1 Respondents\nMore text."
    )


class _PageWithLigatures:
    """A heading whose "fi" is one ligature glyph, as typeset reports print "Key findings" and "Staff"."""

    def extract_text(self, visitor_text: Callable[..., None]) -> str:
        visitor_text("Key \ufb01ndings", [1, 0, 0, 1, 0, 0], [1, 0, 0, 1, 72, 700], {"/BaseFont": "/Arial-Bold"}, 14)
        body = "Most sites rely on core funding from their own trust budgets."
        visitor_text(body, [1, 0, 0, 1, 0, 0], [1, 0, 0, 1, 72, 680], {"/BaseFont": "/Arial"}, 10)
        return f"Key \ufb01ndings\n{body}"


def test_a_heading_with_a_ligature_is_still_found() -> None:
    """The page text has its ligatures spelt out before headings are marked; the runs' text did not, so such
    a heading was never matched (a LaTeX textbook's chapter "Topologische Grundbegriffe" was lost this way)."""
    _, styles = page_styles(_PageWithLigatures())  # type: ignore[arg-type]
    levels = heading_levels([styles, styles])

    marked = mark_headings("Key findings\nMost sites rely on core funding from their own trust budgets.", levels[0])

    assert marked.splitlines()[0] == "# Key findings"


_TOPICS = ["sponsorship", "protected time", "procurement", "patient partners", "data access", "funding"]


def _slide_deck(path: Path, titles: list[str], footer: str | None = None) -> Path:
    """One slide per page: a title set large and bold over a line of body text, and optionally a small footer
    carrying the slide number."""
    pdf = FPDF(orientation="landscape")
    pdf.set_auto_page_break(False)
    pdf.set_title("Eastmoor Innovation Collaborative: Year 1 Learning")
    for number, title in enumerate(titles, start=1):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 24)
        pdf.cell(0, 14, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=12)
        pdf.multi_cell(0, 8, f"The nine trusts learned about {_TOPICS[number % len(_TOPICS)]} when spreading change.")
        if footer is not None:
            pdf.set_y(-15)
            pdf.set_font("Helvetica", size=8)
            pdf.cell(0, 8, f"{footer} | {number}")
    pdf.output(str(path))
    return path


def test_numbered_headings_on_consecutive_pages_are_kept_but_a_numbered_footer_is_not(tmp_path: Path) -> None:
    """ "Key theme 1" to "Key theme 5" on slides 1 to 5 have a number that follows the page, as a running
    footer's does; they used to be dropped as one, leaving five slides without a title."""
    titles = [f"Key theme {number}" for number in range(1, 6)]
    document = load_document(_slide_deck(tmp_path / "deck.pdf", titles, footer="Eastmoor collaborative"))

    assert [page.text.splitlines()[0] for page in document.pages] == [f"# {title}" for title in titles]
    assert not any("Eastmoor collaborative" in page.text for page in document.pages)
    assert [page.number for page in document.pages] == [1, 2, 3, 4, 5]


class _ReportWithNumberThirdLine(FPDF):
    """A header of two lines and then the printed page number, so the number is a page's third line of text;
    the cover prints none, and the report's "1" is its second sheet."""

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font("helvetica", size=8)
        for line in ("Northshire Digital Innovation Review", "Northshire ICB | Official", str(self.page_no() - 1)):
            self.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")


def test_a_page_number_on_the_third_line_names_the_page(tmp_path: Path) -> None:
    """Running lines were looked for among three lines at each edge but printed numbers only on the first
    and last line, so a number the header put third was dropped from the text without naming the page."""
    pdf = _ReportWithNumberThirdLine()
    for body in ["Annual innovation review", "Governance matters.", "Culture matters.", "Funding matters."]:
        pdf.add_page()
        pdf.set_font("helvetica", size=11)
        pdf.multi_cell(0, 8, body)
    path = tmp_path / "numbered.pdf"
    pdf.output(str(path))

    document = load_document(path)

    assert [(page.number, page.label) for page in document.pages] == [(1, None), (2, "1"), (3, "2"), (4, "3")]
    assert document.pages[1].text == "Governance matters."


def test_a_hyphen_at_a_line_end_is_kept_in_a_compound_and_dropped_in_a_split_word(tmp_path: Path) -> None:
    text = (
        "Patients valued the well-\nbeing checks, and the self-\nassessment tool was popular.\n"
        "Teams co-\ndesigned the service, and co-designed services lasted.\n"
        "Spreading innova-\ntion needs time, and re-\nmote monitoring helped; remote teams agreed.\n"
        "The cross-\nroads site was in the crossroads plan."
    )
    page = load_document(write_pdf(tmp_path / "hyphens.pdf", [text])).pages[0].text

    assert "well-being checks" in page, "a compound's first part keeps its hyphen"
    assert "self-assessment tool" in page
    assert "co-designed" in page, "the document writes co-design elsewhere"
    assert "innovation needs time" in page, "a syllable break joins"
    assert "remote monitoring" in page, "the joined word is written elsewhere"
    assert "crossroads site" in page, "the joined word written elsewhere wins over the compound's first part"


BODIES_OF_TWO_PAGES = [
    "Care homes used acoustic monitoring at night and a falls risk huddle each morning.",
    "Every home nominated a falls champion and received training from the community therapy team.",
]


def _two_page_report(path: Path) -> Path:
    """A two-page report with a small-print running header and numbered footer, whose pages both open with
    the same heading (a section continued)."""

    class _Report(FPDF):
        def header(self) -> None:
            self.set_font("helvetica", size=8)
            self.cell(0, 5, "Westbrook Falls Prevention Programme", new_x="LMARGIN", new_y="NEXT")

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("helvetica", size=8)
            self.cell(0, 8, f"Northshire ICB | Official | {self.page_no()}")

    pdf = _Report()
    for body in BODIES_OF_TWO_PAGES:
        pdf.add_page()
        pdf.set_font("helvetica", "B", 14)
        pdf.cell(0, 10, "Approach", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=11)
        pdf.multi_cell(0, 8, body)
    pdf.output(str(path))
    return path


def test_a_two_page_pdf_loses_its_small_print_header_and_footer_but_not_a_repeated_heading(tmp_path: Path) -> None:
    document = load_document(_two_page_report(tmp_path / "two-pages.pdf"))

    assert [page.text for page in document.pages] == [f"# Approach\n{body}" for body in BODIES_OF_TWO_PAGES]


_LEFT_COLUMN = [
    "The Western Isles pharmacy pilot let",
    "community pharmacists prescribe antibiotics",
    "for uncomplicated urinary tract infections in",
    "women aged 16 to 64. Over six months 1,870",
    "consultations took place and 71 per cent",
    "ended with a prescription.",
]
_RIGHT_COLUMN = [
    "Pharmacists referred 9 per cent of patients to",
    "a GP because of red-flag symptoms. The pilot",
    "cost 23 pounds per consultation compared with",
    "39 pounds for a GP appointment, according to",
    "the health board finance team.",
]


def _rows_pdf(path: Path, title: str, rows: list[tuple[str, str]], right_x: float) -> Path:
    """A page whose two columns are drawn row by row across the page, as some report generators do."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.set_xy(15, 15)
    pdf.cell(0, 8, title)
    pdf.set_font("helvetica", size=9)
    for row, (left, right) in enumerate(rows):
        pdf.set_xy(15, 35 + row * 5)
        pdf.cell(0, 5, left)
        pdf.set_xy(right_x, 35 + row * 5)
        pdf.cell(0, 5, right)
    path.write_bytes(bytes(pdf.output()))
    return path


def test_a_two_column_page_drawn_row_by_row_is_read_column_by_column(tmp_path: Path) -> None:
    """pypdf read such a page across both columns, so every line alternated between two texts and the
    eval question on it scored 0."""
    rows = list(zip(_LEFT_COLUMN, [*_RIGHT_COLUMN, ""], strict=True))
    path = _rows_pdf(tmp_path / "pharmacy.pdf", "Western Isles Pharmacy Pilot", rows, right_x=110)

    text = load_document(path).pages[0].text

    assert text.split("\n") == ["Western Isles Pharmacy Pilot", *_LEFT_COLUMN, *_RIGHT_COLUMN]


def test_a_table_of_short_cells_is_not_read_as_columns(tmp_path: Path) -> None:
    rows = [("Sites", "18"), ("Responses", "130"), ("Response rate", "53%"), ("Cohorts", "3"), ("Fellows", "36")]
    path = _rows_pdf(tmp_path / "table.pdf", "Programme in numbers", rows, right_x=110)

    text = load_document(path).pages[0].text

    assert text.split("\n") == ["Programme in numbers", *(f"{label} | {value}" for label, value in rows)]


def test_a_two_column_page_pypdf_already_reads_column_by_column_keeps_its_order(tmp_path: Path) -> None:
    """A Federal Register page is drawn column by column with its footnotes first; pypdf's order was right
    and reading the columns top to bottom broke a sentence to insert the footnotes."""
    footnotes = [
        "1 The final report on the accident can be",
        "found in the docket for this proposed rule.",
        "2 The flight control computers process inputs",
    ]
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=9)
    placed = [(15, 240 + row * 5, line) for row, line in enumerate(footnotes)]
    placed += [(15, 35 + row * 5, line) for row, line in enumerate(_LEFT_COLUMN)]
    placed += [(110, 35 + row * 5, line) for row, line in enumerate(_RIGHT_COLUMN)]
    for x, y, line in placed:
        pdf.set_xy(x, y)
        pdf.cell(0, 5, line)
    path = tmp_path / "register.pdf"
    path.write_bytes(bytes(pdf.output()))

    text = load_document(path).pages[0].text

    assert text.split("\n") == [*footnotes, *_LEFT_COLUMN, *_RIGHT_COLUMN]


def test_a_word_split_over_three_lines_is_made_whole(tmp_path: Path) -> None:
    """Each pass of the line-end hyphen rule consumed the middle part, so the second break stayed:
    "the multidiscipli-/nary team"."""
    text = "The multi-\ndiscipli-\nnary team met weekly."
    page = load_document(write_pdf(tmp_path / "split-word.pdf", [text])).pages[0].text

    assert "The multidisciplinary team met weekly." in page


def test_a_line_level_with_a_heading_across_the_columns_is_never_lost() -> None:
    """A heading across both columns divides the page into bands above and below it; a line at the heading's
    own height (here a piece pypdf set after it on the same baseline) fell in neither band and was dropped."""
    runs: list[_Run] = []

    def place(text: str, x: float, y: float) -> None:
        runs.append(_Run(text, _letters(text), x, y, (10.0, False)))

    for row in range(12):
        y = 700 - row * 12 - (40 if row >= 6 else 0)
        place(f"left column words number {row} here ", 50, y)
        place(f"right column words number {row} there\n", 320, y)
    place("A very long heading that runs right across the gutter of the page and beyond it\nTail\n", 50, 600)
    runs.sort(key=lambda run: -run.y)

    columns = _read_by_columns(runs, 600)

    assert columns is None or "Tail" in columns[0]


def _formatted_cells(tmp_path: Path, formats: list[tuple[str, float]]) -> list[str]:
    """The one row of a one-category chart whose series each hold one value in its own number format."""
    chart_data = CategoryChartData()
    chart_data.categories = ["Q1"]
    for number, (code, value) in enumerate(formats, start=1):
        chart_data.add_series(f"Measure number {number}", (value,), number_format=code)
    text, warnings = _chart_slide_text(tmp_path, XL_CHART_TYPE.COLUMN_CLUSTERED, chart_data, "Results")
    assert warnings == ()
    return text.splitlines()[3].split(" | ")[1:]


def test_pptx_chart_times_are_read_from_the_fraction_of_the_day(tmp_path: Path) -> None:
    """Every "m" was read as a month and hours were not read: 7 minutes 45 seconds in "mm:ss" read "12:ss".
    "m" is minutes right after an hour or right before seconds; a unit written unquoted ("0 km") is no date."""
    cells = _formatted_cells(
        tmp_path,
        [
            ("mm:ss", 0.00538),
            ("h:mm", 0.5),
            ("[h]:mm", 1.5),
            ("[mm]:ss", 0.00538),
            ("dd/mm/yyyy hh:mm", 45292.5),
            ("h:mm AM/PM", 0.75),
            ("hh:mm:ss.00", 0.5000001),
            ("d mmm yyyy", 45292.99),
            ("0 km", 5),
        ],
    )

    assert cells == [
        "07:45",
        "12:00",
        "36:00",
        "07:45",
        "01/01/2024 12:00",
        "6:00 PM",
        "12:00:00.01",
        "1 Jan 2024",
        "5 km",
    ]


def test_pptx_chart_title_with_a_bar_keeps_its_table_whole(tmp_path: Path) -> None:
    """A title's " | " made the title line a table row, so the header was read as data."""
    chart_data = CategoryChartData(number_format="0%")
    chart_data.categories = ["Jan", "Feb"]
    chart_data.add_series("Seen within 4 hours", (0.71, 0.74))

    text, _ = _chart_slide_text(tmp_path, XL_CHART_TYPE.LINE, chart_data, "A&E | 4-hour performance")

    assert split_sentences(text) == [
        "Chart: A&E / 4-hour performance",
        "Jan: Seen within 4 hours 71%.",
        "Feb: Seen within 4 hours 74%.",
    ]


def test_pptx_chart_value_too_large_to_round_in_the_default_precision_is_still_read(tmp_path: Path) -> None:
    """Rounding 1e26 to two places needs 29 digits, past the decimal module's default 28: the chart was lost."""
    assert _formatted_cells(tmp_path, [("0.00", 1e26), ("#,##0", 2.5e30)]) == [
        "100000000000000000000000000.00",
        "2,500,000,000,000,000,000,000,000,000,000",
    ]


def test_pptx_chart_general_values_take_the_format_their_labels_or_value_axis_show(tmp_path: Path) -> None:
    """Cells left in "General" hold 0.62 where the chart shows 62%: its data labels' or axis's format says so."""
    chart_data = CategoryChartData()
    chart_data.categories = [datetime.date(2024, 1, 1), datetime.date(2024, 2, 1)]
    chart_data.categories.number_format = "General"
    chart_data.add_series("Seen within 2 hours", (0.62, 0.7))
    chart_data.add_series("Seen within 4 hours", (0.905, 0.9125))
    deck = pptx.Presentation()
    chart = (
        deck.slides.add_slide(deck.slide_layouts[6])
        .shapes.add_chart(XL_CHART_TYPE.LINE, Inches(1), Inches(1), Inches(8), Inches(5), chart_data)
        .chart
    )
    for axis, code in [(chart.category_axis, "mmm yyyy"), (chart.value_axis, "0%")]:
        axis.tick_labels.number_format = code
        axis.tick_labels.number_format_is_linked = False
    labels = chart.plots[0].series[1].data_labels
    labels.number_format = "0.0%"
    labels.number_format_is_linked = False

    document = load_document(_saved(deck, tmp_path / "general.pptx"))

    assert document.pages[0].text.splitlines()[3:] == ["Jan 2024 | 62% | 90.5%", "Feb 2024 | 70% | 91.3%"]


def _unnamed_series_chart(tmp_path: Path, series: int, title: str = "", axis_title: str = "") -> str:
    chart_data = CategoryChartData()
    chart_data.categories = ["Jan", "Feb"]
    for number in range(series):
        chart_data.add_series("", (1 + number, 2 + number))
    deck = pptx.Presentation()
    chart = (
        deck.slides.add_slide(deck.slide_layouts[6])
        .shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(1), Inches(1), Inches(8), Inches(5), chart_data)
        .chart
    )
    if title:
        chart.has_title = True
        chart.chart_title.text_frame.text = title
    if axis_title:
        chart.value_axis.axis_title.text_frame.text = axis_title
    return load_document(_saved(deck, tmp_path / f"unnamed-{series}.pptx")).pages[0].text


def test_pptx_chart_unnamed_series_are_named_so_their_figures_do_not_run_together(tmp_path: Path) -> None:
    """A series without a name was "Series 1", so "Jan: Series 1 1." read as the number "1 1"."""
    assert split_sentences(_unnamed_series_chart(tmp_path, 1, title="Referrals"))[1:] == [
        "Jan: Referrals 1.",
        "Feb: Referrals 2.",
    ]
    assert split_sentences(_unnamed_series_chart(tmp_path, 1, axis_title="Patients seen"))[1:] == [
        "Jan: Patients seen 1.",
        "Feb: Patients seen 2.",
    ]
    assert _unnamed_series_chart(tmp_path, 1).splitlines()[1] == "Category | Value"
    assert split_sentences(_unnamed_series_chart(tmp_path, 2, title="Referrals"))[1:] == [
        "Jan: Series 1 value 1; Series 2 value 2.",
        "Feb: Series 1 value 2; Series 2 value 3.",
    ]


def test_pptx_chart_conditional_formats_give_the_plain_number_and_zeros_pad(tmp_path: Path) -> None:
    """A condition picks a section by value, which was not read: 2 in "[>=1000]#,##0,"k";0" showed "0k".
    "00000" pads 17 to "00017". "#" shows nothing for 0 in Excel, but "0" is kept so the row keeps its figure."""
    cells = _formatted_cells(
        tmp_path,
        [('[>=1000]#,##0,"k";0', 2), ('[>=1000]#,##0,"k";0', 15000), ("00000", 17), ("00,000", 17), ("#", 0)],
    )

    assert cells == ["2", "15000", "00017", "00,017", "0"]
