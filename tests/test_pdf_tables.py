"""Tables in PDFs are read row by row ("cell | cell | cell"), as the Word and HTML readers write them.

The PDFs are real ones, drawn with fpdf2 and read back through pypdf, so the runs and positions are the ones
the reader sees in practice: a table drawn row by row (pypdf runs a row's cells together) and one drawn
column by column (pypdf writes one cell per line).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
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


def _table_by_columns(
    pdf: FPDF, rows: Sequence[Sequence[str]], widths: Sequence[float] = WIDTHS, pitch: float = 8, line: float = 8
) -> None:
    """Draws each column top to bottom before the next, rows ``pitch`` apart; a cell too long for its width
    wraps onto lines ``line`` apart."""
    top = pdf.get_y()
    left = pdf.l_margin
    for column, width in enumerate(widths):
        for index, row in enumerate(rows):
            pdf.set_xy(left, top + pitch * index)
            pdf.multi_cell(width, line, row[column])
        left += width
    pdf.set_xy(pdf.l_margin, top + pitch * len(rows))


def _report(path: Path, draw_table: Callable[[FPDF, list[tuple[str, str, str]]], None]) -> Path:
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 8, INTRO)
    pdf.ln(4)
    draw_table(pdf, [HEADER, *ROWS])
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


def _prose_in_even_columns(pdf: FPDF) -> None:
    top = pdf.get_y()
    left = "Fellowships give clinicians protected time to work on innovation projects. " * 4
    right = "Sites with a dedicated innovation lead reported faster adoption of new ideas. " * 4
    pdf.multi_cell(90, 6, left.strip())
    pdf.set_xy(110, top)
    pdf.multi_cell(90, 6, right.strip())


def _prose_in_ragged_columns(pdf: FPDF) -> None:
    """Paragraphs of different lengths, so lines with text in one column only fall beside lines of the other."""
    top = pdf.get_y()
    paragraphs = [
        "Fellowships give clinicians protected time to work on innovation projects in their own trust.",
        "Most fellows said the time was protected in practice, though rotas made it hard in winter.",
        "Sites with a dedicated innovation lead reported faster adoption of new ideas.",
    ]
    for paragraph in paragraphs:
        pdf.set_x(pdf.l_margin)
        pdf.multi_cell(90, 6, paragraph)
    pdf.set_xy(110, top)
    for paragraph in reversed(paragraphs):
        pdf.set_x(110)
        pdf.multi_cell(60, 6, paragraph)


@pytest.mark.parametrize("draw_prose", [_prose_in_even_columns, _prose_in_ragged_columns], ids=["even", "ragged"])
def test_two_columns_of_prose_are_not_a_table(tmp_path: Path, draw_prose: Callable[[FPDF], None]) -> None:
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    draw_prose(pdf)
    path = tmp_path / "prose.pdf"
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


WRAPPED_HEADER = ("Region", "Lead trust", "Patients enrolled", "Bed days saved", "Cost per bed day saved")
WRAPPED_ROWS = [
    ("North East and Yorkshire", "Tynebridge Hospitals NHS FT", "1,905", "6,200", "GBP 96"),
    ("Midlands", "Mercia Valley University Hospitals", "2,340", "7,450", "GBP 88"),
    ("East of England", "Fenland Coast NHS Trust", "860", "1,720", "GBP 142"),
    ("London", "Thameside Community Health", "3,015", "9,800", "GBP 71"),
]
WRAPPED_WIDTHS = (40, 55, 30, 30, 35)


def _wrapped_table_report(path: Path, v_align: str, rows: Sequence[tuple[str, ...]] = WRAPPED_ROWS) -> Path:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 8, INTRO)
    pdf.ln(4)
    pdf.set_font("helvetica", size=10)
    with pdf.table(col_widths=WRAPPED_WIDTHS, v_align=v_align) as table:
        for cells in [WRAPPED_HEADER, *rows]:
            row = table.row()
            for text in cells:
                row.cell(text)
    pdf.ln(4)
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 8, OUTRO)
    pdf.output(str(path))
    return path


@pytest.mark.parametrize("v_align", ["MIDDLE", "TOP", "BOTTOM"])
def test_a_cell_wrapped_onto_lines_of_its_own_joins_its_row(tmp_path: Path, v_align: str) -> None:
    text = load_document(_wrapped_table_report(tmp_path / "wrapped.pdf", v_align)).pages[0].text

    assert text.split("\n") == [INTRO, *(" | ".join(row) for row in [WRAPPED_HEADER, *WRAPPED_ROWS]), OUTRO]


# The region and the trust wrap in every row: most cells of both columns have more than four words once their
# lines are joined, though no line of them has.
TWO_WRAPPED_ROWS = [
    ("North East and Yorkshire", "Tynebridge Hospitals NHS Foundation Trust", "1,905", "6,200", "GBP 96"),
    ("Bath and North East Somerset", "Mendip Hills NHS Foundation Trust", "2,340", "7,450", "GBP 88"),
    ("East of England and Fens", "Fenland Coast Community NHS Trust", "860", "1,720", "GBP 142"),
    ("Greater Manchester and East Cheshire", "Irwell Valley NHS Foundation Trust", "1,210", "3,900", "GBP 104"),
]


@pytest.mark.parametrize("v_align", ["MIDDLE", "TOP", "BOTTOM"])
def test_a_table_with_two_columns_of_wrapped_cells_reads_as_rows(tmp_path: Path, v_align: str) -> None:
    path = _wrapped_table_report(tmp_path / "wrapped.pdf", v_align, TWO_WRAPPED_ROWS)

    text = load_document(path).pages[0].text

    assert text.split("\n") == [INTRO, *(" | ".join(row) for row in [WRAPPED_HEADER, *TWO_WRAPPED_ROWS]), OUTRO]


def test_a_table_with_wrapped_cells_drawn_column_by_column_reads_as_rows(tmp_path: Path) -> None:
    rows = [("Region", "Lead trust", "Sites"), *((row[0], row[1], row[2]) for row in WRAPPED_ROWS)]
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    _table_by_columns(pdf, rows, widths=(40, 55, 30), pitch=10, line=5)
    path = tmp_path / "columns.pdf"
    pdf.output(str(path))

    assert load_document(path).pages[0].text.split("\n") == [" | ".join(row) for row in rows]


def test_a_caption_above_a_table_stays_out_of_its_first_cell(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.cell(0, 8, "Sites and fellows by region")
    pdf.ln(10)
    _table_by_rows(pdf, [HEADER, *ROWS])
    path = tmp_path / "caption.pdf"
    pdf.output(str(path))

    assert load_document(path).pages[0].text.split("\n") == ["Sites and fellows by region", *_expected_rows()]


def test_a_bulleted_list_with_wrapped_items_is_not_a_table(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    items = (
        "Protected time for staff to work on innovation projects in every participating trust",
        "Funding for 12 pilots over two years, with an evaluation built in from the start",
        "A named innovation lead at 9 sites, reporting to the board each quarter",
    )
    for item in items:
        pdf.cell(10, 6, "-")
        pdf.multi_cell(60, 6, item)
    path = tmp_path / "list.pdf"
    pdf.output(str(path))

    assert "|" not in load_document(path).pages[0].text
