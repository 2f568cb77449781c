"""The witnesses of issue 15's new areas observe the real framework calls: change the call and the entry goes stale.

Same pattern as test_witness_mutations.py: the framework function or class a witness calls is replaced
(monkeypatch) by a plausible variant, the behaviour an upgrade or another platform could bring, and `entry.check()`
must raise StaleDifference naming exactly the changed side (rng.py, integers.py, scatter.py, loss_options.py,
optimizer_state.py).
"""
from __future__ import annotations

import numpy as np
import pytest

from equivalence import runtime
from equivalence.differences import integers, loss_options, optimizer_state, rng, scatter
from equivalence.differences.witness_tools import assert_stale

pytestmark = [pytest.mark.catalogue, pytest.mark.usefixtures("needs_tf")]

NEW_ENTRIES = [e.id for module in (rng, integers, scatter, loss_options, optimizer_state) for e in module.ENTRIES]


def test_every_new_entry_has_a_mutation_test():
    """Each entry of the new modules is made stale by at least one test below (its id appears in one)."""
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    missing = [i for i in NEW_ENTRIES if source.count(f'"{i}"') < 1]
    assert not missing, f"entries without a mutation test: {missing}"


# ------------------------------------------------------------------------------------------------------------- rng
def test_torch_manual_seed_seeding_numpy_is_seen(monkeypatch):
    """A torch.manual_seed that also seeded NumPy (as Lightning's seed_everything does) makes the torch side stale."""
    torch = runtime.torch()
    original = torch.manual_seed

    def manual_seed(seed):
        np.random.seed(seed)
        return original(seed)

    monkeypatch.setattr(torch, "manual_seed", manual_seed)
    assert_stale("global-seed-scope", "torch")


def test_keras_set_random_seed_seeding_torch_is_seen(monkeypatch):
    """A keras.utils.set_random_seed that also seeded torch (its behaviour on the torch backend) is caught on tf."""
    keras, torch = runtime.keras(), runtime.torch()
    original = keras.utils.set_random_seed

    def set_random_seed(seed):
        original(seed)
        torch.manual_seed(seed)

    monkeypatch.setattr(keras.utils, "set_random_seed", set_random_seed)
    assert_stale("global-seed-scope", "tf")


def test_keras_int_seed_advancing_is_seen(monkeypatch):
    """A keras.random.uniform whose int seed advanced a shared generator (stateful) makes the tf side stale."""
    keras = runtime.keras()
    original, generators = keras.random.uniform, {}

    def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
        if isinstance(seed, int):
            seed = generators.setdefault(seed, keras.random.SeedGenerator(seed))
        return original(shape, minval=minval, maxval=maxval, dtype=dtype, seed=seed)

    monkeypatch.setattr(keras.random, "uniform", uniform)
    assert_stale("keras-random-int-seed-is-stateless", "tf")


def test_keras_dropout_drawing_from_the_global_seed_is_seen(monkeypatch):
    """A Keras Dropout drawing from the global SeedGenerator at call time (re-seeding rewinds it) is caught on tf."""
    keras = runtime.keras()

    class GlobalSeedDropout(keras.layers.Dropout):
        def call(self, inputs, training=False):
            return keras.random.dropout(inputs, self.rate) if training else inputs

    monkeypatch.setattr(keras.layers, "Dropout", GlobalSeedDropout)
    assert_stale("dropout-seed-source", "tf")


def test_torch_dropout_with_its_own_generator_is_seen(monkeypatch):
    """An nn.Dropout seeded once at construction (Keras' way) makes the torch side stale."""
    torch = runtime.torch()

    class OwnGeneratorDropout(torch.nn.Dropout):
        def __init__(self, p=0.5, inplace=False):
            super().__init__(p, inplace)
            self.generator = torch.Generator().manual_seed(int(torch.randint(0, 2**31, ())))

        def forward(self, x):
            keep = torch.rand(x.shape, generator=self.generator) >= self.p
            return x * keep / (1 - self.p)

    monkeypatch.setattr(torch.nn, "Dropout", OwnGeneratorDropout)
    assert_stale("dropout-seed-source", "torch")


