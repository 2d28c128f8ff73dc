"""Reading a question before retrieval: follow-ups, staff vocabulary, organisations, intent, injections.

All of this is cheap text work, done without the LLM, because on the embedded model an extra generation
("condense the question") would cost several seconds per turn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

from assistant.records import ChunkKind, Turn
from assistant.spelling import Corrected, Correction
from ingest.organisations import OrganisationIndex

VOCABULARY_FILE = Path(__file__).with_name("query_vocabulary.json")

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or
    other our ours out over own same she should so some such than that the their theirs them then there these
    they this those through to too under until up very was we were what when where which while who whom why
    will with would you your yours tell give show find list please much many get got make made use used using
    also like know want need reports report document documents say says said anything something way ways
    could kind sort""".split()
)
# How many of the conversation's questions a follow-up of follow-ups carries back to its topic.
TOPIC_TURNS = 3
_FOLLOW_UP = re.compile(
    r"^(?:and|also|what about|how about|what else|so|then|but|ok|okay)\b|\b(?:they|them|their|it|its|this|that|"
    r"those|these|there|he|she|his|her|same|above|mentioned|previous|earlier)\b",
    re.IGNORECASE,
)
_EXAMPLES = re.compile(
    r"\b(?:which|what|any)\s+(?:trusts?|sites?|organi[sz]ations?|hospitals?|teams?|places?|nhs)\b|\bexamples?\b"
    r"|\bcase stud(?:y|ies)\b|\bwho (?:has|have|is|are|did|runs?)\b|\banyone\b|\bwhere (?:has|have)\b"
    r"|\bname (?:some|the)\b|\bwhich ones?\b",
    re.IGNORECASE,
)
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.?!]{0,40}\b(?:instructions?|rules?|prompts?|guidelines?|"
    r"above|previous|system)\b|\b(?:system prompt|developer mode|jailbreak|you are now|pretend (?:to be|you)"
    r"|you (?:will |must |should |shall )?(?:now )?act as|act as if you|roleplay as"
    r"|reveal (?:your|the) (?:prompt|instructions)|state (?:it|this|that) as (?:a )?fact)\b"
    r"|^\W*act as\b"
    r"|\b(?:make up|fabricate|invent)\b[^.?!]{0,30}\b(?:numbers?|figures?|facts?|statistics?|stats|percentages?"
    r"|data|answers?|quotes?|sources?|citations?|references?)\b"
    r"|^\W*(?:system|admin|developer|assistant)\s*:"
    r"|\b(?:end|start|begin|finish|sign off|close) (?:every|each|all|your) (?:answers?|repl(?:y|ies)|responses?)\b"
    r"|\b(?:from now on|always) (?:reply|respond|answer|say|include|add|append|write)\b",
    re.IGNORECASE,
)
# Questions asking for a report's conclusions or advice, and the chunk kinds (from ingest) that hold them.
_KIND_INTENTS: tuple[tuple[re.Pattern[str], ChunkKind], ...] = (
    (
        re.compile(
            r"\bkey (?:findings?|messages?)\b|\bheadlines?\b|\bmain (?:findings|messages?|points|lessons)\b"
            r"|\bconclu(?:de|ded|sions?)\b|\btake-?aways?\b|\bbottom line\b",
            re.IGNORECASE,
        ),
        "key_finding",
    ),
    (re.compile(r"\brecommend\w*|\bwhat should\b|\badvi[cs]e\b", re.IGNORECASE), "recommendation"),
)
# A question whose answer is a figure: "how many fellows ...", "what % of ...", "what maturity score did ...",
# "what's their total budget ... in pounds", "what is Torbay's total budget" (a possessive is a word).
_FIGURE_QUESTION = re.compile(
    r"\bhow (?:many|much|long|often|big|large)\b|\bin (?:actual )?(?:pounds|£)"
    r"|\bwhat(?:'s|’s| is| was| were| are)?(?:\s+(?:the|their|its|our))?\s*%"
    r"|\bwhat(?:'s|’s| is| was| were| are)?(?:\s+[\w’'-]+){0,2}?\s+(?:percentage|percent|proportion|share"
    r"|number of|amount|score|rate|figure|budget|cost|size|total)\b",
    re.IGNORECASE,
)
# A question whose answer is a count ("how many sites ...?"): an answer with no number in it does not answer it.
_COUNT_QUESTION = re.compile(r"\bhow many\b", re.IGNORECASE)
# A question whose answer is a sum of money ("how much does each site get in funding?", "what's their total
# budget in pounds?"): an answer, or a passage, with no sum or share in it does not answer it. "How much of our
# spend ..." asks for a share, and "how much protected time" (time to "spend") for no money, so the asking words
# and a money word are both needed.
_SUM_ASKED = re.compile(
    r"\bhow much\b(?! of\b)|\bin (?:actual )?(?:pounds|£)|\bwhat(?:'s|’s| is| was| were| are)?(?:\s+[\w’'-]+){0,2}?\s+"
    r"(?:budget|cost)\b",
    re.IGNORECASE,
)
_MONEY_WORD = re.compile(
    r"\b(?:money|funding|funds?|funded|cash|revenue|income|budgets?|worth|costs?|sav(?:e|ed|es|ing|ings)|pay|paid"
    r"|invest(?:ed|ment)?|grants?|pounds|earn(?:s|ed|t)?|raised?)\b|£",
    re.IGNORECASE,
)
# "How much does each site get from the programme?": with no noun after "how much", what is got is money.
_HOW_MUCH_GOT = re.compile(
    r"\bhow much (?:does|do|did|will|would|can|could|should)\b(?:\s+[\w’'-]+){1,6}?\s+"
    r"(?:get|gets|got|receive|receives|received|make|makes|made|bring in|brought in|put in)\b",
    re.IGNORECASE,
)


