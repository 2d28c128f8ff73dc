"""Switches that keep every library from reaching for the network.

NHS laptops and this build machine have no route to model hubs or telemetry endpoints; a library that
tries one either hangs for a timeout or fails. These must be set before the libraries are imported,
which is why the package ``__init__`` files call :func:`enforce_offline` first thing.
"""

from __future__ import annotations

import os

OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "ORT_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def enforce_offline() -> None:
    """Force the offline switches; a user's own value cannot turn hub downloads back on."""
    os.environ.update(OFFLINE_ENVIRONMENT)
