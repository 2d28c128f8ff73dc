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

# How the readers write a table row's cells (ingest.loaders, ingest.pdf_tables).
ROW_SEPARATOR = " | "
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?”])\s+(?=[A-Z“\"(\d•-])")
_BLOCK = re.compile(r"\n\s*\n")
_LIST_ITEM = re.compile(r"^(?:[-*•●▪]|\d{1,2}[.)])\s+")
# A list number left alone on its line by OCR ("1.") between an intro and its items.
_LIST_NUMBER = re.compile(r"^\d{1,2}[.)]?$")
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
    units: list[tuple[str, bool]] = []
    rows: set[str] = set()  # a table's rows stay one statement each, though each opens with a label
    for block in _BLOCK.split(text):
        for lines, is_table in _table_runs([line.strip() for line in block.split("\n") if line.strip()]):
            if is_table:
                table_rows = _row_units(lines)
                rows.update(table_rows)
                units.extend((unit, False) for unit in table_rows)
            elif any("\t" in line for line in lines):
                units.extend((unit, False) for unit in _table_units(lines))
            elif sum(1 for line in lines if _LIST_ITEM.match(line)) >= max(1, len(lines) // 2):
                units.extend((line, _is_item(line)) for line in _unwrap_items(lines))
            else:
                units.extend((part.strip(), False) for part in _SENTENCE_SPLIT.split(" ".join(lines)) if part.strip())
    units = [unit for unit in units if not _LIST_NUMBER.match(unit[0])]
    return _join_lists(_labelled_runs(units, rows) if join_labelled else units)


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


def _table_runs(lines: Sequence[str]) -> list[tuple[list[str], bool]]:
    """The block's lines cut into runs, each a table or not: a table is consecutive rows of the same number of
    " | " cells, as the PDF, Word and PowerPoint readers write them; two rows of three cells or more, or three
    rows of two (two lines of OCR'd slide text can each hold one stray "|")."""
    runs: list[tuple[list[str], bool]] = []
    index = 0
    while index < len(lines):
        width = len(lines[index].split(ROW_SEPARATOR))
        end = index + 1
        while width > 1 and end < len(lines) and len(lines[end].split(ROW_SEPARATOR)) == width:
            end += 1
        if width > 1 and end - index >= (2 if width > 2 else 3):
            runs.append((list(lines[index:end]), True))
        elif runs and not runs[-1][1]:
            runs[-1][0].extend(lines[index:end])
        else:
            runs.append((list(lines[index:end]), False))
        index = end
    return [run for run in runs if run[0]]


def _row_units(rows: Sequence[str]) -> list[str]:
    """One statement per table row, its label first and each figure with its column's name: "Severn Marches
    Ambulance Service: Cost per patient £27; Staff trained 140." A row of bare figures is quoted by no one and
    read wrongly by the model (it gave one trust's cost per patient as another's), since its meaning is in the
    header. With three or more columns the first row is the header unless it holds figures; a two-column
    table is label and value."""
    table = [[cell.strip() for cell in row.split(ROW_SEPARATOR)] for row in rows]
    has_header = len(table[0]) >= 3 and not any(re.search(r"\d", cell) for cell in table[0][1:])
    header = table[0] if has_header else []
    units: list[str] = []
    for row in table[1:] if has_header else table:
        label, cells = row[0], row[1:]
        named = [
            f"{name} {cell}".strip() if name else cell
            for name, cell in zip(header[1:] or [""] * len(cells), cells, strict=True)
            if cell
        ]
        if named:
            units.append(f"{label}: {'; '.join(named)}." if label else f"{'; '.join(named)}.")
    return units


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
    better than a 60-word list. Searched as lists only, the gold passage of such questions fell in rank."""
    units = split_sentences(text)
    units += [unit for unit in split_sentences(text, join_labelled=False) if unit not in units]
    indexed = [unit for unit in units if len(unit.split()) >= MIN_INDEXED_WORDS]
    return indexed or [text]
