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
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from pypdf import PageObject

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


@dataclass
class _Line:
    """Text runs drawn on one baseline, with how many of their letters are set in each style."""

    text: list[str] = field(default_factory=list)
    styles: Counter[tuple[float, bool]] = field(default_factory=Counter)


@dataclass(frozen=True)
class PageStyles:
    """One page's visual lines: their letters (spaces removed) and the style of each letter."""

    lines: tuple[tuple[str, tuple[tuple[tuple[float, bool], int], ...]], ...]


def page_styles(page: PageObject) -> tuple[str, PageStyles]:
    """The page's text (as ``extract_text`` gives it) and its lines' font styles, from one pass.

    The styles only refine the splitting, so a run the visitor cannot read (a damaged font dictionary, a
    missing matrix) drops the page's styles rather than its text.
    """
    lines: list[_Line] = []
    last_y: float | None = None
    readable = True

    def visit(text: str, cm: Sequence[float], tm: Sequence[float], font: dict[str, object] | None, size: float) -> None:
        nonlocal last_y, readable
        letters = _letters(text)
        if not letters or not readable:
            return
        try:
            scale = abs(tm[3] or 1.0) * abs(cm[3] or 1.0)
            y = round(cm[5] + tm[5] * (cm[3] or 1.0), 1)
            name = str((font or {}).get("/BaseFont", ""))
            style = (round(abs(size) * scale, 1), any(weight in name.lower() for weight in _HEAVY_WEIGHTS))
        except (TypeError, ValueError, IndexError, AttributeError):
            readable = False
            return
        if not lines or y != last_y or "\n" in text.rstrip(" "):
            lines.append(_Line())
        last_y = y
        lines[-1].text.append(letters)
        lines[-1].styles[style] += len(letters)

    text = page.extract_text(visitor_text=visit) or ""
    if not readable:
        return text, PageStyles(())
    return text, PageStyles(tuple(("".join(line.text), tuple(line.styles.items())) for line in lines))


def kept_lines(styles: PageStyles, text: str) -> PageStyles:
    """Only the visual lines still in ``text``: a running header set in a smaller size on every page must
    not count as the body style (then every line of the real body would look like a heading)."""
    letters = _letters(text)
    return PageStyles(tuple(line for line in styles.lines if line[0] in letters))


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
    """What one page's fonts say about its lines, by their letters: which are headings, which small print."""

    headings: frozenset[str] = frozenset()
    small_print: frozenset[str] = frozenset()

    def is_heading(self, line: str) -> bool:
        """Whether :func:`mark_headings` would mark ``line`` as a heading."""
        stripped = line.strip()
        return _is_heading_text(stripped) and _letters(stripped) in self.headings

    def is_small_print(self, line: str) -> bool:
        return _letters(line) in self.small_print


def line_fonts(pages: Sequence[PageStyles], body_from: Sequence[PageStyles]) -> tuple[LineFonts, ...]:
    """For each page, its heading and small-print lines, against the body style of ``body_from`` (the pages
    without their running lines, as :func:`heading_levels` is given them).

    Running lines are found before the headings are marked, and the fonts settle two cases the words cannot:
    a numbered heading on consecutive pages ("Key theme 1" to "Key theme 5") has a number that follows the
    page, as a running header's does; and in a two-page document a footer repeats only once, as a heading
    might, but it is set smaller than the body.
    """
    body = _body_style(body_from)
    if body is None:
        return tuple(LineFonts() for _ in pages)
    return tuple(
        LineFonts(
            frozenset(letters for letters, styles in page.lines if letters and _heading_size(styles, body) is not None),
            frozenset(letters for letters, styles in page.lines if letters and _small_print(styles, body)),
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