def _asks_for_sum(question: str) -> bool:
    return bool((_SUM_ASKED.search(question) and _MONEY_WORD.search(question)) or _HOW_MUCH_GOT.search(question))


# A question asking when something happened ("when was the event?", "how current is the report?"); not "when
# the sites scored themselves ..." or "dying when the funding ends".
_WHEN_QUESTION = re.compile(
    r"\bwhen(?:'s|’s| (?:was|were|is|are|did|does|do|will|exactly))\b|\bwhat (?:date|year|month)\b"
    r"|\bwhich (?:year|month)\b|\bhow (?:current|recent|old|up to date)\b",
    re.IGNORECASE,
)
_ABSOLUTE_PREMISE = re.compile(
    r"\b(?:why|how|when)\b.*\b(?:every|all (?:the )?(?:sites|trusts|organisations)|always|never|none of"
    r"|no site|100 ?%)",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NAME_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’&+-]*")
_NAME_JOINERS = frozenset({"for", "of", "and", "the", "&", "in", "on"})
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9+&'’-]*")
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i’m|im|i've|we|we're|we’re|we've|our|ours|my)\b", re.IGNORECASE)
# Clauses: sentences, and the parts of one joined by a dash or semicolon ("We're in Shropshire - how ...").
_CLAUSE = re.compile(r"(?<=[.!?;])\s+|\s+[-–—]\s+")
# Capital abbreviations as the refusal gates read them (assistant.refusal), which cannot be imported here.
_ABBREVIATION = re.compile(r"\b[A-Z]{2,3}\b")


@dataclass(frozen=True)
class QueryPlan:
    """What retrieval should look for. ``search_text`` feeds the embedder, ``lexical`` the FTS5 index."""

    question: str
    search_text: str
    lexical: str
    organisations: tuple[str, ...]
    wants_examples: bool
    is_follow_up: bool
    injection_removed: bool
    absolute_premise: bool = False
    asks_for_figure: bool = False
    asks_for_count: bool = False
    asks_for_sum: bool = False
    names: tuple[str, ...] = ()
    asker_terms: tuple[str, ...] = ()
    preferred_kinds: tuple[ChunkKind, ...] = ()
    asks_when: bool = False
    corrections: tuple[Correction, ...] = ()

    @property
    def subject(self) -> str:
        """What the question is about, with what a follow-up inherits: the words a table row is named by
        ("how many staff did they train?" after a question about Severn Marches names its row)."""
        return " ".join((*self.organisations, self.search_text))


