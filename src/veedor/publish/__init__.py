"""Publish: open-data exports of the verified actas and their aggregates, with a manifest."""

from veedor.publish.export import ExportError, export

__all__ = ["ExportError", "export"]
