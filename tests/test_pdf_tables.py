"""Tables in PDFs are read row by row ("cell | cell | cell"), as the Word and HTML readers write them.

The PDFs are real ones, drawn with fpdf2 and read back through pypdf, so the runs and positions are the ones
the reader sees in practice: a table drawn row by row (pypdf runs a row's cells together) and one drawn
column by column (pypdf writes one cell per line).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

from ingest.loaders import load_document
from ingest.pdf_tables import read_tables

INTRO = "The review visited sites in every region to ask how they support innovation in practice."
OUTRO = "Smaller sites rely heavily on programme funding to support their core activity each year."
HEADER = ("Region", "Sites", "Fellows")
ROWS = [
    ("London", "14", "32"),
    ("South West", "9", "17"),
    ("North East and Yorkshire", "11", "24"),
    ("Midlands", "12", "21"),
    ("East of England", "8", "15"),
]
WIDTHS = (70, 30, 30)


def _table_by_rows(pdf: FPDF, rows: list[tuple[str, str, str]]) -> None:
    for row in rows:
        for text, width in zip(row, WIDTHS, strict=True):
            pdf.cell(width, 8, text)
        pdf.ln(8)


def _table_by_columns(pdf: FPDF, rows: list[tuple[str, str, str]]) -> None:
    top = pdf.get_y()
    left = pdf.l_margin
    for column, width in enumerate(WIDTHS):
        for index, row in enumerate(rows):
            pdf.set_xy(left, top + 8 * index)
            pdf.cell(width, 8, row[column])
        left += width
    pdf.set_xy(pdf.l_margin, top + 8 * len(rows))


def _report(path: Path, draw_table: object) -> Path:
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 8, INTRO)
    pdf.ln(4)
    draw_table(pdf, [HEADER, *ROWS])  # type: ignore[operator]
    pdf.ln(4)
    pdf.multi_cell(0, 8, OUTRO)
    pdf.output(str(path))
    return path


def _expected_rows() -> list[str]:
    return [" | ".join(row) for row in [HEADER, *ROWS]]


def test_a_table_drawn_row_by_row_reads_as_rows_and_the_prose_is_unchanged(tmp_path: Path) -> None:
    text = load_document(_report(tmp_path / "rows.pdf", _table_by_rows)).pages[0].text
    lines = text.split("\n")

    assert lines[lines.index("Region | Sites | Fellows") :][: len(ROWS) + 1] == _expected_rows()
    assert lines[0] == INTRO
    assert lines[-1] == OUTRO


def test_a_table_drawn_column_by_column_reads_as_rows(tmp_path: Path) -> None:
    text = load_document(_report(tmp_path / "columns.pdf", _table_by_columns)).pages[0].text
    lines = text.split("\n")

    assert lines == [INTRO, *_expected_rows(), OUTRO]


def test_two_columns_of_prose_are_not_a_table(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    top = pdf.get_y()
    left = "Fellowships give clinicians protected time to work on innovation projects. " * 4
    right = "Sites with a dedicated innovation lead reported faster adoption of new ideas. " * 4
    pdf.multi_cell(90, 6, left.strip())
    pdf.set_xy(110, top)
    pdf.multi_cell(90, 6, right.strip())
    path = tmp_path / "columns.pdf"
    pdf.output(str(path))

    text = load_document(path).pages[0].text

    assert "|" not in text
    assert "Fellowships give clinicians" in text and "Sites with a dedicated" in text


def test_a_bulleted_list_is_not_a_table(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    for item in ("Protected time for staff", "Funding for 12 pilots", "A named lead at 9 sites"):
        pdf.cell(10, 8, "-")
        pdf.cell(0, 8, item)
        pdf.ln(8)
    path = tmp_path / "list.pdf"
    pdf.output(str(path))

    assert "|" not in load_document(path).pages[0].text


def test_a_table_across_a_page_break_keeps_each_row_on_its_page(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 8, INTRO)
    pdf.ln(4)
    _table_by_rows(pdf, [HEADER, *ROWS[:2]])
    pdf.add_page()
    _table_by_rows(pdf, ROWS[2:])
    pdf.ln(4)
    pdf.multi_cell(0, 8, OUTRO)
    path = tmp_path / "break.pdf"
    pdf.output(str(path))

    pages = load_document(path).pages

    assert [page.number for page in pages] == [1, 2]
    assert pages[0].text.split("\n") == [INTRO, *_expected_rows()[:3]]
    assert pages[1].text.split("\n") == [*_expected_rows()[3:], OUTRO]


@dataclass(frozen=True)
class _Run:
    text: str
    x: float = 0.0
    y: float = 0.0
    size: float = 10.0


def test_a_page_without_a_table_is_left_to_pypdf() -> None:
    runs = [_Run("Fellowships give protected time", 50, 700), _Run("\n"), _Run("to work on projects.", 50, 688)]

    assert read_tables(runs) is None


def test_a_cell_keeps_pypdf_spacing_and_the_text_around_a_table_keeps_its_place() -> None:
    runs = [
        _Run("Results by region", 50, 720),
        _Run("\n"),
        *(_Run("Region", 50, 700), _Run(" Share", 200, 700), _Run("\n")),
        *(_Run("London", 50, 686), _Run(" 30", 200, 686), _Run(""), _Run("%", 212, 686), _Run("\n")),
        *(_Run("South West", 50, 672), _Run(" 12", 200, 672), _Run(""), _Run("%", 212, 672), _Run("\n")),
        _Run("Figures are rounded.", 50, 640),
    ]

    assert (
        read_tables(runs) == "Results by region\nRegion | Share\nLondon | 30%\nSouth West | 12%\nFigures are rounded."
    )
