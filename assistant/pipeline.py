"""The public face of the product: the ``Assistant`` that the CLI, the app and the evals all call.

One question flows: plan the query (follow-ups, vocabulary, organisations) -> hybrid retrieval -> decide
whether the corpus can answer at all -> compress the sources -> stream the model's answer -> check its
citations. Sources are yielded before the model starts so users see them within a second; the refusal
decision that needs no model is made before any model is loaded.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Generator, Sequence
from functools import cached_property

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from assistant.citations import (
    check_citations,
    citations_as_counts,
    drop_figures_from_other_rows,
    drop_hedged_refusal,
    drop_invented_figures,
    drop_misattributed,
    drop_question_echoes,
    drop_repeated_sentences,
    drop_sentences_naming,
    drop_ungrounded,
    drop_unsourced_links,
    is_refusal,
    is_source_header,
    remove_dangling,
    repair_citations,
    split_answer_sentences,
    states_a_count,
    states_a_sum,
    tidy_source_references,
)
from assistant.config import Settings
from assistant.context import ScoredSentence, compress_sources, render_sources, rescore, score_sources
from assistant.evidence import (
    MIN_WORDS,
    EvidencePoint,
    about_organisation,
    answering_row,
    render_evidence,
    select_evidence,
)
from assistant.llm import build_chat_model, describe_model
from assistant.prompts import REFUSAL_SENTENCE, PromptSet, load_prompt_set
from assistant.query import STOPWORDS, QueryPlan, plan_query
from assistant.records import (
    Answer,
    AnswerDone,
    AnswerEvent,
    AnswerToken,
    CaseStudy,
    ChunkKind,
    Filters,
    RetrievedChunk,
    Source,
    SourcesReady,
    Timings,
    Turn,
    answer_note,
)
from assistant.refusal import (
    MIN_TERM_COVERAGE,
    foreign_terms,
    specific_terms,
    term_coverage,
    unknown_names,
    unknown_words,
    unsourced_names,
)
from assistant.retrieve import Retriever
from assistant.spelling import Correction, SpellingCorrector
from assistant.term_neighbours import TermNeighbours
from ingest.embedding import Embedder, load_embedder, load_sentence_embedder
from ingest.organisations import OrganisationIndex, build_organisation_index
from ingest.sentences import split_sentences
from ingest.store import ChunkStore

log = logging.getLogger(__name__)

# The model's part is one short paragraph; the small model, once past it, tends to add paragraphs of general
# advice that no source says. Stopping at the first blank line keeps the lead and saves the generation time.
LEAD_END = "\n\n"
UNSUPPORTED_LEAD_FLOOR = 0.55
# Two labels for quoted points shown without a direct answer. When the sources are weak, the reports
# probably do not answer the question. When a source sentence is clearly about it but the model refused or
# its opening failed the checks, the reports usually do answer it (on the eval sets this was mostly
# case-study questions, the quoted points holding every key fact), so saying they do not would be false. The
# first label opens with the refusal sentence, so the user (and the eval) reads it as the refusal it is.
CLOSEST_PASSAGES = "The reports I have do not cover this directly. These are the passages closest to your question:"
RELEVANT_PASSAGES = "I could not write a direct answer, but these passages from the reports are about your question:"
# A question setting its organisation beside others, or asking which others worked with it ("which health
# innovation networks worked with NHS England ...?"): their passages are part of the answer.
_COMPARISON = re.compile(
    r"\bcompar\w*|\bversus\b|\bvs\b\.?|\bdiffer\w*|\bsimilar\b|\bsame as\b|\blike (?:them|that)\b"
    r"|\bother (?:trusts|sites|organi[sz]ations|places|teams)\b|\bothers\b|\bbesides\b|\belsewhere\b|\belse\b"
    r"|\bwhich (?:\w+ ){0,2}(?:networks?|icbs?|hins?|partners?|compan(?:y|ies)|universit(?:y|ies)|charit(?:y|ies)"
    r"|bodies|councils?)\b",
    re.IGNORECASE,
)
INJECTION_ONLY = "I can only answer questions about the reports, and I follow no instructions from the question itself."


def lead_end(text: str) -> int | None:
    """Where the model's opening paragraph ends: at the first blank line with something before it other than
    copied source headers, else None (not yet).

    A stop sequence at the first blank line lost whole answers: over a slide deck the small model wrote
    "Source [1] (Staff hours released per quarter | slide 7))", a blank line, then its answer, and generation
    stopped after the header. So the stop is decided here, token by token, for every backend alike.
    """
    start = 0
    while (cut := text.find(LEAD_END, start)) != -1:
        before = [line for line in text[:cut].split("\n") if line.strip()]
        if before and not all(is_source_header(line) for line in before):
            return cut
        start = cut + len(LEAD_END)
    return None


class Assistant:
    """Holds the loaded embedder, index and chat model; cheap to call, expensive to build (build once)."""

    def __init__(
        self,
        settings: Settings,
        chat_model: BaseChatModel | None = None,
        store: ChunkStore | None = None,
        embedder: Embedder | None = None,
        sentence_embedder: Embedder | None = None,
    ) -> None:
        """``chat_model`` overrides the configured backend (tests pass a fake); otherwise built on first use.

        Two embedders: ``embedder`` is the index's (all-mpnet-base-v2 by default), for retrieval and for
        choosing the quoted points (from its stored sentence vectors); ``sentence_embedder``
        (all-MiniLM-L6-v2) scores the sources' sentences for compression, the refusal threshold and the
        citation checks, whose thresholds were calibrated on its similarity scale, and it embeds a source's
        40-odd sentences about five times faster. An explicit ``embedder`` with no ``sentence_embedder``
        (tests) serves both.
        """
        self.settings = settings
        self.store = store or ChunkStore(settings)
        self.embedder = embedder or load_embedder(settings)
        self.sentence_embedder = sentence_embedder or (embedder if embedder is not None else load_sentence_embedder())
        self.retriever = Retriever(self.store, self.embedder, settings.retrieval_candidates)
        self.prompts: PromptSet = load_prompt_set(settings.prompts_dir)
        self._chat_model = chat_model
        self._custom_model = chat_model is not None and settings.llm_backend != "fake"
        self._model_lock = threading.Lock()
        self._organisations: OrganisationIndex | None = None
        self._term_neighbours: TermNeighbours | None = None
        self._spelling: SpellingCorrector | None = None

    # ---- identity -------------------------------------------------------------------------------------

    @property
    def model_label(self) -> str:
        if self._custom_model and self._chat_model is not None:
            return f"custom:{type(self._chat_model).__name__}"
        return describe_model(self.settings)

    @property
    def prompt_version(self) -> str:
        return self.prompts.version

    @property
    def chat_model(self) -> BaseChatModel:
        with self._model_lock:
            if self._chat_model is None:
                self._chat_model = build_chat_model(self.settings)
            return self._chat_model

    @property
    def organisations(self) -> OrganisationIndex:
        """Gazetteer plus aliases learned at ingest; rebuilt after :meth:`refresh`."""
        if self._organisations is None:
            index = build_organisation_index()
            for key, canonical in self.store.organisation_aliases().items():
                index.canonical_by_key.setdefault(key, canonical)
            self._organisations = index
        return self._organisations

    @property
    def term_neighbours(self) -> TermNeighbours:
        """The index's vocabulary, loaded once; reloaded after :meth:`refresh`."""
        neighbours = self._term_neighbours
        if neighbours is None:
            terms, vectors = self.store.vocabulary(self.embedder.dimension)
            neighbours = TermNeighbours(
                terms,
                vectors,
                self.embedder.embed_documents,
                self.settings.term_neighbour_similarity,
                STOPWORDS,
                passages_with=self.store.passages_with,
                passages=self.store.chunk_count(),
            )
            self._term_neighbours = neighbours
        return neighbours

    @property
    def spelling(self) -> SpellingCorrector:
        """Corrects against the index's words, loaded once; reloaded after :meth:`refresh`."""
        spelling = self._spelling
        if spelling is None:
            spelling = SpellingCorrector(self.store.vocabulary_terms(), self.store.passages_with)
            self._spelling = spelling
        return spelling

    def warm_up(self) -> None:
        """Load the chat model and let it read the fixed system prompt once, so the first user's answer starts
        from a cached prefix instead of paying several seconds for model load and system prompt."""
        try:
            for _ in self.chat_model.stream(
                [SystemMessage(content=self.prompts.system.text), HumanMessage(content="Say OK.")]
            ):
                break
        except Exception as error:  # warm-up is only an optimisation; the first real call reports errors
            log.warning("model warm-up failed: %s", error)

    def refresh(self) -> None:
        """Call after an ingest in the same process so new organisations and documents are seen."""
        self._organisations = None
        self._term_neighbours = None
        self._spelling = None
        self.__dict__.pop("_case_study_chunks", None)

    # ---- retrieval ------------------------------------------------------------------------------------

    def plan(self, question: str, history: Sequence[Turn] = ()) -> QueryPlan:
        return plan_query(question, history, self.organisations, self.term_neighbours, self.spelling)

    def retrieve(
        self,
        question: str,
        history: Sequence[Turn] = (),
        filters: Filters = Filters(),
        k: int | None = None,
    ) -> list[RetrievedChunk]:
        """Hybrid retrieval, best first; ``k`` defaults to ``settings.sources_in_context``."""
        return self.retriever.retrieve(self.plan(question, history), filters, k or self.settings.sources_in_context)

    # ---- answering ------------------------------------------------------------------------------------

    def stream(
        self, question: str, history: Sequence[Turn] = (), filters: Filters = Filters()
    ) -> Generator[AnswerEvent]:
        """Yields SourcesReady, then AnswerToken per token, then exactly one AnswerDone. A generator, so a
        caller that stops early (Ctrl-C in the terminal) can close it and free the model at once."""
        started = time.perf_counter()
        plan = self.plan(question, history)
        if not plan.question:
            yield SourcesReady((), refused=True)
            yield AnswerDone(self._refusal(question, (), INJECTION_ONLY, "prompt injection only", started))
            return
        query_vector = self.embedder.embed_query(plan.search_text)
        retrieved = self.retriever.retrieve(plan, filters, self.settings.sources_in_context, query_vector)
        scored = score_sources(
            retrieved,
            query_vector
            if self.sentence_embedder is self.embedder
            else self.sentence_embedder.embed_query(plan.search_text),
            self.sentence_embedder.embed_documents,
            plan.search_text,
        )
        best_sentence = max((sentence.score for sentence in scored), default=0.0)
        reason = self._refusal_reason(plan, retrieved, best_sentence)
        if reason is not None:
            yield SourcesReady((), refused=True)
            text = f"{REFUSAL_SENTENCE}{reading_note(plan.corrections)}"
            yield AnswerDone(self._refusal(question, (), text, reason, started))
            return
        sources = compress_sources(
            retrieved, scored, self.sentence_embedder.count_tokens, self.settings.max_source_tokens, plan.subject
        )
        candidates = self._point_candidates(retrieved, scored, query_vector, plan.search_text)
        focus = self._focus(plan, retrieved)
        if focus is not None:
            candidates = about_organisation(candidates, sources, focus, self.organisations.find)
        evidence = select_evidence(candidates, sources, spread_sources=plan.wants_examples)
        sources_s = time.perf_counter() - started
        yield SourcesReady(tuple(sources))

        messages = self._messages(plan, sources)
        written, shown = "", 0
        first_token_s: float | None = None
        tokens = self.chat_model.stream(messages)
        try:
            for chunk in tokens:
                text = chunk.content if isinstance(chunk.content, str) else ""
                if not text:
                    continue
                if first_token_s is None:
                    first_token_s = time.perf_counter() - started
                written += text
                end = lead_end(written)
                visible = written if end is None else written[:end]
                if len(visible) > shown:
                    yield AnswerToken(visible[shown:])
                    shown = len(visible)
                if end is not None:
                    break
        finally:
            close = getattr(tokens, "close", None)
            if close is not None:
                close()  # stops the model generating past the lead
        end = lead_end(written)
        lead = (written if end is None else written[:end]).strip()
        if evidence and self._overrules_refusal(lead, best_sentence, plan, evidence):
            yield AnswerToken(f"\n\n{RELEVANT_PASSAGES}\n{render_evidence(evidence)}")
        elif evidence and not is_refusal(drop_hedged_refusal(lead)):
            yield AnswerToken("\n\n" + render_evidence(evidence))
        answer = self._finish(question, lead, evidence, sources, started, sources_s, first_token_s, plan, best_sentence)
        yield AnswerDone(answer)

    def _focus(self, plan: QueryPlan, retrieved: Sequence[RetrievedChunk]) -> str | None:
        """The one organisation the question asks about, when the sources hold passages about it.

        Not for questions asking for examples (other organisations are the answer), for the asker's own
        organisation ("we're at Torbay: how could we fund a team?" wants what others did), or for one a
        follow-up inherits from the conversation ("what happens once they finish it?" may have moved on), nor
        for a comparison or a follow-up ("how does that compare with Chelsea?"): the other side is the answer.
        """
        if len(plan.organisations) != 1 or plan.wants_examples or plan.is_follow_up:
            return None
        if _COMPARISON.search(plan.question):
            return None
        organisation = plan.organisations[0]
        if organisation not in self.organisations.find(plan.question, short=True):
            return None
        if any(organisation in self.organisations.find(term, short=True) for term in plan.asker_terms):
            return None
        return organisation if any(organisation in item.chunk.organisations for item in retrieved) else None

    def _point_candidates(
        self,
        retrieved: Sequence[RetrievedChunk],
        scored: Sequence[ScoredSentence],
        query_vector: np.ndarray,
        query_text: str,
    ) -> Sequence[ScoredSentence]:
        """The sources' sentences long enough to quote, scored by the index's embedder to choose the points.

        Compression and the refusal and citation thresholds stay on the sentence model's scale (they were
        calibrated on it), but which sentences get quoted is a ranking, and all-mpnet-base-v2 ranks them
        better. Its vectors were stored at ingest, so they are read back (about 20 ms) rather than embedded
        again (about 2.6 s for a question's 44 sentences on two cores); only a unit not stored as such (a list
        joined across two chunks) is embedded here. Key facts in the quoted points alone, same rules
        (golden / held-out / refusal set): 0.664 / 0.682 / 0.717 -> 0.706 / 0.679 / 0.761 for 12 more words;
        a lower keep ratio that gives the sentence model those words gained it almost nothing (+0.002 /
        +0.006 / 0). Ranking the sentences the model reads this way too was tried and not kept: in full
        evals it lost key facts on the held-out set (0.693 -> 0.664) and the refusal set (0.739 -> 0.728).
        """
        if self.sentence_embedder is self.embedder:
            return scored
        quotable = [sentence for sentence in scored if len(sentence.text.split()) >= MIN_WORDS]
        chunk_ids = {item.chunk.chunk_id for item in retrieved}
        for item in retrieved:
            chunk_ids.update(neighbour.chunk_id for neighbour in self.store.adjacent_chunks(item.chunk))
        vectors = self.store.sentence_vectors(sorted(chunk_ids))
        missing = sorted({sentence.text for sentence in quotable} - vectors.keys())
        if missing:
            vectors.update(zip(missing, self.embedder.embed_documents(missing), strict=True))
        return rescore(quotable, vectors, query_vector, query_text)

    def ask(self, question: str, history: Sequence[Turn] = (), filters: Filters = Filters()) -> Answer:
        """``stream`` drained to its final Answer."""
        for event in self.stream(question, history, filters):
            if isinstance(event, AnswerDone):
                return event.answer
        raise RuntimeError("the answer stream ended without a final answer")

    def _messages(self, plan: QueryPlan, sources: Sequence[Source]) -> list[BaseMessage]:
        """System prompt first and unchanged between turns, so llama.cpp reuses its cached KV prefix.

        The model reads only the first ``llm_sources`` sources: every prompt token costs time to first token
        on a laptop CPU, and the quoted points already draw on all of them.
        """
        read = sources[: self.settings.llm_sources]
        question = plan.question
        if plan.absolute_premise:
            question = f"{question}\n{self.prompts.premise.text}"
        user = self.prompts.answer.render(sources=render_sources(read, self.prompts.source), question=question)
        return [SystemMessage(content=self.prompts.system.text), HumanMessage(content=user)]

    def _refusal_reason(self, plan: QueryPlan, retrieved: Sequence[RetrievedChunk], best_sentence: float) -> str | None:
        """Refuse without the LLM when the reports cannot answer the question.

        First, a name in the question that no report uses (:func:`assistant.refusal.unknown_names`). Then
        two signals calibrated on the eval set (see README): the best relevance of any single source
        sentence to the question (cosine plus term overlap; a whole passage can look related while no
        sentence in it is), and how many of the question's specific terms (not "NHS", "innovation", ...)
        occur in the passages. Organisation names do not count as covered terms: "waiting times in Leeds"
        is not answerable just because Leeds appears in a case study.
        """
        if not retrieved:
            return "nothing retrieved"
        unknown = unknown_names(plan.names, self._corpus_knows)
        if unknown:
            return f"the reports never mention {unknown[0]!r}"
        threshold = self.settings.refusal_threshold
        if best_sentence < threshold:
            return f"no source sentence is about the question (best {best_sentence:.2f} < {threshold:.2f})"
        named = set(plan.organisations) & {org for r in retrieved for org in r.chunk.organisations}
        organisation_words = {word for name in named for word in re.findall(r"[a-z0-9]+", name.lower())}
        coverage, terms = term_coverage(plan.search_text, [r.chunk.text for r in retrieved], organisation_words)
        if terms >= 3 and coverage < MIN_TERM_COVERAGE:
            return f"the sources mention almost none of the question's terms ({coverage:.0%})"
        return None

    def _corpus_knows(self, word: str) -> bool:
        """Whether any indexed passage contains the word or phrase (one FTS5 lookup, Porter-stemmed)."""
        return bool(re.fullmatch(r"[a-z0-9'&+ -]+", word)) and bool(self.store.lexical_search(f'"{word}"', 1))

    def _misspelt(self, word: str) -> bool:
        """Whether the word is a report word misspelt: the model wrote "Prioritisisation" in a list copied from
        the reports' "Prioritisation"; that is no new name."""
        return self.spelling.correct_word(word) is not None

    @classmethod
    def _overrules_refusal(
        cls, lead: str, best_sentence: float, plan: QueryPlan, evidence: Sequence[EvidencePoint]
    ) -> bool:
        """The small model refuses some answerable questions; when a source sentence is clearly about the
        question, show the closest quoted passages (saying so) rather than a refusal."""
        return (
            _is_bare_refusal(lead)
            and best_sentence >= UNSUPPORTED_LEAD_FLOOR
            and cls._points_can_answer(plan, evidence)
        )

    @staticmethod
    def _points_can_answer(plan: QueryPlan, evidence: Sequence[EvidencePoint]) -> bool:
        """Whether the quoted points may stand in for an answer the model did not write.

        Asked for a sum of money, only if one of them states a sum. "How much InSites funding does each site
        get per year?" retrieves passages close to it (sites' reliance on InSites funding, recurrent core
        funding), and the model rightly refused; shown as passages "about your question", they read as the
        answer the reports do not hold.
        """
        return not plan.asks_for_sum or any(states_a_sum(point.text, plan.question) for point in evidence)

    def _refusal(self, question: str, sources: tuple[Source, ...], text: str, reason: str, started: float) -> Answer:
        elapsed = time.perf_counter() - started
        return Answer(
            question=question,
            text=text,
            sources=sources,
            citations=(),
            refused=True,
            refusal_reason=reason,
            timings=Timings(sources_s=elapsed, first_token_s=elapsed, total_s=elapsed),
            prompt_version=self.prompt_version,
            model="none (refused before generation)",
        )

    def _finish(
        self,
        question: str,
        lead: str,
        evidence: Sequence[EvidencePoint],
        sources: Sequence[Source],
        started: float,
        sources_s: float,
        first_token_s: float | None,
        plan: QueryPlan,
        best_sentence: float,
    ) -> Answer:
        embed = _memoised(self.sentence_embedder.embed_documents)
        lead, references_dropped = tidy_source_references(lead)
        lead, links_dropped = drop_unsourced_links(lead, sources)
        if plan.asks_for_figure:
            lead = citations_as_counts(lead)
        opening = next(iter(split_answer_sentences(lead)), "")
        lead, figures_dropped = drop_invented_figures(lead, sources, question)
        lead, rows_misread = drop_figures_from_other_rows(lead, sources, question, plan.subject)
        foreign = foreign_terms(plan.question, plan.names, self._corpus_knows, plan.asker_terms)
        asked_foreign = bool(foreign)
        foreign += unsourced_names(lead, self._corpus_knows, (*plan.asker_terms, *foreign), self._misspelt)
        lead, foreign_dropped = drop_sentences_naming(lead, foreign)
        if asked_foreign and evidence:
            # The question is about something the reports never mention; an answer that does not name it is
            # about something else (asked for the MedTech Funding Mandate list, the model copied a list of
            # job titles).
            lead = ""
        if (figures_dropped or rows_misread or foreign_dropped) and not lead.startswith(opening):
            # The direct answer rested on an invented figure, or on a thing the reports never mention; what
            # follows it cannot be trusted either.
            lead = ""
        lead = drop_hedged_refusal(drop_repeated_sentences(lead))
        lead, echoes_dropped = drop_question_echoes(lead, question, corrects_premise=plan.absolute_premise)
        echoes_dropped += references_dropped
        lead, ungrounded_dropped = drop_ungrounded(lead, sources, embed)
        opening = next(iter(split_answer_sentences(lead)), "")
        lead, misattributed = drop_misattributed(
            lead,
            sources,
            embed,
            lambda text: self.organisations.find(text, short=True),
            plan.asker_terms,
            corrects_premise=plan.absolute_premise,
        )
        if misattributed and not lead.startswith(opening):
            lead = ""  # the direct answer named the wrong organisation; what follows builds on it
        uncounted = (
            bool(lead)
            and not is_refusal(lead)
            and (
                (plan.asks_for_count and not states_a_count(lead, question))
                or (plan.asks_for_sum and not states_a_sum(lead, question))
            )
        )
        if uncounted:
            # Asked "how many ...?", the model wrote no number at all: a sentence copied from a source about
            # something else ("how many days annual leave ...?" -> "The Government's 10-year health plan puts
            # innovation front and centre ..."). In the stored answers of the eight eval sets, every such lead
            # (three) answered an out-of-scope question; no answerable one lacked its count. Asked "how much
            # funding does each site get?", it wrote that each site gets ring-fenced funding, and no sum.
            lead = ""
        if not lead and evidence and (foreign_dropped or asked_foreign):
            lead = CLOSEST_PASSAGES  # what the question names is not in the reports: say so, show what is
        elif (
            not lead
            and evidence
            and (links_dropped or figures_dropped or rows_misread or ungrounded_dropped or misattributed or uncounted)
        ):
            # Asked for a figure, the model invented one: the sources most likely lack it, however close they
            # are. In full runs of the seven eval sets this made six out-of-scope answers refusals ("how many
            # fellows in each cohort?", "what percentage of EEAST staff filled in the survey?") and put four
            # answerable figure questions' points under the refusal label (two of them hold the figure).
            invented_figure = (figures_dropped > 0 or uncounted) and plan.asks_for_figure
            close = best_sentence >= UNSUPPORTED_LEAD_FLOOR and not invented_figure
            lead = RELEVANT_PASSAGES if close else CLOSEST_PASSAGES
        elif not lead and evidence and echoes_dropped and best_sentence >= UNSUPPORTED_LEAD_FLOOR:
            lead = RELEVANT_PASSAGES  # an opening that only restated the question; an empty one is refused below
        refused = _is_bare_refusal(lead)
        if not refused:
            # Again after repair: a claim the model left uncited may only now carry the [n] that shows the
            # refusal beside it to be a hedge.
            lead = drop_hedged_refusal(repair_citations(lead, sources, embed))
        reason = "the model found the sources do not answer it" if refused else None
        if refused and evidence and self._overrules_refusal(lead, best_sentence, plan, evidence):
            refused, reason, lead = False, None, RELEVANT_PASSAGES
        if lead == RELEVANT_PASSAGES and not self._points_can_answer(plan, evidence):
            lead = CLOSEST_PASSAGES
        if not refused and best_sentence < UNSUPPORTED_LEAD_FLOOR:
            lead_citations, _ = check_citations(lead, sources, embed)
            if not any(citation.supported for citation in lead_citations):
                unfamiliar = unknown_words(sorted(specific_terms(plan.question)), self._corpus_knows)
                if unfamiliar or not evidence:
                    refused = True
                    reason = f"weak sources ({best_sentence:.2f}), no supported claim in the model's answer"
                    reason += f", and words the reports never use: {', '.join(unfamiliar)}" if unfamiliar else ""
                else:
                    lead = CLOSEST_PASSAGES
        if not refused and lead in (RELEVANT_PASSAGES, CLOSEST_PASSAGES) and not (asked_foreign or foreign_dropped):
            row = answering_row(plan.question, evidence, sources, plan.subject)
            if row is not None:  # the table row the question names, quoted, is the direct answer
                lead, evidence = f"{row.text} [{row.number}]", [point for point in evidence if point != row]
        if not refused and not lead and not evidence:
            refused, reason = True, "the model's answer did not survive the checks and no source sentence qualified"
        raw = REFUSAL_SENTENCE if refused else "\n\n".join(part for part in (lead, render_evidence(evidence)) if part)
        text = remove_dangling(raw, len(sources))
        claims = raw.removeprefix(CLOSEST_PASSAGES).removeprefix(RELEVANT_PASSAGES)
        citations, uncited = ([], []) if refused else check_citations(claims, sources, embed)
        unsupported = [c.sentence for c in citations if not c.supported] + uncited
        if plan.injection_removed and not refused:
            text += answer_note("Part of the question asked me to change how I work; I ignored that part.")
        if links_dropped and not refused:
            text += answer_note("I removed a web address that is not in the reports.")
        if rows_misread and not refused:
            text += answer_note("I removed a figure that a table here gives for another row.")
        if figures_dropped and not refused:
            text += answer_note("I removed a figure that is not in the reports.")
        if ungrounded_dropped and not refused:
            count = "a sentence" if ungrounded_dropped == 1 else f"{ungrounded_dropped} sentences"
            text += answer_note(f"I removed {count} that no source here supports.")
        if misattributed and not refused:
            named = " or ".join(misattributed)
            text += answer_note(f"I removed what I wrote about {named}: no passage here about {named} says it.")
        if foreign_dropped and not refused:
            named = " or ".join(f"“{term}”" for term in foreign)
            pronoun = "it" if len(foreign) == 1 else "them"
            text += answer_note(f"I removed what I wrote about {named}: the reports never mention {pronoun}.")
        text += reading_note(plan.corrections)
        total = time.perf_counter() - started
        return Answer(
            question=question,
            text=text,
            sources=tuple(sources),
            citations=tuple(citations),
            refused=refused,
            refusal_reason=reason,
            timings=Timings(sources_s=sources_s, first_token_s=first_token_s, total_s=total),
            prompt_version=self.prompt_version,
            model=self.model_label,
            unsupported_sentences=tuple(unsupported),
        )

    # ---- case studies ---------------------------------------------------------------------------------

    @cached_property
    def _case_study_chunks(self) -> list[CaseStudy]:
        studies: list[CaseStudy] = []
        for chunk in self.store.chunks(Filters(kinds=("case_study", "best_practice"))):
            if not chunk.organisations:
                continue
            title = chunk.case_study_title or (chunk.section_path[-1] if chunk.section_path else chunk.doc_title)
            studies.append(
                CaseStudy(
                    chunk=chunk,
                    organisations=chunk.organisations,
                    title=title,
                    summary=_summary(chunk.text, title),
                )
            )
        return studies

    def case_studies(
        self,
        topic: str = "",
        organisation: str | None = None,
        domain: str | None = None,
        kind: ChunkKind | None = None,
        limit: int = 20,
    ) -> list[CaseStudy]:
        """Case studies and best-practice examples for the finder; ranked by ``topic`` when given."""
        wanted_org = self.organisations.canonical(organisation) or organisation if organisation else None
        studies = [
            study
            for study in self._case_study_chunks
            if (wanted_org is None or wanted_org in study.organisations or _loose_match(organisation or "", study))
            and (domain is None or study.chunk.domain == domain)
            and (kind is None or study.chunk.kind == kind)
        ]
        if topic.strip() and studies:
            query = self.embedder.embed_query(topic)
            vectors = self.store.embeddings([study.chunk.chunk_id for study in studies])
            lexical = {
                cid for cid, _ in self.store.lexical_search(plan_query(topic, (), self.organisations).lexical, 50)
            }

            def relevance(study: CaseStudy) -> float:
                vector = vectors.get(study.chunk.chunk_id)
                dense = float(vector @ query) if vector is not None else 0.0
                return dense + (0.15 if study.chunk.chunk_id in lexical else 0.0)

            studies = sorted(studies, key=relevance, reverse=True)
        return studies[:limit]


