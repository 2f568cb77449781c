"""The pytest plugins of the suite (loaded by the root conftest; a user's suite loads them through the pytest11 entry point where one exists)."""
