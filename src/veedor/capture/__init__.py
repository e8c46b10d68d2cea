"""Capture: find input files, store each once by SHA-256, and open images safely.

The bottom stage: it imports nothing of veedor but the data model and the definitions. The
importers of published tables and registries are in :mod:`veedor.ingest`.
"""
