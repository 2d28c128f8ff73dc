"""Sentence units of a passage: what the answer stage scores and quotes, and what ingest embeds one by one.

A passage is cut into sentences, and each list is joined to the line that introduces it. The same units serve
twice: ingest embeds each one beside the whole chunk (a question usually matches one sentence of a 190-token
chunk better than the chunk's blurred average), and the answer stage scores them to compress sources and
pick the quoted points.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from itertools import zip_longest
from typing import NamedTuple

# How the readers write a table row's cells (ingest.loaders, ingest.pdf_tables).
ROW_SEPARATOR = " | "
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?”])\s+(?=[A-Z“\"(\d•-])")
_BLOCK = re.compile(r"\n\s*\n")
_LIST_ITEM = re.compile(r"^(?:[-*•●▪]|\d{1,2}[.)])\s+")
# A list number left alone on its line by OCR ("1.") between an intro and its items.
_LIST_NUMBER = re.compile(r"^\d{1,2}[.)]?$")
# A cell border: a bar with a space or the line's end on each side, as ROW_SEPARATOR and empty cells leave it.
_BAR = re.compile(r"(?<!\S)\|(?!\S)")
# Markdown's cell border: any bar not escaped as "\|".
_MARKDOWN_BAR = re.compile(r"(?<!\\)\|")
# A cell of a markdown delimiter row, which marks the row above it as a table's header.
_DELIMITER_CELL = re.compile(r":?-{3,}:?")
_LABELLED = re.compile(r"^([A-Z][^:.;!?]{0,60}\w):\s+\S")
_LABEL_MAX_WORDS = 7
LABELLED_RUN = 3
LIST_GROUP_WORDS = 60
_INTRO_MAX_WORDS = 12
# Units shorter than this are headings or labels: embedded alone they match anything on their topic.
MIN_INDEXED_WORDS = 4
# Words a sentence cannot end on: a line ending on one of them runs on to the next.
_OPEN_ENDINGS = frozenset("a an and as at by for from in into of on or that the these this to with".split())


def split_sentences(text: str, join_labelled: bool = True) -> list[str]:
    """Sentences, with each list joined to the line that introduces it. Lines wrapped mid-sentence (OCR'd
    slides break lines every few words) are joined first.

    A list item alone ("- Cost-savings") is too short to quote and means nothing without its heading
    ("Common KPI areas ... Outcome measures"), and a question such as "what KPIs should I use?" is answered
    by the list as a whole. So a run of items becomes one unit, "Intro: item; item; item.", cut into groups of
    at most ``LIST_GROUP_WORDS`` words that each repeat the intro. ``join_labelled=False`` leaves paragraphs
    that open with a label apart (see :func:`indexed_sentences`).
    """
    return _units_and_rows(text, join_labelled)[0]


def tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Each table in ``text`` as (header cells, rows of cells), read exactly as the splitter reads it, so the
    answer checks that compare a figure with its row see the same rows as the units that were quoted."""
    return [
        (run.header, run.rows)
        for block in _BLOCK.split(text)
        for run in _table_runs([line.strip() for line in block.split("\n") if line.strip()])
        if isinstance(run, _Table)
    ]


