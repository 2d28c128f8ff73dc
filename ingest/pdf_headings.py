"""Headings of a PDF read from its fonts: a line set larger than the body text, or in bold, is a heading.

PDF text comes out as lines without structure, and the splitter otherwise guesses headings from short lines
without a full stop. On a designed single-column report that mostly works; on a two-column page every short
wrapped line looks like a heading too (a 15-page Federal Register notice got 77 section names for 118
chunks, most of them broken body lines). The fonts say which lines really are headings, so where a
document's fonts mark at least ``MIN_HEADINGS`` of them, those lines are written as markdown headings (level
by size, largest first) and the splitter stops guessing for that document.

pypdf reports each text run to a visitor with its font and size; runs on one baseline form a visual line,
which is matched to an extracted line by its letters, ignoring spaces. A visitor that misses a run only
means that line is not marked; at worst the splitter guesses, as it does for a PDF set in one font.
The same pass gives each run's position, so a page that pypdf reads across two columns is read column by
column instead (:func:`_read_by_columns`), its lines' styles with it; on any other page a table is
written row by row (:func:`ingest.pdf_tables.read_tables`). Each line's height on the page is kept too: a
heading repeated on several pages is told from a running header by where it sits
(:func:`ingest.loaders.drop_running_lines`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise

from pypdf import PageObject

from ingest.pdf_tables import read_tables
from ingest.sentences import ROW_SEPARATOR

# Larger than the body by this factor counts as a heading size (11 pt body: 12.7 pt and up).
SIZE_FACTOR = 1.15
MAX_HEADING_WORDS = 16
MIN_HEADINGS = 2
MAX_LEVELS = 3
_DOT_LEADER = re.compile(r"(?:\.[ \t]?){4,}|…{2,}")
_KEY = re.compile(r"\s+")
# Font names that say the face is heavier than regular ("Arial-BoldMT", "OpenSans-SemiBold", "Lato-Heavy").
_HEAVY_WEIGHTS = ("bold", "black", "heavy", "demi")
_NUMBERED = re.compile(r"(?:\d+(?:\.\d+)*\.?|[IVX]+\.|[A-Z]\.)\s")
# Columns (see _read_by_columns): a column starts where at least MIN_COLUMN_LINES lines start, a quarter of
# the page's width or more right of the text's left edge; most lines share a baseline with the next column's.
MIN_COLUMN_LINES = 3
MIN_COLUMN_OFFSET = 0.25
MAX_COLUMNS = 3
MIN_COLUMN_WORDS = 4
MIN_COLUMN_ROWS_SHARE = 0.3
MIN_PAIRED_SHARE = 0.6
MAX_ACROSS_SHARE = 0.1
# A page is reordered only when pypdf read it across the columns: at least this share of the lines right of
# a gutter that share a baseline with a line of the column before come straight after that line.
MIN_READ_ACROSS_SHARE = 0.5
_X_TOLERANCE = 2.0


@dataclass
class _Line:
    """Text runs drawn on one baseline (``y``, in the page's coordinates), with how many of their letters are
    set in each style."""

    text: list[str] = field(default_factory=list)
    styles: Counter[tuple[float, bool]] = field(default_factory=Counter)
    y: float | None = None


@dataclass(frozen=True)
class _Run:
    """One text run as pypdf's visitor reports it: its text, its letters and where it starts."""

    text: str
    letters: str = ""
    x: float = 0.0
    y: float = 0.0
    style: tuple[float, bool] = (0.0, False)

    @property
    def size(self) -> float:
        return self.style[0]


@dataclass
class _Segment:
    """A line of text within one column: an extracted line, or its part on one side of a gutter."""

    runs: list[_Run] = field(default_factory=list)
    column: int = 0

    @property
    def x(self) -> float:
        return next((run.x for run in self.runs if run.letters), 0.0)

    @property
    def y(self) -> float:
        return next((run.y for run in self.runs if run.letters), 0.0)

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs).strip()

    def line(self) -> _Line:
        line = _Line(y=self.y)
        for run in self.runs:
            if run.letters:
                line.text.append(run.letters)
                line.styles[run.style] += len(run.letters)
        return line


@dataclass(frozen=True)
class PageStyles:
    """One page's visual lines: their letters (spaces removed) and the style of each letter; and, where the
    page's size is known, each line's letters and the height of its baseline below the top of the page."""

    lines: tuple[tuple[str, tuple[tuple[tuple[float, bool], int], ...]], ...]
    heights: tuple[tuple[str, float], ...] = ()


