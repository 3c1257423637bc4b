"""Training jobs (and, with ``kind="prediction"``, batch prediction jobs): one lifecycle."""
