"""Tables on a PDF page read as rows: each row one line, its cells joined by " | ".

pypdf writes a table's cells in the order the content stream draws them: one cell per line when the
generator draws the table column by column (a column of dates, then a column of names), or a row run
together ("South West 14 3 17") when it draws row by row. Either way a row's label and its figures no longer
read as one statement, so a question about "sites in the South West" cannot match the row that answers it.
The positions pypdf reports for each text run give the rows back: runs on one baseline form a row, a gap of
``CELL_GAP`` ems or more between them separates cells, and the cells of consecutive rows line up into the
same columns. Rows are written as the Word and HTML readers write them ("cell | cell | cell").

A cell too long for its column wraps onto lines of its own, set at the top, middle or bottom of its row, so
one row spans several baselines and its continuation lines have text in only some columns. Such a line
joins its row when it reads as a wrapped cell: text, not figures, directly above or below a line of the same
column, and where that line plus its first word would not fit the column (or, in the last column, whose
width is unknown, starting in lower case). The row's lines must then meet at one baseline (every cell's
lines reach the row's single-line cells) and all but one of them leave a column empty; two columns of prose
fill both columns on every line, and two rows of a table do not meet, so neither is joined.

A false table on prose is worse than a missed table, so a block counts as a table only when at least
``MIN_ROWS`` rows of two or more cells line up column for column, and it reads as a table rather than
prose or a list: at most one column of long cells, counting the words on a cell's longest line (a two-column
page of prose lines up too, but both its columns are long; a wrapped cell is long only once its lines are
joined), figures in one of the columns if there are only two, and no bullet or numbering down its first
column. Run widths are estimated from their characters: too wide an estimate only merges cells, which the
alignment test then rejects; pypdf's own spacing is kept within a cell.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Protocol

from ingest.sentences import ROW_SEPARATOR

# A cell gap: the space between two runs on one baseline, at least this many ems (a word space is a quarter).
CELL_GAP = 1.0
# A character's width in ems as estimated (a wide CJK character is one em): generous for body text, so that a
# word space is not taken for a cell gap.
CHAR_WIDTH = 0.5
MIN_ROWS = 3
# Rows at the top of a block left out when its columns are found (a title, a header of one or two lines).
HEADER_ROWS = 2
# Consecutive rows of a table are this many ems apart or more, baseline to baseline, and at most that many:
# closer rows are a formula's superscripts, further rows the text above or below the table.
MIN_ROW_PITCH = 0.9
MAX_ROW_PITCH = 3.0
# Runs whose baselines differ by at most this many ems are one row (a figure set a little off its label's line).
ROW_TOLERANCE = 0.3
# A column is long when most of its cells have more words than this on a line; a table has at most one.
MAX_CELL_WORDS = 4
# A cell's line wrapped when it and the next line's first word would take more than this share of the room to
# the next column (an estimate: the room includes the cell's padding, and character widths are guessed).
WRAP_FIT = 0.75
# A wrapped cell's lines are set in one size, within this fraction.
WRAP_SIZE_TOLERANCE = 0.1
# A long column whose cells are mostly longer than this is prose set beside a table, not one of its columns.
PROSE_CELL_WORDS = 8
_CELL_ENDS = (".", "!", "?", ":", ";")
# A first column of these is a list's bullets or numbers, or a transcript's line numbers.
_NUMBERING = re.compile(r"[-+*•●▪◦–—]|[\[(]?(?:\d{1,3}(?:\.\d{1,3})*|[a-zA-Z]|[ivxlcIVXLC]{1,5})[.):\]]?")
_FIGURE = re.compile(r"[-+−(£$€]*\d[\d.,:/%\s()−-]*[%)]?")
_DOT_LEADER = re.compile(r"(?:\.[ \t]?){4,}|…{2,}")


class PositionedRun(Protocol):
    """A text run as pypdf's visitor reports it: its text (with the spaces and line breaks pypdf added) and
    the position and size it is drawn at."""

    @property
    def text(self) -> str: ...

    @property
    def x(self) -> float: ...

    @property
    def y(self) -> float: ...

    @property
    def size(self) -> float: ...


@dataclass(frozen=True)
class _Placed:
    """A run with text that sits on the page: its index in extraction order (and among the runs that
    extracted any text, spaces included), its estimated extent, whether pypdf wrote a space before or after
    it, and the line of the page it is on (counted from the top)."""

    index: int
    sequence: int
    text: str
    x: float
    end: float
    y: float
    size: float
    space_before: bool
    space_after: bool
    line: int = 0


# A row's runs grouped into cells (or columns), left to right.
_Cells = list[list["_Placed"]]


@dataclass(frozen=True)
class _Row:
    """A row's runs grouped into cells, left to right, and the baselines of its first and last lines (one
    baseline unless a cell wraps); its size is its leftmost run's."""

    cells: _Cells
    top: float
    bottom: float
    size: float