def page_styles(page: PageObject) -> tuple[str, PageStyles]:
    """The page's text (as ``extract_text`` gives it) and its lines' font styles, from one pass.

    The styles only refine the splitting, so a run the visitor cannot read (a damaged font dictionary, a
    missing matrix) drops the page's styles rather than its text.
    """
    lines: list[_Line] = []
    runs: list[_Run] = []
    last_y: float | None = None
    readable = True

    def visit(text: str, cm: Sequence[float], tm: Sequence[float], font: dict[str, object] | None, size: float) -> None:
        nonlocal last_y, readable
        letters = _letters(text)
        if not letters or not readable:
            runs.append(_Run(text))
            return
        try:
            scale = abs(tm[3] or 1.0) * abs(cm[3] or 1.0)
            x = round(cm[4] + tm[4] * (cm[0] or 1.0), 1)
            y = round(cm[5] + tm[5] * (cm[3] or 1.0), 1)
            name = str((font or {}).get("/BaseFont", ""))
            style = (round(abs(size) * scale, 1), any(weight in name.lower() for weight in _HEAVY_WEIGHTS))
        except (TypeError, ValueError, IndexError, AttributeError):
            readable = False
            return
        runs.append(_Run(text, letters, x, y, style))
        if not lines or y != last_y or "\n" in text.rstrip(" "):
            lines.append(_Line(y=y))
        last_y = y
        lines[-1].text.append(letters)
        lines[-1].styles[style] += len(letters)

    text = page.extract_text(visitor_text=visit) or ""
    if not readable:
        return text, PageStyles(())
    in_order = "".join(run.text for run in runs) == text
    width, top = _page_extent(page)
    columns = _read_by_columns(runs, width) if in_order else None
    if columns is not None:
        text, lines = columns
    elif in_order:
        text = read_tables(runs) or text
    return text, PageStyles(
        tuple(("".join(line.text), tuple(line.styles.items())) for line in lines),
        tuple(("".join(line.text), round(top - line.y, 1)) for line in lines if top is not None and line.y is not None),
    )


def _page_extent(page: PageObject) -> tuple[float | None, float | None]:
    """The page's width and the y of its top edge; None for a fake or damaged page without a media box (its
    lines are then read as extracted, and their heights are unknown)."""
    try:
        return float(page.mediabox.width), float(page.mediabox.top)
    except Exception:
        return None, None


def _read_by_columns(runs: Sequence[_Run], width: float | None) -> tuple[str, list[_Line]] | None:
    """The page's text and lines read column by column, left column first; None for a page that is not
    clearly set in columns, or whose extraction already reads them in that order.

    Some generators draw a two-column page line by line across both columns, and pypdf then extracts
    "The Western Isles pharmacy pilot let" followed by the first line of the right column. Columns are
    told from where the lines start: a column starts at an x, right of a gutter, where at least
    ``MIN_COLUMN_LINES`` lines start; and most lines of one column must share their baseline with a line of
    the next (as text set on one grid does; a single-column page with an indented list or a centred title
    does not). Only a page that pypdf read across the columns is reordered (:func:`_read_across`): one it
    already reads column by column keeps its extraction exactly, footnotes and numbered paragraphs in the
    order pypdf found them. Lines above and below the columns (a title across both, a footer) keep their place, and a
    long line across the gutter between them (a heading over both columns) divides the page into bands read
    one after the other. A table's columns could pass these tests only with prose of four or more words
    in most cells of each column.
    """
    if not width:
        return None
    starts = _column_starts(runs, width)
    if len(starts) < 2:
        return None
    segments = _segments(runs, starts)
    if not _read_across(segments):
        return None
    order = _column_order(segments, len(starts))
    if order is None:
        return None
    ordered = [segments[index] for index in order]
    return "\n".join(segment.text for segment in ordered), [segment.line() for segment in ordered]


