"""Device moves, checkable on a CPU-only machine through torch's 'meta' device.

A meta tensor has a shape and dtype but no storage, and `.to('meta')` is a real device move: the same code path
as `.to('cuda')` (Module.to -> Module._apply -> Tensor.to on every parameter AND buffer). So a torch build whose
Module.to stopped moving buffers (BatchNorm running statistics, the suite's own index/count buffers), or whose
Tensor.to ignored its device, fails here without a GPU; the mutation tests prove each of these checks can fail.
"""
from __future__ import annotations

import pytest

from equivalence import runtime
from equivalence.spec import ModelSpec, layer

pytestmark = pytest.mark.gotcha

# conv -> BatchNorm2d (running stats) -> 'same' avg-pool on an odd map (asymmetric pads: the suite's SameAvgPool2d
# with its non-persistent `count` buffer) -> flatten -> BatchNorm1d (reads the flatten: a `_to_hwc` int64 index
# buffer on the SpecModule itself) -> dense.
SPEC = ModelSpec("device_move", (5, 5, 2), (
    layer("conv2d", filters=2, kernel_size=3, padding="same"), layer("batch_norm", momentum=0.9),
    layer("avg_pool2d", pool_size=2, strides=2, padding="same"), layer("flatten"),
    layer("batch_norm", momentum=0.9), layer("dense", units=3)))


def _placement(module) -> dict[str, str]:
    """{'parameter <name>' / 'buffer <name>': device type} for every tensor the module holds (recursively)."""
    out = {f"parameter {n}": p.device.type for n, p in module.named_parameters()}
    out |= {f"buffer {n}": b.device.type for n, b in module.named_buffers()}
    return out


def _assert_moved(module, device: str, expected_names: set[str]) -> None:
    returned = module.to(device)
    assert returned is module, f"{type(module).__name__}.to({device!r}) returned {type(returned).__name__}, not self"
    placed = _placement(module)
    assert set(placed) == expected_names, f"tensors: {sorted(placed)}, expected {sorted(expected_names)}"
    left = {name: dev for name, dev in placed.items() if dev != device}
    assert not left, f"{type(module).__name__}.to({device!r}) left " + ", ".join(f"{n} on {d}" for n, d in left.items())


def check_batchnorm_to_meta() -> None:
    torch = runtime.torch()
    bn = torch.nn.BatchNorm1d(3)
    _assert_moved(bn, "meta", {"parameter weight", "parameter bias", "buffer running_mean", "buffer running_var",
                               "buffer num_batches_tracked"})
    assert bn.num_batches_tracked.dtype == torch.int64 and bn.running_var.shape == (3,)


def check_tensor_to_meta() -> None:
    torch = runtime.torch()
    t = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    for device in ("meta", torch.device("meta")):
        moved = t.to(device)
        assert (moved.device.type, moved.is_meta, tuple(moved.shape), moved.dtype) == \
               ("meta", True, (2, 3), torch.float64), f"Tensor.to({device!r}) gave a tensor on {moved.device}"
    assert t.device.type == "cpu", "Tensor.to moved the source tensor in place"
    moved = t.to(device="meta", dtype=torch.float32)
    assert (moved.device.type, moved.dtype) == ("meta", torch.float32), f"Tensor.to(device=, dtype=) gave {moved}"


def check_suite_model_to_meta() -> None:
    from equivalence.models import build_pair

    torch = runtime.torch()
    module = build_pair(SPEC, seed=0).torch
    cpu = _placement(module)
    assert set(cpu.values()) == {"cpu"}
    bn_buffers = {"running_mean", "running_var", "num_batches_tracked"}
    expected = {f"buffer layers.{l}.{b}" for l in ("batch_norm_1", "batch_norm_4") for b in bn_buffers}
    expected |= {"buffer layers.avg_pool2d_2.count", "buffer _to_hwc_batch_norm_4_0"}
    assert expected <= set(cpu), f"the spec no longer builds the buffers this test moves: {sorted(cpu)}"
    _assert_moved(module, "meta", set(cpu))
    y = module(torch.ones(2, 2, 5, 5).to("meta"))  # runs on meta: every operand must be there
    assert (y.device.type, tuple(y.shape)) == ("meta", (2, 3))


def test_module_to_moves_parameters_and_buffers():
    """BatchNorm1d(3).to('meta') returns the module with weight, bias and all three running-stat buffers moved."""
    check_batchnorm_to_meta()


def test_tensor_to_moves_to_the_device():
    """Tensor.to('meta') / torch.device('meta') / device=: a meta tensor of the same shape and dtype."""
    check_tensor_to_meta()


def test_suite_model_moves_every_parameter_and_buffer():
    """A spec-built model (build_pair) moved with .to('meta'): every parameter and (non-persistent) buffer moves."""
    if not runtime.has_module("tensorflow"):
        pytest.skip("build_pair builds the Keras model too; TensorFlow is not installed here")
    check_suite_model_to_meta()


# ---------------------------------------------------------------- the checks can fail
def _skip_buffers(monkeypatch):
    """A torch whose Module.to moved parameters only: _apply puts each module's old buffers back."""
    torch = runtime.torch()
    original = torch.nn.Module._apply

    def _apply(self, fn, recurse=True):
        kept = dict(self._buffers)
        original(self, fn, recurse)
        self._buffers.update(kept)
        return self

    monkeypatch.setattr(torch.nn.Module, "_apply", _apply)


def _ignore_device(monkeypatch):
    """A torch whose Tensor.to ignored its device (dtype conversions still happen)."""
    torch = runtime.torch()
    original = torch.Tensor.to

    def to(self, *args, **kwargs):
        dtype = kwargs.get("dtype") or next((a for a in args if isinstance(a, torch.dtype)), None)
        return self if dtype is None else original(self, dtype=dtype)

    monkeypatch.setattr(torch.Tensor, "to", to)


def test_module_to_skipping_buffers_is_caught(monkeypatch):
    _skip_buffers(monkeypatch)
    with pytest.raises(AssertionError, match=r"(?m)^BatchNorm1d.to\('meta'\) left buffer running_mean on cpu, "
                                             r"buffer running_var on cpu, buffer num_batches_tracked on cpu$"):
        check_batchnorm_to_meta()
    if runtime.has_module("tensorflow"):
        with pytest.raises(AssertionError, match=r"SpecModule.to\('meta'\) left buffer _to_hwc_batch_norm_4_0 on cpu"):
            check_suite_model_to_meta()


def test_to_ignoring_the_device_is_caught(monkeypatch):
    _ignore_device(monkeypatch)
    with pytest.raises(AssertionError, match=r"Tensor.to\('meta'\) gave a tensor on cpu"):
        check_tensor_to_meta()
    with pytest.raises(AssertionError, match=r"BatchNorm1d.to\('meta'\) left parameter weight on cpu"):
        check_batchnorm_to_meta()
    if runtime.has_module("tensorflow"):
        with pytest.raises(AssertionError, match=r"SpecModule.to\('meta'\) left parameter layers.conv2d_0.core.weight"):
            check_suite_model_to_meta()
