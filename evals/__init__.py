"""Evaluation: golden questions, metrics and a runner that calls the same public ``Assistant`` the app calls.

- ``golden_check``: the golden-set format (typed records), its parser and a checker for the shipped file.
- ``matching``: how retrieved text is matched to gold quotes, organisations and key facts.
- ``metrics``: one function per metric, each with its formula.
- ``runner``: runs a golden set through a pipeline and writes the results JSON; the CLI's ``eval`` hooks.
- ``report`` / ``compare``: pure functions over results JSON (HTML report, run-to-run comparison).
- ``baseline``: LangChain's textbook RAG pipeline on the same corpus, to measure the product against.
- ``benchmark``: ingest, retrieval and generation speed of product and baseline on this machine.
"""