@dataclass(frozen=True)
class _Cell:
    """A table cell's text, its lines joined, and the most words it has on one line: how long it reads as
    set, since a cell wrapped onto several lines is long once joined however narrow its column."""

    text: str
    line_words: int


@dataclass(frozen=True)
class _Table:
    """A table's runs (by index in extraction order) and its text, one line per row."""

    indices: frozenset[int]
    text: str


def read_tables(runs: Sequence[PositionedRun]) -> str | None:
    """The page's text (the runs' texts joined, as pypdf extracts it) with each table written as rows; None
    when the page has no table, so the caller keeps pypdf's text exactly.

    A table's rows replace its runs where the first of them was extracted. Text extracted among a table's
    runs that belongs to no table (a run the rows do not place) leaves that table as extracted, so no text
    moves but a table's.
    """
    written = [index for index, run in enumerate(runs) if run.text]
    placed = [_placed(index, sequence, runs[index]) for sequence, index in enumerate(written)]
    rows = _rows(_lines([run for run in placed if run is not None]))
    tables = _in_place([table for block in _blocks(rows) for table in _tables(block)], runs)
    return _page_text([run.text for run in runs], tables) if tables else None


def _placed(index: int, sequence: int, run: PositionedRun) -> _Placed | None:
    """The run as placed on the page; None for whitespace, and for a run whose text breaks a line inside
    (its second line's position is unknown)."""
    text = run.text.strip()
    if not text or "\n" in text or run.size <= 0:
        return None
    end = run.x + _width(text, run.size)
    return _Placed(index, sequence, text, run.x, end, run.y, run.size, run.text[0].isspace(), run.text[-1].isspace())


def _width(text: str, size: float) -> float:
    """The estimated width of a text set in a size."""
    wide = sum(1 for character in text if _wide(character))
    return (wide + (len(text) - wide) * CHAR_WIDTH) * size


def _wide(character: str) -> bool:
    """Whether a character is a wide (CJK) one: a word of its own, set without spaces."""
    return unicodedata.east_asian_width(character) in "WF"


def _lines(placed: Sequence[_Placed]) -> list[list[_Placed]]:
    """Runs grouped by baseline, top of the page first, each line left to right and its runs numbered with it."""
    lines: list[list[_Placed]] = []
    for run in sorted(placed, key=lambda run: -run.y):
        if lines and lines[-1][0].y - run.y <= ROW_TOLERANCE * run.size:
            lines[-1].append(run)
        else:
            lines.append([run])
    return [
        sorted((replace(run, line=number) for run in line), key=lambda run: run.x) for number, line in enumerate(lines)
    ]


