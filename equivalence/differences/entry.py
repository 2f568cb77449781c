"""The KnownDifference record: one behaviour difference (or default) between TF/Keras and PyTorch, as data.

Each entry carries a tiny deterministic `witness` that runs BOTH frameworks and returns what each one did, and the
`expected` values each is documented to give. `check()` compares the two: an upgrade that changes either side
(not only one that makes them agree) makes the entry stale, and the message names the entry and what was observed.
An entry is written one way only, ``KnownDifference(id=..., ...)`` with keywords, in its area module, right below
its witness; its `applies_to` selectors (`Selector`) are the one link between it and the tests and catalog
records it concerns.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import re
from collections.abc import Callable, Collection
from typing import Any

import numpy as np

from ..registry import Record, RecordError

AREAS = (
    "op-semantics", "layer-defaults", "layouts", "losses", "optimizers", "gradients",
    "dtypes", "devices", "modes", "data-pipelines", "numerics",
)
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


REGISTRY = "catalogue"  # how RecordError names this registry: "catalogue entry 'adam-epsilon-default': ..."
MalformedDifference = RecordError  # the registries' one error type, under the name this package always used


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
            raise RecordError(REGISTRY, None, f"ByPlatform condition {self.condition!r} is not one of "
                                                  f"{tuple(CONDITIONS)}")
        covered = [v for key in self.values for v in (key if isinstance(key, tuple) else (key,))]
        if sorted(map(repr, covered)) != sorted(map(repr, CONDITIONS[self.condition])):
            raise RecordError(REGISTRY, None, f"ByPlatform({self.condition!r}) keys cover {covered}, expected each "
                                              f"of {list(CONDITIONS[self.condition])} exactly once")

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
            raise RecordError(REGISTRY, None, f"Unsupported.side {self.side!r} is not 'tf' or 'torch'")
        for name, values in self.when.items():
            if name not in CONDITIONS or not set(values) <= set(CONDITIONS[name]):
                raise RecordError(REGISTRY, None,
                                  f"Unsupported.when {name}={values!r} is not a platform condition value")

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
class Selector:
    """One `applies_to` selector, 'family:name[:dtype]': the tests of a family ('op', 'layer', 'loss', 'grad',
    'optimizer'; a test marker such as 'ops' too) whose name is `name`, in `dtype`. '*' matches anything there."""

    family: str
    name: str
    dtype: str = "*"

    @staticmethod
    @functools.cache
    def parse(text: str) -> Selector:
        """The selector `text` spells; ValueError when it is not 'family:name[:dtype]'."""
        parts = text.split(":") if isinstance(text, str) else []
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(f"selector {text!r} is not 'family:name[:dtype]'")
        return Selector(*parts)

    def matches(self, families: Collection[str], names: Collection[str], dtypes: Collection[str] | None = None) -> bool:
        """True when this selects a test of one of `families` named by one of `names`, in one of `dtypes` (None: in
        any dtype). The one matcher: `lookup` asks about one (family, name, dtype); the pytest plugin about every
        marker of a collected test and every run of whole '-'-separated words of its id at once."""
        return ((self.family == "*" or self.family in families) and (self.name == "*" or self.name in names)
                and (self.dtype == "*" or dtypes is None or self.dtype in dtypes))


@dataclasses.dataclass(frozen=True, repr=False)
class KnownDifference(Record):
    REGISTRY = REGISTRY  # "catalogue", as RecordError names it

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
    applies_to: tuple[str, ...] = ()  # selectors 'family:name[:dtype]' (Selector) of the tests and records it explains
    atol: float = 0.0  # slack when comparing observed floats with `expected` (witness values are exact by default)
    gotcha: bool = False  # also shown in the gotchas section
    unsupported: Unsupported | None = None  # a platform limitation the selected tests assert (see Unsupported)
    # What the op and gradient property tests leave to this witness (equivalence/checks/ops.py, tests/test_grads.py;
    # differences/ops.py derives NARROWS, SIDE_NARROWS and ZERO_SIGNS from these). None: nothing.
    narrows: frozenset | None = None  # edge kinds (strategies.EDGE_KINDS) the selected op tests stop drawing, on
    # both sides, because the witness pins them down exactly; frozenset() where the entry is asserted another way
    side_narrows: dict | None = None  # {side: edge kinds} the witness owns on ONE side only: the samples still hold
    # them, the other side is checked on them against the reference, and this side (with TF vs torch) on the sample
    # as its documented behaviour sees it (checks/ops.py SIDE_VIEWS: subnormals become zeros of their sign)
    zero_signs: frozenset | ByPlatform | None = None  # the witness owns the sign of the zero results of the selected
    # ops where IEEE 754 leaves it open and no edge kind isolates it: the op test compares their values but not TF's
    # zero signs with torch's. The set names the sides whose zero signs it also owns against the float64 reference;
    # a ByPlatform of such sets holds None where the entry owns no zero sign on that platform
    grad_narrows: Callable[[Any], bool] | None = None  # predicate on a drawn gradient Sample: the cases the witness
    # owns (a kernel that is wrong or crashes here, per its expectation for this platform) are not drawn

    def __post_init__(self):
        self.validate()

    def problems(self) -> list[str]:
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
        families = set()
        for sel in self.applies_to:
            try:
                families.add(Selector.parse(sel).family)
            except ValueError as exc:
                problems.append(str(exc))
        problems += self._op_test_problems(families)
        return problems

    def _op_test_problems(self, families: set[str]) -> list[str]:
        problems = []
        if self.narrows is not None and not isinstance(self.narrows, frozenset):
            problems.append(f"narrows {self.narrows!r} is not a frozenset of edge kinds")
        if self.side_narrows is not None and not (isinstance(self.side_narrows, dict)
                                                  and set(self.side_narrows) <= {"tf", "torch"}):
            problems.append(f"side_narrows {self.side_narrows!r} is not a {{side: edge kinds}} dict")
        if self.zero_signs is not None and not isinstance(self.zero_signs, (frozenset, ByPlatform)):
            problems.append(f"zero_signs {self.zero_signs!r} is not a frozenset of sides or a ByPlatform of them")
        if self.grad_narrows is not None and not callable(self.grad_narrows):
            problems.append("grad_narrows is not callable")
        for field, family in (("narrows", "op"), ("side_narrows", "op"), ("zero_signs", "op"),
                              ("grad_narrows", "grad")):
            if getattr(self, field) is not None and family not in families:
                problems.append(f"{field} without a '{family}:' selector in applies_to (it concerns no test)")
        return problems

    def selects(self, families: Collection[str], names: Collection[str], dtypes: Collection[str] | None = None) -> bool:
        """True when one of `applies_to` selects a test of these families, names and dtypes (Selector.matches)."""
        return any(Selector.parse(sel).matches(families, names, dtypes) for sel in self.applies_to)

    def matches(self, family: str, name: str, dtype: str | None = None) -> bool:
        """True when one of `applies_to` selects this family/name(/dtype); '*' is a wildcard."""
        return self.selects((family,), (name,), None if dtype is None else (dtype,))

    def concerns(self, family: str, names: Collection[str], dtypes: Collection[str] | None = None) -> bool:
        """True when a selector of `family` names one of `names` itself, not '*': the entry concerns that record
        (a selector of every name, 'op:*:float16', applies to each test of the family but concerns none alone)."""
        return any(sel.name != "*" and sel.matches((family,), names, dtypes)
                   for sel in map(Selector.parse, self.applies_to))

    def observe(self) -> dict[str, Any]:
        """Run the witness (seeded, global framework state restored); errors are reported with this entry's id."""
        __tracebackhide__ = True  # pytest shows the entry's message, not the machinery's frames
        from .. import runtime

        try:  # seeded from the id and isolated: a witness is deterministic and cannot leak global settings
            with runtime.isolated(runtime.seed_for(f"difference:{self.id}")):
                observed = self.witness()
        except Exception as exc:  # noqa: BLE001 - re-raised with the entry named
            raise RecordError(REGISTRY, self.id, f"witness raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(observed, dict) or set(observed) != {"tf", "torch"}:
            raise RecordError(REGISTRY, self.id, f"witness must return {{'tf':..., 'torch':...}}, got {observed!r}")
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
        raise RecordError(REGISTRY, kwargs.get("id", args[0] if args else None), str(exc)) from None


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
