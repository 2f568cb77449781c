"""pytest plugin: report (loaded from the root conftest)."""