def test_keras_randint_int64_default_is_seen(monkeypatch):
    """A keras.random.randint defaulting to int64 (torch's index dtype) makes random-draw-defaults stale on tf."""
    keras = runtime.keras()
    original = keras.random.randint

    def randint(shape, minval, maxval, dtype="int64", seed=None):
        return original(shape, minval, maxval, dtype=dtype, seed=seed)

    monkeypatch.setattr(keras.random, "randint", randint)
    assert_stale("random-draw-defaults", "tf")


# -------------------------------------------------------------------------------------------------------- integers
def test_torch_floor_divide_by_zero_returning_a_value_is_seen(monkeypatch):
    """A torch.floor_divide returning -1 for a zero divisor (CUDA's unchecked kernel) makes the torch side stale."""
    torch = runtime.torch()
    original = torch.floor_divide

    def floor_divide(a, b):
        return torch.where(b == 0, torch.full_like(a, -1), original(a, torch.where(b == 0, torch.ones_like(b), b)))

    monkeypatch.setattr(torch, "floor_divide", floor_divide)
    assert_stale("int-division-by-zero", "torch")


def test_tf_floordiv_by_zero_returning_a_value_is_seen(monkeypatch):
    """A tf.math.floordiv returning 0 for a zero divisor (TF's unchecked GPU kernel) makes the tf side stale."""
    tf = runtime.tf()
    original = tf.math.floordiv

    def floordiv(x, y, name=None):
        safe = tf.where(tf.equal(y, 0), tf.ones_like(y), y)
        return tf.where(tf.equal(y, 0), tf.zeros_like(x), original(x, safe))

    monkeypatch.setattr(tf.math, "floordiv", floordiv)
    assert_stale("int-division-by-zero", "tf")


def test_tf_negative_integer_power_computed_is_seen(monkeypatch):
    """A tf.math.pow that truncates 1 / x for a negative integer exponent (torch's tensor rule) is caught on tf."""
    tf = runtime.tf()
    original = tf.math.pow

    def pow_(x, y, name=None):
        if x.dtype.is_integer:
            return tf.cast(tf.math.pow(tf.cast(x, tf.float64), tf.cast(y, tf.float64)), x.dtype)
        return original(x, y)

    monkeypatch.setattr(tf.math, "pow", pow_)
    assert_stale("integer-negative-power", "tf")


def test_tf_int32_sum_accumulating_in_int64_is_seen(monkeypatch):
    """A tf.math.reduce_sum of int32 that widened to int64 (torch's rule) makes int32-overflow-wraps stale on tf."""
    tf = runtime.tf()
    original = tf.math.reduce_sum

    def reduce_sum(x, *args, **kwargs):
        return original(tf.cast(x, tf.int64) if x.dtype == tf.int32 else x, *args, **kwargs)

    monkeypatch.setattr(tf.math, "reduce_sum", reduce_sum)
    assert_stale("int32-overflow-wraps", "tf")


def test_torch_floor_divide_truncating_is_seen(monkeypatch):
    """A torch.floor_divide that truncates (its behaviour before torch 1.13) makes the rounding entry stale."""
    torch = runtime.torch()
    monkeypatch.setattr(torch, "floor_divide", lambda a, b: torch.div(a, b, rounding_mode="trunc"))
    assert_stale("integer-division-rounding", "torch")


def test_tf_saturating_cast_is_seen(monkeypatch):
    """A tf.cast that saturates and maps NaN to 0 (an ARM CPU's conversion) makes the cast entry stale on tf."""
    tf = runtime.tf()
    original = tf.cast

    def cast(x, dtype, name=None):
        if dtype == tf.int32 and x.dtype.is_floating:
            x = tf.where(tf.math.is_nan(x), tf.zeros_like(x), tf.clip_by_value(x, -2.0**31, 2.0**31 - 128))
        return original(x, dtype)

    monkeypatch.setattr(tf, "cast", cast)
    assert_stale("float-to-int-cast-out-of-range", "tf")


