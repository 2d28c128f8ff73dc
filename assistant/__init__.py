"""The assistant: retrieve -> build context -> generate -> check citations, over the index ``ingest`` writes."""

from assistant.offline import enforce_offline

enforce_offline()
