"""Forms filled by hand in boxes (a ``boxed-form`` reader): straightened by their corner marks,
every field's boxes placed from the definition, for people to type what is written there.

Nothing handwritten is read: the machine only says which acta it is (its QR) and where each
count is, so that the review desk can show each field's crop beside its input.
"""
