"""Read: get an acta's numbers out of an image.

Engines (``engines.py``) decode codes; the strategy (``qr.py``) decides which image
variants to try and in what order. Every attempt becomes a :class:`veedor.model.Reading`
that records engine, variant and time, whether or not it found anything.
"""
