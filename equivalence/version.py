"""The suite's version, importable without the model stack (the report schema reads it)."""
__version__ = "0.1.0"