def _rows(lines: Sequence[list[_Placed]]) -> list[_Row]:
    """The lines as rows, the lines of a row with wrapped cells joined into one.

    A link from a cell to the cell of its column below that continues it (:func:`_continuation`) joins the
    lines between them, and is kept only when the lines it joins make one row (:func:`_one_row`) with the
    links kept so far and those still to try among them (two columns wrapped alike need each other). The
    line after a row's last can read as the start of the next row's first cell, so the links between cells
    drawn one after the other (a cell's lines, as most generators draw them) are tried first.
    """
    cells = [_cells(line) for line in lines]
    heights = [line[0].y for line in lines]
    drawn = {index: rank for rank, index in enumerate(sorted(run.index for line in lines for run in line))}
    candidates: list[tuple[bool, int, int, tuple[int, int]]] = []
    for index, line in enumerate(cells):
        for position, upper in enumerate(line):
            continuation = _continuation(cells, heights, index, position)
            if continuation is not None:
                lower = cells[continuation[0]][continuation[1]]
                apart = drawn[min(run.index for run in lower)] != drawn[max(run.index for run in upper)] + 1
                candidates.append((apart, index, position, continuation))
    below: dict[tuple[int, int], tuple[int, int]] = {}
    first, last = list(range(len(lines))), list(range(len(lines)))
    candidates.sort()
    for tried, (_, index, position, continuation) in enumerate(candidates):
        joined = range(min(first[index : continuation[0] + 1]), max(last[index : continuation[0] + 1]) + 1)
        untried = {
            (other, at): lower
            for _, other, at, lower in candidates[tried + 1 :]
            if other >= joined.start and lower[0] < joined.stop
        }
        links = below | {(index, position): continuation} | untried
        if _one_row(_stacks(cells, links, joined), cells[joined.start : joined.stop], heights):
            below[index, position] = continuation
            for line_index in joined:
                first[line_index], last[line_index] = joined.start, joined.stop - 1
    rows: list[_Row] = []
    index = 0
    while index < len(lines):
        if last[index] > index:
            stacks = _stacks(cells, below, range(index, last[index] + 1))
            row = sorted(([run for at in stack for run in cells[at[0]][at[1]]] for stack in stacks), key=_extent)
            rows.append(_Row(row, heights[index], heights[last[index]], row[0][0].size))
        else:
            rows.append(_Row(cells[index], heights[index], heights[index], lines[index][0].size))
        index = last[index] + 1
    return rows


def _continuation(
    cells: Sequence[_Cells], heights: Sequence[float], index: int, position: int
) -> tuple[int, int] | None:
    """The cell (line, position) continuing a cell's text on the line below, if it wrapped there.

    The continuation is the one cell in the column on the next line, or on the line after when the next has
    nothing in the column and sits halfway between them (a row's single-line cells set in the middle of a
    cell's two lines). It must be set in the same size, and be no further below than the lines just above
    and below the two are from them (a cell's lines are closer together than rows, a caption or heading above
    a table set further off); and one of the two lines must hold no figures (a row of figures is never a
    wrapped cell's continuation).
    """
    upper = cells[index][position]
    size = upper[0].size
    for lower_index in (index + 1, index + 2):
        if lower_index >= len(cells):
            return None
        column = [at for at, cell in enumerate(cells[lower_index]) if _overlap(_extent(cell), _extent(upper)) > 0]
        if lower_index == index + 1 and not column:
            continue
        if len(column) != 1:
            return None
        lower = cells[lower_index][column[0]]
        skipped = cells[index + 1 : lower_index]
        if lower_index > index + 1 and (
            abs(heights[index] + heights[lower_index] - 2 * heights[index + 1]) > ROW_TOLERANCE * size
            or any(_overlap(_extent(cell), _extent(lower)) > 0 for line in skipped for cell in line)
        ):
            return None
        if sum(1 for cell in cells[index] if _overlap(_extent(cell), _extent(lower)) > 0) != 1:
            return None
        pitch = heights[index] - heights[lower_index]
        around = [heights[index - 1] - heights[index]] if index > 0 else []
        around += [heights[lower_index] - heights[lower_index + 1]] if lower_index + 1 < len(heights) else []
        if (
            pitch > MAX_ROW_PITCH * size
            or any(pitch > other + ROW_TOLERANCE * size for other in around)
            or abs(lower[0].size - size) > WRAP_SIZE_TOLERANCE * size
            or all(
                any(_FIGURE.fullmatch(_cell_text(cell)) for cell in line) for line in (cells[index], cells[lower_index])
            )
        ):
            return None
        room = _room(cells[index : lower_index + 1], upper, lower)
        return (lower_index, column[0]) if _wraps(_cell_text(upper), _cell_text(lower), size, room) else None
    return None