def _column_starts(runs: Sequence[_Run], width: float) -> list[float]:
    """The x of the text's left edge and of each column start right of it (see :func:`_read_by_columns`).

    A run inside an extracted line counts too (pypdf joins runs on one baseline into one line, the two
    columns' lines among them); a start must then be shared by ``MIN_COLUMN_ROWS_SHARE`` of the page's
    rows, which the words of justified text do not line up on by chance.
    """
    placed = [run for run in runs if run.letters]
    if not placed:
        return []
    left = min(run.x for run in placed)
    rows_at: dict[float, set[float]] = {}
    for run in placed:
        anchor = next((x for x in rows_at if abs(x - run.x) <= _X_TOLERANCE), run.x)
        rows_at.setdefault(anchor, set()).add(run.y)
    needed = max(MIN_COLUMN_LINES, MIN_COLUMN_ROWS_SHARE * len({run.y for run in placed}))
    starts = sorted(x for x, rows in rows_at.items() if x >= left + MIN_COLUMN_OFFSET * width and len(rows) >= needed)
    if len(starts) > MAX_COLUMNS - 1 or any(b - a < MIN_COLUMN_OFFSET * width for a, b in pairwise(starts)):
        return []
    return [left, *starts]


def _segments(runs: Sequence[_Run], starts: Sequence[float]) -> list[_Segment]:
    """The page's lines as extracted, each cut where a run starts a column right of the line's own (pypdf
    joins runs on one baseline into one line)."""
    segments = [_Segment()]
    for run in runs:
        pieces = run.text.split("\n")
        for index, piece in enumerate(pieces):
            if index:
                segments.append(_Segment())
            letters = _letters(piece)
            current = segments[-1]
            part = _Run(piece, letters, run.x, run.y, run.style)
            if letters and current.text:
                column = _column_at(run.x, starts)
                if column > current.column and abs(run.x - starts[column]) <= _X_TOLERANCE:
                    segments.append(_Segment(column=column))
                    current = segments[-1]
            elif letters:
                current.column = _column_at(run.x, starts)
            current.runs.append(part)
    return [segment for segment in segments if segment.text]


def _read_across(segments: Sequence[_Segment]) -> bool:
    """Whether pypdf's extraction order runs across the columns rather than down them.

    In a page drawn row by row, a line right of a gutter comes straight after the line it shares a baseline
    with in the column before; read column by column, it comes after the line above it in its own column.
    Counted over the lines that have such a neighbour, at least ``MIN_READ_ACROSS_SHARE`` must follow it.
    """
    rows = {(segment.column, round(segment.y)) for segment in segments}
    beside = [
        segment
        for segment in segments
        if segment.column > 0 and any((segment.column - 1, round(segment.y) + shift) in rows for shift in (-1, 0, 1))
    ]
    followed = sum(
        1
        for earlier, later in pairwise(segments)
        if later.column == earlier.column + 1 and abs(round(later.y) - round(earlier.y)) <= 1
    )
    return bool(beside) and followed >= MIN_READ_ACROSS_SHARE * len(beside)


def _column_at(x: float, starts: Sequence[float]) -> int:
    return max(index for index, start in enumerate(starts) if index == 0 or x >= start - _X_TOLERANCE)


