"""Prompts are versioned text files in ``prompts/``; code never embeds prompt wording.

The first line of each file is ``version: <label>``. Every answer and eval result records
:attr:`PromptSet.version` (labels plus a hash of the exact text), so a change in answer quality can be traced
to the prompt edit that caused it even when someone forgot to bump a label.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REFUSAL_SENTENCE = "The reports I have do not cover this."
# How prompts/premise.txt asks the model to open when the question assumes what the sources do not say.
PREMISE_CORRECTION = "The reports do not say that"


@dataclass(frozen=True)
class Prompt:
    name: str
    label: str
    text: str

    def render(self, **values: str) -> str:
        rendered = self.text
        for key, value in values.items():
            rendered = rendered.replace("{" + key + "}", value)
        return rendered


@dataclass(frozen=True)
class PromptSet:
    system: Prompt
    answer: Prompt
    source: Prompt
    premise: Prompt

    @property
    def version(self) -> str:
        digest = hashlib.sha256(
            "\n".join(p.text for p in (self.system, self.answer, self.source, self.premise)).encode()
        ).hexdigest()[:8]
        return f"{self.system.label}+{self.answer.label}+{self.source.label}#{digest}"


def load_prompt(prompts_dir: Path, name: str) -> Prompt:
    path = prompts_dir / f"{name}.txt"
    if not path.exists():
        raise FileNotFoundError(f"prompt '{name}' not found: expected {path}")
    first, _, body = path.read_text(encoding="utf-8").partition("\n")
    if not first.startswith("version:"):
        raise ValueError(f"{path} must start with a 'version: <label>' line")
    return Prompt(name=name, label=first.removeprefix("version:").strip(), text=body.strip("\n"))


@cache
def load_prompt_set(prompts_dir: Path) -> PromptSet:
    return PromptSet(
        system=load_prompt(prompts_dir, "system"),
        answer=load_prompt(prompts_dir, "answer"),
        source=load_prompt(prompts_dir, "source"),
        premise=load_prompt(prompts_dir, "premise"),
    )
