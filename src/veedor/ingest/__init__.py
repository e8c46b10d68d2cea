"""Ingest: importers of what others publish or hold — results tables (``tables.py``), the
geographic registry (``registry.py``), official bulletins (``official.py``) and where each
elector votes (``voters.py``) — read safely and written to the database.

Above ``store`` (they write through it), below ``tally``; nothing here loads OpenCV.
"""
