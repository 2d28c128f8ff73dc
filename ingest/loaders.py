"""Turn files on disk into :class:`LoadedDocument` records: the first step of ingestion.

Every format ends up as plain text with its line structure intact, because the splitter finds headings,
lists and paragraphs from lines. Headings from Word and HTML, slide titles, and PDF lines whose fonts mark them as
headings (:mod:`ingest.pdf_headings`), are written as markdown ``#`` lines so that one splitter understands every
format.
PDF pages keep their 1-based numbers, as printed in a viewer, and PowerPoint slides their slide numbers, so
citations can point a reader at the right page or slide; other formats are one page with ``number=None``.

Markdown and plain text are kept verbatim (only line endings are normalised, and a bullet OCR read as "«" at a
line's start becomes "- "): evaluation matches quotes from the documents against this text.

Anything that cannot be read raises :class:`UnreadableDocument` with a reason a user can act on; problems
that still leave a usable document (one bad PDF page, a guessed text encoding) become ``warnings``.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import logging
import math
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from typing import TypeGuard, TypeVar

import docx
import pptx
from docx.table import Table
from docx.text.paragraph import Paragraph
from pptx.chart.chart import Chart
from pptx.chart.plot import BubblePlot, XyPlot, _BasePlot
from pptx.chart.series import _BaseSeries
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.oxml import parse_xml
from pptx.oxml.ns import qn
from pptx.oxml.xmlchemy import BaseOxmlElement
from pptx.shapes.autoshape import Shape
from pptx.shapes.base import BaseShape
from pptx.shapes.graphfrm import GraphicFrame
from pptx.shapes.group import GroupShape
from pptx.shapes.shapetree import GroupShapes, SlideShapes
from pptx.slide import Slide
from pptx.text.text import TextFrame, _Paragraph
from pypdf import PdfReader
from pypdf.errors import DependencyError

from assistant.records import DocumentInfo, LoadedDocument, PageText
from ingest.pdf_headings import (
    LineFonts,
    PageStyles,
    heading_levels,
    kept_lines,
    line_fonts,
    mark_headings,
    page_styles,
)
from ingest.sentences import ROW_SEPARATOR

SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".pdf", ".md", ".markdown", ".txt", ".docx", ".pptx", ".html", ".htm"})
METADATA_FILE_NAME = "metadata.json"

_FILE_FORMATS: dict[str, str] = {
    ".pdf": "pdf",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".docx": "docx",
    ".pptx": "pptx",
    ".html": "html",
    ".htm": "html",
}
_MAX_TITLE_CHARS = 150
_TITLE_SEARCH_LINES = 20
_MAX_REASON_CHARS = 120


class UnreadableDocument(Exception):
    """A file that cannot be ingested; ``reason`` is short and tells the user what to do about it."""

    def __init__(self, path: Path, reason: str) -> None:
        # Both values go to Exception so the error survives pickling (e.g. across worker processes).
        super().__init__(path, reason)
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path.name}: {self.reason}"


@dataclass(frozen=True)
class _Extraction:
    """What a format reader found, before the title is chosen and the record is assembled."""

    pages: tuple[PageText, ...]
    warnings: tuple[str, ...] = ()
    title_hint: str | None = None
    headings_from_fonts: bool = False


# --------------------------------------------------------------------------------------------- discovery


def document_id(path: Path) -> str:
    """A stable, URL- and filename-safe id from the file name, so re-ingesting a file replaces its chunks.

    Accents are folded to ASCII; a name with no ASCII letters or digits gets a short hash of the name
    instead, so two such files do not collide.
    """
    stem = Path(path.name).stem
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if slug:
        return slug
    return "document-" + hashlib.sha256(path.name.encode("utf-8")).hexdigest()[:10]


def discover_files(paths: Sequence[Path]) -> tuple[list[Path], list[UnreadableDocument]]:
    """Expand files and folders into the supported files to ingest, and the problems to report.

    Folders are walked recursively in sorted order so runs are reproducible. Hidden files and folders,
    Office lock files (``~$report.docx``, ``~$deck.pptx``) and ``metadata.json`` are skipped silently: they are never
    documents. A file reached twice (listed and inside a listed folder) is returned once.
    """
    found: list[Path] = []
    problems: list[UnreadableDocument] = []
    seen: set[Path] = set()
    for path in paths:
        if not path.exists():
            problems.append(UnreadableDocument(path, "file not found"))
            continue
        candidates = _walk_folder(path) if path.is_dir() else [path]
        for candidate in candidates:
            if candidate.name == METADATA_FILE_NAME or candidate.resolve() in seen:
                continue
            seen.add(candidate.resolve())
            if candidate.suffix.lower() in SUPPORTED_SUFFIXES:
                found.append(candidate)
            else:
                problems.append(UnreadableDocument(candidate, _unsupported_reason(candidate)))
    return found, problems


def _walk_folder(folder: Path) -> list[Path]:
    files: list[Path] = []
    for root, dir_names, file_names in os.walk(folder):
        dir_names[:] = sorted(name for name in dir_names if not _is_hidden(name))
        files.extend(Path(root) / name for name in sorted(file_names) if not _is_hidden(name))
    return files


def _is_hidden(name: str) -> bool:
    return name.startswith((".", "~$"))


# Old binary Office files are one "Save As" from a supported format: say so rather than list the formats.
_OLD_OFFICE_ADVICE = {
    ".doc": "old Word .doc format: save it as .docx",
    ".ppt": "old PowerPoint .ppt format: save it as .pptx",
}


def _unsupported_reason(path: Path) -> str:
    if path.suffix.lower() in _OLD_OFFICE_ADVICE:
        return _OLD_OFFICE_ADVICE[path.suffix.lower()]
    kind = f"'{path.suffix.lower()}'" if path.suffix else "(no extension)"
    return f"unsupported file type {kind} (supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})"


# --------------------------------------------------------------------------------------------- metadata


def read_corpus_metadata(folder: Path) -> dict[str, DocumentInfo]:
    """Read the optional ``metadata.json`` catalogue in ``folder``: file name -> :class:`DocumentInfo`.

    A missing file means no catalogue (an empty dict). A file that exists but is malformed raises
    ``ValueError`` naming the file and the problem, rather than silently ingesting with guessed titles.
    Each entry needs a ``title``; ``publisher``, ``year`` and ``kind`` are optional.
    """
    metadata_path = folder / METADATA_FILE_NAME
    if not metadata_path.is_file():
        return {}
    try:
        raw = json.loads(metadata_path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as error:
        raise ValueError(f"{metadata_path}: not UTF-8 text ({error.reason})") from error
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{metadata_path}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        ) from error
    if not isinstance(raw, dict):
        raise ValueError(f"{metadata_path}: expected an object mapping file names to their details")
    return {name: _document_info_from_entry(metadata_path, name, entry) for name, entry in raw.items()}


def _document_info_from_entry(metadata_path: Path, name: str, entry: object) -> DocumentInfo:
    def invalid(problem: str) -> ValueError:
        return ValueError(f"{metadata_path}: entry '{name}' {problem}")

    if not isinstance(entry, dict):
        raise invalid("must be an object with a title")
    title = entry.get("title")
    if not isinstance(title, str) or not title.strip():
        raise invalid("needs a non-empty 'title'")
    publisher = entry.get("publisher", "")
    kind = entry.get("kind", "report")
    if not isinstance(publisher, str) or not isinstance(kind, str):
        raise invalid("has a 'publisher' or 'kind' that is not text")
    return DocumentInfo(
        title=title.strip(),
        publisher=publisher.strip(),
        year=_parse_year(entry.get("year"), invalid),
        kind=kind.strip() or "report",
    )


def _parse_year(value: object, invalid: Callable[[str], ValueError]) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise invalid(f"has a 'year' that is not a number: {value!r}")


# --------------------------------------------------------------------------------------------- loading


def load_document(path: Path, info: DocumentInfo | None = None) -> LoadedDocument:
    """Read one file into text pages; raise :class:`UnreadableDocument` if nothing usable comes out.

    The title is ``info.title`` when a catalogue gives one, else the file's own title metadata when it
    looks like a real title, else the first heading or short first line, else the file name made readable.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableDocument(path, _unsupported_reason(path))
    raw = _read_bytes(path)
    if not raw.strip():
        raise UnreadableDocument(path, "empty file")
    extraction = _READERS[suffix](path, raw)
    if not any(page.text.strip() for page in extraction.pages):
        raise UnreadableDocument(path, "empty file")
    title = info.title if info is not None else _choose_title(path, extraction)
    return LoadedDocument(
        path=path,
        doc_id=document_id(path),
        info=info if info is not None else DocumentInfo(title=title),
        pages=extraction.pages,
        content_hash=hashlib.sha256(raw).hexdigest(),
        file_format=_FILE_FORMATS[suffix],
        warnings=extraction.warnings,
        headings_from_fonts=extraction.headings_from_fonts,
    )


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as error:
        raise UnreadableDocument(path, "file not found") from error
    except IsADirectoryError as error:
        raise UnreadableDocument(path, "is a folder, not a file") from error
    except PermissionError as error:
        raise UnreadableDocument(path, "permission denied: check the file's permissions") from error
    except OSError as error:
        raise UnreadableDocument(path, f"could not be read ({error.strerror or error})") from error


# --------------------------------------------------------------------------------------------- titles


def _choose_title(path: Path, extraction: _Extraction) -> str:
    if extraction.title_hint and _is_sensible_title(extraction.title_hint):
        return _clean_title(extraction.title_hint)
    first_text = next((page.text for page in extraction.pages if page.text.strip()), "")
    return _title_from_text(first_text) or _humanise_stem(path)


