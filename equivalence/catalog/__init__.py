"""Catalogues of what the suite checks: one record per op / layer / loss / optimizer, split by family.

Each family module holds one list (``ops*.py``: op records, ``layers.py``: LAYER_DB, ...); generic tests
parametrize over the lists, so adding an entry never needs a new test.
"""