def _room(lines: Sequence[_Cells], upper: Sequence[_Placed], lower: Sequence[_Placed]) -> float | None:
    """How wide a wrapped cell's column is, from where its upper line starts to the nearest cell on its lines
    to the right; None in the last column."""
    left = max(_extent(upper)[0], _extent(lower)[0])
    right = [
        _extent(cell)[0]
        for line in lines
        for cell in line
        if _extent(cell)[0] > left and cell is not upper and cell is not lower
    ]
    return min(right) - _extent(upper)[0] if right else None


def _wraps(upper: str, lower: str, size: float, room: float | None) -> bool:
    """Whether a cell's text ``upper`` wrapped onto ``lower``: neither is a figure, ``upper`` does not end a
    sentence or a label ("Name:" above "Author:" in a narrow column), and the next word would not have fitted
    the room to the next column, or (in the last column, whose room is unknown) it starts in lower case. A
    wide character is a word of its own."""
    if _FIGURE.fullmatch(upper) or _FIGURE.fullmatch(lower) or upper.endswith(_CELL_ENDS):
        return False
    if room is None:
        return lower[:1].islower()
    word = lower.split()[0]
    return _width(f"{upper} {word[0] if _wide(word[0]) else word}", size) > WRAP_FIT * room


def _stacks(
    cells: Sequence[_Cells], below: dict[tuple[int, int], tuple[int, int]], lines: range
) -> list[list[tuple[int, int]]]:
    """The lines' cells (line, position) as chains of a cell and its continuations, one chain per column."""
    continued = set(below.values())
    stacks: list[list[tuple[int, int]]] = []
    for index in lines:
        for position in range(len(cells[index])):
            if (index, position) in continued:
                continue
            stack = [(index, position)]
            while stack[-1] in below:
                stack.append(below[stack[-1]])
            stacks.append(stack)
    return stacks


def _one_row(stacks: Sequence[list[tuple[int, int]]], lines: Sequence[_Cells], heights: Sequence[float]) -> bool:
    """Whether chains of cells make one row: two or more of them, all reaching one baseline, and at most one of
    their lines with a cell in every column."""
    tops = [heights[stack[0][0]] for stack in stacks]
    bottoms = [heights[stack[-1][0]] for stack in stacks]
    full = sum(1 for line in lines if len(line) == len(stacks))
    return len(stacks) >= 2 and max(bottoms) <= min(tops) and full <= 1


def _cells(row: Sequence[_Placed]) -> _Cells:
    """A row's runs grouped into cells: a new cell wherever the gap to the next run is ``CELL_GAP`` ems."""
    cells: _Cells = [[row[0]]]
    for previous, run in pairwise(row):
        end = max(other.end for other in cells[-1])
        if run.x - end >= CELL_GAP * max(previous.size, run.size):
            cells.append([run])
        else:
            cells[-1].append(run)
    return cells


def _blocks(rows: Sequence[_Row]) -> list[list[_Cells]]:
    """Runs of consecutive rows of two or more cells, each row's first baseline ``MIN_ROW_PITCH`` to
    ``MAX_ROW_PITCH`` ems below the last of the row above: where tables can be."""
    blocks: list[list[_Row]] = [[]]
    for row in rows:
        pitch = blocks[-1][-1].bottom - row.top if blocks[-1] else None
        if pitch is not None and not MIN_ROW_PITCH * row.size <= pitch <= MAX_ROW_PITCH * row.size:
            blocks.append([])
        if len(row.cells) >= 2:
            blocks[-1].append(row)
        elif blocks[-1]:
            blocks.append([])
    return [[row.cells for row in block] for block in blocks if len(block) >= MIN_ROWS]


