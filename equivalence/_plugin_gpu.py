"""pytest plugin: gpu (loaded from the root conftest)."""
