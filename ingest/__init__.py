"""Ingestion: load -> split -> embed -> store. Writes the index the assistant reads."""

from assistant.offline import enforce_offline

enforce_offline()