def _units_and_rows(text: str, join_labelled: bool) -> tuple[list[str], set[str]]:
    """:func:`split_sentences`, with the table rows among the units that stand alone (see :func:`_row_units`)."""
    units: list[tuple[str, bool]] = []
    rows: set[str] = set()  # a table's rows stay one statement each, though each opens with a label
    statements: set[str] = set()
    for block in _rejoined_blocks(text):
        for run in _table_runs([line.strip() for line in block.split("\n") if line.strip()]):
            if isinstance(run, _Table):
                table_rows = _row_units(run)
                rows.update(unit for unit, _ in table_rows)
                statements.update(unit for unit, alone in table_rows if alone)
                units.extend((unit, False) for unit, _ in table_rows)
            elif any("\t" in line for line in run):
                units.extend((unit, False) for unit in _table_units(run))
            elif sum(1 for line in run if _LIST_ITEM.match(line)) >= max(1, len(run) // 2):
                units.extend((line, _is_item(line)) for line in _unwrap_items(run))
            else:
                units.extend((part.strip(), False) for part in _SENTENCE_SPLIT.split(" ".join(run)) if part.strip())
    # A row's label may be a bare number ("3"); only text outside tables is an OCR'd list number.
    units = [unit for unit in units if unit[0] in rows or not _LIST_NUMBER.match(unit[0])]
    return _join_lists(_labelled_runs(units, rows) if join_labelled else units), statements


def _rejoined_blocks(text: str) -> list[str]:
    """The text's blocks, with a sentence that runs on past a blank line joined again. OCR of a slide puts
    blank lines inside a bullet ("- Improved and simplified" / "procurement process"), and a page break in a
    PDF does the same to a paragraph; apart, neither half is a statement that can be quoted. A block runs on
    when its last line has no closing punctuation and the next block starts in lower case or the line ends on
    a word that cannot end a sentence; never into or out of a table or a markdown heading."""
    blocks: list[str] = []
    for block in _BLOCK.split(text):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if blocks and lines and _runs_on(blocks[-1].rsplit("\n", 1)[-1].strip(), lines[0]):
            blocks[-1] = f"{blocks[-1]}\n{block}"
        else:
            blocks.append(block)
    return blocks


def _runs_on(last: str, first: str) -> bool:
    if not last or not first or last.startswith("#") or "|" in last + first or "\t" in last + first:
        return False
    if last.endswith((".", "!", "?", ":", ";", "”", '"')) or _LIST_ITEM.match(first):
        return False
    return first[:1].islower() or last.split()[-1].lower() in _OPEN_ENDINGS


def _is_item(line: str) -> bool:
    """A bulleted line that ends in a colon introduces the items after it ("- Key challenges ... are:")."""
    return bool(_LIST_ITEM.match(line)) and not line.rstrip().endswith(":")


def _labelled_runs(units: Sequence[tuple[str, bool]], rows: AbstractSet[str] = frozenset()) -> list[tuple[str, bool]]:
    """Paragraphs in a row that each open with a short label ("Cultural shift: Creating the shift in culture
    ...", "Longer term investment: Ensuring funding ...") are a list written without bullets, and are joined
    like one: quoted one at a time, a question about "the challenges" got three of the eight."""
    marked = list(units)
    start = 0
    while start < len(marked):
        end = start
        while end < len(marked) and not marked[end][1] and marked[end][0] not in rows and _is_labelled(marked[end][0]):
            end += 1
        if end - start >= LABELLED_RUN:
            marked[start:end] = [(text, True) for text, _ in marked[start:end]]
        start = max(end, start + 1)
    return marked


def _is_labelled(unit: str) -> bool:
    match = _LABELLED.match(unit)
    return match is not None and len(match.group(1).split()) <= _LABEL_MAX_WORDS


def _unwrap_items(lines: Sequence[str]) -> list[str]:
    """A list item wrapped onto the next line rejoined ("- Of the 114 comments ... resulted in these being" +
    "separated into 172 responses."). PDF text and OCR break a bullet's lines where the page did; quoted alone,
    the first half is a fragment and the second has no subject. A line continues the item above it when that
    item has no closing punctuation and the line starts in lower case or the item ends on a word that cannot
    end a sentence ("... feedback from the" + "Health Innovation Network ...")."""
    joined: list[str] = []
    for line in lines:
        previous = joined[-1] if joined else ""
        if (
            previous
            and _LIST_ITEM.match(previous)
            and not _LIST_ITEM.match(line)
            and not previous.endswith((".", "!", "?", ":", ";"))
            and (line[:1].islower() or line[:1] == "(" or previous.split()[-1].lower() in _OPEN_ENDINGS)
        ):
            joined[-1] = f"{previous} {line}"
        else:
            joined.append(line)
    return joined


class _Table(NamedTuple):
    """A table read from " | " rows: its header (empty when it has none) and its rows, each a list of cells."""

    header: list[str]
    rows: list[list[str]]


def _table_runs(lines: Sequence[str]) -> list[list[str] | _Table]:
    """The block's lines cut into runs, each a table or the lines of text between tables.

    A markdown table is a header line, a delimiter row and the lines with a bar under them (see
    :func:`_markdown_table`). Otherwise a table is consecutive rows of the same number of cells, as the PDF,
    Word, HTML and PowerPoint readers write them: two rows of three columns or more, or three rows of two
    whose cells are both filled. A two-column row with one cell empty is what a stray OCR bar at a line's end
    looks like ("Results |"), and two lines of OCR'd slide text can each hold one stray "|", so rows of two
    need more to go on. A column empty in every row at either edge is not a column (outer pipes, "| a | b |",
    or a stray bar on every line)."""
    runs: list[list[str] | _Table] = []
    index = 0
    while index < len(lines):
        markdown = _markdown_table(lines, index)
        table: _Table | None = None
        if markdown is not None:
            table, end = markdown
        else:
            width = len(_cells(lines[index]))
            end = index + 1
            while (
                width > 1
                and end < len(lines)
                and len(_cells(lines[end])) == width
                and _markdown_table(lines, end) is None
            ):
                end += 1
            table = _plain_table(lines[index:end])
        if table is not None:
            runs.append(table)
        elif runs and isinstance(runs[-1], list):
            runs[-1].extend(lines[index:end])
        else:
            runs.append(list(lines[index:end]))
        index = end
    return runs


def _plain_table(lines: Sequence[str]) -> _Table | None:
    """Rows of equal width as a table, or None when they do not read as one (see :func:`_table_runs`). With
    three or more columns the first row is the header unless it holds figures or names no column (a section
    row, "Workforce |  |", whose label would be lost as the header's corner); a two-column table is label
    and value."""
    table = [_cells(line) for line in lines]
    while table and table[0] and not any(row[0] for row in table):
        table = [row[1:] for row in table]
    while table and table[0] and not any(row[-1] for row in table):
        table = [row[:-1] for row in table]
    width = len(table[0]) if table else 0
    full = sum(1 for row in table if all(row))
    if not (width >= 3 and len(table) >= 2) and not (width == 2 and full >= 3):
        return None
    names = table[0][1:]
    if width >= 3 and any(names) and not any(re.search(r"\d", name) for name in names):
        return _Table(table[0], table[1:])
    return _Table([], table)


def _markdown_table(lines: Sequence[str], index: int) -> tuple[_Table, int] | None:
    """The markdown pipe table whose header is ``lines[index]`` and the index of the line after it, or None:
    the header, a delimiter row of as many cells ("--- | ---", "|:---|---:|", as markdown marks a header and
    as the PowerPoint reader writes a chart's) and the lines with a bar under them. The delimiter makes the
    line above it the header whatever it holds: a chart's columns are its series, often years ("2023/24"),
    and a one-series chart has only two.

    Outer pipes are optional, and a table has them or not as its delimiter row does; within such a table a
    row's own first bar is an outer pipe, elsewhere it opens an empty first cell ("| 7 | 8"). A Word table
    whose second row is all "---" (not applicable) reads as a header and its marker too. Its first row is
    nearly always the header, and the dashes row says nothing, having no label; requiring the header to hold
    no figures would lose the charts whose series are years or scale points ("1 | 2 | 3")."""
    width = _delimiter_width(lines[index + 1]) if index + 1 < len(lines) else 0
    if width < 2 or "|" not in lines[index]:
        return None
    delimiter = lines[index + 1]
    outer = (delimiter.startswith("|"), delimiter.endswith("|"))
    header = _markdown_cells(lines[index], outer, width)
    if len(header) != width:
        return None
    end = index + 2
    while end < len(lines) and "|" in lines[end]:
        end += 1
    rows = [_markdown_cells(line, outer, width) for line in lines[index + 2 : end]]
    return (_Table(header, rows) if rows else _Table([], [header])), end


def _delimiter_width(line: str) -> int:
    """The number of cells of a markdown delimiter row, or 0 when ``line`` is not one. Each cell must be
    only dashes, three or more, with an optional colon at either end."""
    if "|" not in line:
        return 0
    cells = _MARKDOWN_BAR.split(_without_outer_pipes(line, (True, True)))
    return len(cells) if all(_DELIMITER_CELL.fullmatch(cell.strip()) for cell in cells) else 0


def _markdown_cells(line: str, outer: tuple[bool, bool], width: int) -> list[str]:
    """A markdown row's cells. Markdown splits at every unescaped bar ("|A|£27|"), but a cell the readers
    wrote may hold a bar of its own ("A|B | 5"), so where cutting at " | " alone gives the table's width,
    that reading is kept."""
    line = _without_outer_pipes(line, outer)
    spaced = _cells(line)
    if len(spaced) == width:
        return [cell.replace("\\|", "|") for cell in spaced]
    return [cell.strip().replace("\\|", "|") for cell in _MARKDOWN_BAR.split(line)]


def _without_outer_pipes(line: str, outer: tuple[bool, bool]) -> str:
    if outer[0] and line.startswith("|"):
        line = line[1:]
    if outer[1] and line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return line


def _cells(row: str) -> list[str]:
    """A row's cells, cut at each bar that stands alone as " | " does. An empty cell leaves its bars: at the
    end of a stripped line ("Alpha | 5 |"), at its start ("| 7 | 8", a blank first cell) or next to each
    other where the HTML reader's spaces were collapsed ("Alpha | | 5"). A bar inside a word ("Ovat|on", OCR)
    cuts nothing."""
    return [cell.strip() for cell in _BAR.split(row)]


def _row_units(table: _Table) -> list[tuple[str, bool]]:
    """One statement per table row, its label first and each figure with its column's name: "Severn Marches
    Ambulance Service: Cost per patient £27; Staff trained 140." A row of bare figures is quoted by no one and
    read wrongly by the model (it gave one trust's cost per patient as another's), since its meaning is in the
    header. Each unit comes with whether it stands alone: a label and values all named by the header.

    No row's text is lost. A row with a label and no values (a section row, "Workforce |  |") is its label
    alone. A row with an empty label (a blank cell, or one a merged cell above spans) is its named values
    alone: the label above is not carried down, as a merged label in a PDF may be set in the middle or at the
    foot of the rows it spans, and a label that is wrong for its figures is worse than none. Cells past the
    header's width are kept, unnamed."""
    names = table.header[1:]
    units: list[tuple[str, bool]] = []
    for row in table.rows:
        label, cells = row[0], row[1:]
        pairs = [(name, cell) for name, cell in zip_longest(names, cells, fillvalue="") if cell]
        named = [_named_value(name, cell) for name, cell in pairs]
        if named:
            values = "; ".join(named)
            units.append((f"{label}: {values}." if label else f"{values}.", bool(label) and all(n for n, _ in pairs)))
        elif label:
            units.append((label, False))
    return units


# A header that gives its column's unit ("Response rate %", "Cost (£)", "Budget £k"): the unit belongs on the
# bare figures under it, or "45" under "Response rate %" reads as 45, and a claim of "45%" looks invented.
_HEADER_UNIT = re.compile(r"\s*(?:\((%|£|£k|£m)\)|(%|£k|£m|£))$")
_BARE_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _named_value(name: str, cell: str) -> str:
    """A cell with its column's name: "Staff trained 140"; "Response rate 45%" under "Response rate %"."""
    if not name:
        return cell
    unit = _HEADER_UNIT.search(name)
    if unit is None or not _BARE_NUMBER.fullmatch(cell):
        return f"{name} {cell}"
    symbol = unit.group(1) or unit.group(2)
    bare = name[: unit.start()].rstrip()
    if symbol == "%":
        return f"{bare} {cell}%"
    return f"{bare} £{cell}{symbol[1:]}"


def _table_units(rows: Sequence[str]) -> list[str]:
    """A tab-separated table read as text. Where a row starts with a label ("Single team covering digital"),
    the label leads its row: "Single team covering digital: Supports joined-up approaches; ...". Where the
    cells are sentences, each is its own unit, named by its column header when the table has one
    ("Standalone innovation function – Benefits: Can enable ..."), so a quoted cell says which option it is
    about."""
    table = [[cell.strip() for cell in row.split("\t")] for row in rows]
    header = table[0] if len(table) > 1 and len(table[0]) > 1 else []
    units: list[str] = []
    for row in table:
        cells = [cell for cell in row if cell]
        if row is header and any(other[0].endswith((".", "!", "?")) for other in table[1:] if other[0]):
            continue  # the column names, repeated in front of each cell below
        if len(cells) < 2 or not cells[0].endswith((".", "!", "?")):
            units.append(f"{cells[0]}: {'; '.join(cells[1:])}" if len(cells) > 1 else " ".join(cells))
            continue
        for column, cell in enumerate(row):
            named = header[column] if row is not header and column < len(header) and header[column] else ""
            for part in _SENTENCE_SPLIT.split(cell):
                if part.strip():
                    units.append(f"{named} – {part.strip()}" if named else part.strip())
    return [unit for unit in units if unit]


def _join_lists(units: Sequence[tuple[str, bool]]) -> list[str]:
    joined: list[str] = []
    index = 0
    while index < len(units):
        text, is_item = units[index]
        if not is_item:
            joined.append(text)
            index += 1
            continue
        end = index
        while end < len(units) and units[end][1]:
            end += 1
        items = [_LIST_ITEM.sub("", item).strip().rstrip(".;,") for item, _ in units[index:end]]
        intro = joined.pop() if joined and _introduces_list(joined[-1]) else ""
        joined.extend(_list_groups(intro, items))
        index = end
    return joined


def _introduces_list(unit: str) -> bool:
    """ "These can broadly be categorised as:" or a short heading line such as "Outcome measures"."""
    stripped = unit.rstrip()
    return stripped.endswith(":") or (
        len(stripped.split()) <= _INTRO_MAX_WORDS and not stripped.endswith((".", "!", "?", "”", '"'))
    )


def _list_groups(intro: str, items: Sequence[str]) -> list[str]:
    head = intro.rstrip().rstrip(":").strip()
    prefix = f"{head}: " if head else ""
    groups: list[list[str]] = [[]]
    for item in items:
        if groups[-1] and sum(len(i.split()) for i in groups[-1]) + len(item.split()) > LIST_GROUP_WORDS:
            groups.append([])
        groups[-1].append(item)
    return [prefix + "; ".join(group) + "." for group in groups if group]


def indexed_sentences(text: str) -> list[str]:
    """The units of a chunk that get a vector of their own; the whole text when none is long enough, so every
    chunk has at least one (a chunk without any would look unembedded to the next ingest).

    A labelled paragraph joined into a list is also indexed alone: the joined list is what gets quoted, but a
    question about one challenge ("what did they say about long-term investment?") matches its own paragraph
    better than a 60-word list. Searched as lists only, the gold passage of such questions fell in rank.

    A table row whose label and values are all named ("Yes: Responses 62%.") is indexed however short: unlike
    a heading, it is a whole statement, and a chart's rows are often only three words."""
    units, statements = _units_and_rows(text, join_labelled=True)
    units += [unit for unit in _units_and_rows(text, join_labelled=False)[0] if unit not in units]
    indexed = [unit for unit in units if len(unit.split()) >= MIN_INDEXED_WORDS or unit in statements]
    return indexed or [text]
