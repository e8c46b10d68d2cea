"""veedor: verify an election from its tally sheets (actas).

Pipeline stages, one package each: capture → read → verify → store → tally → publish.
The small data model they pass between them lives in :mod:`veedor.model`.
"""

__version__ = "0.1.0"