def _is_sensible_title(candidate: str) -> bool:
    """Reject the placeholders authoring tools write into title metadata ("Microsoft Word - x.docx")."""
    title = _clean_title(candidate)
    lowered = title.lower()
    if not 3 <= len(title) <= _MAX_TITLE_CHARS or not any(char.isalpha() for char in title):
        return False
    if lowered in {"untitled", "title", "document", "presentation", "slide 1", "powerpoint presentation"}:
        return False
    if lowered.startswith(("microsoft word", "microsoft powerpoint", "untitled")):
        return False
    looks_like_file_name = re.search(r"\.(pdf|docx?|pptx?|indd|html?|txt|md)$", lowered) is not None
    looks_like_slug = " " not in title and "_" in title
    return not (looks_like_file_name or looks_like_slug)


def _clean_title(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _title_from_text(text: str) -> str | None:
    """The first markdown heading near the top, else the first non-empty line if it is short enough."""
    lines = [line.strip() for line in text.splitlines() if line.strip()][:_TITLE_SEARCH_LINES]
    for line in lines:
        heading = re.match(r"#{1,6}\s+(.+?)\s*#*$", line)
        if heading:
            return _clean_title(heading.group(1))
    if lines and len(lines[0]) <= _MAX_TITLE_CHARS and any(char.isalpha() for char in lines[0]):
        return _clean_title(lines[0].lstrip("#"))
    return None


def _humanise_stem(path: Path) -> str:
    words = re.sub(r"[_\-.]+", " ", Path(path.name).stem).split()
    if not words:
        return path.name
    title = " ".join(words)
    return title[0].upper() + title[1:]


# --------------------------------------------------------------------------------------------- text


def _read_text_file(path: Path, raw: bytes) -> _Extraction:
    text, notes = _decode_text(path, raw)
    page = PageText(number=None, text=_list_items(_normalise_line_endings(text)))
    return _Extraction(pages=(page,), warnings=notes)


# OCR reads a slide's round bullet as a guillemet ("« 85% of comments were from HIN representatives"), or as
# "+". At a line's start it becomes "- ", so the sentence splitter sees the list it is, the list joins its
# introduction as one quotable unit, and no stray "«" is quoted to the user. A guillemet opening a quotation,
# closed by a "»" after some text before the next blank or bulleted line, is left alone; a "+" is a bullet only
# beside another list item ("Net change:\n+ 5 points" is a figure).
_OCR_BULLET = re.compile(r"^[ \t]*[«»](?!(?:[^\n]|\n(?![ \t]*[\n«»]))*?[^\s«»][ \t]?»)[ \t]+(?=\S)", re.MULTILINE)
_PLUS_ITEM = re.compile(r"^[ \t]*\+[ \t]+(?=\S)")
# A bullet OCR read as a full stop (". Governance and oversight"): no line of prose opens with one.
_STOP_ITEM = re.compile(r"^[ \t]*\.[ \t]+(?=[A-Z])", re.MULTILINE)
_LIST_ITEM_LINE = re.compile(r"^[ \t]*[-*•+][ \t]+\S")


def _list_items(text: str) -> str:
    """``text`` with OCR'd bullets ("«", ". ", and "+" beside a list item) written as markdown's "- "."""
    lines = _STOP_ITEM.sub("- ", _OCR_BULLET.sub("- ", text)).split("\n")
    return "\n".join(
        _PLUS_ITEM.sub("- ", line)
        if _PLUS_ITEM.match(line)
        and any(_LIST_ITEM_LINE.match(lines[other]) for other in (index - 1, index + 1) if 0 <= other < len(lines))
        else line
        for index, line in enumerate(lines)
    )


def _read_markdown(path: Path, raw: bytes) -> _Extraction:
    extraction = _read_text_file(path, raw)
    pages = tuple(PageText(number=page.number, text=flatten_inline_html(page.text)) for page in extraction.pages)
    return _Extraction(pages=pages, warnings=extraction.warnings)


_HTML_PARAGRAPH = re.compile(r"\s*<p>\s*(.*?)\s*</p>\s*", re.IGNORECASE | re.DOTALL)
_HTML_LIST_TAG = re.compile(r"\s*</?(?:ul|ol|li)\b[^>]*>\s*", re.IGNORECASE)
_HTML_BREAK = re.compile(r"\s*<br\s*/?>\s*", re.IGNORECASE)
_INLINE_BULLET = re.compile(r"\s*•\s*")


def flatten_inline_html(text: str) -> str:
    """Markdown exported from Word or a web page keeps table cells as inline HTML
    (``<p>Benefits:</p> <ul style="..."> • Can enable ... • ...``). Left as it is, the markup is shown to
    users as the cited passage, and a cell of 150 words with no full stop can never be quoted. Each cell
    becomes plain sentences, "Benefits: Can enable ...; Supports ....", with the words kept verbatim and the
    table's tab layout untouched."""
    if "<" not in text:
        return text
    lines = []
    for line in text.split("\n"):
        if not re.search(r"</?(?:p|ul|ol|li|br)\b", line, re.IGNORECASE):
            lines.append(line)
            continue
        cells = [_flatten_cell(cell) if "<" in cell or "•" in cell else cell for cell in line.split("\t")]
        lines.append("\t".join(cells))
    return "\n".join(lines)


def _flatten_cell(cell: str) -> str:
    cell = _HTML_BREAK.sub(" ", cell)
    cell = _HTML_PARAGRAPH.sub(lambda match: f"\x00{match.group(1)} ", cell)
    cell = _HTML_LIST_TAG.sub(" ", cell)
    parts = []
    for block in cell.split("\x00"):
        items = [item.strip() for item in _INLINE_BULLET.split(block) if item.strip()]
        if not items:
            continue
        label = "" if block.lstrip().startswith("•") else items.pop(0)
        body = "; ".join(item.rstrip(";. ") for item in items)
        text = f"{label} {body}".strip() if label.endswith(":") else "; ".join(filter(None, (label, body)))
        parts.append(text.rstrip(";. ") + ".")
    return " ".join(parts)


def _decode_text(path: Path, raw: bytes) -> tuple[str, tuple[str, ...]]:
    """UTF-8 (BOM or not), UTF-16 when it carries a BOM, else Windows-1252 with a warning.

    Windows-1252 is the fallback because text exported from older Office tools on NHS laptops is almost
    always in it, and it can decode nearly any byte, so the user gets text plus a warning to check it.
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), ()
        except UnicodeDecodeError as error:
            raise UnreadableDocument(path, "damaged UTF-16 text: save it again as UTF-8") from error
    if b"\x00" in raw:
        raise UnreadableDocument(path, "binary file, not text")
    try:
        return raw.decode("utf-8-sig"), ()
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), ("not UTF-8; read as Windows-1252",)


def _normalise_line_endings(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------------------------- PDF

_ENCRYPTED_REASON = "encrypted PDF: remove the password and ingest it again"
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
# A bullet set in a symbol font (Word's Symbol and Wingdings bullets) comes out as a private-use character.
_SYMBOL_BULLET = re.compile(r"^([ \t]*)[\ue000-\uf8ff][ \t]*", re.MULTILINE)
_HYPHENATED_LINE_END = re.compile(r"([^\W\d_]+)([-\u00ad])[ \t]*\n[ \t]*([^\W\d_]+)")
_HYPHENATED_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)+")
_LETTERS = re.compile(r"[^\W\d_]+")
# First parts that make a compound, not a syllable: "self-assessment", "well-being", "non-executive".
_COMPOUND_PREFIXES = frozenset({"self", "well", "non", "cross"})
# Running headers and footers (see drop_running_lines).
RUNNING_LINE_MIN_PAGES = 3
RUNNING_LINE_SHARE = 0.3
RUNNING_LINE_DEPTH = 3
# Points a running line may move between pages and still sit in one place: a sample municipal plan's header
# moves by 6 pt between its page templates; a heading with one more line of text above it moves by a line.
RUNNING_LINE_DRIFT = 8.0
_NUMBER_TOKEN = re.compile(r"(?<![\d.,])\d{1,6}(?![\d.,]\d)")
_PAGE_NUMBER_LINE = re.compile(r"(?:page\s+)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s*(?:/|of)\s*\d{1,4})?", re.IGNORECASE)


def _read_pdf(path: Path, raw: bytes) -> _Extraction:
    """Read page by page so one bad page costs a warning, not the document.

    pypdf reports the repairs it makes to damaged files through logging; those messages are captured and
    summarised as one document warning instead of appearing in the user's terminal.
    """
    if b"%PDF-" not in raw[:1024]:
        raise UnreadableDocument(path, "damaged or not a valid PDF (no PDF header)")
    with _captured_pdf_diagnostics() as diagnostics:
        try:
            reader = PdfReader(io.BytesIO(raw))
            _unlock(path, reader)
            title_hint = _pdf_title(reader)
            page_count = len(reader.pages)
        except UnreadableDocument:
            raise
        except DependencyError as error:
            raise UnreadableDocument(path, _ENCRYPTED_REASON) from error
        # pypdf raises many exception types on malformed input (PdfReadError, ValueError, KeyError, ...).
        except Exception as error:
            raise UnreadableDocument(path, f"damaged or not a valid PDF ({_short_reason(error)})") from error
        if page_count == 0:
            raise UnreadableDocument(path, "damaged or not a valid PDF (it has no pages)")
        pages, page_warnings, failures, from_fonts = _extract_pdf_pages(reader)
    if not pages:
        if failures == page_count:
            raise UnreadableDocument(path, "damaged or not a valid PDF (text extraction failed on every page)")
        raise UnreadableDocument(path, _no_text_reason("a scanned PDF"))
    notes = list(page_warnings)
    if diagnostics:
        notes.append(_summarise_diagnostics(diagnostics))
    return _Extraction(pages=tuple(pages), warnings=tuple(notes), title_hint=title_hint, headings_from_fonts=from_fonts)


def _no_text_reason(looks_like: str) -> str:
    """Why a file whose pages or slides are all pictures is refused: its text is in the pixels."""
    return f"no extractable text: it looks like {looks_like}; run OCR on it first"


def _no_text_note(unit: str, numbers: Sequence[int]) -> str:
    """The warning for some pages or slides without text: usually pictures of text, lost unless OCR'd."""
    listed = ", ".join(str(number) for number in numbers)
    return f"no text on {unit}(s) {listed}: images only? run OCR if they matter"


def _unlock(path: Path, reader: PdfReader) -> None:
    """Open PDFs "encrypted" with an empty user password (common for copy-protected reports)."""
    if not reader.is_encrypted:
        return
    if not reader.decrypt(""):
        raise UnreadableDocument(path, _ENCRYPTED_REASON)


def _pdf_title(reader: PdfReader) -> str | None:
    try:
        metadata = reader.metadata
        title = metadata.title if metadata is not None else None
    except Exception:  # A broken info dictionary is no reason to reject readable pages.
        return None
    return str(title) if title else None


def _extract_pdf_pages(reader: PdfReader) -> tuple[list[PageText], list[str], int, bool]:
    """Pages with text, notes for the user, pages that failed, and whether headings came from the fonts.

    Running headers and footers are dropped before the font headings are marked: a title printed large at
    the top of every page is not a heading of each page. A numbered heading on consecutive pages is kept
    (see :func:`ingest.pdf_headings.line_fonts`).
    """
    notes: list[str] = []
    failures = 0
    extracted: list[tuple[int, str, PageStyles]] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            raw, page_style = page_styles(page)
        except Exception:  # pypdf can fail on one page's content stream and still read the others.
            failures += 1
            notes.append(f"page {number}: could not extract text")
            continue
        extracted.append((number, _normalise_line_endings(raw), page_style))
    spelling = _WordForms.of(raw for _, raw, _ in extracted)
    pages: list[PageText] = []
    styles: list[PageStyles] = []
    blank: list[int] = []
    raw_texts: dict[int, str] = {}
    for number, raw, page_style in extracted:
        text = _clean_pdf_text(raw, spelling)
        if text.strip():
            pages.append(PageText(number=number, text=text))
            raw_texts[number] = raw
            styles.append(page_style)
        else:
            blank.append(number)
    labels = _page_labels(reader) or printed_page_numbers(raw_texts)
    pages = [replace(page, label=labels.get(page.number or 0)) for page in pages]
    if pages and blank:
        notes.append(_no_text_note("page", blank))
    style_of = dict(zip((page.number for page in pages), styles, strict=True))
    body = [kept_lines(style_of[page.number], page.text) for page in drop_running_lines(pages)]
    fonts = dict(zip(style_of, line_fonts(list(style_of.values()), body), strict=True))
    kept = drop_running_lines(pages, [fonts[page.number] for page in pages])
    levels = heading_levels([kept_lines(style_of[page.number], page.text) for page in kept])
    marked = [replace(page, text=mark_headings(page.text, level)) for page, level in zip(kept, levels, strict=True)]
    return marked, notes, failures, any(levels)


def _page_labels(reader: PdfReader) -> dict[int, str]:
    """Printed page names that differ from the sheet number, by sheet number; empty if the PDF names none.

    Only a PDF's own /PageLabels count: pypdf otherwise answers "1", "2", ... for every file. A broken label
    tree costs the labels, not the document.
    """
    try:
        if "/PageLabels" not in reader.root_object:
            return {}
        labels = reader.page_labels
    except Exception:  # pypdf raises many types on a malformed number tree.
        return {}
    return {
        number: label.strip()
        for number, label in enumerate(labels, start=1)
        if label.strip() and label.strip() != str(number)
    }


def printed_page_numbers(raw_texts: Mapping[int, str]) -> dict[int, str]:
    """The page numbers printed in the headers or footers, by sheet number, where they differ from it.

    Most PDFs define no page names (/PageLabels) but print a number in the footer, and a report with a cover
    and contents pages prints "1" on its third sheet: a reader holding the report looks for the printed
    number. A page's first or last line that is only a page number ("12", "- 12 -", "Page 12 of 40": the
    lines :func:`_clean_pdf_text` drops) counts when it is the sheet number plus one fixed offset on at
    least ``RUNNING_LINE_MIN_PAGES`` pages and ``RUNNING_LINE_SHARE`` of them (as for running lines). The
    sheets from the first to the last so numbered are named (a full-page figure between them prints no
    number but has one); the cover and front matter before them are not. An offset of 0 names nothing new.

    Any number on a page's edge lines was tried first: table rows and numbered sections ("4. Monthly data"
    on the fifth sheet) kept an offset too, and named the pages of two of 77 readable sample PDFs wrongly
    (pdfplumber's and pypdf's test files). Read this way, two of them gain names, both right: a journal
    article's pages 72-89, and an annex printing its own 2-25.
    """
    sheets_by_offset: dict[int, set[int]] = {}
    for number, text in raw_texts.items():
        for line in set(_edge_lines(text)):
            if _PAGE_NUMBER_LINE.fullmatch(line):
                printed = int(re.findall(r"\d+", line)[0])
                if not 1900 <= printed <= 2100:  # a year alone on a line dates the page, it does not number it
                    sheets_by_offset.setdefault(printed - number, set()).add(number)
    if not sheets_by_offset:
        return {}
    offset, sheets = max(sheets_by_offset.items(), key=lambda item: (len(item[1]), -abs(item[0])))
    needed = max(RUNNING_LINE_MIN_PAGES, math.ceil(RUNNING_LINE_SHARE * len(raw_texts)))
    if offset == 0 or len(sheets) < needed:
        return {}
    first, last = min(sheets), max(sheets)
    return {number: str(number + offset) for number in raw_texts if first <= number <= last and number + offset > 0}


def drop_running_lines(pages: list[PageText], fonts: Sequence[LineFonts] = ()) -> list[PageText]:
    """Drop running headers and footers: lines at the top or bottom of a page that repeat across pages.

    A designed report prints its title, chapter or "Page 12 of 40" on every page. Left in, that line joins
    the text of every chunk (a passage then "mentions" the report title wherever it is), looks like a
    heading to the splitter, and outweighs real words in BM25. A line counts as running when, among the
    first or last few lines of its page, it repeats on at least ``RUNNING_LINE_MIN_PAGES`` pages and
    ``RUNNING_LINE_SHARE`` of them, either word for word or with one number that is the page number plus
    a fixed offset ("47699 Federal Register", "Page 3 of 40"). Requiring that fixed offset keeps numbered
    headings ("Key theme 1" at the top of one page, "Key theme 2" two pages on) as text.

    ``fonts`` (one per page, when known) refine this. A line its font marks as a heading never counts by its
    number: "Key theme 1" to "Key theme 5" on five slides in a row have the offset of a running header, and
    once dropped, the headless slides joined the slide before them and were cited at its page. A heading that
    opens its page (see :func:`_opening_heading_height`) counts only on the pages where it sits in one place
    (within ``RUNNING_LINE_DRIFT``): a running header is drawn where the page template puts it, while a
    "Case study: ..." or "Key findings" heading repeated word for word moves with the text above it, and
    dropped, it took its case study's kind and organisation with it. A two-page document has too few pages
    to tell a running line from a repeated heading by repetition alone, so there only lines set smaller than
    the body on both pages go (its header, footer and page number).
    """
    if len(pages) < 2 or (len(pages) < RUNNING_LINE_MIN_PAGES and not fonts):
        return pages
    font_of = list(fonts) or [LineFonts() for _ in pages]

    def keys(index: int, line: str) -> list[tuple[str, int | None]]:
        page, font = pages[index], font_of[index]
        if len(pages) < RUNNING_LINE_MIN_PAGES and not font.is_small_print(line):
            return []
        return _running_keys(line.strip(), page.number or index + 1, numbered=not font.is_heading(line))

    # For each key, the pages it is on and, where it is a heading opening the page, its height there.
    seen: dict[tuple[str, int | None], dict[int, float | None]] = {}
    for index, page in enumerate(pages):
        lines = page.text.split("\n")
        for position in sorted(_edge_indices(lines)):
            height = _opening_heading_height(lines, position, font_of[index])
            for key in keys(index, lines[position]):
                where = seen.setdefault(key, {})
                # Twice on one page, at two heights or once not as a heading opening it: it is in place there.
                where[index] = height if where.get(index, height) == height else None
    needed = max(min(RUNNING_LINE_MIN_PAGES, len(pages)), math.ceil(RUNNING_LINE_SHARE * len(pages)))
    running = {key for key, where in seen.items() if _pages_in_one_place(where) >= needed}
    if not running:
        return pages
    cleaned: list[PageText] = []
    for index, page in enumerate(pages):
        lines = page.text.split("\n")
        edges = _edge_indices(lines)
        lines = [
            line
            for position, line in enumerate(lines)
            if not (position in edges and running.intersection(keys(index, line)))
        ]
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
        if text.strip():
            cleaned.append(replace(page, text=text))
    return cleaned


def _opening_heading_height(lines: list[str], position: int, font: LineFonts) -> float | None:
    """How far below the top of its page the line at ``position`` sits, when it is a heading that opens the
    page: among its first ``RUNNING_LINE_DEPTH`` lines and not its last (it heads the text after it, as a
    chart legend or margin title near the foot of the page does not); else None."""
    filled = [index for index, line in enumerate(lines) if line.strip()]
    opening = position in filled[:RUNNING_LINE_DEPTH] and position not in filled[-RUNNING_LINE_DEPTH:]
    return font.height(lines[position]) if opening and font.is_heading(lines[position]) else None


def _pages_in_one_place(where: Mapping[int, float | None]) -> int:
    """The most pages a line is on in one place: every page where its height does not count (see
    :func:`_opening_heading_height`), and those where it opens the page within ``RUNNING_LINE_DRIFT`` of one
    height."""
    heights = sorted(height for height in where.values() if height is not None)
    placed = max(
        (sum(1 for other in heights if 0 <= other - height <= RUNNING_LINE_DRIFT) for height in heights), default=0
    )
    return len(where) - len(heights) + placed


def _edge_indices(lines: list[str]) -> set[int]:
    """Positions of the first and last few non-empty lines of a page, where running headers and footers sit."""
    filled = [position for position, line in enumerate(lines) if line.strip()]
    return set(filled[:RUNNING_LINE_DEPTH] + filled[-RUNNING_LINE_DEPTH:])


def _edge_lines(text: str) -> list[str]:
    lines = text.split("\n")
    return [lines[position].strip() for position in sorted(_edge_indices(lines))]


def _running_keys(line: str, page_number: int, numbered: bool = True) -> list[tuple[str, int | None]]:
    """Ways a line can repeat: as written, or (when ``numbered``) with one of its numbers standing for the
    page number."""
    normal = " ".join(line.lower().split())
    keys: list[tuple[str, int | None]] = [(normal, None)]
    if not numbered:
        return keys
    for match in _NUMBER_TOKEN.finditer(normal):
        template = f"{normal[: match.start()]}#{normal[match.end() :]}"
        keys.append((template, int(match.group()) - page_number))
    return keys


def _clean_pdf_text(text: str, spelling: _WordForms | None = None) -> str:
    """Undo PDF layout artefacts while keeping the line breaks the splitter relies on."""
    text = _normalise_line_endings(text).translate(_LIGATURES)
    text = _CONTROL_CHARS.sub("", text)
    # As "•", so the splitter keeps the list with its introduction and a point can be quoted without a glyph
    # that shows as an empty box.
    text = _SYMBOL_BULLET.sub(r"\1• ", text)
    spelling = spelling or _WordForms.of([text])
    text = _unbreak_line_end_hyphens(text, spelling).replace("\u00ad", "")
    lines = [line.rstrip() for line in text.split("\n")]
    lines = _drop_page_number_lines(lines)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def _unbreak_line_end_hyphens(text: str, spelling: _WordForms) -> str:
    """Each word a line-end hyphen splits made whole (see :meth:`_WordForms.unbreak`), also a word split
    over three lines: one pass consumes the middle part ("the multi-/discipli-/nary team" came out as
    "the multidiscipli-/nary team"), so passes repeat until nothing changes."""
    while True:
        unbroken = _HYPHENATED_LINE_END.sub(spelling.unbreak, text)
        if unbroken == text:
            return text
        text = unbroken


@dataclass(frozen=True)
class _WordForms:
    """How a PDF spells its words where no line break splits them: the evidence for reading a hyphen at the
    end of a line."""

    hyphenated: frozenset[str]
    whole: frozenset[str]

    @classmethod
    def of(cls, texts: Iterable[str]) -> _WordForms:
        hyphenated: set[str] = set()
        whole: set[str] = set()
        for text in texts:
            lowered = text.translate(_LIGATURES).lower()
            hyphenated.update(_HYPHENATED_WORD.findall(lowered))
            whole.update(_LETTERS.findall(_HYPHENATED_LINE_END.sub(" ", lowered)))
        return cls(frozenset(hyphenated), frozenset(whole))

    def unbreak(self, match: re.Match[str]) -> str:
        """One word from "innova-/tion", "self-assessment" from "self-/assessment"; "NHS-/England" as it is.

        A line-end hyphen is either the typesetter's (a word split at a syllable) or the author's (a compound
        that happened to end the line). The document decides where it can: the hyphenated form written
        elsewhere keeps the hyphen, the joined word written elsewhere drops it. Otherwise a few first parts
        that make compounds keep it ("self-", "well-", "non-", "cross-"), and the rest join: a syllable break
        is the usual reason, and "informaticians" cut as "informa-/ticians" is rarely written twice. Only a
        lowercase continuation is a split word at all; a soft hyphen is always the typesetter's.
        """
        first, hyphen, rest = match.group(1), match.group(2), match.group(3)
        if not rest[0].islower():
            return match.group(0)
        compound = f"{first}-{rest}"
        joined = f"{first}{rest}"
        if hyphen == "\u00ad":
            return joined
        if compound.lower() in self.hyphenated:
            return compound
        if joined.lower() in self.whole:
            return joined
        return compound if first.lower() in _COMPOUND_PREFIXES else joined


def _drop_page_number_lines(lines: list[str]) -> list[str]:
    """Drop page-number-only lines at the top or bottom of a page.

    Only the first and last non-empty lines are checked: a bare number inside the page is more likely a
    table cell or statistic than a page number.
    """
    filled = [index for index, line in enumerate(lines) if line.strip()]
    edges = {filled[0], filled[-1]} if filled else set()
    return [
        line for index, line in enumerate(lines) if not (index in edges and _PAGE_NUMBER_LINE.fullmatch(line.strip()))
    ]


@contextmanager
def _captured_pdf_diagnostics() -> Iterator[list[str]]:
    """Collect pypdf's log records (its channel for "damaged file, repaired") away from the terminal.

    This swaps process-wide logging state for the duration, so PDFs are meant to be loaded one at a time.
    """
    messages: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger("pypdf")
    handler = _Collect(level=logging.WARNING)
    previous_propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = previous_propagate


def _summarise_diagnostics(messages: list[str]) -> str:
    distinct = list(dict.fromkeys(message.strip() for message in messages if message.strip()))
    if not distinct:
        return "the PDF parser repaired problems in this file; check the text"
    extra = f" (+{len(distinct) - 1} more)" if len(distinct) > 1 else ""
    return f"the PDF parser repaired problems in this file: {_short_text(distinct[0])}{extra}"


def _short_reason(error: BaseException) -> str:
    return _short_text(str(error)) or type(error).__name__


def _short_text(text: str) -> str:
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    if len(first_line) <= _MAX_REASON_CHARS:
        return first_line
    return first_line[: _MAX_REASON_CHARS - 1].rstrip() + "…"


# --------------------------------------------------------------------------------------------- DOCX

_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAX_MARKDOWN_HEADING = 6


def _read_docx(path: Path, raw: bytes) -> _Extraction:
    """Paragraphs and tables in document order, headings as markdown, a blank line between blocks."""
    if raw.startswith(_OLE_SIGNATURE):
        raise UnreadableDocument(path, "old Word .doc format (or password-protected): save it as .docx")
    try:
        document = docx.Document(io.BytesIO(raw))
        blocks = [_docx_block_text(block) for block in document.iter_inner_content()]
        title_hint = document.core_properties.title
    # Besides BadZipFile and PackageNotFoundError, a zip with missing or malformed parts raises KeyError,
    # ValueError or lxml errors; all mean the same thing to the user.
    except Exception as error:
        reason = f"damaged or not a Word .docx file ({_short_reason(error)})"
        raise UnreadableDocument(path, reason) from error
    text = "\n\n".join(block for block in blocks if block)
    return _Extraction(pages=(PageText(number=None, text=text),), title_hint=title_hint or None)


def _docx_block_text(block: Paragraph | Table) -> str:
    if isinstance(block, Table):
        return _docx_table_text(block)
    return _docx_paragraph_text(block)


def _docx_paragraph_text(paragraph: Paragraph) -> str:
    text = paragraph.text.strip()
    if not text:
        return ""
    style_name = (paragraph.style.name if paragraph.style is not None else "") or ""
    level = _heading_level(style_name)
    if level:
        return "#" * level + " " + _clean_title(text)
    if style_name.startswith("List"):
        return "- " + text
    return text


def _heading_level(style_name: str) -> int:
    """Markdown level for Word's "Title" and "Heading N" styles (capped at 6, markdown's deepest); else 0."""
    if style_name == "Title":
        return 1
    match = re.fullmatch(r"Heading (\d)", style_name)
    return min(int(match.group(1)), _MAX_MARKDOWN_HEADING) if match else 0


def _docx_table_text(table: Table) -> str:
    rows: list[list[str]] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            # A merged cell is returned once per grid column it spans; keep it once.
            if previous is not None and cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(cell.text)
        rows.append(cells)
    return _table_text(rows)


def _table_text(rows: Iterable[Sequence[str]]) -> str:
    """A Word or PowerPoint table as one "a | b | c" line per row, each cell on one line; empty rows dropped."""
    lines: list[str] = []
    for row in rows:
        cells = [re.sub(r"\s+", " ", cell).strip() for cell in row]
        if any(cells):
            lines.append(ROW_SEPARATOR.join(cells))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- PPTX

# Placeholders PowerPoint fills in on every slide: they repeat across the deck and say nothing of the slide.
_SLIDE_CHROME = frozenset({PP_PLACEHOLDER.SLIDE_NUMBER, PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.DATE})
_BULLET_MARKS = (qn("a:buChar"), qn("a:buAutoNum"), qn("a:buBlip"))
_SPEAKER_NOTES_LABEL = "Speaker notes:"
_DIAGRAM_URI = "http://schemas.openxmlformats.org/drawingml/2006/diagram"
_DIAGRAM = f"{{{_DIAGRAM_URI}}}"
_GRAPHIC_NOT_READ = "chart/diagram text not read"
# Rows of one chart that are read; a chart of daily figures would otherwise fill a slide's chunks with them.
_CHART_ROWS_SHOWN = 60
# A chart's table is cut into blocks about this long: a row of figures runs to a word piece per two characters,
# so each block fits well inside a 190-piece chunk.
_CHART_BLOCK_CHARS = 300
_XY_PLOTS = (XyPlot, BubblePlot)
_CHART_AXES = tuple(qn(tag) for tag in ("c:catAx", "c:dateAx", "c:valAx", "c:serAx"))
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_1904_EPOCH = date(1904, 1, 1)
# Excel format code pieces: a quoted text, an escaped character, a [bracket] (colour, condition, locale or
# currency), padding ("_x") and fill ("*x"), then the fields.
_FORMAT_LITERAL = r'"[^"]*"|\\.|\[[^\]]*\]|[_*].'
_NUMBER_TOKENS = re.compile(rf"{_FORMAT_LITERAL}|[eE][+-]|.", re.DOTALL)
_NUMBER_PLACES = frozenset("0#?.,")
# A [condition] ("[>=1000]") chooses a section by the value, not by its sign as sections otherwise are.
_FORMAT_CONDITION = re.compile(r"\[[<>=]")
# Date and time fields, each a run of one letter; "[h]", "[mm]" and "[ss]" count elapsed time past a day or
# an hour, so they are matched before the other brackets; ".00" after seconds gives their fraction.
_DATE_TOKENS = re.compile(
    rf"\[(?:h+|m+|s+)\]|{_FORMAT_LITERAL}|am/pm|a/p|y+|m+|d+|h+|s+|\.0+|.", re.IGNORECASE | re.DOTALL
)
_MONTH_FIELDS: dict[int, Callable[[date], str]] = {
    1: lambda day: str(day.month),
    2: lambda day: f"{day.month:02d}",
    3: lambda day: day.strftime("%b"),
    4: lambda day: day.strftime("%B"),
    5: lambda day: day.strftime("%B")[0],
}
_HOUR_FIELDS = frozenset({"h", "[h]"})
_SECOND_FIELDS = frozenset({"s", "[s]"})
_ALL_HIDDEN_REASON = "every slide is hidden: unhide the slides to index (PowerPoint: Slide Show > Hide Slide)"
_NO_DECK_TEXT_REASON = "no text on any slide: its slides hold only empty placeholders or shapes"

_T = TypeVar("_T")


@dataclass(frozen=True)
class _SlideReading:
    """One slide's text, what on it could not be read, and whether it shows pictures (whose text needs OCR)."""

    text: str
    not_read: tuple[str, ...]
    has_pictures: bool


def _read_pptx(path: Path, raw: bytes) -> _Extraction:
    """One page per slide, numbered as PowerPoint numbers it, so a citation sends the reader to the slide.

    A slide reads as its title (a markdown heading: the deck's only headings, so the splitter stops guessing
    them from short lines, which made table rows into headings), its text in reading order, then its speaker
    notes, where a deck often keeps what the presenter actually said. Hidden slides are left out but keep
    their numbers, as PowerPoint shows them. Only a file that cannot be opened is refused as damaged: a shape
    that cannot be read costs a warning naming its slide, and the rest of the deck is kept.
    """
    if raw.startswith(_OLE_SIGNATURE):
        reason = "old PowerPoint .ppt format (or password-protected): remove the password or save it as .pptx"
        raise UnreadableDocument(path, reason)
    try:
        deck = pptx.Presentation(io.BytesIO(raw))
        slides = list(enumerate(deck.slides, start=1))
        title_hint = deck.core_properties.title
    # As for Word: BadZipFile, PackageNotFoundError, KeyError, ValueError or lxml errors all mean the same
    # thing to the user, except a sound Office file of another kind, which python-pptx names by its content
    # type (and the memory address of the buffer).
    except Exception as error:
        if isinstance(error, ValueError) and "is not a PowerPoint file" in str(error):
            reason = "not a PowerPoint file: another Office document (Word or Excel?) named .pptx; check the file"
        else:
            reason = f"damaged or not a PowerPoint .pptx file ({_short_reason(error)})"
        raise UnreadableDocument(path, reason) from error
    shown = [(number, slide) for number, slide in slides if not _is_hidden_slide(slide)]
    if slides and not shown:
        raise UnreadableDocument(path, _ALL_HIDDEN_REASON)
    notes: list[str] = []
    readings: list[tuple[int, _SlideReading]] = []
    for number, slide in shown:
        reading = _read_or_note(partial(_read_slide, slide), None, f"slide {number}", notes)
        if reading is not None:
            readings.append((number, reading))
            notes.extend(f"slide {number}: {problem}" for problem in reading.not_read)
    pages = tuple(PageText(number=number, text=reading.text) for number, reading in readings if reading.text)
    # A slide without text but with a picture is probably a picture of text; one without either is just empty.
    pictured = [number for number, reading in readings if not reading.text and reading.has_pictures]
    if shown and not pages:
        if pictured:
            raise UnreadableDocument(path, _no_text_reason("a deck of pictures"))
        raise UnreadableDocument(path, f"no text could be read ({notes[0]})" if notes else _NO_DECK_TEXT_REASON)
    if pictured:
        notes.append(_no_text_note("slide", pictured))
    return _Extraction(pages=pages, warnings=tuple(notes), title_hint=title_hint or None, headings_from_fonts=True)


def _is_hidden_slide(slide: Slide) -> bool:
    """PowerPoint's "Hide Slide": kept out of the slide show, usually a draft or a spare, so out of the index."""
    return slide.element.get("show") in {"0", "false"}


def _read_slide(slide: Slide) -> _SlideReading:
    """The slide's title as a heading, its other shapes' text, its speaker notes, and what could not be read.

    Each shape is read on its own: python-pptx raises on a shape it has no class for (an ink drawing) or whose
    part is damaged, and one such shape is no reason to lose the slide, let alone the deck.
    """
    not_read: list[str] = []
    shapes = _reading_order(slide.shapes, not_read)
    title = next((shape for shape in shapes if _is_title(shape)), None)
    heading = ""
    if title is not None:
        heading = _read_or_note(lambda: _clean_title(title.text_frame.text), "", "the title", not_read)
    blocks = [f"# {heading}" if heading else ""]
    body_style = slide.slide_layout.slide_master.element.find(f"{qn('p:txStyles')}/{qn('p:bodyStyle')}")
    for shape in shapes:
        if shape is not title:
            blocks.append(_read_or_note(partial(_shape_text, shape, body_style, not_read), "", "a shape", not_read))
    blocks.append(_read_or_note(partial(_speaker_notes, slide), "", "the speaker notes", not_read))
    text = "\n\n".join(block for block in blocks if block)
    # Any picture the slide itself shows (a picture shape or placeholder, a picture fill or background) names
    # an image part, as "a:blip"; the master's logo does not count.
    has_pictures = next(slide.element.iter(qn("a:blip")), None) is not None
    return _SlideReading(text=text, not_read=tuple(dict.fromkeys(not_read)), has_pictures=has_pictures)


def _read_or_note(read: Callable[[], _T], failed: _T, what: str, not_read: list[str]) -> _T:
    """``read()``, or ``failed`` with a note in ``not_read`` when it raises: python-pptx raises many types
    (AttributeError, KeyError, ValueError, lxml errors) on a part it cannot make sense of."""
    try:
        return read()
    except Exception as error:
        not_read.append(f"{what} could not be read and was left out ({_short_reason(error)})")
        return failed


def _reading_order(shapes: SlideShapes | GroupShapes, not_read: list[str]) -> list[BaseShape]:
    """Top to bottom, then left to right; shapes at the same place keep their order in the file.

    Shapes are taken one at a time because python-pptx builds them as it goes: one it cannot build would
    otherwise lose every shape after it.
    """
    placed = (_read_or_note(partial(_placed, shapes, index), None, "a shape", not_read) for index in range(len(shapes)))
    return [shape for _, shape in sorted((item for item in placed if item is not None), key=lambda item: item[0])]


def _placed(shapes: SlideShapes | GroupShapes, index: int) -> tuple[tuple[int, int], BaseShape]:
    shape = shapes[index]
    return (shape.top or 0, shape.left or 0), shape


def _is_title(shape: BaseShape) -> TypeGuard[Shape]:
    """The slide's title placeholder, found as python-pptx's ``shapes.title`` finds it (index 0)."""
    return isinstance(shape, Shape) and shape.is_placeholder and shape.placeholder_format.idx == 0


def _shape_text(shape: BaseShape, body_style: BaseOxmlElement | None, not_read: list[str]) -> str:
    """A shape's text: a group's shapes in reading order, a table's rows, a chart's or a SmartArt diagram's
    words, a text box's paragraphs. A chart or diagram whose words cannot be found is noted in ``not_read``, so
    the user hears that its slide lost them rather than that the slide looks like a picture."""
    if isinstance(shape, GroupShape):
        members = _reading_order(shape.shapes, not_read)
        texts = (
            _read_or_note(partial(_shape_text, member, body_style, not_read), "", "a shape", not_read)
            for member in members
        )
        return "\n\n".join(text for text in texts if text)
    if shape.is_placeholder and shape.placeholder_format.type in _SLIDE_CHROME:
        return ""
    if isinstance(shape, GraphicFrame) and shape.has_table:
        # A cell merged across columns is kept once; one merged down from the row above is left empty, so the
        # row's other cells stay under their headers ("Admissions" is a measure, not a site).
        return _table_text(
            ["" if cell.is_spanned and cell._tc.vMerge else cell.text for cell in row.cells if not cell._tc.hMerge]
            for row in shape.table.rows
        )
    if isinstance(shape, GraphicFrame):
        text = _chart_text(shape.chart) if shape.has_chart else _diagram_text(shape)
        if not text:
            not_read.append(_GRAPHIC_NOT_READ)
        return text
    if isinstance(shape, Shape):
        list_styles = _list_styles(shape, body_style if shape.is_placeholder else None)
        return _paragraphs_text(shape.text_frame, list_styles)
    return ""


def _chart_text(chart: Chart) -> str:
    """A chart's title ("Chart: Median wait fell from 9 to 4 hours"; often the slide's finding), then its data
    as a table: a header naming the categories and each series, a markdown delimiter row that marks it as the
    header, and one row per category with each value as the chart shows it ("Q3 2024/25 | 505 | 240"). A
    question's answer ("how many staff hours were released in Q3?") is often only in a chart, and written as
    rows it becomes one statement per category, its figures named by series, like any other table.

    Values are stored unformatted (a 62% bar is 0.62, a date a day count), so each is written in its cells'
    number format, or in the chart's own (its data labels', its axis's) where the cells are left "General". A
    long chart is cut into tables of a few rows, each under the title and the header again, so no chunk holds
    rows without the names of their columns; past ``_CHART_ROWS_SHOWN`` rows it is cut short, with a note
    saying so. A chart without a title gives "" when nothing names its figures (see ``named``).
    """
    # ``chart_title`` adds a title to a chart that has none, so ask first. A " | " in the title would make its
    # line a table row, and the header under it would be read as data.
    title = (
        _chart_cell(chart.chart_title.text_frame.text) if chart.has_title and chart.chart_title.has_text_frame else ""
    )
    heading = f"Chart: {title}" if title else "Chart"
    date1904 = _flag_is_set(chart._chartSpace.find(qn("c:date1904")))
    plots = list(chart.plots)
    tables = [
        table
        for table in (
            _category_table([plot for plot in plots if not isinstance(plot, _XY_PLOTS)], title, date1904),
            _xy_table([plot for plot in plots if isinstance(plot, _XY_PLOTS)], title, date1904),
        )
        if table is not None
    ]
    # Figures that nothing names (no title, series name, axis title or worded label) answer no question.
    blocks = [block for table in tables if title or table.named for block in _chart_table_blocks(heading, table)]
    if not blocks:
        return heading if title else ""
    return "\n\n".join(blocks)


@dataclass(frozen=True)
class _ChartTable:
    """A chart's data as its sheet holds it: a label column (the categories, or a scatter chart's x values)
    named ``label_name``, then a column per series; every cell as the chart shows it, "" where a cell is blank.
    ``named`` says whether anything in it says what it counts: a series' or the axis's own title, or a label
    with a word in it."""

    label_name: str
    series: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    named: bool


def _category_table(plots: Sequence[_BasePlot], title: str, date1904: bool) -> _ChartTable | None:
    """The category plots' series side by side (a bar-and-line chart shares its categories), labelled by the
    first series' categories; a category with several levels ("2024/25" over "Q1") names all of them."""
    series = [(plot, one) for plot in plots for one in plot.series]
    if not series:
        return None
    label_axis, value_axis = _plot_axes(plots[0])
    labels = _cached_cells(series[0][1]._element.find(qn("c:cat")), date1904, _own_number_format(label_axis))
    values = [
        _cached_cells(one._element.find(qn("c:val")), date1904, _value_number_format(plot, one)) for plot, one in series
    ]
    axis_title = _axis_title(label_axis)
    # A chart drawn without categories numbers them along its axis, from 1.
    rows = tuple(
        (labels.get(index) or "(blank)" if labels else str(index + 1), *(cells.get(index, "") for cells in values))
        for index in sorted({index for cells in values for index in cells})
    )
    value_title = _axis_title(value_axis)
    return _ChartTable(
        label_name=axis_title or "Category",
        series=_series_names([one for _, one in series], title or value_title),
        rows=rows,
        named=_is_named([one for _, one in series], axis_title or value_title, rows),
    )


def _xy_table(plots: Sequence[_BasePlot], title: str, date1904: bool) -> _ChartTable | None:
    """A scatter or bubble chart's points, one row per x value (in the order the series first give them) and a
    column per series, so the series' points at one x share a row. A bubble's size is not read."""
    series = [(plot, one) for plot in plots for one in plot.series]
    if not series:
        return None
    rows: list[list[str]] = []
    rows_at: dict[str, list[list[str]]] = {}
    for column, (plot, one) in enumerate(series):
        x_format = _own_number_format(_plot_axes(plot)[0])
        xs = _cached_cells(one._element.find(qn("c:xVal")), date1904, x_format)
        ys = _cached_cells(one._element.find(qn("c:yVal")), date1904, _value_number_format(plot, one))
        for index, y in sorted(ys.items()):
            # Without x values a scatter chart places its points at 1, 2, 3 ...
            x = xs.get(index) or str(index + 1)
            row = next((row for row in rows_at.get(x, []) if not row[column + 1]), None)
            if row is None:
                row = [x, *[""] * len(series)]
                rows.append(row)
                rows_at.setdefault(x, []).append(row)
            row[column + 1] = y
    x_axis, y_axis = _plot_axes(plots[0])
    axis_title, value_title = _axis_title(x_axis), _axis_title(y_axis)
    return _ChartTable(
        label_name=axis_title or "X",
        series=_series_names([one for _, one in series], title or value_title),
        rows=tuple(tuple(row) for row in rows),
        named=_is_named([one for _, one in series], axis_title or value_title, rows),
    )


def _series_names(series: Sequence[_BaseSeries], single_name: str) -> tuple[str, ...]:
    """Each series' name. A lone series without one is what the chart counts: ``single_name`` (the chart's or
    the value axis's title), else "Value". Among several, one without a name is "Series 2 value": PowerPoint's
    legend calls it "Series 2", but a row's statement writes each figure after its column's name, and
    "Jan: Series 2 1" reads as the number "2 1"; a word between them keeps the two numbers apart."""
    if len(series) == 1 and not _chart_cell(series[0].name or ""):
        return (single_name or "Value",)
    return tuple(_chart_cell(one.name or "") or f"Series {number} value" for number, one in enumerate(series, start=1))


def _is_named(series: Sequence[_BaseSeries], axis_title: str, rows: Sequence[Sequence[str]]) -> bool:
    return bool(axis_title) or any(one.name for one in series) or any(re.search(r"[^\W\d_]", row[0]) for row in rows)


def _plot_axes(plot: _BasePlot) -> tuple[BaseOxmlElement | None, BaseOxmlElement | None]:
    """The plot's two axes in the order it names them: the category (or x) axis, then the value (or y) axis;
    None for an axis it has not (a pie chart has none)."""
    plot_area = plot._element.getparent()
    ids = [axis_id.get("val") for axis_id in plot._element.findall(qn("c:axId"))]
    axes: dict[str | None, BaseOxmlElement] = {}
    if plot_area is not None:
        for axis in plot_area.iterchildren(*_CHART_AXES):
            own_id = axis.find(qn("c:axId"))
            if own_id is not None:
                axes.setdefault(own_id.get("val"), axis)
    found = [axes.get(axis_id) for axis_id in ids[:2]]
    found += [None] * (2 - len(found))
    return found[0], found[1]


def _axis_title(axis: BaseOxmlElement | None) -> str:
    title = axis.find(qn("c:title")) if axis is not None else None
    if title is None:
        return ""
    return _chart_cell("".join(node.text or "" for node in title.iter(qn("a:t"), qn("c:v"))))


def _value_number_format(plot: _BasePlot, series: _BaseSeries) -> str:
    """The format a series' values are shown in on the slide, where the chart sets one of its own: the series'
    data labels, else the plot's, else the value axis's ticks."""
    for labels in (series._element.find(qn("c:dLbls")), plot._element.find(qn("c:dLbls"))):
        code = _own_number_format(labels)
        if code:
            return code
    return _own_number_format(_plot_axes(plot)[1])


def _own_number_format(element: BaseOxmlElement | None) -> str:
    """The number format an axis or data labels set (``c:numFmt``), or "" for none. One linked to the sheet
    ("sourceLinked") is the cells' own format, which their cache already gives."""
    number_format = element.find(qn("c:numFmt")) if element is not None else None
    if number_format is None or number_format.get("sourceLinked") in {"1", "true"}:
        return ""
    return number_format.get("formatCode") or ""


def _cached_cells(data: BaseOxmlElement | None, date1904: bool, chart_format: str = "") -> dict[int, str]:
    """The cells a chart keeps of its sheet (a series' ``c:cat``, ``c:val``, ``c:xVal`` or ``c:yVal``) by point
    index, as the chart shows them: text as written, numbers in their number format. A cell left in "General"
    takes ``chart_format``, the format the chart shows it in (see ``_value_number_format``): a sheet of 0.62s
    is often shown as 62% by the chart alone. A blank cell has no point. Categories of several levels
    (``c:multiLvlStrCache``, innermost level first) are named outermost first."""
    if data is None:
        return {}
    levels = data.findall(f".//{qn('c:lvl')}")
    if levels:
        named = [{index: point.findtext(qn("c:v")) or "" for index, point in _points(level)} for level in levels]
        return {
            index: _chart_cell(" ".join(_level_label(level, index) for level in reversed(named))) for index in named[0]
        }
    cache = next(data.iter(qn("c:numCache"), qn("c:numLit"), qn("c:strCache"), qn("c:strLit")), None)
    if cache is None:
        return {}
    numeric = cache.tag in {qn("c:numCache"), qn("c:numLit")}
    code = cache.findtext(qn("c:formatCode")) or "General"
    cells: dict[int, str] = {}
    for index, point in _points(cache):
        text = point.findtext(qn("c:v")) or ""
        # A point may carry its own format, as a cell formatted apart from its column does.
        own_code = point.get("formatCode") or code
        if chart_format and own_code.strip().lower() == "general":
            own_code = chart_format
        cells[index] = _chart_cell(_formatted_value(text, own_code, date1904) if numeric else text)
    return cells


def _points(cache: BaseOxmlElement) -> Iterator[tuple[int, BaseOxmlElement]]:
    for point in cache.iterchildren(qn("c:pt")):
        index = point.get("idx", "")
        if index.isdigit():
            yield int(index), point


def _level_label(level: dict[int, str], index: int) -> str:
    """An outer category level names a run of points by its first: the label at or before ``index``."""
    return next((level[at] for at in range(index, -1, -1) if at in level), "")


def _chart_cell(text: str) -> str:
    """A cell on one line, without the separator that would split it into two."""
    return _clean_title(text).replace(ROW_SEPARATOR, " / ")


def _flag_is_set(element: BaseOxmlElement | None) -> bool:
    return element is not None and element.get("val", "1") in {"1", "true"}


def _chart_table_blocks(heading: str, table: _ChartTable) -> list[str]:
    """The table as blocks of at most ``_CHART_BLOCK_CHARS`` (one row at least), each under the chart's heading
    and the table's header: the splitter keeps a block whole but cuts a longer one at its lines."""
    rows = [row for row in table.rows if any(row[1:])]
    if not rows:
        return []
    top = [
        heading,
        ROW_SEPARATOR.join((table.label_name, *table.series)),
        ROW_SEPARATOR.join(["---"] * (len(table.series) + 1)),
    ]
    blocks: list[list[str]] = []
    for line in (ROW_SEPARATOR.join(row) for row in rows[:_CHART_ROWS_SHOWN]):
        full = bool(blocks) and len(blocks[-1]) > len(top) and len("\n".join([*blocks[-1], line])) > _CHART_BLOCK_CHARS
        if not blocks or full:
            blocks.append(list(top))
        blocks[-1].append(line)
    texts = ["\n".join(block) for block in blocks]
    if len(rows) > _CHART_ROWS_SHOWN:
        texts.append(f"(The chart has {len(rows)} rows of data; only the first {_CHART_ROWS_SHOWN} are read.)")
    return texts


def _formatted_value(text: str, code: str, date1904: bool) -> str:
    """A number as Excel shows it in ``code``: a date or time format makes it a date or a time of day (or an
    elapsed time, "[h]:mm"), a number format gives its percent, thousands separators, zero padding, decimals
    and currency; "General", or a format not understood here (a fraction, scientific notation, sections chosen
    by a [condition]), a plain number. Text that is not a number is kept as written."""
    try:
        value = float(text)
    except ValueError:
        return text
    if not math.isfinite(value):
        return text
    # A condition ("[>=1000]#,##0,\"k\";0") sends each value to the section whose test it passes; read by sign
    # instead, 2 showed as "0k". The plain number is right for every value.
    if any(_FORMAT_CONDITION.match(token) for token in _NUMBER_TOKENS.findall(code)):
        return _plain_number(value)
    sections = _format_sections(code)
    section, shown = sections[0], value
    # Excel's sections are positive;negative;zero: the negative one writes its own sign or brackets. A zero is
    # read as the positive section shows it; its own section is usually a dash, which reads as a gap.
    if value < 0 and len(sections) > 1 and sections[1].strip():
        section, shown = sections[1], -value
    fields = _date_fields(section)
    if fields is not None:
        return _formatted_date(value, fields, date1904) or _plain_number(value)
    return _formatted_number(shown, section) or _plain_number(value)


def _format_sections(code: str) -> list[str]:
    """A format code cut at its ";"s, except one quoted or escaped."""
    sections = [""]
    for token in _NUMBER_TOKENS.findall(code):
        if token == ";":
            sections.append("")
        else:
            sections[-1] += token
    return sections


def _plain_number(value: float) -> str:
    """A number as "General" shows it: no trailing ".0", no exponent."""
    if value.is_integer():
        return str(int(value))
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@dataclass(frozen=True)
class _DateField:
    """One piece of a date or time format: a field, named by ``kind`` ("y", "m" for the month, "n" for minutes,
    "d", "h", "s", "[h]", "[m]" or "[s]" for elapsed time, "ampm", "fraction" of a second) and ``width``, its
    letters or digits; or, with ``kind`` "", text shown as written. ``token`` is the piece as the code has it."""

    kind: str
    width: int
    token: str


def _date_fields(section: str) -> list[_DateField] | None:
    """A format section's date and time fields and the text between them, or None when it is no date format:
    it has no field, or it holds a digit place ("0 km" is a number with an unquoted unit, not a minute).

    "m" and "mm" are the month, as Excel reads them, unless they follow an hour or come before seconds (with
    only text between): then they are minutes ("h:mm", "mm:ss", "dd/mm/yyyy hh:mm" has both)."""
    fields: list[_DateField] = []
    for token in _DATE_TOKENS.findall(section):
        lower = token.lower()
        elapsed = re.fullmatch(r"\[(h+|m+|s+)\]", lower)
        if elapsed:
            fields.append(_DateField(f"[{lower[1]}]", len(elapsed.group(1)), token))
        elif lower in {"am/pm", "a/p"}:
            fields.append(_DateField("ampm", 0, token))
        elif lower[0] in "ymdhs" and lower == lower[0] * len(lower):
            fields.append(_DateField(lower[0], len(token), token))
        elif re.fullmatch(r"\.0+", token):
            fields.append(_DateField("fraction", len(token) - 1, token))
        elif token in {"0", "#", "?"}:
            return None
        else:
            fields.append(_DateField("", 0, token))
    placed = [index for index, field in enumerate(fields) if field.kind]
    if not placed:
        return None
    for position, index in enumerate(placed):
        field = fields[index]
        before = fields[placed[position - 1]].kind if position else ""
        after = fields[placed[position + 1]].kind if position + 1 < len(placed) else ""
        if field.kind == "fraction" and before not in _SECOND_FIELDS:
            return None  # "0.00" digits, not a fraction of a second
        if field.kind == "m" and field.width <= 2 and (before in _HOUR_FIELDS or after in _SECOND_FIELDS):
            fields[index] = replace(field, kind="n")
    return fields


def _formatted_date(serial: float, fields: Sequence[_DateField], date1904: bool) -> str:
    """An Excel serial (days since the epoch) in a date or time format: its whole days give the date, its
    fraction of a day the time. It is rounded, as Excel rounds it, to the fraction of a second shown, so 7
    minutes 44.83 seconds is "07:45" in "mm:ss". "" for a negative serial, which Excel shows as "#####", or
    one past the calendar."""
    if serial < 0:
        return ""
    per_second = 10 ** max((field.width for field in fields if field.kind == "fraction"), default=0)
    ticks = math.floor(serial * 86400 * per_second + 0.5)
    days, rest = divmod(ticks, 86400 * per_second)
    try:
        day = (_EXCEL_1904_EPOCH if date1904 else _EXCEL_EPOCH) + timedelta(days=days)
    except OverflowError:
        return ""
    seconds, fraction = divmod(rest, per_second)
    elapsed = ticks // per_second
    afternoon = seconds >= 12 * 3600
    twelve_hour = any(field.kind == "ampm" for field in fields)
    hour = seconds // 3600
    clock = {"h": (hour % 12 or 12) if twelve_hour else hour, "n": seconds // 60 % 60, "s": seconds % 60}
    count = {"[h]": elapsed // 3600, "[m]": elapsed // 60, "[s]": elapsed}
    parts: list[str] = []
    for field in fields:
        if field.kind in clock:
            parts.append(f"{clock[field.kind]:0{min(field.width, 2)}d}")
        elif field.kind in count:
            parts.append(f"{count[field.kind]:0{field.width}d}")
        elif field.kind == "y":
            parts.append(f"{day.year % 100:02d}" if field.width <= 2 else f"{day.year:04d}")
        elif field.kind == "m":
            parts.append(_MONTH_FIELDS.get(field.width, _MONTH_FIELDS[4])(day))
        elif field.kind == "d":
            parts.append(_day_field(day, field.width))
        elif field.kind == "ampm":
            # Written as the code writes it: "AM/PM" gives "PM", "a/p" gives "p".
            parts.append(field.token.split("/")[1 if afternoon else 0])
        elif field.kind == "fraction":
            parts.append("." + str(fraction).zfill(len(str(per_second)) - 1)[: field.width])
        else:
            parts.append(_literal(field.token))
    return _clean_title("".join(parts))


def _day_field(day: date, width: int) -> str:
    """ "d" and "dd" are the day of the month, "ddd" and "dddd" the day of the week."""
    if width <= 2:
        return f"{day.day:0{width}d}"
    return day.strftime("%a" if width == 3 else "%A")


def _formatted_number(value: float, section: str) -> str:
    """``value`` in a number format's section, or "" for one it cannot follow (scientific, fractions).

    Each "0" before the point is a digit always shown, so "00000" pads 17 to "00017". The whole number is at
    least one digit: Excel shows nothing for 0 in "#" (and ".5" for 0.5 in "#.0"), but an empty cell drops
    the figure from its row, and a bare ".5" loses its point in a sentence, so "0" is written."""
    tokens = _NUMBER_TOKENS.findall(section)
    digits = "".join(token for token in tokens if token in _NUMBER_PLACES)
    if not re.search(r"[0#?]", digits) or any(token.lower() in {"e+", "e-", "/"} for token in tokens):
        return ""
    core = digits.rstrip(",")
    whole, _, decimals = core.partition(".")
    places = sum(1 for char in decimals if char in "0#?")
    # Each "%" multiplies by 100; each comma after the last digit divides by 1000 ("#,##0," shows thousands).
    percents = sum(1 for token in tokens if token == "%")
    scaled = Decimal(repr(abs(value))).scaleb(2 * percents - 3 * (len(digits) - len(core)))
    # The default context keeps 28 digits, and rounding a number of more (1e26 to two places) raises.
    context = Context(prec=max(scaled.adjusted(), 0) + places + 2, rounding=ROUND_HALF_UP)
    rounded = context.quantize(scaled, Decimal(1).scaleb(-places))
    integer, _, fraction = f"{rounded:.{places}f}".partition(".")
    integer = integer.zfill(whole.count("0"))
    number = (_grouped(integer) if "," in whole else integer) + (f".{fraction}" if places else "")
    # "#" decimals show only when not zero ("0.0#": 62.5 but 62.25).
    for _ in range(places - decimals.count("0")):
        number = number.removesuffix("0")
    number = number.removesuffix(".")
    sign = "-" if value < 0 and rounded else ""
    parts: list[str] = []
    placed = False
    for token in tokens:
        if token in _NUMBER_PLACES:
            if not placed:
                parts.append(number)
                placed = True
        elif token == "%":
            parts.append("%")
        else:
            parts.append(_literal(token))
    return sign + _clean_title("".join(parts))


def _grouped(integer: str) -> str:
    """Digits with a comma between each three from the right; unlike Python's "," format, leading zeros kept."""
    head = len(integer) % 3 or 3
    return ",".join([integer[:head], *(integer[at : at + 3] for at in range(head, len(integer), 3))])


def _literal(token: str) -> str:
    """What a format code token that is not a field shows: a quoted text, an escaped character, a currency
    from a locale tag ("[$£-809]" shows "£"); nothing for a colour or a condition in brackets, or the padding
    ("_)") and fill ("* ") characters that only align columns."""
    if token.startswith('"'):
        return token[1:-1]
    if token.startswith("\\"):
        return token[1:]
    if token.startswith("[$"):
        return token[2:-1].split("-")[0]
    if token.startswith(("[", "_", "*")):
        return ""
    return token


def _diagram_text(frame: GraphicFrame) -> str:
    """A SmartArt diagram's words, one line per paragraph of each box, from its data part (python-pptx has no
    view of SmartArt), in the order the data part lists the boxes."""
    graphic_data = frame._element.graphicData
    if graphic_data.uri != _DIAGRAM_URI:
        return ""
    ids = graphic_data.find(f"{_DIAGRAM}relIds")
    data_id = ids.get(qn("r:dm")) if ids is not None else None
    if not data_id:
        return ""
    data = parse_xml(frame.part.related_part(data_id).blob)
    lines: list[str] = []
    for box_text in data.iter(f"{_DIAGRAM}t"):
        for paragraph in box_text.iter(qn("a:p")):
            line = _clean_title("".join(run.text or "" for run in paragraph.iter(qn("a:t"))))
            if line:
                lines.append(line)
    return "\n".join(lines)


def _list_styles(shape: Shape, body_style: BaseOxmlElement | None) -> list[BaseOxmlElement]:
    """Where a shape's paragraphs inherit bullets from, nearest first: its own list style, then (for a
    placeholder) its layout's and master's placeholder, then the master's body style."""
    styles: list[BaseOxmlElement] = []
    inherited_from: BaseShape | None = shape
    while inherited_from is not None:
        own = inherited_from.element.find(f"{qn('p:txBody')}/{qn('a:lstStyle')}")
        if own is not None:
            styles.append(own)
        # python-pptx resolves a slide placeholder to its layout's, and that to the master's, as PowerPoint does.
        inherited_from = getattr(inherited_from, "_base_placeholder", None)
    if body_style is not None:
        styles.append(body_style)
    return styles


def _paragraphs_text(frame: TextFrame, list_styles: Sequence[BaseOxmlElement]) -> str:
    """One line per paragraph, whitespace and soft line breaks collapsed; a bulleted one as a "- " item."""
    lines: list[str] = []
    for paragraph in frame.paragraphs:
        text = re.sub(r"\s+", " ", paragraph.text).strip()
        if text and _is_bulleted(paragraph, list_styles):
            text = "  " * paragraph.level + "- " + text
        if text:
            lines.append(text)
    return "\n".join(lines)


def _is_bulleted(paragraph: _Paragraph, list_styles: Sequence[BaseOxmlElement]) -> bool:
    """Whether PowerPoint shows a bullet: the paragraph's own setting, else its level's in the nearest list
    style that sets one. A content placeholder's text is bulleted by the master's body style, a text box's
    only when bullets were added to it."""
    level = qn(f"a:lvl{paragraph.level + 1}pPr")
    # python-pptx has no public view of a paragraph's bullet; its XML says.
    settings = [paragraph._p.pPr, *(style.find(level) for style in list_styles)]
    for setting in settings:
        if setting is None:
            continue
        if setting.find(qn("a:buNone")) is not None:
            return False
        if any(setting.find(mark) is not None for mark in _BULLET_MARKS):
            return True
    return False


def _speaker_notes(slide: Slide) -> str:
    """The notes under their label, so a reader of a quoted passage knows it was said, not shown."""
    frame = slide.notes_slide.notes_text_frame if slide.has_notes_slide else None
    text = _paragraphs_text(frame, ()) if frame is not None else ""
    return f"{_SPEAKER_NOTES_LABEL}\n{text}" if text else ""


# --------------------------------------------------------------------------------------------- HTML


def _read_html(path: Path, raw: bytes) -> _Extraction:
    markup, notes = _decode_text(path, raw)
    parser = _HtmlTextExtractor()
    parser.feed(markup)
    parser.close()
    page = PageText(number=None, text=parser.text())
    return _Extraction(pages=(page,), warnings=notes, title_hint=parser.title or None)


class _HtmlTextExtractor(HTMLParser):
    """Visible text with headings as markdown lines; navigation, scripts and page chrome are dropped.

    Paragraphs and headings are separated by a blank line and smaller blocks by a line break, matching
    what the markdown and Word readers produce. Breaks are requested rather than written, so nested
    blocks (``<div><p>``) give one break, not a stack of empty lines. Whitespace collapses, as in a browser.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._pending_newlines = 0
        self._skip_depth = 0
        self._title_parts: list[str] | None = None
        self._title = ""
        self._cells_in_row = 0

    @property
    def title(self) -> str:
        """The document's ``<title>`` (the first one: SVG images carry their own)."""
        return self._title

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self._title:
            self._title_parts = []
        if tag in _HTML_SKIPPED:
            self._skip_depth += 1
        if self._skip_depth:
            return
        heading = re.fullmatch(r"h([1-6])", tag)
        if heading:
            self._request_break(2)
            self._write("#" * int(heading.group(1)) + " ")
        elif tag == "li":
            self._request_break(1)
            self._write("- ")
        elif tag in {"td", "th"}:
            if self._cells_in_row:
                self._write(" | ")
            self._cells_in_row += 1
        elif tag == "tr":
            self._request_break(1)
            self._cells_in_row = 0
        else:
            self._request_break(_html_break_after(tag))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._title_parts is not None:
            self._title = _clean_title("".join(self._title_parts))
            self._title_parts = None
        if tag in _HTML_SKIPPED:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif not self._skip_depth:
            self._request_break(_html_break_after(tag))

    def handle_data(self, data: str) -> None:
        if self._title_parts is not None:
            self._title_parts.append(data)
        if self._skip_depth:
            return
        collapsed = re.sub(r"\s+", " ", data)
        if collapsed.strip():
            self._write(collapsed)
        elif collapsed and self._parts and not self._pending_newlines:
            self._parts.append(" ")

    def text(self) -> str:
        lines = (re.sub(r" +", " ", line).strip() for line in "".join(self._parts).split("\n"))
        kept = [line for line in lines if not re.fullmatch(r"[-#]+", line)]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")

    def _request_break(self, newlines: int) -> None:
        self._pending_newlines = max(self._pending_newlines, newlines)

    def _write(self, text: str) -> None:
        if self._pending_newlines and self._parts:
            self._parts.append("\n" * self._pending_newlines)
        self._pending_newlines = 0
        self._parts.append(text)


_HTML_SKIPPED = frozenset({"script", "style", "nav", "header", "footer", "noscript", "template", "head", "svg"})
_HTML_PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote"})
_HTML_LINES = frozenset({"div", "br", "tr", "li", "section", "article", "dd", "dt", "pre", "hr"})


def _html_break_after(tag: str) -> int:
    """Newlines a block element puts around itself: 2 for a paragraph, 1 for a line, 0 inline."""
    if tag in _HTML_PARAGRAPHS:
        return 2
    return 1 if tag in _HTML_LINES else 0


_READERS: dict[str, Callable[[Path, bytes], _Extraction]] = {
    ".pdf": _read_pdf,
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".txt": _read_text_file,
    ".docx": _read_docx,
    ".pptx": _read_pptx,
    ".html": _read_html,
    ".htm": _read_html,
}