def _tables(block: Sequence[_Cells]) -> list[_Table]:
    """The tables in a block: runs of at least ``MIN_ROWS`` rows that fit its columns.

    The columns come from the body: the rows with the most common number of cells, below the block's first
    ``HEADER_ROWS`` rows when at least two are left (a title or header above a table need not line up with
    the figures under it); there are none when the body's cells do not line up into that many columns.
    Each run goes to the column it overlaps most, or the nearest, so a header whose labels are set close
    together still gets one label per column. A row does not fit when a run of it covers a column besides
    its own (a line of text across the table, a header extracted as one run), or when all its runs fall in
    one column (a label across the table); such a row ends a table and keeps its text as extracted.
    """
    below = block[HEADER_ROWS:] if len(block) >= HEADER_ROWS + 2 else block
    count = Counter(len(cells) for cells in below).most_common(1)[0][0]
    body = [cells for cells in below if len(cells) == count]
    spans = _spans([_extent(cell) for cells in body for cell in cells])
    if len(body) < 2 or len(spans) != count:
        return []
    pieces: list[list[_Cells]] = [[]]
    for cells in block:
        columns = _in_columns(cells, spans)
        if columns is not None:
            pieces[-1].append(columns)
        elif pieces[-1]:
            pieces.append([])
    tables: list[_Table] = []
    for rows in pieces:
        filled = [index for index in range(len(spans)) if any(row[index] for row in rows)]
        grid = [[_cell(row[index]) for index in filled] for row in rows]
        if len(rows) >= MIN_ROWS and _reads_as_table(grid):
            indices = frozenset(run.index for row in rows for column in row for run in column)
            tables.append(_Table(indices, "\n".join(ROW_SEPARATOR.join(cell.text for cell in cells) for cells in grid)))
    return tables


def _in_columns(cells: _Cells, spans: Sequence[tuple[float, float]]) -> _Cells | None:
    """A row's runs by column; None when the row does not fit the columns (see :func:`_tables`)."""
    columns: _Cells = [[] for _ in spans]
    for run in (run for cell in cells for run in cell):
        overlaps = [_overlap((run.x, run.end), span) for span in spans]
        column = max(range(len(spans)), key=overlaps.__getitem__)
        if any(run.x <= left and right <= run.end for index, (left, right) in enumerate(spans) if index != column):
            return None
        columns[column].append(run)
    return columns if sum(1 for column in columns if column) >= 2 else None


def _extent(cell: Sequence[_Placed]) -> tuple[float, float]:
    """A cell's estimated x range."""
    return min(run.x for run in cell), max(run.end for run in cell)


def _overlap(extent: tuple[float, float], span: tuple[float, float]) -> float:
    """How far two ranges of x overlap; negative when there is a gap between them."""
    return min(extent[1], span[1]) - max(extent[0], span[0])


