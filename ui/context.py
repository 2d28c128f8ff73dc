"""What every view is given: the shared :class:`AppContext`, and the small helpers more than one view needs.

Kept out of the view modules so that any of them can import it without a cycle: the hub tab imports the hub
views, and each of those needs :func:`require_hub`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from assistant.config import Settings
from assistant.feedback import FeedbackStore
from assistant.pipeline import Assistant


@dataclass
class AppContext:
    """What every session shares: the one Assistant, the feedback store and the settings."""

    settings: Settings
    assistant: Assistant
    feedback: FeedbackStore
    export_dir: Path

    def hub_password(self) -> str | None:
        secret = self.settings.app_password
        return secret.get_secret_value() if secret is not None and secret.get_secret_value() else None


def new_id() -> str:
    """A random id for an answer or an export folder, unique across sessions."""
    return uuid.uuid4().hex


def require_hub(unlocked: bool) -> None:
    """Server-side check for every hub handler: hidden components alone do not protect an endpoint."""
    if not unlocked:
        raise gr.Error("Unlock the hub with its password first.")
