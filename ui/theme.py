"""The app's look: NHS blue, system fonts only, and the CSS the views' element ids and classes rely on.

Kept in one place because Gradio 6 takes the theme and CSS at ``launch`` rather than when the page is built.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

NHS_BLUE = "#005EB8"
SYSTEM_FONTS = ("Frutiger W01", "Arial", "Helvetica Neue", "Helvetica", "sans-serif")
MONO_FONTS = ("ui-monospace", "Consolas", "Menlo", "monospace")
CSS = """
.gradio-container { width: 100% !important; max-width: 1200px !important; margin: 0 auto !important; }
#app-header { background: #005EB8; color: #fff; padding: 14px 20px; border-radius: 4px; }
#app-header h1 { color: #fff; margin: 0; font-size: 1.5rem; }
#app-header p { color: #fff; margin: 4px 0 0; }
:focus-visible {
  outline: 3px solid #FFEB3B !important; outline-offset: 0; box-shadow: 0 4px 0 #212B32 !important;
}
.source summary { cursor: pointer; padding: 4px 0; }
.source blockquote { border-left: 4px solid #005EB8; margin: 6px 0; padding: 4px 10px; background: #F0F4F5; }
.source mark { background: #FFEB3B; color: #212B32; }
.unsupported-flag { color: #8A1538; font-weight: 600; }
.not-cited { color: #4C6272; }
.cited-for { font-size: 0.9em; color: #4C6272; margin: 2px 0 8px; }
#chat-status, #hub-status { min-height: 1.5em; color: #4C6272; }
#chat-status .problem { color: #8A1538; font-weight: 600; }
.case-results label { width: 100%; }
.small-print { font-size: 0.85em; color: #4C6272; }
.hub-table table, .hub-table td, .hub-table th, .hub-table span { font-family: var(--font) !important; }
.eval-report-frame { width: 100%; height: 640px; border: 1px solid #D8DDE0; }
"""


def nhs_theme() -> gr.themes.Base:
    """NHS blue on white with system fonts only: Gradio's stock fonts would be fetched from the internet."""
    blue = gr.themes.Color(
        c50="#E8F1FA",
        c100="#C6DCF2",
        c200="#9EC5E8",
        c300="#5B9BD5",
        c400="#2F7FC8",
        c500=NHS_BLUE,
        c600="#0055A5",
        c700="#004A91",
        c800="#003087",
        c900="#002060",
        c950="#001A4D",
        name="nhs_blue",
    )
    return gr.themes.Default(
        primary_hue=blue,
        secondary_hue=blue,
        neutral_hue="slate",
        font=list(SYSTEM_FONTS),
        font_mono=list(MONO_FONTS),
    ).set(
        body_text_color="#212B32",
        body_background_fill="#FFFFFF",
        button_primary_background_fill=NHS_BLUE,
        button_primary_background_fill_hover="#003087",
        button_primary_text_color="#FFFFFF",
        link_text_color=NHS_BLUE,
    )


def launch_style() -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch`` that give the app its look (Gradio 6 takes them at launch)."""
    return {"theme": nhs_theme(), "css": CSS}
