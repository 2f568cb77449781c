"""The KnownDifference record: one behaviour difference (or default) between TF/Keras and PyTorch, as data.

Each entry carries a tiny deterministic `witness` that runs BOTH frameworks and returns what each one did, and the
`expected` values each is documented to give. `check()` compares the two: an upgrade that changes either side
(not only one that makes them agree) makes the entry stale, and the message names the entry and what was observed.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np

AREAS = (
    "op-semantics", "layer-defaults", "layouts", "losses", "optimizers", "gradients",
    "dtypes", "devices", "modes", "data-pipelines", "numerics",
)
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class MalformedDifference(ValueError):
    """A catalogue entry is missing a field or has an invalid one; the message names the entry."""


class StaleDifference(AssertionError):
    """A catalogue entry no longer describes what the installed frameworks do."""


@dataclasses.dataclass(frozen=True)
class ByPlatform:
    """One side's expectation when it depends on a platform condition (equivalence.platform.CONDITIONS).

    ``ByPlatform("tf_onednn", {True: [0.0, nan], False: [nan, nan]})``: the witness asserts the value that belongs
    to the platform it runs on, never "either value". A key may be a tuple of condition values that share one
    expectation (``{"AVX512": x, ("AVX2", "DEFAULT"): y}``); together the keys cover every value exactly once.
    """

    condition: str
    values: dict

    def __post_init__(self):
        from ..platform import CONDITIONS

        if self.condition not in CONDITIONS:
            raise MalformedDifference(f"ByPlatform condition {self.condition!r} is not one of {tuple(CONDITIONS)}")
        covered = [v for key in self.values for v in (key if isinstance(key, tuple) else (key,))]
        if sorted(map(repr, covered)) != sorted(map(repr, CONDITIONS[self.condition])):
            raise MalformedDifference(f"ByPlatform({self.condition!r}) keys cover {covered}, expected each of "
                                      f"{list(CONDITIONS[self.condition])} exactly once")

    def select(self, conditions: dict[str, Any]) -> Any:
        """The expectation for a platform with these condition values."""
        here = conditions[self.condition]
        for key, value in self.values.items():
            if here in (key if isinstance(key, tuple) else (key,)):
                return value
        raise KeyError(f"ByPlatform({self.condition!r}) has no value for {here!r}")

    def variants(self) -> list[tuple[tuple, Any]]:
        """(condition values, expectation) pairs, in declaration order."""
        return [(key if isinstance(key, tuple) else (key,), value) for key, value in self.values.items()]


@dataclasses.dataclass(frozen=True)
class Unsupported:
    """A limitation as data: on the platforms `when` names, `side` raises `error` (message matching `match`) for the
    tests the entry's `applies_to` selects. There those tests assert this error instead of skipping; elsewhere
    they run the full comparison. The entry's witness observes the same limitation (a ByPlatform expectation).
    """

    side: str  # 'tf' or 'torch'
    when: dict  # {condition: values} under which the side raises, e.g. {"tf_onednn": (False,)}
    error: str  # the exception's class name
    match: str  # a regular expression its message matches

    def __post_init__(self):
        from ..platform import CONDITIONS

        if self.side not in ("tf", "torch"):
            raise MalformedDifference(f"Unsupported.side {self.side!r} is not 'tf' or 'torch'")
        for name, values in self.when.items():
            if name not in CONDITIONS or not set(values) <= set(CONDITIONS[name]):
                raise MalformedDifference(f"Unsupported.when {name}={values!r} is not a platform condition value")

    def active(self, conditions: dict[str, Any] | None = None) -> bool:
        """True on a platform (default: this one) where the side cannot run the computation."""
        if conditions is None:
            from ..platform import observed_conditions

            conditions = observed_conditions()
        return all(conditions[name] in values for name, values in self.when.items())

    @contextlib.contextmanager
    def expected_error(self, entry_id: str):
        """Assert the block raises the documented error (an AssertionError naming the entry when it does not)."""
        __tracebackhide__ = True
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - the error is the observation
            if type(exc).__name__ != self.error or not re.search(self.match, str(exc)):
                raise AssertionError(f"catalogue entry {entry_id!r}: documented {self.side} to raise {self.error} "
                                     f"matching {self.match!r} here, got {type(exc).__name__}: {exc}") from exc
        else:
            raise AssertionError(f"catalogue entry {entry_id!r} is stale: {self.side} was documented to raise "
                                 f"{self.error} on this platform but ran; the limitation may be gone upstream")


@dataclasses.dataclass(frozen=True)
class KnownDifference:
    id: str  # stable slug, never reused: 'adam-epsilon-default'
    area: str  # one of AREAS
    title: str  # one-line statement of the difference
    tf: str  # how TensorFlow / Keras behaves
    torch: str  # how PyTorch behaves
    witness: Callable[[], dict[str, Any]]  # runs both frameworks; returns {"tf": observed, "torch": observed}
    expected: dict[str, Any]  # {"tf": documented value, "torch": documented value}; a side may be ByPlatform(...)
    snippet_tf: str  # minimal code a reader can paste (shown in the rendered catalogue)
    snippet_torch: str
    evidence: str  # where it is documented: API doc, source file, upstream issue
    mapping: str = ""  # how to make the two agree ("" when nothing does)
    applies_to: tuple[str, ...] = ()  # selectors 'family:name[:dtype]' of the property tests this explains
    atol: float = 0.0  # slack when comparing observed floats with `expected` (witness values are exact by default)
    gotcha: bool = False  # also shown in the gotchas section
    unsupported: Unsupported | None = None  # a platform limitation the selected tests assert (see Unsupported)

    def __post_init__(self):
        problems = []
        if not isinstance(self.id, str) or not _SLUG.match(self.id):
            problems.append(f"id {self.id!r} is not a lowercase-hyphen slug")
        if self.area not in AREAS:
            problems.append(f"area {self.area!r} is not one of {AREAS}")
        for name in ("title", "tf", "torch", "snippet_tf", "snippet_torch", "evidence"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                problems.append(f"{name} is empty")
        if not callable(self.witness):
            problems.append("witness is not callable")
        if not isinstance(self.expected, dict) or set(self.expected) != {"tf", "torch"}:
            problems.append(f"expected must be a dict with exactly the keys 'tf' and 'torch', got {self.expected!r}")
        for sel in self.applies_to:
            if sel.count(":") not in (1, 2):
                problems.append(f"selector {sel!r} is not 'family:name[:dtype]'")
        if problems:
            raise MalformedDifference(f"catalogue entry {self.id!r}: " + "; ".join(problems))

    def __repr__(self) -> str:  # short, so pytest's "entry = ..." line and Hypothesis examples stay readable
        return f"KnownDifference<{self.id}>"

    def matches(self, family: str, name: str, dtype: str | None = None) -> bool:
        """True when one of `applies_to` selects this family/name(/dtype); '*' is a wildcard."""
        for sel in self.applies_to:
            parts = sel.split(":")
            fam, nm, dt = parts[0], parts[1], (parts[2] if len(parts) == 3 else "*")
            if fam in ("*", family) and nm in ("*", name) and (dt == "*" or dtype is None or dt == dtype):
                return True
        return False

    def observe(self) -> dict[str, Any]:
        """Run the witness (seeded, global framework state restored); errors are reported with this entry's id."""
        __tracebackhide__ = True  # pytest shows the entry's message, not the machinery's frames
        from .. import _runtime

        try:  # seeded from the id and isolated: a witness is deterministic and cannot leak global settings
            with _runtime.isolated(_runtime.seed_for(f"difference:{self.id}")):
                observed = self.witness()
        except Exception as exc:  # noqa: BLE001 - re-raised with the entry named
            raise MalformedDifference(f"catalogue entry {self.id!r}: witness raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(observed, dict) or set(observed) != {"tf", "torch"}:
            raise MalformedDifference(f"catalogue entry {self.id!r}: witness must return {{'tf':..., 'torch':...}}, got {observed!r}")
        return {k: normalise(v) for k, v in observed.items()}

    @property
    def platform_conditions(self) -> tuple[str, ...]:
        """The platform conditions this entry's expectation depends on (empty for most entries); a ByPlatform
        value may itself be a ByPlatform on another condition (an effect that needs two conditions at once)."""
        found: set[str] = set()

        def visit(value):
            if isinstance(value, ByPlatform):
                found.add(value.condition)
                for _, inner in value.variants():
                    visit(inner)

        for value in self.expected.values():
            visit(value)
        return tuple(sorted(found))

    def expected_on(self, conditions: dict[str, Any] | None = None) -> dict[str, Any]:
        """{'tf', 'torch'} documented values for a platform (default: the one this process runs on), normalised."""
        if conditions is None and self.platform_conditions:
            from ..platform import observed_conditions

            conditions = observed_conditions()
        def resolve(value):
            while isinstance(value, ByPlatform):
                value = value.select(conditions)
            return normalise(value)

        return {side: resolve(v) for side, v in self.expected.items()}

    def variants(self) -> list[tuple[dict[str, tuple], dict[str, Any]]]:
        """({condition: values}, expected) for every distinct platform expectation; [({}, expected)] when plain.

        Condition combinations that share one expectation are merged, so a torch-only ByPlatform keyed
        {"AVX512": x, ("AVX2", "DEFAULT"): y} gives two variants, labelled by the capability values of each.
        """
        import itertools

        names = self.platform_conditions
        if not names:
            return [({}, self.expected_on({}))]
        from ..platform import CONDITIONS

        groups: list[tuple[dict[str, list], dict[str, Any]]] = []
        for combo in itertools.product(*(CONDITIONS[n] for n in names)):
            resolved = self.expected_on(dict(zip(names, combo)))
            for labels, seen in groups:
                if same(seen, resolved, 0.0):
                    for n, c in zip(names, combo):
                        if c not in labels[n]:
                            labels[n].append(c)
                    break
            else:
                groups.append(({n: [c] for n, c in zip(names, combo)}, resolved))
        return [({n: tuple(v) for n, v in labels.items()}, resolved) for labels, resolved in groups]

    def stale_sides(self, observed: dict[str, Any], conditions: dict[str, Any] | None = None) -> list[str]:
        """The sides ('tf', 'torch') whose observed value no longer matches `expected` (on this platform)."""
        expected = self.expected_on(conditions)
        return [side for side in ("tf", "torch") if not same(observed[side], expected[side], self.atol)]

    def check(self, observed: dict[str, Any] | None = None) -> dict[str, Any]:
        """Assert both sides' observations (made now unless given) match `expected`; return the observations."""
        __tracebackhide__ = True
        observed = self.observe() if observed is None else observed
        stale = self.stale_sides(observed)
        if stale:
            expected = self.expected_on()
            lines = [f"catalogue entry {self.id!r} is stale: {self.title}"]
            if self.platform_conditions:
                from ..platform import describe_conditions, observed_conditions

                here = {n: observed_conditions()[n] for n in self.platform_conditions}
                lines.append(f"  platform: {describe_conditions(here)} (the expectation documented for it)")
            for side in stale:
                lines.append(f"  {side}: documented {expected[side]!r}, observed {observed[side]!r}")
            if observed["tf"] == observed["torch"] or same(observed["tf"], observed["torch"], self.atol):
                lines.append("  the two frameworks now AGREE on the witness: the difference may be gone upstream")
            lines.append("  update the entry (expected/tf/torch text) in equivalence/differences/ or report the regression")
            raise StaleDifference("\n".join(lines))
        return observed


_dataclass_init = KnownDifference.__init__


def _init_naming_the_entry(self, *args, **kwargs):
    """A missing or unknown field is reported with the entry's id, not as a bare TypeError from __init__."""
    try:
        _dataclass_init(self, *args, **kwargs)
    except TypeError as exc:
        raise MalformedDifference(f"catalogue entry {kwargs.get('id', args[0] if args else None)!r}: {exc}") from None


KnownDifference.__init__ = _init_naming_the_entry


def normalise(value: Any) -> Any:
    """Framework tensors/arrays -> nested Python lists/scalars, so observations are JSON-able and comparable."""
    if hasattr(value, "detach") or hasattr(value, "numpy"):
        from ..compare import to_numpy

        value = to_numpy(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    return value


def same(a: Any, b: Any, atol: float) -> bool:
    """Structural equality with NaN == NaN and an absolute slack for floats."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y, atol) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], atol) for k in a)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        if math.isinf(a) or math.isinf(b):
            return a == b
        return abs(a - b) <= atol
    return a == b


def build_registry(*groups: list[KnownDifference]) -> list[KnownDifference]:
    """Concatenate area lists, rejecting duplicate ids (ids are never reused)."""
    seen: dict[str, KnownDifference] = {}
    for group in groups:
        for entry in group:
            if entry.id in seen:
                raise MalformedDifference(f"duplicate catalogue id {entry.id!r} ({entry.title!r} and {seen[entry.id].title!r})")
            seen[entry.id] = entry
    return list(seen.values())
