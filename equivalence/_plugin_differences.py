"""pytest plugin: differences (loaded from the root conftest)."""
