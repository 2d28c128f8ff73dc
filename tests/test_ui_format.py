"""What users read: flags on unsupported claims, numbered sources with the cited sentence marked, exports."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from assistant.context import source_label
from assistant.records import Answer, CaseStudy, Chunk, Citation, Filters, Source, Timings
from assistant.ui_format import (
    Exchange,
    answer_markdown,
    best_matching_sentence,
    case_study_label,
    case_study_markdown,
    conversation_markdown,
    eval_failure_markdown,
    question_problem,
    sources_html,
    sources_title,
)

CW_PASSAGE = (
    "A number of Sites have been strengthening partnerships with NHS charities. "
    "In Chelsea and Westminster, the trust-wide innovation programme is funded by its charity CW+. "
    "This relationship has been formalised through an MoU."
)
FELLOW_PASSAGE = "Barts Health runs an innovation fellowship.\nFellows get two protected days a week."


def make_chunk(chunk_id: str, text: str, page: int | None, organisations: tuple[str, ...] = ()) -> Chunk:
    return Chunk(
        chunk_id=chunk_id,
        doc_id="insites-report",
        doc_title="Learning from the NHS InSites Programme",
        text=text,
        embed_text=text,
        section_path=("Governance & Resources", "Key theme 2"),
        page=page,
        kind="case_study",
        organisations=organisations,
        position=1,
        case_study_title="CW+ working in partnership",
    )


SOURCES = (
    Source(
        1,
        make_chunk("c1", CW_PASSAGE, 61, ("Chelsea and Westminster Hospital NHS Foundation Trust",)),
        CW_PASSAGE,
    ),
    Source(2, make_chunk("c2", FELLOW_PASSAGE, None, ("Barts Health NHS Trust",)), FELLOW_PASSAGE),
)
SUPPORTED = "Chelsea and Westminster's innovation programme is funded by its charity CW+ [1]."
UNSUPPORTED = "Barts Health pays fellows a bonus [2]."


def make_answer(**changes: object) -> Answer:
    fields: dict[str, object] = {
        "question": "How do trusts fund innovation?",
        "text": f"{SUPPORTED} {UNSUPPORTED}",
        "sources": SOURCES,
        "citations": (Citation(SUPPORTED, (1,), True, 0.82), Citation(UNSUPPORTED, (2,), False, 0.12)),
        "refused": False,
        "refusal_reason": None,
        "timings": Timings(),
        "prompt_version": "answer-v1#abc",
        "model": "llamacpp:qwen",
        "unsupported_sentences": (UNSUPPORTED,),
    }
    fields.update(changes)
    return Answer(**fields)  # type: ignore[arg-type]


def test_unsupported_claim_is_flagged_right_after_its_sentence() -> None:
    text = answer_markdown(make_answer())

    assert f"{UNSUPPORTED} ⚠️ *Not supported by source [2]*" in text
    assert f"{SUPPORTED} ⚠️" not in text
    assert "1 sentence not supported by the cited reports" in text


def test_dangling_citation_and_uncited_sentence_are_flagged() -> None:
    answer = make_answer(
        text=f"{SUPPORTED} Trusts also sell land [7]. Everyone agrees.",
        citations=(
            Citation(SUPPORTED, (1,), True, 0.8),
            Citation("Trusts also sell land [7].", (7,), False, 0.0, dangling=(7,)),
        ),
        unsupported_sentences=("Trusts also sell land [7].", "Everyone agrees.", "Not in the text at all."),
    )

    text = answer_markdown(answer)

    assert "Trusts also sell land [7]. ⚠️ *Source [7] does not exist*" in text
    assert "Everyone agrees. ⚠️ *No source supports this sentence*" in text
    assert "3 sentences not supported" in text
    assert "- “Not in the text at all.” ⚠️ *No source supports this sentence*" in text


def test_supported_answer_has_no_flags_and_refusal_shows_reason() -> None:
    clean = make_answer(text=SUPPORTED, citations=(Citation(SUPPORTED, (1,), True, 0.8),), unsupported_sentences=())
    assert "⚠️" not in answer_markdown(clean)

    refused = make_answer(text="The reports do not cover this.", refused=True, refusal_reason="nothing relevant")
    assert answer_markdown(refused) == "The reports do not cover this.\n\n*nothing relevant*"


def test_sources_list_location_organisation_and_highlight_the_cited_sentence() -> None:
    answer = make_answer()
    rendered = sources_html(answer.sources, answer.citations)

    assert rendered.count("<details") == 2
    assert (
        "<strong>[1]</strong> Learning from the NHS InSites Programme — Governance &amp; Resources &gt; "
        "Key theme 2 · p. 61 · Chelsea and Westminster Hospital NHS Foundation Trust"
    ) in rendered
    assert (
        "<mark>In Chelsea and Westminster, the trust-wide innovation programme is funded by its charity "
        "CW+.</mark>" in rendered
    )
    assert "Cited for: “Chelsea and Westminster&#x27;s innovation programme is funded by its charity CW+.”" in rendered
    source_two = rendered[rendered.index('id="source-2"') :]
    assert "⚠️ cited for an unsupported claim" in source_two
    assert "p. " not in source_two.split("</summary>")[0]
    assert "<br>" in source_two


def test_a_slide_deck_source_is_located_by_its_slide_and_a_pdf_by_its_page() -> None:
    deck = replace(make_chunk("c3", FELLOW_PASSAGE, 4), file_format="pptx")
    report = replace(make_chunk("c4", CW_PASSAGE, 61), page_label="59", file_format="pdf")
    sources = (Source(1, deck, FELLOW_PASSAGE), Source(2, report, CW_PASSAGE))

    rendered = sources_html(sources)
    exported = conversation_markdown([Exchange("a1", make_answer(sources=sources))])

    assert "Key theme 2 · slide 4" in rendered
    assert "Key theme 2 · p. 59 (PDF p. 61)" in rendered
    assert "**Learning from the NHS InSites Programme — Governance & Resources > Key theme 2 · slide 4**" in exported
    assert "p. 4" not in rendered + exported


def test_the_models_source_label_names_a_slide_as_a_slide_and_a_page_by_its_printed_name() -> None:
    """The prompt told the model a deck's passage was on "p. 4", which it then repeated to the user."""
    deck = replace(make_chunk("c3", FELLOW_PASSAGE, 4), file_format="pptx")
    report = replace(make_chunk("c4", CW_PASSAGE, 61), page_label="59", file_format="pdf")
    unlabelled = replace(make_chunk("c5", CW_PASSAGE, 61), file_format="pdf")

    assert source_label(deck) == "Case study: CW+ working in partnership | Key theme 2 | slide 4"
    assert source_label(report) == "Case study: CW+ working in partnership | Key theme 2 | p. 59"
    assert source_label(unlabelled).endswith("| p. 61")