def plan_query(
    question: str,
    history: Sequence[Turn],
    organisations: OrganisationIndex,
    neighbours: Callable[[Sequence[str]], Sequence[str]] | None = None,
    spell: Callable[[str], Corrected] | None = None,
) -> QueryPlan:
    """Turn the user's words (and, for a follow-up, the conversation) into retrieval inputs.

    ``neighbours`` gives corpus words close in meaning to the question's words
    (:class:`assistant.term_neighbours.TermNeighbours`); they widen only the lexical query. ``spell``
    (:class:`assistant.spelling.SpellingCorrector`) reads mistyped words as the report words meant, before
    anything else looks at the question; its corrections are kept so the answer can say how it read them.
    """
    corrected = spell(question) if spell else Corrected(question)
    cleaned, injection_removed = remove_injection(corrected.text)
    previous = _previous_question(history)
    if previous and spell:
        previous = spell(previous).text
    follow_up = bool(previous) and _is_follow_up(cleaned)
    searchable = cleaned or corrected.text.strip()
    search_text = f"{previous} {searchable}".strip() if follow_up else searchable
    # "And what about ambulance trusts?" names its organisations by kind: they replace the conversation's.
    named = tuple(dict.fromkeys(organisations.find(cleaned, short=True) + organisations.of_kind(cleaned)))
    if follow_up and not named:
        named = organisations.find(previous, short=True) or _organisations_in_last_answer(history, organisations)
    wants_examples = bool(_EXAMPLES.search(cleaned)) or (follow_up and bool(_EXAMPLES.search(previous)))
    asked_terms = _terms(searchable)
    lexical_terms = asked_terms + (_terms(previous) if follow_up else [])
    related = tuple(neighbours(asked_terms)) if neighbours else ()
    return QueryPlan(
        question=cleaned,
        search_text=search_text,
        lexical=fts_expression(lexical_terms, named, related),
        organisations=named,
        wants_examples=wants_examples,
        is_follow_up=follow_up,
        injection_removed=injection_removed,
        absolute_premise=bool(_ABSOLUTE_PREMISE.search(cleaned)),
        asks_for_figure=bool(_FIGURE_QUESTION.search(cleaned)),
        asks_for_count=bool(_COUNT_QUESTION.search(cleaned)),
        asks_for_sum=_asks_for_sum(cleaned),
        names=tuple(name for name in names_in(cleaned) if not about_the_asker(name, cleaned)),
        asker_terms=tuple(term for term in _asker_candidates(cleaned) if about_the_asker(term, cleaned)),
        preferred_kinds=tuple(kind for pattern, kind in _KIND_INTENTS if pattern.search(cleaned)),
        asks_when=bool(_WHEN_QUESTION.search(cleaned)),
        corrections=corrected.typos,
    )


def names_in(question: str) -> tuple[str, ...]:
    """Capitalised names in the question ("Agenda for Change", "Tesla"), not counting a sentence's first word
    or all-capital abbreviations: a name the reports never use marks a question they cannot answer, while
    abbreviations ("CEO") are too often a staff word for something the reports spell out."""
    names: list[str] = []
    for sentence in _SENTENCE.split(question.strip()):
        words = _NAME_TOKEN.findall(sentence)
        current: list[str] = []
        for index, word in enumerate(words):
            capitalised = word[:1].isupper() and not word.isupper() and index > 0
            if capitalised or (current and word.lower() in _NAME_JOINERS):
                current.append(word)
                continue
            names.extend(_close_name(current))
            current = []
        names.extend(_close_name(current))
    return tuple(dict.fromkeys(names))