def reading_note(corrections: Sequence[Correction]) -> str:
    """Says how mistyped words were read, so a user whose word was not a typo sees why the answer is about
    something else and can rephrase."""
    if not corrections:
        return ""
    readings = [f"“{correction.typed}” as “{correction.read_as}”" for correction in corrections]
    joined = readings[0] if len(readings) == 1 else f"{', '.join(readings[:-1])} and {readings[-1]}"
    return answer_note(f"I read {joined}.")


def _memoised(embed: Callable[[Sequence[str]], np.ndarray]) -> Callable[[Sequence[str]], np.ndarray]:
    """``embed`` remembering each text's vector: the checks after generation each score the answer against
    the same source passages, and embedding them again for every check cost CPU time on every answer."""
    vectors: dict[str, np.ndarray] = {}

    def cached(texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return embed(texts)
        missing = [text for text in dict.fromkeys(texts) if text not in vectors]
        if missing:
            vectors.update(zip(missing, embed(missing), strict=True))
        return np.stack([vectors[text] for text in texts])

    return cached


def _is_bare_refusal(lead: str) -> bool:
    return is_refusal(lead) and len(lead) < len(REFUSAL_SENTENCE) + 40


def _loose_match(organisation: str, study: CaseStudy) -> bool:
    needle = organisation.strip().lower()
    return bool(needle) and any(needle in name.lower() for name in study.organisations)


def _summary(text: str, title: str) -> str:
    """First sentence that is not the heading, trimmed to one line: a summary without an LLM."""
    for sentence in split_sentences(text):
        if sentence.strip().lower() in {title.lower(), f"case study: {title}".lower()} or len(sentence) < 25:
            continue
        clean = re.sub(r"[*_#]|\[([^\]]+)\]\([^)]*\)", r"\1", sentence)
        return clean if len(clean) <= 220 else clean[:217].rsplit(" ", 1)[0] + "…"
    return title
