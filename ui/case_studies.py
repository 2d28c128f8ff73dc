"""The "Case studies" tab: find case studies and best-practice examples, read one, and ask about it.

Asking starts a new chat scoped to the study's document and organisations, through the chat tab's
:class:`~ui.chat.ChatControls`.
"""

from __future__ import annotations

from typing import Any, cast

import gradio as gr

from assistant.records import CaseStudy, ChunkKind
from assistant.ui_format import case_study_label, case_study_markdown, case_study_question
from ui.chat import ChatControls, status_html
from ui.context import AppContext


def case_study_tab(ctx: AppContext, tabs: gr.Tabs, chat: ChatControls) -> dict[str, Any]:
    """Builds the finder; returns the page-load event that lists every case study before any search."""
    store = ctx.assistant.store
    gr.Markdown(
        "Find case studies and best-practice examples from the reports. Choose a result to read the full "
        "passage with its source and page, then ask about it in the chat."
    )
    with gr.Row():
        topic = gr.Textbox(label="Topic", placeholder="e.g. fellowships, charity funding, evaluation", scale=3)
        organisation = gr.Dropdown(
            label="Organisation",
            choices=[name for name, _ in store.organisations()],
            allow_custom_value=True,
            value=None,
            scale=2,
            elem_id="case-organisation",
        )
    with gr.Row():
        domain = gr.Dropdown(label="Report domain", choices=store.domains(), value=None, scale=2)
        kind = gr.Radio(
            label="Type",
            choices=[("Any", ""), ("Case study", "case_study"), ("Best practice", "best_practice")],
            value="",
            scale=2,
        )
        search = gr.Button("Search case studies", variant="primary", scale=1, elem_id="case-search")
    summary = gr.Markdown(elem_id="case-summary")
    results = gr.Radio(label="Results", choices=[], elem_classes="case-results", elem_id="case-results")
    detail = gr.Markdown(elem_id="case-detail")
    ask = gr.Button("Ask about this case study", variant="primary", interactive=False, elem_id="case-ask")
    found = gr.State([])
    chosen = gr.State(None)

    def find(
        topic_text: str, organisation_name: str | None, domain_name: str | None, kind_name: str
    ) -> tuple[Any, ...]:
        studies = ctx.assistant.case_studies(
            topic=topic_text.strip(),
            organisation=organisation_name or None,
            domain=domain_name or None,
            kind=cast(ChunkKind, kind_name) if kind_name else None,
            limit=30,
        )
        choices = [(case_study_label(study), str(number)) for number, study in enumerate(studies)]
        count = f"**{len(studies)} result{'s' if len(studies) != 1 else ''}**" if studies else "**No results.**"
        if not studies:
            count += " Try fewer filters or another topic."
        return studies, gr.Radio(choices=choices, value=None), count, "", None, gr.Button(interactive=False)

    outputs = [found, results, summary, detail, chosen, ask]
    inputs = [topic, organisation, domain, kind]
    search.click(find, inputs=inputs, outputs=outputs, api_visibility="private")
    topic.submit(find, inputs=inputs, outputs=outputs, api_visibility="private")

    def choose(selected: str | None, studies: list[CaseStudy]) -> tuple[Any, ...]:
        if selected is None or not selected.isdigit() or int(selected) >= len(studies):
            return "", None, gr.Button(interactive=False)
        study = studies[int(selected)]
        return case_study_markdown(study), study, gr.Button(interactive=True)

    results.change(
        choose, inputs=[results, found], outputs=[detail, chosen, ask], queue=False, api_visibility="private"
    )

    def scope_chat(study: CaseStudy | None) -> tuple[Any, ...]:
        if study is None:
            return (gr.skip(),) * 12
        return (
            gr.Tabs(selected="chat"),
            [],
            [],
            gr.DownloadButton(visible=False, value=None),
            gr.Accordion(open=True),
            [study.chunk.doc_id],
            list(study.organisations),
            [],
            [],
            gr.Textbox(value=case_study_question(study), interactive=True),
            status_html(f"New chat scoped to the case study “{study.title}” (see Filters)."),
            gr.Group(visible=False),
        )

    scoped = ask.click(
        scope_chat,
        inputs=chosen,
        outputs=[
            tabs,
            chat.chatbot,
            chat.exchanges,
            chat.export,
            chat.filter_box,
            *chat.filter_inputs,
            chat.question,
            chat.status,
            chat.feedback_box,
        ],
        cancels=chat.answer_events,
        queue=False,
        api_visibility="private",
    )
    chat.ask_after(scoped, ctx)
    return {"fn": lambda: find("", None, None, ""), "outputs": outputs, "api_visibility": "private"}
