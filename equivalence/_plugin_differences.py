"""pytest plugin: the known-differences catalogue (loaded from the root conftest).

- report header: how many entries, gotchas and areas the catalogue holds;
- stale selectors: an entry's `applies_to` selector ('family:name[:dtype]') that matches no collected test of a
  family that *was* collected is listed at the end of the run (as array-api-tests warns about unused xfails);
  `--catalogue-strict` makes that fail the session. A selector matches a test when the test carries the family's
  marker (`op` -> ops, `layer` -> layers, `loss` -> losses, `grad` -> grads, `optim`; the marker name itself works
  too) and `name` (and `dtype`) is a run of whole '-'-separated words of its parametrize id, the way
  `differences.lookup` treats a name as covering its variants: `op:sum:int32` matches
  `test_op_matches[sum-keras-int32]`. Families with no collected test are not judged (running one file says
  nothing about the others).
- xdist: workers collect; each sends its unmatched selectors to the controller, which reports those that no worker
  matched.
"""
from __future__ import annotations

import pytest

_UNMATCHED = "catalogue_unmatched"  # key of the xdist workeroutput dict
_KEY = pytest.StashKey[list]()  # this process's unmatched selectors
_FROM_WORKERS = pytest.StashKey[list]()  # xdist controller: one set per worker


def pytest_addoption(parser):
    group = parser.getgroup("equivalence catalogue")
    group.addoption("--catalogue-strict", action="store_true", default=False,
                    help="fail the session when a catalogue entry's applies_to selector matches no collected test")


def pytest_report_header(config):
    from .differences import AREAS, DIFFERENCES

    gotchas = sum(d.gotcha for d in DIFFERENCES)
    areas = len({d.area for d in DIFFERENCES})
    return [f"catalogue: {len(DIFFERENCES)} known differences ({gotchas} gotchas) in {areas}/{len(AREAS)} areas; "
            f"selectors {'strict' if config.getoption('catalogue_strict') else 'reported'}"]


# Selector family -> the marker its tests carry.
FAMILY_MARKERS = {"op": "ops", "layer": "layers", "model": "layers", "loss": "losses", "grad": "grads",
                  "optimizer": "optim", "gpu": "gpu"}
KNOWN_FAMILIES = set(FAMILY_MARKERS) | set(FAMILY_MARKERS.values())


def item_words(item) -> tuple[set[str], str]:
    """(marker names, '-word-word-' form of the parametrize id) of a collected test."""
    markers = {m.name for m in item.iter_markers()}
    callspec = getattr(item, "callspec", None)
    return markers, f"-{callspec.id}-" if callspec else ""


def _family_in(family: str, markers: set[str]) -> bool:
    return family == "*" or family in markers or FAMILY_MARKERS.get(family) in markers


def _words_in(word: str, padded_id: str) -> bool:
    return word == "*" or f"-{word}-" in padded_id


def unmatched_selectors(entries, items) -> list[str]:
    """'entry-id: selector' for selectors of collected families that no collected test matches."""
    collected = [item_words(item) for item in items]
    markers_seen = set().union(*(m for m, _ in collected)) if collected else set()
    out = []
    for entry in entries:
        for sel in entry.applies_to:
            fam, name, *rest = sel.split(":")
            dtype = rest[0] if rest else "*"
            if fam != "*" and fam not in KNOWN_FAMILIES:
                out.append(f"{entry.id}: {sel} (unknown family {fam!r}; known: {', '.join(sorted(KNOWN_FAMILIES))})")
                continue
            if not _family_in(fam, markers_seen) or fam == "*" and not collected:
                continue
            if not any(_family_in(fam, marks) and _words_in(name, words) and _words_in(dtype, words)
                       for marks, words in collected):
                out.append(f"{entry.id}: {sel}")
    return out


@pytest.hookimpl(tryfirst=True)  # before -k/-m deselection: a selector is stale when no test exists for it
def pytest_collection_modifyitems(session, config, items):
    from .differences import DIFFERENCES

    config.stash[_KEY] = unmatched_selectors(DIFFERENCES, items)
    if hasattr(config, "workeroutput"):  # xdist worker: the controller reports
        config.workeroutput[_UNMATCHED] = config.stash[_KEY]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """xdist controller: keep each worker's unmatched selectors; a selector counts if every worker missed it."""
    sent = getattr(node, "workeroutput", {}).get(_UNMATCHED)
    if sent is not None:
        node.config.stash.setdefault(_FROM_WORKERS, []).append(set(sent))


def _unmatched(config) -> list[str]:
    workers = config.stash.get(_FROM_WORKERS, None)
    if workers:
        return sorted(set.intersection(*workers))
    return config.stash.get(_KEY, [])


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    unmatched = _unmatched(config)
    if unmatched:
        strict = config.getoption("catalogue_strict")
        terminalreporter.section("catalogue selectors matching no collected test", sep="-", red=strict,
                                 yellow=not strict)
        for line in unmatched:
            terminalreporter.write_line(f"  {line}")
        terminalreporter.write_line("  fix the entry's applies_to in equivalence/differences/ (or the test id)")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if config.getoption("catalogue_strict") and not hasattr(config, "workeroutput") and _unmatched(config):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