def test_sources_escape_document_text() -> None:
    hostile = "<script>alert('x')</script> Funding comes from the charity."
    rendered = sources_html((Source(1, make_chunk("c9", hostile, 3), hostile),))

    assert "<script>" not in rendered
    assert "&lt;script&gt;" in rendered


def test_highlight_needs_real_overlap() -> None:
    assert best_matching_sentence(CW_PASSAGE, ["Dinosaurs lived long ago [1]."]) is None
    assert best_matching_sentence(CW_PASSAGE, ["The MoU formalised the relationship [1]."]) == (
        "This relationship has been formalised through an MoU."
    )


def test_sources_title_counts_flagged_sources() -> None:
    answer = make_answer()
    assert sources_title(answer.sources) == "Sources (2)"
    assert sources_title(answer.sources, answer.citations) == "Sources (2) — ⚠️ 1 cited for unsupported claims"
    assert sources_title(()) == "Sources (none found)"


def test_markdown_export_contains_questions_answers_and_quoted_sources() -> None:
    exchanges = [
        Exchange("a1", make_answer()),
        Exchange("a2", make_answer(question="And fellowships?"), Filters(organisations=("Barts Health NHS Trust",))),
    ]

    exported = conversation_markdown(exchanges, exported_at=datetime(2025, 3, 1, 9, 30, tzinfo=UTC))

    assert exported.startswith("# NHS innovation reports assistant: conversation\n")
    assert "Exported 2025-03-01 09:30 UTC" in exported
    assert "## 1. How do trusts fund innovation?" in exported
    assert "## 2. And fellowships?" in exported
    assert "*Filters: organisations: Barts Health NHS Trust*" in exported
    assert exported.count("### Sources") == 2
    assert (
        "1. **Learning from the NHS InSites Programme — Governance & Resources > Key theme 2 · p. 61** "
        "(Chelsea and Westminster Hospital NHS Foundation Trust)"
    ) in exported
    assert "   > Barts Health runs an innovation fellowship.\n   > Fellows get two protected days a week." in exported
    assert "⚠️ *Not supported by source [2]*" in exported
    assert "*Model: llamacpp:qwen · prompt answer-v1#abc*" in exported


