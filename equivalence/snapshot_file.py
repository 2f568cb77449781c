"""A committed snapshot per installed framework versions (fixtures/<what>/keras-<v>_torch-<v>.json) and its command
line: check the installed frameworks against it (default) or `--write` it. Shared by equivalence/defaults.py
(constructor defaults) and equivalence/api_surface.py (the public API surface); each names its own folder, key,
wording and how to take and compare a snapshot.

CLI exit status: 0 no change (or written), 1 changes (one line each on stderr), 2 no committed snapshot for these
versions.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import sys
from collections.abc import Callable
from typing import Any

Records = dict[str, dict[str, Any]]  # {class or function name: {key: value}}


@dataclasses.dataclass(frozen=True)
class SnapshotFile:
    fixtures: pathlib.Path  # the folder of keras-<v>_torch-<v>.json files
    key: str  # the document's key that holds the records ('defaults', 'surface')
    generator: str  # the command that (re)writes the file, named in its text and in every hint
    indent: int  # json.dumps indent of the file
    versions: Callable[[], dict[str, str]]  # the installed {'keras': v, 'torch': v}

    def path(self, versions: dict[str, str] | None = None) -> pathlib.Path:
        """The snapshot file of `versions` (default: the installed ones)."""
        v = versions or self.versions()
        return self.fixtures / f"keras-{v['keras']}_torch-{v['torch']}.json"

    def load(self, path: pathlib.Path | None = None) -> Records | None:
        """The committed records for the installed versions (or in `path`), or None when there is none."""
        path = path or self.path()
        if not path.exists():
            return None
        return json.loads(path.read_text())[self.key]

    def document(self, records: Records) -> str:
        """The snapshot file's text."""
        return json.dumps({"generator": self.generator, "versions": self.versions(), self.key: records},
                          indent=self.indent, allow_nan=False) + "\n"

    def main(self, argv: list[str] | None, *, prog: str, description: str, take: Callable[[], Records],
             changes: Callable[[Records, Records], list[str]], wrote: str, summary: str) -> int:
        """The CLI. `wrote` and `summary` are str.format templates over {records} (keys in all), {owners}
        (classes/functions), {changes} (how many) and {path}."""
        parser = argparse.ArgumentParser(prog=prog, description=description)
        parser.add_argument("--write", action="store_true", help="write the snapshot instead of checking it")
        parser.add_argument("--out", default=None, help=f"snapshot file (default {self.path()})")
        args = parser.parse_args(argv)
        path = pathlib.Path(args.out) if args.out else self.path()
        current = take()
        counts = {"records": sum(map(len, current.values())), "owners": len(current), "path": path}
        if args.write:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(self.document(current))
            print(wrote.format(changes=0, **counts))
            return 0
        committed = self.load(path)
        if committed is None:
            print(f"no committed snapshot {path} for these versions; create it with: {self.generator}", file=sys.stderr)
            return 2
        found = changes(committed, current)
        for line in found:
            print(line, file=sys.stderr)
        print(summary.format(changes=len(found), **counts), file=sys.stderr)
        return 1 if found else 0
