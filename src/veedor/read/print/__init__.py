"""Read the printed acta (the receipt's text), as a second, independent witness to the QR.

``read_print(gray, definition)`` finds the table rows geometrically (:mod:`.layout`),
recognises only the small regions the checks need (:mod:`.ocr`), turns the text into
numbers (:mod:`.words`, :mod:`.parse`) and runs the print's own redundancy checks:
every count is printed twice (digits and words), lines sum to "Votos válidos", válidos +
nulos = votos, and the acta id agrees with the printed centre code.
"""

from __future__ import annotations

from veedor.read.print.parse import Line, PrintReading, read_print

__all__ = ["Line", "PrintReading", "read_print"]