# --------------------------------------------------------------------------------------------------------- scatter
def test_tf_scatter_update_keeping_the_first_duplicate_is_seen(monkeypatch):
    """A tensor_scatter_nd_update that keeps the FIRST of duplicate updates makes the duplicates entry stale on tf."""
    tf = runtime.tf()
    original = tf.tensor_scatter_nd_update

    def first_wins(tensor, indices, updates, name=None):
        return original(tensor, tf.reverse(indices, [0]), tf.reverse(updates, [0]))

    monkeypatch.setattr(tf, "tensor_scatter_nd_update", first_wins)
    assert_stale("scatter-duplicate-indices", "tf")


def test_torch_segment_reduce_filling_zero_is_seen(monkeypatch):
    """A torch.segment_reduce that filled empty segments with 0 (TF's sorted rule) makes the torch side stale."""
    torch = runtime.torch()
    original = torch.segment_reduce

    def segment_reduce(data, reduce, lengths=None, **kwargs):
        return torch.where(lengths == 0, 0.0, original(data, reduce, lengths=lengths, **kwargs))

    monkeypatch.setattr(torch, "segment_reduce", segment_reduce)
    assert_stale("segment-reduce-empty-segments", "torch")


def test_tf_empty_segment_max_of_minus_inf_is_seen(monkeypatch):
    """A tf.math.unsorted_segment_max filling empty segments with -inf (torch's rule) makes the tf side stale."""
    tf = runtime.tf()
    original = tf.math.unsorted_segment_max

    def segment_max(data, segment_ids, num_segments, name=None):
        out = original(data, segment_ids, num_segments)
        return tf.where(tf.equal(out, out.dtype.min), tf.fill(tf.shape(out), -float("inf")), out)

    monkeypatch.setattr(tf.math, "unsorted_segment_max", segment_max)
    assert_stale("segment-reduce-empty-segments", "tf")


def test_torch_scatter_reduce_ignoring_include_self_is_seen(monkeypatch):
    """A scatter_reduce that always reduced with the destination (include_self ignored) is caught on torch."""
    torch = runtime.torch()
    original = torch.Tensor.scatter_reduce

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        return original(self, dim, index, src, reduce, include_self=True)

    monkeypatch.setattr(torch.Tensor, "scatter_reduce", scatter_reduce)
    assert_stale("scatter-reduce-includes-destination", "torch")


def test_tf_segment_sum_rejecting_negative_ids_is_seen(monkeypatch):
    """An unsorted_segment_sum that raised for a negative id (instead of dropping it) makes the tf side stale."""
    tf = runtime.tf()
    original = tf.math.unsorted_segment_sum

    def strict(data, segment_ids, num_segments, name=None):
        if min(np.asarray(segment_ids).ravel().tolist()) < 0:
            raise tf.errors.InvalidArgumentError(None, None, "negative segment id")
        return original(data, segment_ids, num_segments)

    monkeypatch.setattr(tf.math, "unsorted_segment_sum", strict)
    assert_stale("scatter-index-out-of-range", "tf")


def test_torch_index_copy_rejecting_zero_size_rows_is_seen(monkeypatch):
    """An index_copy that raised for rows of zero elements (TF's check) makes scatter-rows-of-zero-size stale."""
    torch = runtime.torch()
    original = torch.Tensor.index_copy

    def index_copy(self, dim, index, source):
        if self.numel() == 0 and index.numel():
            raise RuntimeError("Indices and updates specified for empty output shape")
        return original(self, dim, index, source)

    monkeypatch.setattr(torch.Tensor, "index_copy", index_copy)
    assert_stale("scatter-rows-of-zero-size", "torch")


# ---------------------------------------------------------------------------------------------------- loss options
def test_torch_ce_without_a_default_ignore_index_is_seen(monkeypatch):
    """A CrossEntropyLoss whose default ignore_index no longer is -100 makes ce-ignore-index-default stale on torch."""
    torch = runtime.torch()

    class NoIgnoreCE(torch.nn.CrossEntropyLoss):
        def __init__(self, *args, ignore_index=-1, **kwargs):
            super().__init__(*args, ignore_index=ignore_index, **kwargs)

    monkeypatch.setattr(torch.nn, "CrossEntropyLoss", NoIgnoreCE)
    assert_stale("ce-ignore-index-default", "torch")