def _spans(intervals: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The x ranges the intervals cover, overlapping intervals merged: a table's columns."""
    spans: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


def _cell(runs: Sequence[_Placed]) -> _Cell:
    """A table cell from its runs, its lines told apart by the page line each run is on; an empty cell (no
    runs) has no text and no words."""
    lines = {run.line for run in runs}
    words = max((len(_cell_text([run for run in runs if run.line == line]).split()) for line in lines), default=0)
    return _Cell(_cell_text(runs), words)


def _cell_text(runs: Sequence[_Placed]) -> str:
    """A cell's runs line by line, each line left to right, spaced as pypdf spaced them where it extracted them
    one after the other; a wrapped cell's lines joined by a space, but for wide characters (set without
    spaces)."""
    text = ""
    previous: _Placed | None = None
    for run in sorted(runs, key=lambda run: (run.line, run.x)):
        if previous is not None:
            if run.line != previous.line:
                glued = _wide(previous.text[-1]) and _wide(run.text[0])
            else:
                glued = run.sequence == previous.sequence + 1 and not previous.space_after and not run.space_before
            text += "" if glued else " "
        text += run.text
        previous = run
    return text


def _reads_as_table(grid: Sequence[Sequence[_Cell]]) -> bool:
    """At most one long column, by the words on a cell's longest line (a table's cells are short as set, and a
    wrapped cell is long only once joined); figures in one column of two; no numbering or bullets down the
    first column, no dot leaders (a contents page)."""
    filled = [[cell for cell in column if cell.text] for column in zip(*grid, strict=True)]
    columns = [[cell.text for cell in cells] for cells in filled]
    long = [
        texts
        for cells, texts in zip(filled, columns, strict=True)
        if sorted(cell.line_words for cell in cells)[len(cells) // 2] > MAX_CELL_WORDS
    ]
    if len(long) > 1 or (len(columns) == 2 and not any(_figures(cells) for cells in columns)):
        return False
    if any(_runs_on(cells) for cells in long):
        return False
    first = columns[0]
    if len(set(first)) == 1 or sum(1 for cell in first if _NUMBERING.fullmatch(cell)) * 2 >= len(first):
        return False
    return not any(_DOT_LEADER.search(cell.text) for row in grid for cell in row)


def _runs_on(cells: Sequence[str]) -> bool:
    """Whether a long column is a paragraph beside the table rather than its cells: most cells longer than a
    table's text, or most of them continuing the one before (no closing punctuation, then a lower-case start)."""
    words = sorted(len(cell.split()) for cell in cells)
    if words[len(words) // 2] > PROSE_CELL_WORDS:
        return True
    continued = sum(
        1 for before, after in pairwise(cells) if not before.rstrip().endswith(_CELL_ENDS) and after[:1].islower()
    )
    return len(cells) > 1 and continued * 2 >= len(cells) - 1


def _figures(cells: Sequence[str]) -> bool:
    """Whether most of a column's cells are figures ("1,234", "12.5%", "2004 - 06")."""
    return sum(1 for cell in cells if _FIGURE.fullmatch(cell)) * 2 >= len(cells)


def _in_place(tables: list[_Table], runs: Sequence[PositionedRun]) -> list[_Table]:
    """The tables among whose runs pypdf extracted no text of other runs, but for other tables' (a table
    drawn column by column interleaves its runs with the next one's); dropping one can drop another."""
    while True:
        claimed = {index for table in tables for index in table.indices}
        kept = [
            table
            for table in tables
            if all(
                index in claimed or not runs[index].text.strip()
                for index in range(min(table.indices), max(table.indices) + 1)
            )
        ]
        if len(kept) == len(tables):
            return kept
        tables = kept


def _page_text(texts: Sequence[str], tables: Sequence[_Table]) -> str:
    """The runs' texts in extraction order, each table's rows on lines of their own in place of its first
    run; its other runs, and the spaces and line breaks extracted among them, left out."""
    starts = {min(table.indices): table for table in tables}
    claimed = {index for table in tables for index in table.indices}
    spans = [(min(table.indices), max(table.indices)) for table in tables]
    out: list[str] = []
    line_open = False
    break_due = False
    for index, text in enumerate(texts):
        table = starts.get(index)
        if table is not None:
            out.append(("\n" if line_open else "") + table.text)
            line_open, break_due = True, True
        elif index in claimed or (not text.strip() and any(first < index < last for first, last in spans)):
            continue
        else:
            if break_due and text.strip() and not text.lstrip(" ").startswith("\n"):
                out.append("\n")
            out.append(text)
            if text.strip() or "\n" in text:
                line_open, break_due = bool(text.rsplit("\n", 1)[-1].strip()), False
    return "".join(out)
