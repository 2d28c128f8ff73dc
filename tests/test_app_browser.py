"""The app as a person uses it: a real Chromium drives ``python app.py`` started in a subprocess.

Each server gets its own data directory, so ``serve`` ingests the bundled corpus first, exactly as on a new
laptop. Most tests use the scripted chat model (``NHS_ASSISTANT_LLM_BACKEND=fake``) behind the real
embedder and index, which keeps them to seconds; one test (also marked ``slow``) runs the real embedded LLM.
Screenshots go to ``test-artifacts/`` so a reviewer can see what the tests saw.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, Page, expect, sync_playwright

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HUB_PASSWORD = "correct horse battery staple"
CHELSEA = "Chelsea and Westminster Hospital NHS Foundation Trust"
START_TIMEOUT_S = 600
FAKE_ANSWER_TIMEOUT_MS = 90_000
REAL_ANSWER_TIMEOUT_MS = 600_000


@dataclass
class AppServer:
    """A running ``python app.py`` with its own data directory and log file."""

    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path
    hosts: set[str] = field(default_factory=set)

    @property
    def feedback_db(self) -> Path:
        return self.data_dir / "feedback.sqlite3"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_server(root: Path, backend: str, password: str | None = None) -> AppServer:
    """Start the app the way a user does and wait until it answers HTTP (after its first ingest)."""
    port = _free_port()
    data_dir = root / "data"
    env = {key: value for key, value in os.environ.items() if not key.startswith("NHS_ASSISTANT_")}
    env |= {
        "NHS_ASSISTANT_DATA_DIR": str(data_dir),
        "NHS_ASSISTANT_LLM_BACKEND": backend,
        "NHS_ASSISTANT_APP_HOST": "127.0.0.1",
        "NHS_ASSISTANT_APP_PORT": str(port),
        "GRADIO_TEMP_DIR": str(root / "gradio"),
        "PYTHONUNBUFFERED": "1",
    }
    if password is not None:
        env["NHS_ASSISTANT_APP_PASSWORD"] = password
    log = root / "server.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, str(REPO / "app.py")], cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return AppServer(url=url, data_dir=data_dir, process=process, log=log)
        except OSError:
            time.sleep(1.0)
    process.terminate()
    raise RuntimeError(f"app did not answer within {START_TIMEOUT_S} s:\n{log.read_text()[-4000:]}")


def _stop(server: AppServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """One app with the scripted chat model, shared by the fast tests (each opens its own page/session)."""
    server = _start_server(tmp_path_factory.mktemp("app"), backend="fake", password=HUB_PASSWORD)
    yield server
    _stop(server)


@pytest.fixture
def page(browser: Browser, app_server: AppServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    opened = context.new_page()
    opened.on("request", lambda request: app_server.hosts.add(urlsplit(request.url).netloc))
    opened.set_default_timeout(30_000)
    opened.goto(app_server.url, wait_until="load")
    expect(opened.locator("#chatbot")).to_be_visible()
    yield opened
    context.close()


def _shot(page: Page, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def _ask(page: Page, question: str, answers_before: int = 0, timeout_ms: int = FAKE_ANSWER_TIMEOUT_MS) -> None:
    """Type a question, press Enter, and wait until its answer is complete (status says how long it took)."""
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    _wait_for_answer(page, answers_before + 1, timeout_ms)


def _wait_for_answer(page: Page, answers: int, timeout_ms: int = FAKE_ANSWER_TIMEOUT_MS) -> None:
    page.wait_for_function(
        """(n) => document.querySelectorAll('#chatbot .user-row').length === n
             && (document.querySelector('#chat-status')?.innerText || '').startsWith('Answered in')""",
        arg=answers,
        timeout=timeout_ms,
    )


def _bot_text(page: Page) -> str:
    return page.locator("#chatbot .bot-row .message-content").first.inner_text()


# ---- chat ----------------------------------------------------------------------------------------


def test_corpus_question_gets_a_cited_answer_whose_source_opens(page: Page) -> None:
    _ask(page, "Which trusts run innovation fellowships?")

    answer = _bot_text(page)
    assert "[1]" in answer
    source = page.locator("#source-1")
    expect(source).to_be_visible()
    expect(source.locator("blockquote")).to_be_hidden()
    source.locator("summary").click()
    expect(source.locator("blockquote")).to_be_visible()
    passage = source.locator("blockquote").inner_text()
    assert "fellowship" in passage.lower()
    expect(source.locator("mark")).to_have_count(1)
    assert "Learning from the NHS InSites Programme" in source.locator("summary").inner_text()
    _shot(page, "chat-answer-with-open-source")


def test_examples_show_on_first_load_and_start_a_chat(page: Page) -> None:
    example = page.get_by_text("How can a small trust fund its innovation function?")
    expect(example).to_be_visible()
    _shot(page, "chat-first-load", full_page=False)

    example.click()
    _wait_for_answer(page, 1)
    assert page.locator("#chatbot .user-row").inner_text().strip() == (
        "How can a small trust fund its innovation function?"
    )


def test_follow_up_keeps_the_conversation_and_new_chat_clears_it(page: Page) -> None:
    _ask(page, "What challenges did the Innovation Ecosystem rapid insight event identify?")
    _ask(page, "Which of those relate to funding?", answers_before=1)

    expect(page.locator("#chatbot .user-row")).to_have_count(2)
    page.locator("#new-chat").click()
    expect(page.locator("#chatbot .user-row")).to_have_count(0)
    expect(page.locator("#export-button")).to_be_hidden()


def test_empty_and_too_long_questions_get_a_clear_message(page: Page) -> None:
    page.locator("#ask-button").click()
    expect(page.locator("#chat-status")).to_have_text("Please type a question first.")

    page.locator("#question textarea").fill("Why? " * 300)
    page.locator("#ask-button").click()
    expect(page.locator("#chat-status")).to_contain_text("the limit is 1,000")
    expect(page.locator("#chatbot .user-row")).to_have_count(0)
    _shot(page, "chat-too-long", full_page=False)


def test_feedback_with_comment_is_stored_in_sqlite(page: Page, app_server: AppServer) -> None:
    question = "How do sites involve patients and the public in innovation?"
    _ask(page, question)

    page.get_by_role("button", name="Dislike", exact=True).click()
    expect(page.locator("#feedback-note")).to_contain_text("not helpful")
    page.locator("#feedback-comment textarea").fill("The second source is about something else.")
    page.locator("#save-comment").click()
    expect(page.locator("#feedback-note")).to_contain_text("Comment saved")
    expect(page.locator("#stored-notice")).to_contain_text("What is stored when you rate an answer")
    _shot(page, "chat-feedback")

    with sqlite3.connect(app_server.feedback_db) as db:
        rows = db.execute(
            "SELECT rating, comment, answer, sources, model, prompt_version FROM feedback WHERE question = ?",
            (question,),
        ).fetchall()
    assert len(rows) == 1
    rating, comment, answer, sources, model, prompt_version = rows[0]
    assert (rating, comment, model) == ("down", "The second source is about something else.", "fake:scripted")
    assert answer.strip() and prompt_version
    assert json.loads(sources)[0]["number"] == 1


def test_export_downloads_the_conversation_with_its_sources(page: Page) -> None:
    _ask(page, "Which trusts run innovation fellowships?")

    with page.expect_download() as download:
        page.locator("#export-button").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")

    assert download.value.suggested_filename.endswith(".md")
    assert "## 1. Which trusts run innovation fellowships?" in exported
    assert "### Sources" in exported
    assert "   > " in exported


# ---- case studies --------------------------------------------------------------------------------


def test_case_studies_by_organisation_open_and_scope_a_chat(page: Page) -> None:
    page.get_by_role("tab", name="Case studies").click()
    results = page.locator("#case-results label")
    expect(results.first).to_be_visible()
    everything = results.count()
    page.locator("#case-organisation input").fill(CHELSEA)
    page.locator("#case-organisation input").press("Enter")
    page.locator("#case-search").click()

    page.wait_for_function(
        """(name) => {
            const labels = [...document.querySelectorAll('#case-results label')];
            return labels.length > 0 && labels.every((label) => label.innerText.includes(name));
        }""",
        arg=CHELSEA,
    )
    assert results.count() < everything
    results.first.click()
    detail = page.locator("#case-detail")
    expect(detail).to_contain_text("Source:")
    expect(detail).to_contain_text(CHELSEA)
    _shot(page, "case-studies")

    page.locator("#case-ask").click()
    _wait_for_answer(page, 1)
    expect(page.get_by_role("tab", name="Ask the reports")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#filter-organisations")).to_contain_text(CHELSEA)
    assert CHELSEA in page.locator("#source-1 summary").inner_text()
    _shot(page, "case-study-scoped-chat")


# ---- hub -----------------------------------------------------------------------------------------


def _unlock_hub(page: Page) -> None:
    page.get_by_role("tab", name="Hub team").click()
    page.locator("#hub-password input").fill(HUB_PASSWORD)
    page.locator("#hub-unlock").click()
    expect(page.locator("#feedback-refresh")).to_be_visible()


def test_hub_is_locked_until_the_password_is_given(page: Page) -> None:
    page.get_by_role("tab", name="Hub team").click()
    expect(page.locator("#hub-password")).to_be_visible()
    expect(page.locator("#feedback-refresh")).to_be_hidden()
    page.locator("#hub-password input").fill("guess")
    page.locator("#hub-unlock").click()
    expect(page.locator("#hub-lock-message")).to_contain_text("Wrong hub password.")
    expect(page.locator("#feedback-refresh")).to_be_hidden()
    _shot(page, "hub-locked", full_page=False)

    _unlock_hub(page)
    expect(page.locator("#hub-password")).to_be_hidden()


def test_feedback_log_filters_and_exports_csv(page: Page) -> None:
    _ask(page, "What is the NHS InSites programme?")
    page.get_by_role("button", name="Like", exact=True).click()
    expect(page.locator("#feedback-note")).to_contain_text("helpful")

    _unlock_hub(page)
    page.get_by_role("radio", name="Thumbs up").check()
    page.locator("#feedback-refresh").click()
    expect(page.locator("#feedback-table")).to_contain_text("What is the NHS InSites programme?")
    with page.expect_download() as download:
        page.locator("#feedback-export").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert exported.startswith("answer_id,created_at,rating,comment,question")
    assert "What is the NHS InSites programme?" in exported
    assert ",down," not in exported
    _shot(page, "hub-feedback-log")


def test_corpus_upload_reports_bad_files_and_remove_takes_a_document_out(page: Page, tmp_path: Path) -> None:
    good = tmp_path / "leeds-innovation-note.md"
    good.write_text(
        "# Leeds innovation note\n\nLeeds Teaching Hospitals NHS Trust runs a quarterly innovation clinic "
        "where staff pitch ideas to a panel of patients.\n",
        encoding="utf-8",
    )
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"this is not a PDF")
    _unlock_hub(page)
    page.get_by_role("tab", name="Corpus").click()
    table = page.locator("#corpus-table")
    expect(table).to_contain_text("Supporting the spread of healthcare innovations")
    grid = table.locator("[role=grid]")
    rows_before = grid.get_attribute("aria-rowcount")
    assert rows_before is not None

    page.locator("#corpus-upload input[type=file]").set_input_files([str(good), str(broken)])
    page.locator("#corpus-ingest").click()
    report = page.locator("#corpus-report")
    expect(report).to_contain_text("Ingest finished", timeout=120_000)
    expect(report).to_contain_text("broken.pdf")
    expect(report).to_contain_text("1 added")
    expect(grid).to_have_attribute("aria-rowcount", str(int(rows_before) + 1))
    expect(table).to_contain_text("leeds-innovation-note")
    _shot(page, "hub-corpus-after-upload")

    page.locator("#corpus-remove-choice input").fill("leeds")
    page.get_by_role("option", name="leeds", exact=False).first.click()
    page.get_by_label("Yes, remove it from the index").check()
    page.locator("#corpus-remove").click()
    expect(report).to_contain_text("Removed")
    expect(grid).to_have_attribute("aria-rowcount", rows_before)


def test_retrieval_eval_runs_with_progress_and_shows_scores_failures_and_report(page: Page) -> None:
    _unlock_hub(page)
    page.get_by_role("tab", name="Evals").click()
    page.get_by_label("At most this many questions (0 = all)").fill("4")
    page.locator("#eval-run").click()

    expect(page.locator("#eval-status")).to_contain_text("Finished 4 questions", timeout=180_000)
    expect(page.locator("#eval-results-header")).to_contain_text("retrieval only")
    scores = page.locator("#eval-scores")
    expect(scores).to_contain_text("hit@5")
    failures = page.locator("#eval-failures [role=grid]")
    if failures.get_attribute("aria-rowcount") not in (None, "1"):
        page.locator("#eval-failures [data-testid=cell-0-2]").click()
        expect(page.locator("#eval-failure-detail")).to_contain_text("Failures:")
    page.get_by_text("HTML report", exact=True).click()
    expect(page.frame_locator("iframe[title='Evaluation report']").locator("h1")).to_contain_text("Evaluation")
    _shot(page, "hub-evals")


def test_second_user_sees_their_place_in_the_queue(page: Page, browser: Browser, app_server: AppServer) -> None:
    """A full-set eval holds the one model slot; a chat user asking meanwhile is told they are queued."""
    _unlock_hub(page)
    page.get_by_role("tab", name="Evals").click()
    page.get_by_label("At most this many questions (0 = all)").fill("0")
    page.locator("#eval-run").click()
    expect(page.locator("#eval-status")).to_contain_text("Evaluated")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        other = context.new_page()
        other.goto(app_server.url, wait_until="load")
        other.locator("#question textarea").fill("Which trusts run innovation fellowships?")
        other.locator("#question textarea").press("Enter")
        expect(other.locator("#chatbot")).to_contain_text(re.compile(r"queue: \d+/\d+"), timeout=15_000)
        expect(other.locator("#chat-status")).to_contain_text("Waiting for the model")
        _shot(other, "chat-queued", full_page=False)
        _wait_for_answer(other, 1, timeout_ms=300_000)
    finally:
        context.close()
    expect(page.locator("#eval-status")).to_contain_text("Finished", timeout=300_000)


# ---- look, accessibility and privacy -------------------------------------------------------------


def test_keyboard_alone_reaches_the_question_box_and_asks(page: Page) -> None:
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement?.closest('#question') !== null"):
            break
    else:
        pytest.fail("Tab never reached the question box")
    page.keyboard.type("What are the core objectives of NHS InSites?")
    page.keyboard.press("Enter")
    _wait_for_answer(page, 1)


def test_narrow_screen_has_no_sideways_scrolling(browser: Browser, app_server: AppServer) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        narrow = context.new_page()
        narrow.goto(app_server.url, wait_until="load")
        expect(narrow.locator("#ask-button")).to_be_visible()
        overflow = narrow.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        _shot(narrow, "narrow-screen")
        assert overflow <= 1
    finally:
        context.close()


def test_no_request_leaves_localhost(page: Page, app_server: AppServer) -> None:
    _ask(page, "How can a small trust fund its innovation function?")
    for tab in ("Case studies", "Hub team", "Ask the reports"):
        page.get_by_role("tab", name=tab).click()
    page.reload(wait_until="load")
    expect(page.locator("#chatbot")).to_be_visible()

    address = urlsplit(app_server.url).netloc
    assert app_server.hosts, "no requests were recorded"
    assert app_server.hosts == {address}, f"requests left the machine: {sorted(app_server.hosts - {address})}"


# ---- the real model ------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_model_streams_a_cited_answer(browser: Browser, tmp_path: Path) -> None:
    """The whole product: real embedder, real index and the bundled GGUF model through llama.cpp."""
    server = _start_server(tmp_path, backend="llamacpp")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        real = context.new_page()
        real.on("request", lambda request: server.hosts.add(urlsplit(request.url).netloc))
        real.goto(server.url, wait_until="load")
        expect(real.locator("#chatbot")).to_be_visible()
        real.evaluate(
            """() => {
                window.__answerLengths = [];
                new MutationObserver(() => {
                    const bot = document.querySelector('#chatbot .bot-row .message-content');
                    if (bot) window.__answerLengths.push(bot.innerText.length);
                }).observe(document.querySelector('#chatbot'), {subtree: true, childList: true,
                                                              characterData: true});
            }"""
        )
        real.locator("#question textarea").fill("How can a small trust fund its innovation function?")
        real.locator("#question textarea").press("Enter")
        expect(real.locator("#source-1")).to_be_visible(timeout=REAL_ANSWER_TIMEOUT_MS)
        real.wait_for_timeout(500)  # let the sources panel finish opening before the screenshot
        _shot(real, "real-model-sources-first", full_page=False)
        _wait_for_answer(real, 1, REAL_ANSWER_TIMEOUT_MS)
        _shot(real, "real-model-answer")

        lengths = real.evaluate("window.__answerLengths")
        assert len(set(lengths)) >= 4, f"the answer did not arrive in pieces: {lengths[:20]}"
        answer = _bot_text(real)
        assert "[1]" in answer or "[2]" in answer or "do not" in answer.lower()
        assert server.hosts == {urlsplit(server.url).netloc}
    finally:
        context.close()
        _stop(server)
