"""The check every model benchmark makes before it times a path: its first result equals torch eager's."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


def verify(job, ref, impl: str, mode: str, fn: Callable[[], Any], check_training: Callable[..., None]) -> None:
    """Run `fn` (path `impl`, `mode`, on `job`) once and check it against torch eager's same mode on the identical
    job `ref`, before anything is timed: a forward by assert_forward_matches, any other mode by
    check_training(job, ref, impl, mode, out, expected, what). A job has `pair`, `tol` and `torch_<mode>()`."""
    __tracebackhide__ = True
    what = f"{job.pair.spec.name}/{mode} {impl} vs torch-eager"
    out, expected = fn(), getattr(ref, f"torch_{mode}")()
    if mode == "forward":
        assert_forward_matches(job.pair, ref.pair, impl, out, expected, job.tol, what)
    else:
        check_training(job, ref, impl, mode, out, expected, what)


def assert_forward_matches(pair, ref_pair, impl: str, out: Any, expected: Any, tol, what: str) -> None:
    """`out`, path `impl`'s forward output on `pair`, equals torch eager's `expected` on the identical `ref_pair`
    under the cross model rule (`tol` is the pair's model tolerance); torch outputs are put back in the spec's
    layout first, Keras outputs are in it already."""
    __tracebackhide__ = True
    from ..compare import assert_close, to_numpy
    from ..sides import side
    from ..tolerances import cross

    torch_side = side("torch-cpu")
    got = to_numpy(out) if impl.startswith("keras") else torch_side.from_layout(to_numpy(out), pair.torch)
    want = torch_side.from_layout(to_numpy(expected), ref_pair.torch)
    assert_close(got, want, cross(tol), what=what, label_a=impl, label_b="torch-eager")