def test_question_problems_are_explained() -> None:
    assert question_problem("   ", 100) == "Please type a question first."
    assert question_problem(None, 100) == "Please type a question first."
    problem = question_problem("x" * 1500, 1000)
    assert problem is not None and "1,500 characters" in problem and "limit is 1,000" in problem
    assert question_problem("  " + "x" * 1000 + "  ", 1000) is None


def test_case_study_label_and_detail_name_organisation_and_source() -> None:
    study = CaseStudy(
        chunk=SOURCES[0].chunk,
        organisations=("Chelsea and Westminster Hospital NHS Foundation Trust",),
        title="CW+ working in partnership",
        summary="The innovation programme is funded by the charity CW+.",
    )

    assert case_study_label(study) == (
        "Chelsea and Westminster Hospital NHS Foundation Trust — The innovation programme is funded by the charity CW+."
    )
    detail = case_study_markdown(study)
    assert detail.startswith("### CW+ working in partnership")
    assert (
        "**Source:** Learning from the NHS InSites Programme — Governance & Resources > Key theme 2 · p. 61" in detail
    )
    assert detail.rstrip().endswith(f"> {CW_PASSAGE}")


def test_eval_failure_detail_shows_failures_answer_and_passages() -> None:
    item = {
        "id": "fund-1",
        "kind": "fact",
        "question": "Who funds CW?",
        "failures": ["missing fact: CW+"],
        "answer": "Nobody [1].",
        "reference_answer": "The charity CW+.",
        "retrieved": [
            {"doc_title": "Report", "section": "Governance", "page": 4, "text": "CW+ funds it."},
            {"doc_title": "Report", "section": "Culture", "page": 9, "page_label": "7", "text": "Fellows."},
        ],
    }

    detail = eval_failure_markdown(item)

    assert "### fund-1 (fact)" in detail
    assert "- missing fact: CW+" in detail
    assert "> Nobody [1]." in detail
    assert "> The charity CW+." in detail
    assert "1. *Report, Governance, p. 4*: CW+ funds it." in detail
    assert "2. *Report, Culture, p. 7 (PDF p. 9)*: Fellows." in detail


def test_eval_failure_detail_names_a_retrieved_slide_as_a_slide() -> None:
    slide = {"doc_title": "Deck", "section": "Results", "page": 4, "file_format": "pptx", "text": "Waits fell."}
    item = {"id": "w-1", "kind": "fact", "question": "Did waits fall?", "retrieved": [{"metadata": slide}]}

    assert "1. *Deck, Results, slide 4*" in eval_failure_markdown(item)


def test_the_upload_summary_counts_copies_skipped_and_names_them() -> None:
    from assistant.ui_format import ingest_report_markdown
    from ingest.pipeline import IngestReport

    report = IngestReport(files_seen=2, documents_added=1, duplicates_skipped=1, chunks_total=9)
    report.warnings.append("copy.pdf: the same content as Report (report), already in the index; not indexed again")
    shown = ingest_report_markdown(report)
    assert "1 added" in shown and "1 skipped as copies" in shown and "copy.pdf: the same content as" in shown
    assert "skipped as copies" not in ingest_report_markdown(IngestReport(files_seen=1, documents_added=1))