def test_keras_scce_ignoring_minus_100_by_default_is_seen(monkeypatch):
    """A SparseCategoricalCrossentropy whose ignore_class defaulted to -100 (torch's ignore_index) is caught on tf."""
    keras = runtime.keras()

    class TorchLikeSCCE(keras.losses.SparseCategoricalCrossentropy):
        def __init__(self, from_logits=False, ignore_class=-100, **kwargs):
            super().__init__(from_logits=from_logits, ignore_class=ignore_class, **kwargs)

    monkeypatch.setattr(keras.losses, "SparseCategoricalCrossentropy", TorchLikeSCCE)
    assert_stale("ce-ignore-index-default", "tf")


def test_torch_bce_gaining_label_smoothing_is_seen(monkeypatch):
    """A BCEWithLogitsLoss that accepted label_smoothing (a plausible addition) makes the torch side stale."""
    torch = runtime.torch()

    class SmoothingBCE(torch.nn.BCEWithLogitsLoss):
        def __init__(self, *args, label_smoothing=0.0, **kwargs):
            super().__init__(*args, **kwargs)
            self.label_smoothing = label_smoothing

        def forward(self, input, target):
            return super().forward(input, target * (1 - self.label_smoothing) + self.label_smoothing / 2)

    monkeypatch.setattr(torch.nn, "BCEWithLogitsLoss", SmoothingBCE)
    assert_stale("label-smoothing-support", "torch")


def test_torch_mse_rejecting_mismatched_shapes_is_seen(monkeypatch):
    """An F.mse_loss that raised on (N, 1) vs (N,) instead of broadcasting makes the torch side stale."""
    torch = runtime.torch()
    original = torch.nn.functional.mse_loss

    def strict(input, target, *args, **kwargs):
        if input.shape != target.shape:
            raise ValueError(f"target size {tuple(target.shape)} != input size {tuple(input.shape)}")
        return original(input, target, *args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "mse_loss", strict)
    assert_stale("mse-target-shape-broadcast", "torch")


def test_torch_bce_weight_mean_over_weights_is_seen(monkeypatch):
    """A weighted BCE 'mean' that divided by the sum of the weights (CrossEntropyLoss' rule) is caught on torch."""
    torch = runtime.torch()
    original = torch.nn.functional.binary_cross_entropy_with_logits

    def bce(input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        if weight is None or reduction != "mean":
            return original(input, target, weight=weight, reduction=reduction, pos_weight=pos_weight)
        total = original(input, target, weight=weight, reduction="sum", pos_weight=pos_weight)
        return total / torch.broadcast_to(weight, input.shape).sum()

    monkeypatch.setattr(torch.nn.functional, "binary_cross_entropy_with_logits", bce)
    assert_stale("weighted-loss-mean-denominator", "torch")


# ------------------------------------------------------------------------------------------------- optimizer state
def test_torch_adam_reading_defaults_lr_is_seen(monkeypatch):
    """An Adam whose step() re-read opt.defaults['lr'] into its groups makes lr-change-keeps-adam-state stale."""
    torch = runtime.torch()

    class DefaultsAdam(torch.optim.Adam):
        def step(self, closure=None):
            if self.state and self.defaults["lr"] != 0.1:
                for group in self.param_groups:
                    group["lr"] = self.defaults["lr"]
            return super().step(closure)

    monkeypatch.setattr(torch.optim, "Adam", DefaultsAdam)
    assert_stale("lr-change-keeps-adam-state", "torch")


def test_torch_closed_form_steplr_is_seen(monkeypatch):
    """A StepLR computing base_lr * gamma ** epoch (ignoring a manual edit) makes lr-change-under-schedule stale."""
    torch = runtime.torch()

    class ClosedFormStepLR(torch.optim.lr_scheduler.StepLR):
        def get_lr(self):
            return self._get_closed_form_lr()

    monkeypatch.setattr(torch.optim.lr_scheduler, "StepLR", ClosedFormStepLR)
    assert_stale("lr-change-under-schedule", "torch")
