"""Capture: find input files, store each once by SHA-256, and open images safely.

Also the importers of published tables and registries (``tables.py``, ``registry.py``):
everything that takes material in from outside.
"""
