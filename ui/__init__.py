"""The Gradio views of the app, one module per tab or hub view; ``app.py`` lays them out as one page.

Views only wire components to the public functions of ``assistant/``, ``ingest/`` and ``evals/``; nothing in
those packages imports from here.
"""
