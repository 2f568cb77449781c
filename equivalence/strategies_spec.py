"""Hypothesis strategies for random VALID model specs and their inputs.

Specs are grown layer by layer from the current shape, so every drawn parameter fits (no rejection sampling):
a 'valid' kernel never exceeds the map, groups always divide the channels, dilation only with stride 1 (TF's
rule). Three families cover the layer kinds: ``mlp`` (dense, normalisation, dropout, activations, residual add),
``cnn`` (conv2d, pools, batch norm, Flatten/GAP heads, concat) and ``seq`` (embedding or float sequences,
conv1d, LSTM, GRU, layer norm). Sizes stay tiny: each example builds two models.

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

from .spec import ACTIVATIONS, ModelSpec, conv_out, layer

FAMILIES = ("mlp", "cnn", "seq")
_ACTS = st.sampled_from(ACTIVATIONS)
_SIZE = st.integers(1, 6)


@st.composite
def _dense_block(draw, i: int, prev: str, width: int):
    """dense{i} reading `prev` (of `width` features), then at most one extra layer reading it."""
    units = draw(_SIZE, label=f"units{i}")
    d = f"dense{i}"
    out = [layer("dense", name=d, inputs=(prev,), units=units, activation=draw(_ACTS, label=f"act{i}"),
                 use_bias=draw(st.booleans(), label=f"bias{i}"))]
    extra = draw(st.sampled_from(["none", "layer_norm", "batch_norm", "dropout", "activation", "residual"]),
                 label=f"extra{i}")
    if extra == "layer_norm":
        out.append(layer("layer_norm", name=f"ln{i}", inputs=(d,), epsilon=draw(st.sampled_from([1e-3, 1e-5]))))
    elif extra == "batch_norm":
        out.append(layer("batch_norm", name=f"bn{i}", inputs=(d,), momentum=draw(st.sampled_from([0.99, 0.9, 0.0]))))
    elif extra == "dropout":
        out.append(layer("dropout", name=f"drop{i}", inputs=(d,), rate=draw(st.sampled_from([0.0, 0.5]))))
    elif extra == "activation":
        out.append(layer("activation", name=f"actl{i}", inputs=(d,), fn=draw(_ACTS, label=f"fn{i}"),
                         negative_slope=draw(st.sampled_from([0.2, 0.3, 0.01])), alpha=draw(st.sampled_from([1.0, 0.5]))))
    elif extra == "residual" and units == width:
        out.append(layer("add", name=f"res{i}", inputs=(d, prev)))
    return out, units


@st.composite
def mlp_specs(draw) -> ModelSpec:
    """Dense stacks on a (features,) input with normalisation, dropout, activation layers and residual adds."""
    features = width = draw(_SIZE, label="features")
    layers, prev = [], "input"
    for i in range(draw(st.integers(1, 3), label="depth")):
        block, width = draw(_dense_block(i, prev, width))
        layers += block
        prev = block[-1].name
    return ModelSpec("mlp", (features,), tuple(layers))


@st.composite
def _conv_layer(draw, i: int, hw: tuple[int, int], c: int):
    padding = draw(st.sampled_from(["valid", "same"]), label=f"padding{i}")
    strides = draw(st.integers(1, 2), label=f"strides{i}")
    dilation = 1 if strides > 1 else draw(st.integers(1, 2), label=f"dilation{i}")
    kmax = min(hw) if padding == "valid" else 4
    k = draw(st.integers(1, max(1, min(3, kmax))), label=f"kernel{i}")
    if padding == "valid" and dilation * (k - 1) + 1 > min(hw):
        dilation = 1
    groups = draw(st.sampled_from([g for g in (1, 2, c) if c % g == 0]), label=f"groups{i}")
    filters = groups * draw(st.integers(1, 3), label=f"filters_per_group{i}")
    return layer("conv2d", name=f"conv{i}", filters=filters, kernel_size=k, strides=strides, padding=padding,
                 dilation=dilation, groups=groups, activation=draw(_ACTS, label=f"act{i}"))


@st.composite
def cnn_specs(draw) -> ModelSpec:
    """conv2d blocks (stride/dilation/groups/padding), optional pools and batch norm, an optional parallel branch
    merged by add/concat, then a Flatten or GAP head."""
    h, w, c = (draw(st.integers(3, 8), label=n) for n in ("height", "width", "channels"))
    c = min(c, 4)
    shape, layers = (h, w, c), []
    for i in range(draw(st.integers(1, 2), label="blocks")):
        conv = draw(_conv_layer(i, shape[:2], shape[2]))
        layers.append(conv)
        shape = ModelSpec("probe", (h, w, c), tuple(layers)).output_shape
        extra = draw(st.sampled_from(["none", "max_pool2d", "avg_pool2d", "batch_norm"]), label=f"extra{i}")
        if extra == "batch_norm":
            layers.append(layer("batch_norm", name=f"bn{i}"))
        elif extra != "none":
            padding = draw(st.sampled_from(["valid", "same"]), label=f"pool_padding{i}")
            size = draw(st.integers(1, 3), label=f"pool{i}")
            if padding == "valid":
                size = min(size, *shape[:2])
            layers.append(layer(extra, name=f"pool{i}", pool_size=size, strides=draw(st.integers(1, 2)),
                                padding=padding))
        shape = ModelSpec("probe", (h, w, c), tuple(layers)).output_shape
    merge = draw(st.sampled_from(["none", "add", "concat"]), label="merge")
    if merge != "none":  # a parallel 'same' conv off the last node, merged back (Keras Functional)
        last = layers[-1].name
        filters = shape[-1] if merge == "add" else draw(st.integers(1, 3), label="branch_filters")
        layers.append(layer("conv2d", name="branch", inputs=(last,), filters=filters, padding="same",
                            kernel_size=draw(st.integers(1, 3), label="branch_kernel"),
                            activation=draw(_ACTS, label="branch_act")))
        layers.append(layer(merge, name="merge", inputs=(last, "branch")))
    head = draw(st.sampled_from(["flatten", "gap", "none"]), label="head")
    if head != "none":
        layers.append(layer("flatten" if head == "flatten" else "global_avg_pool2d", name="head"))
        layers.append(layer("dense", name="out", units=draw(_SIZE), activation=draw(_ACTS, label="out_act")))
    return ModelSpec("cnn", (h, w, c), tuple(layers))


@st.composite
def seq_specs(draw) -> ModelSpec:
    """Token ids -> embedding, or float sequences; then conv1d / LSTM / GRU / layer norm / dense."""
    steps = t = draw(st.integers(2, 5), label="steps")
    tokens = draw(st.booleans(), label="tokens")
    shape = (steps,) if tokens else (steps, draw(st.integers(1, 4), label="channels"))
    layers = [layer("embedding", name="emb", input_dim=draw(st.integers(2, 9), label="vocab"),
                    output_dim=draw(_SIZE, label="embed_dim"))] if tokens else []
    for i in range(draw(st.integers(1, 2), label="depth")):
        kind = draw(st.sampled_from(["conv1d", "lstm", "gru", "layer_norm", "dense"]), label=f"kind{i}")
        if kind == "conv1d":
            padding = draw(st.sampled_from(["valid", "same"]), label=f"padding{i}")
            k = draw(st.integers(1, t if padding == "valid" else 3), label=f"kernel{i}")
            s = draw(st.integers(1, 2), label=f"strides{i}")
            layers.append(layer("conv1d", name=f"l{i}", filters=draw(_SIZE), kernel_size=k, strides=s,
                                padding=padding, activation=draw(_ACTS, label=f"act{i}")))
            t = conv_out(t, k, s, 1, padding)
        elif kind in ("lstm", "gru"):
            layers.append(layer(kind, name=f"l{i}", units=draw(_SIZE, label=f"units{i}"), return_sequences=True))
        elif kind == "layer_norm":
            layers.append(layer("layer_norm", name=f"l{i}"))
        else:
            layers.append(layer("dense", name=f"l{i}", units=draw(_SIZE), activation=draw(_ACTS, label=f"act{i}")))
    if draw(st.booleans(), label="last_state_only"):
        layers.append(layer(draw(st.sampled_from(["lstm", "gru"]), label="final"), name="final", units=draw(_SIZE)))
    return ModelSpec("seq", shape, tuple(layers), "int32" if tokens else "float32")


def model_specs(family: str):
    """Random valid specs of one family ('mlp', 'cnn', 'seq')."""
    table = {"mlp": mlp_specs, "cnn": cnn_specs, "seq": seq_specs}
    if family not in table:
        raise InvalidArgument(f"model_specs(family={family!r}): family must be one of {FAMILIES}")
    return table[family]()


def model_inputs(spec: ModelSpec, *, max_batch: int = 4, bound: float = 3.0):
    """Input batches for `spec`: finite float32 in [-bound, bound] (zeros and -0 included), or valid token ids."""
    batch = st.integers(2, max_batch)
    if spec.input_dtype == "int32":
        vocab = spec.layers[0]["input_dim"]
        return batch.flatmap(lambda n: hnp.arrays(np.int32, (n, *spec.input_shape), elements=st.integers(0, vocab - 1)))
    elements = st.floats(-bound, bound, width=32, allow_nan=False, allow_infinity=False)
    return batch.flatmap(lambda n: hnp.arrays(np.float32, (n, *spec.input_shape), elements=elements))
