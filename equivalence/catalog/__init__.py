"""Catalogues of what the suite checks: one record per op / layer / loss / optimizer, split by family.

Each family module holds one registry (equivalence.registry.Registry: ordered, validated, no duplicate ids;
``ops*.py``: op records gathered into OP_DB, ``layers.py``: LAYER_DB, ...); generic tests parametrize over the
registries, so adding an entry never needs a new test.
"""
