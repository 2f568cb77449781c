"""pytest plugin: the known-differences catalogue (loaded from the root conftest).

- report header: how many entries, gotchas and areas the catalogue holds;
- stale selectors: an entry's `applies_to` selector ('family:name[:dtype]') that matches no collected test of a
  family that *was* collected is listed at the end of the run (as array-api-tests warns about unused xfails);
  `--catalogue-strict` makes that fail the session. A selector matches a test by `Selector.matches`, the matcher
  `differences.lookup` uses too: the test carries the family's marker (`op` -> ops, `layer` -> layers, `loss` ->
  losses, `grad` -> grads, `optim`; the marker name itself works too), `name` is a run of whole '-'-separated words
  of its parametrize id and `dtype` one word of it: `op:sum:int32` matches `test_op_matches[sum-keras-int32]`.
  Families with no collected test are not judged (running one file says nothing about the others).
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
    from ..differences import AREAS, DIFFERENCES

    gotchas = sum(d.gotcha for d in DIFFERENCES)
    areas = len({d.area for d in DIFFERENCES})
    return [f"catalogue: {len(DIFFERENCES)} known differences ({gotchas} gotchas) in {areas}/{len(AREAS)} areas; "
            f"selectors {'strict' if config.getoption('catalogue_strict') else 'reported'}"]


# Selector family -> the marker its tests carry (a selector may name the marker itself: 'ops:sum').
SELECTOR_MARKERS = {"op": "ops", "layer": "layers", "model": "layers", "loss": "losses", "grad": "grads",
                    "optimizer": "optim", "gpu": "gpu"}
SELECTOR_FAMILIES = set(SELECTOR_MARKERS) | set(SELECTOR_MARKERS.values())


def item_words(item) -> tuple[set[str], set[str], set[str]]:
    """(selector families, names, dtypes) a collected test answers to, for Selector.matches: its markers and the
    selector families they stand for; every run of whole '-'-separated words of its parametrize id (so a name
    covers its variants, 'sum' and 'keras-int32' both name `sum-keras-int32`); and each single word as a dtype."""
    markers = {m.name for m in item.iter_markers()}
    families = markers | {family for family, marker in SELECTOR_MARKERS.items() if marker in markers}
    callspec = getattr(item, "callspec", None)
    words = callspec.id.split("-") if callspec else []
    runs = {"-".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)}
    return families, runs, set(words)


def unmatched_selectors(entries, items) -> list[str]:
    """'entry-id: selector' for selectors of collected families that no collected test matches."""
    from ..differences import Selector

    collected = [item_words(item) for item in items]
    families_seen = set().union(*(f for f, _, _ in collected)) if collected else set()
    out = []
    for entry in entries:
        for sel in entry.applies_to:
            selector = Selector.parse(sel)
            if selector.family != "*" and selector.family not in SELECTOR_FAMILIES:
                out.append(f"{entry.id}: {sel} (unknown family {selector.family!r}; known: "
                           f"{', '.join(sorted(SELECTOR_FAMILIES))})")
                continue
            if selector.family != "*" and selector.family not in families_seen or not collected:
                continue  # no test of that family was collected: running one file says nothing about the others
            if not any(selector.matches(*words) for words in collected):
                out.append(f"{entry.id}: {sel}")
    return out


@pytest.hookimpl(tryfirst=True)  # before -k/-m deselection: a selector is stale when no test exists for it
def pytest_collection_modifyitems(session, config, items):
    from ..differences import DIFFERENCES

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