def about_the_asker(term: str, question: str) -> bool:
    """Whether ``term`` says where the asker works rather than what they ask about: "I work at Royal Papworth",
    "we're a community trust in Shropshire", "our CEO at Frimley", "at Salisbury we have no team".

    Staff give that context, and the reports' silence about their own trust does not make the question
    unanswerable (all four of those were refused before generation). The term must follow "at", "in", "from"
    or "work for", in a clause that speaks in the first person; "what Agenda for Change band should I be on?"
    and "what do I need for DTAC?" ask about the name, and "how did Leeds fund it?" is not about the asker.
    """
    place = re.compile(
        rf"\b(?:at|in|from|work(?:s|ing)?\s+(?:for|with))\s+(?:the\s+)?{re.escape(term)}(?!\w)", re.IGNORECASE
    )
    return any(place.search(clause) and _FIRST_PERSON.search(clause) for clause in _CLAUSE.split(question))


def _asker_candidates(question: str) -> list[str]:
    return [*names_in(question), *_ABBREVIATION.findall(question)]


def _close_name(words: list[str]) -> list[str]:
    while words and words[-1].lower() in _NAME_JOINERS:
        words = words[:-1]
    return [" ".join(words)] if words else []


def remove_injection(question: str) -> tuple[str, bool]:
    """Drop sentences that try to re-instruct the assistant; the rest of the question still gets answered."""
    sentences = _SENTENCE.split(question.strip())
    kept = [sentence for sentence in sentences if not _INJECTION.search(sentence)]
    return " ".join(kept).strip(), len(kept) != len(sentences)


def fts_expression(terms: Sequence[str], organisations: Sequence[str] = (), related: Sequence[str] = ()) -> str:
    """An FTS5 OR-query of the terms, their staff-vocabulary expansions, named organisations, ``related``
    corpus words, and adjacent term pairs as phrases, so a passage using the question's own phrase ("key
    message") outranks one that merely contains both words somewhere."""
    vocabulary = _vocabulary()
    words: list[str] = []
    for term in terms:
        words.append(term)
        words.extend(vocabulary.get(term, ()))
    joined = " ".join(terms)
    for phrase, expansions in vocabulary.items():
        if " " in phrase and phrase in joined:
            words.extend(expansions)
    words.extend(organisations)
    words.extend(related)
    words.extend(f"{first} {second}" for first, second in pairwise(terms))
    unique: list[str] = []
    for word in words:
        token = word.lower().replace('"', "").strip()
        if token and token not in unique:
            unique.append(token)
    return " OR ".join(f'"{token}"' for token in unique)


def staff_synonyms(word: str) -> tuple[str, ...]:
    """The report words a staff word stands for ("money" -> "funding", ...), from the vocabulary file."""
    return _vocabulary().get(word.lower(), ())


def _terms(text: str) -> list[str]:
    words = [word.lower().strip("'’-") for word in _WORD.findall(text)]
    return [word for word in words if word and word not in STOPWORDS and (len(word) > 1 or word.isdigit())]


def _previous_question(history: Sequence[Turn]) -> str:
    """The last question as it was searched: when it was itself a follow-up, with the questions it followed
    (up to ``TOPIC_TURNS`` in all). Asked "Which trusts run innovation fellowships?", then "how long does it
    last?", then "and what about Chelsea's?", the third turn searched with the second alone and lost the
    fellowships it was about."""
    questions = [turn.content.strip() for turn in history if turn.role == "user" and turn.content.strip()]
    chain = questions[-1:]
    for earlier in reversed(questions[:-1]):
        if len(chain) >= TOPIC_TURNS or not _is_follow_up(chain[0]):
            break
        chain.insert(0, earlier)
    return " ".join(chain)


def _is_follow_up(question: str) -> bool:
    return bool(_FOLLOW_UP.search(question)) or len(_terms(question)) <= 2


def _organisations_in_last_answer(history: Sequence[Turn], organisations: OrganisationIndex) -> tuple[str, ...]:
    for turn in reversed(history):
        if turn.role == "assistant":
            return organisations.find(turn.content)[:3]
    return ()


@cache
def _vocabulary() -> dict[str, tuple[str, ...]]:
    raw = json.loads(VOCABULARY_FILE.read_text(encoding="utf-8"))
    return {key: tuple(values) for key, values in raw.items() if not key.startswith("_")}
