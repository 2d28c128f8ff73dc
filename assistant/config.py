"""One settings object for the whole product, read from ``NHS_ASSISTANT_*`` environment variables.

Built once by :func:`load_settings` at the edge (CLI, app, tests) and passed down; no other module reads the
environment. Every default works offline on a 2-core laptop: embedded Chroma in a local data directory, the
bundled all-mpnet-base-v2 embedder and the bundled Qwen2.5 GGUF model. Larger deployments change variables, not code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CORPUS = REPO_ROOT / "corpus"
PROMPTS_DIR = REPO_ROOT / "prompts"

LLMBackend = Literal["llamacpp", "openai", "ollama", "fake"]
EmbeddingModel = Literal["mpnet", "minilm"]


class Settings(BaseSettings):
    """Runtime configuration; each field maps to ``NHS_ASSISTANT_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="NHS_ASSISTANT_", extra="ignore")

    # Where the index lives. Relative paths are taken from the current directory.
    data_dir: Path = Field(default=Path(".nhs-assistant"), description="Index, catalog and feedback store.")
    corpus_dir: Path = Field(default=BUNDLED_CORPUS, description="Folder ingested when no path is given.")
    prompts_dir: Path = Field(default=PROMPTS_DIR)

    # Vector store: embedded by default; set chroma_host to use a `chroma run` server instead.
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_ssl: bool = False
    collection: str = "nhs_reports"

    # Embedding model: the bundled all-mpnet-base-v2 ("mpnet"), the smaller bundled all-MiniLM-L6-v2
    # ("minilm"), or any sentence-transformers folder given by embedding_model_path (which wins).
    embedding_model: EmbeddingModel = "mpnet"
    embedding_model_path: Path | None = None
    embedding_batch_size: int = 32

    # Chat model.
    llm_backend: LLMBackend = "llamacpp"
    llm_model_path: Path | None = Field(
        default=None, description="GGUF file for llamacpp; None assembles the bundled Qwen2.5 model."
    )
    model_cache_dir: Path = Field(default=Path.home() / ".cache" / "nhs-assistant")
    llm_base_url: str | None = Field(default=None, description="OpenAI-compatible or Ollama base URL.")
    llm_model: str | None = Field(default=None, description="Model name at the endpoint.")
    llm_api_key_env: str = Field(default="OPENAI_API_KEY", description="Name of the env var holding the key.")
    llm_api_key: SecretStr | None = None
    llm_threads: int = 2
    llm_context_tokens: int = 4096
    llm_max_new_tokens: int = Field(default=160, description="The model writes a short opening; points are quoted.")
    llm_temperature: float = 0.0
    llm_timeout_s: float = 120.0

    # Retrieval and context.
    retrieval_candidates: int = 30
    sources_in_context: int = 5
    llm_sources: int = Field(
        default=3, description="How many of the sources the model reads (the rest feed the quoted points)."
    )
    # 90 -> 70 cut the first-token median from 5.5 to 4.4 s (golden) and 5.7 to 4.7 s (held-out) with key
    # facts unchanged or better (0.721 -> 0.728, 0.613 -> 0.634): the quoted points draw on the full chunks.
    max_source_tokens: int = Field(default=70, description="Token budget per source passage in the prompt.")
    term_neighbour_similarity: float = Field(
        default=0.80,
        description="Question words gain corpus words at least this close in meaning for BM25 (1 turns it off).",
    )
    refusal_threshold: float = Field(
        default=0.40,
        description="Best source-sentence relevance below which the LLM is not called (calibrated on evals).",
    )

    # App.
    app_host: str = "127.0.0.1"
    app_port: int = 7860
    app_password: SecretStr | None = Field(default=None, description="Protects the hub views when set.")
    app_user: str = "hub"
    max_question_chars: int = 1000
    concurrency_limit: int = 1

    @property
    def feedback_db(self) -> Path:
        return self.data_dir / "feedback.sqlite3"

    @property
    def catalog_db(self) -> Path:
        return self.data_dir / "catalog.sqlite3"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"


def load_settings(**overrides: object) -> Settings:
    """Read the environment once; keyword overrides (e.g. from CLI flags) win over it."""
    cleaned = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**cleaned)  # type: ignore[arg-type]
