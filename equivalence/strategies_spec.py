"""Hypothesis strategies for random VALID model specs and their inputs.

Specs are grown layer by layer from the current shape, so every drawn parameter fits (no rejection sampling):
each kind's record draws its own arguments for the shape it gets (`LayerKind.strategy`), and names the SLOTS of
the families it may fill. ``mlp``: dense stacks on features, each dense optionally followed by a kind of
slot 'mlp' or a residual add; ``cnn``: conv2d blocks on NHWC maps, each optionally followed by a kind of slot
'cnn', an optional parallel branch merged by a 'cnn_merge' kind, and a 'cnn_head' kind into a dense; ``seq``:
token ids into a 'seq_input' kind (embedding) or float sequences, then 'seq' kinds (sequence to sequence), an
optional 'seq_merge' one (a query and a parallel branch as its key/value source) and an optional 'seq_final' one
(sequence to its last state); ``cnn3d``: conv3d blocks on NDHWC volumes, each optionally followed by a 'cnn3d' kind,
then optionally a Flatten into a dense. Sizes stay tiny: each example builds two models.

    >>> @given(data=st.data())
    ... def test(data):
    ...     spec = data.draw(model_specs("cnn"), label="spec")
    ...     x = data.draw(model_inputs(spec), label="x")
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp

from .layer_kinds import KINDS
from .spec import ACTIVATIONS, ModelSpec, layer

MODEL_FAMILIES = ("mlp", "cnn", "seq", "cnn3d")  # the random model families model_specs draws
SLOTS = ("mlp", "cnn", "cnn_merge", "cnn_head", "seq_input", "seq", "seq_merge", "seq_final", "cnn3d")
BACKBONES = {"mlp": "dense", "cnn": "conv2d", "cnn3d": "conv3d"}  # the kind each block of these families starts with
_SIZE = st.integers(1, 6)


def _fill(slot: str) -> list[str]:
    """The kinds that may fill `slot`, in registry order."""
    return [name for name, kind in KINDS.items() if slot in kind.slots]


def _layer(draw, kind: str, shape, slot: str, tag, **fixed):
    """A `kind` layer whose arguments its record draws for input `shape` (`fixed` ones given)."""
    return layer(kind, **{**KINDS[kind].strategy(draw, tuple(shape), slot, str(tag)), **fixed})


def _shape(input_shape, layers, dtype: str = "float32"):
    return ModelSpec("probe", input_shape, tuple(layers), dtype).output_shape


@st.composite
def mlp_specs(draw) -> ModelSpec:
    """Dense stacks on a (features,) input, each dense followed by at most one 'mlp' kind or a residual add."""
    features = width = draw(_SIZE, label="features")
    layers, prev = [], "input"
    for i in range(draw(st.integers(1, 3), label="depth")):
        d = f"dense{i}"
        layers.append(_layer(draw, BACKBONES["mlp"], (width,), "mlp", i, name=d, inputs=(prev,)))
        units = _shape((features,), layers)[-1]
        extra = draw(st.sampled_from(["none", *_fill("mlp"), "residual"]), label=f"extra{i}")
        if extra in KINDS:
            layers.append(_layer(draw, extra, (units,), "mlp", i, name=f"{extra}{i}", inputs=(d,)))
        elif extra == "residual" and units == width:
            layers.append(layer("add", name=f"res{i}", inputs=(d, prev)))
        prev, width = layers[-1].name, units
    return ModelSpec("mlp", (features,), tuple(layers))


@st.composite
def cnn_specs(draw) -> ModelSpec:
    """conv2d blocks (stride/dilation/groups/padding), each optionally followed by a 'cnn' kind, an optional
    parallel branch merged by a 'cnn_merge' kind, then an optional 'cnn_head' kind into a dense."""
    h, w, c = (draw(st.integers(3, 8), label=n) for n in ("height", "width", "channels"))
    c = min(c, 4)
    shape, layers = (h, w, c), []
    for i in range(draw(st.integers(1, 2), label="blocks")):
        layers.append(_layer(draw, BACKBONES["cnn"], shape, "cnn", i, name=f"conv{i}"))
        shape = _shape((h, w, c), layers)
        extra = draw(st.sampled_from(["none", *_fill("cnn")]), label=f"extra{i}")
        if extra != "none":
            layers.append(_layer(draw, extra, shape, "cnn", i, name=f"{extra}{i}"))
        shape = _shape((h, w, c), layers)
    merge = draw(st.sampled_from(["none", *_fill("cnn_merge")]), label="merge")
    if merge != "none":  # a parallel 'same' conv off the last node, merged back (Keras Functional)
        last = layers[-1].name
        filters = shape[-1] if merge == "add" else draw(st.integers(1, 3), label="branch_filters")  # add: one shape
        layers.append(layer("conv2d", name="branch", inputs=(last,), filters=filters, padding="same",
                            kernel_size=draw(st.integers(1, 3), label="branch_kernel"),
                            activation=draw(st.sampled_from(ACTIVATIONS), label="branch_act")))
        layers.append(layer(merge, name="merge", inputs=(last, "branch")))
    head = draw(st.sampled_from([*_fill("cnn_head"), "none"]), label="head")
    if head != "none":
        layers.append(_layer(draw, head, shape, "cnn_head", "", name="head"))
        layers.append(_layer(draw, "dense", _shape((h, w, c), layers), "cnn_head", "out", name="out"))
    return ModelSpec("cnn", (h, w, c), tuple(layers))


@st.composite
def seq_specs(draw) -> ModelSpec:
    """Token ids into a 'seq_input' kind, or float sequences; then 'seq' kinds and optionally a 'seq_final' one."""
    steps = draw(st.integers(2, 5), label="steps")
    tokens = draw(st.booleans(), label="tokens")
    shape = (steps,) if tokens else (steps, draw(st.integers(1, 4), label="channels"))
    dtype = "int32" if tokens else "float32"
    layers = [_layer(draw, draw(st.sampled_from(_fill("seq_input"))), shape, "seq_input", "", name="emb")] \
        if tokens else []
    for i in range(draw(st.integers(1, 2), label="depth")):
        kind = draw(st.sampled_from(_fill("seq")), label=f"kind{i}")
        layers.append(_layer(draw, kind, _shape(shape, layers, dtype) if layers else shape, "seq", i, name=f"l{i}"))
    merge = draw(st.sampled_from(["none", *_fill("seq_merge")]), label="merge")
    if merge != "none":  # a parallel tanh dense off the last sequence, merged back as (query, source)
        last, width = layers[-1].name, _shape(shape, layers, dtype)
        layers.append(layer("dense", name="branch", inputs=(last,), units=width[-1], activation="tanh"))
        layers.append(_layer(draw, merge, width, "seq_merge", "", name="merge", inputs=(last, "branch")))
    if draw(st.booleans(), label="last_state_only"):
        kind = draw(st.sampled_from(_fill("seq_final")), label="final")
        layers.append(_layer(draw, kind, _shape(shape, layers, dtype), "seq_final", "", name="final"))
    return ModelSpec("seq", shape, tuple(layers), dtype)


@st.composite
def cnn3d_specs(draw) -> ModelSpec:
    """conv3d blocks on a tiny NDHWC volume, each optionally followed by a 'cnn3d' kind (max_pool3d), then
    optionally a Flatten into a dense (rank-5 maps stay channels-last in torch: canonical flatten order)."""
    d, h, w = (draw(st.integers(2, 4), label=n) for n in ("depth", "height", "width"))
    c = draw(st.integers(1, 3), label="channels")
    shape, layers = (d, h, w, c), []
    for i in range(draw(st.integers(1, 2), label="blocks")):
        layers.append(_layer(draw, BACKBONES["cnn3d"], shape, "cnn3d", i, name=f"conv{i}"))
        extra = draw(st.sampled_from(["none", *_fill("cnn3d")]), label=f"extra{i}")
        if extra != "none":
            layers.append(_layer(draw, extra, _shape((d, h, w, c), layers), "cnn3d", i, name=f"{extra}{i}"))
        shape = _shape((d, h, w, c), layers)
    if draw(st.booleans(), label="flatten_head"):
        layers += [layer("flatten", name="head"),
                   _layer(draw, "dense", (int(np.prod(shape)),), "cnn_head", "out", name="out")]
    return ModelSpec("cnn3d", (d, h, w, c), tuple(layers))


def model_specs(family: str):
    """Random valid specs of one family ('mlp', 'cnn', 'seq', 'cnn3d')."""
    table = {"mlp": mlp_specs, "cnn": cnn_specs, "seq": seq_specs, "cnn3d": cnn3d_specs}
    if family not in table:
        raise InvalidArgument(f"model_specs(family={family!r}): family must be one of {MODEL_FAMILIES}")
    return table[family]()


def model_inputs(spec: ModelSpec, *, max_batch: int = 4, bound: float = 3.0):
    """Input batches for `spec`: finite normal float32 in [-bound, bound] (zeros and -0 included, subnormals not),
    or valid token ids."""
    batch = st.integers(2, max_batch)
    if spec.input_dtype == "int32":
        vocab = spec.layers[0]["input_dim"]
        return batch.flatmap(lambda n: hnp.arrays(np.int32, (n, *spec.input_shape), elements=st.integers(0, vocab - 1)))
    # No subnormal inputs: TF's CPU kernels flush them to zero (oneDNN off: a dense layer of 1.1e-40 gives 0.0),
    # torch keeps them; catalogue entry tf-cpu-flushes-subnormals owns that, the op tests draw it per side.
    elements = st.floats(-bound, bound, width=32, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    return batch.flatmap(lambda n: hnp.arrays(np.float32, (n, *spec.input_shape), elements=elements))
