"""The review desk's web pages (``veedor desk``): a thin face over :mod:`veedor.store.review`."""

from __future__ import annotations

from veedor.web.app import create_app

__all__ = ["create_app"]
