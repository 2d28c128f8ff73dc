"""Switching to a Chroma server is configuration only: the same ingest and search against `chroma run`."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import Settings, load_settings
from ingest.pipeline import ingest_paths
from ingest.store import ChunkStore
from tests.conftest import FakeEmbedder

CHROMA = Path(sys.executable).with_name("chroma")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    if not CHROMA.exists() and shutil.which("chroma") is None:
        pytest.fail("the chroma CLI from the chromadb package is missing")
    port = _free_port()
    process = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("chroma run did not start within 60 s")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_ingest_and_search_against_a_chroma_server(
    chroma_server: int, tiny_corpus: Path, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    settings: Settings = load_settings(
        data_dir=tmp_path / "client-data", chroma_host="127.0.0.1", chroma_port=chroma_server
    )
    report = ingest_paths([tiny_corpus], settings, embedder=fake_embedder)  # type: ignore[arg-type]
    assert report.ok and report.chunks_embedded > 5
    assert not settings.chroma_dir.exists(), "no embedded store may be created when a server is configured"
    store = ChunkStore(settings)
    hits = store.dense_search(fake_embedder.embed_query("charity CW+ funds the innovation programme"), 3)
    assert hits and "CW+" in store.get_chunks([hits[0][0]])[hits[0][0]].organisations
    store.close()