def _column_order(segments: Sequence[_Segment], columns: int) -> list[int] | None:
    """Indices of ``segments`` in reading order, or None when the page does not read as columns."""
    rows = [{round(segment.y) for segment in segments if segment.column == column} for column in range(columns)]

    def paired(segment: _Segment) -> bool:
        row = round(segment.y)
        return any(
            row + shift in rows[other]
            for other in (segment.column - 1, segment.column + 1)
            if 0 <= other < columns
            for shift in (-1, 0, 1)
        )

    pairs = [index for index, segment in enumerate(segments) if paired(segment)]
    if not pairs:
        return None
    top = max(segments[index].y for index in pairs)
    bottom = min(segments[index].y for index in pairs)
    top, bottom = _extend_region(segments, top, bottom)
    inside = [index for index, segment in enumerate(segments) if bottom <= segment.y <= top]
    head = [index for index, segment in enumerate(segments) if segment.y > top]
    tail = [index for index, segment in enumerate(segments) if segment.y < bottom]
    paired_lengths = sorted(len(segments[index].text) for index in pairs if segments[index].column == 0)
    if not paired_lengths:
        return None
    typical = paired_lengths[int(0.9 * (len(paired_lengths) - 1))]
    across = {
        index
        for index in inside
        if segments[index].column == 0 and index not in pairs and len(segments[index].text) > 1.25 * typical
    }
    in_columns = [index for index in inside if index not in across]
    for column in range(columns):
        members = [segments[index] for index in in_columns if segments[index].column == column]
        words = sorted(len(segment.text.split()) for segment in members)
        if len(members) < MIN_COLUMN_LINES or words[len(words) // 2] < MIN_COLUMN_WORDS:
            return None
    if len(pairs) < MIN_PAIRED_SHARE * len(inside) or len(across) > MAX_ACROSS_SHARE * len(inside):
        return None
    order = list(head)
    band_top = top + 1
    for divider in [*sorted(across, key=lambda index: -segments[index].y), None]:
        band_bottom = segments[divider].y if divider is not None else bottom - 1
        band = [index for index in in_columns if band_bottom < segments[index].y < band_top]
        for column in range(columns):
            in_column = [index for index in band if segments[index].column == column]
            order.extend(sorted(in_column, key=lambda index: -segments[index].y))
        if divider is not None:
            order.append(divider)
            band_top = segments[divider].y
    order.extend(tail)
    # A line level with a dividing heading falls in neither band beside it; rather than lose it, the page
    # keeps pypdf's order.
    return order if sorted(order) == list(range(len(segments))) else None


def _extend_region(segments: Sequence[_Segment], top: float, bottom: float) -> tuple[float, float]:
    """Widen the rows the columns share to each column's lines that follow on at its own line spacing (one
    column often runs a few lines longer than the other), but not to a title or footer set apart."""
    for column in {segment.column for segment in segments}:
        heights = sorted({segment.y for segment in segments if segment.column == column}, reverse=True)
        inside = [y for y in heights if bottom <= y <= top]
        gaps = sorted(a - b for a, b in pairwise(inside))
        if not gaps:
            continue
        step = 1.6 * gaps[len(gaps) // 2]
        below = [y for y in heights if y < bottom]
        for y in below:
            if bottom - y > step:
                break
            bottom = y
        above = [y for y in reversed(heights) if y > top]
        for y in above:
            if y - top > step:
                break
            top = y
    return top, bottom


def kept_lines(styles: PageStyles, text: str) -> PageStyles:
    """Only the visual lines still in ``text``: a running header set in a smaller size on every page must
    not count as the body style (then every line of the real body would look like a heading). A table's
    rows count as drawn, without the separators written between their cells; a row itself never matches a
    line's letters, so it is never marked as a heading."""
    letters = _letters(text)
    drawn = _letters(text.replace(ROW_SEPARATOR, ""))
    return replace(styles, lines=tuple(line for line in styles.lines if line[0] in letters or line[0] in drawn))


def heading_levels(pages: Sequence[PageStyles]) -> tuple[dict[str, int], ...]:
    """For each page, the letters of each heading line and its level (1 = largest heading size).

    Empty for every page when the document's fonts mark fewer than ``MIN_HEADINGS`` headings: a plain
    document, or one whose text runs pypdf could not attribute, is left to the splitter's guesses.
    """
    body = _body_style(pages)
    if body is None:
        return tuple({} for _ in pages)
    found: list[dict[str, float]] = []
    for page in pages:
        headings: dict[str, float] = {}
        for letters, styles in page.lines:
            size = _heading_size(styles, body)
            if size is not None and letters:
                headings[letters] = size
        found.append(headings)
    if sum(len(page) for page in found) < MIN_HEADINGS:
        return tuple({} for _ in pages)
    pages_using = Counter(size for page in found for size in set(page.values()))
    recurring = [size for size, count in pages_using.items() if count > 1]
    return tuple({letters: _level(size, recurring) for letters, size in page.items()} for page in found)


@dataclass(frozen=True)
class LineFonts:
    """What one page's fonts say about its lines, by their letters: which are headings, which small print;
    and where its lines sit (see :attr:`PageStyles.heights`)."""

    headings: frozenset[str] = frozenset()
    small_print: frozenset[str] = frozenset()
    heights: tuple[tuple[str, float], ...] = ()

    def is_heading(self, line: str) -> bool:
        """Whether :func:`mark_headings` would mark ``line`` as a heading."""
        stripped = line.strip()
        return _is_heading_text(stripped) and _letters(stripped) in self.headings

    def is_small_print(self, line: str) -> bool:
        return _letters(line) in self.small_print

    def height(self, line: str) -> float | None:
        """How far below the top of the page ``line`` is drawn (the first line with its letters); None when
        unknown."""
        letters = _letters(line)
        return next((height for key, height in self.heights if key == letters), None)


def line_fonts(pages: Sequence[PageStyles], body_from: Sequence[PageStyles]) -> tuple[LineFonts, ...]:
    """For each page, its heading and small-print lines, against the body style of ``body_from`` (the pages
    without their running lines, as :func:`heading_levels` is given them).

    Running lines are found before the headings are marked, and the fonts settle three cases the words
    cannot: a numbered heading on consecutive pages ("Key theme 1" to "Key theme 5") has a number that follows
    the page, as a running header's does; a heading repeated word for word ("Case study: ...") recurs as a
    running header does, but not in one place; and in a two-page document a footer repeats only once, as a
    heading might, but it is set smaller than the body.
    """
    body = _body_style(body_from)
    if body is None:
        return tuple(LineFonts() for _ in pages)
    return tuple(
        LineFonts(
            frozenset(letters for letters, styles in page.lines if letters and _heading_size(styles, body) is not None),
            frozenset(letters for letters, styles in page.lines if letters and _small_print(styles, body)),
            page.heights,
        )
        for page in pages
    )


def _small_print(styles: Sequence[tuple[tuple[float, bool], int]], body: tuple[float, bool]) -> bool:
    """Every letter of the line smaller than the body text by the factor a heading is larger."""
    return all(size * SIZE_FACTOR <= body[0] for (size, _), _ in styles)


def _level(size: float, recurring: Sequence[float]) -> int:
    """1 + the number of recurring heading sizes larger than this one, at most ``MAX_LEVELS``.

    Only sizes used for headings on more than one page rank: a cover title set once at 38 pt must not push
    the report's chapter headings down a level (they would all become sub-headings of the cover)."""
    return min(1 + sum(1 for other in recurring if other > size), MAX_LEVELS)


def mark_headings(text: str, headings: dict[str, int]) -> str:
    """Write the page's heading lines as markdown headings; other lines unchanged.

    A heading the layout wrapped over two lines is one heading ("Developing the innovation / strategy"), but
    not when the first line is complete ("... priorities?") or the next is numbered ("3.1.1 Respondents").
    """
    if not headings:
        return text
    out: list[str] = []
    previous_level: int | None = None
    for line in text.split("\n"):
        stripped = line.strip()
        level = headings.get(_letters(stripped)) if _is_heading_text(stripped) else None
        if level is not None and previous_level == level and out and _continues(out[-1], stripped):
            out[-1] = f"{out[-1]} {stripped}"
        elif level is not None:
            out.append(f"{'#' * level} {stripped}")
        else:
            out.append(line)
        previous_level = level
    return "\n".join(out)


def _letters(text: str) -> str:
    """A line's key: its characters without spaces, ligatures spelt out ("ﬀ" -> "ff") as the cleaned page
    text has them, so a run's text and the extracted line match."""
    return _KEY.sub("", unicodedata.normalize("NFKC", text))


def _continues(heading: str, line: str) -> bool:
    return not heading.endswith(("?", "!")) and not _NUMBERED.match(line)


def _body_style(pages: Sequence[PageStyles]) -> tuple[float, bool] | None:
    """The style most letters are set in: the body text."""
    counts: Counter[tuple[float, bool]] = Counter()
    for page in pages:
        for _, styles in page.lines:
            for style, letters in styles:
                counts[style] += letters
    return counts.most_common(1)[0][0] if counts else None


def _heading_size(styles: Sequence[tuple[tuple[float, bool], int]], body: tuple[float, bool]) -> float | None:
    """The line's size when every letter of it is larger than the body or bold (body not bold); else None.

    Bold at body size ranks below every larger size, so it is returned as just under the body size.
    """
    body_size, body_bold = body
    sizes: list[float] = []
    for (size, bold), _ in styles:
        if size >= body_size * SIZE_FACTOR:
            sizes.append(size)
        elif bold and not body_bold and size >= body_size * 0.95:
            sizes.append(body_size * 0.99)
        else:
            return None
    return min(sizes) if sizes else None


def _is_heading_text(line: str) -> bool:
    """Short, with words (not a figure's "P" or "α"), not a contents line with dot leaders, a run-in label
    ("SUMMARY:") or a sentence."""
    words = line.split()
    return (
        0 < len(words) <= MAX_HEADING_WORDS
        and sum(character.isalpha() for character in line) >= 2
        and not _DOT_LEADER.search(line)
        and not line.endswith((":", ".", ",", ";"))
    )
