"""The spec validates eagerly: every invalid spec raises SpecError naming the layer and what to change; every
layer kind is one complete LayerKind record, and the spec's kinds are the registry's."""
import dataclasses
import importlib
import pkgutil

import pytest

from equivalence import layer_kinds, spec as spec_module
from equivalence.spec import LayerSpec, ModelSpec, SpecError, conv_out, layer, same_pads

pytestmark = pytest.mark.meta


def e(expect: str, *layers, shape=(8, 8, 3), dtype="float32", id: str):
    """A bad spec case: `layers` on `shape` must raise SpecError containing `expect`."""
    return pytest.param(expect, shape, dtype, layers, id=id)


BAD_SPECS = [
    e("unknown layer kind 'dense2'", ("dense2", {"units": 3}), id="unknown_kind"),
    e("missing required parameter(s) ['units']", ("dense", {}), shape=(4,), id="missing_param"),
    e("unknown parameter(s) ['unit']", ("dense", {"unit": 3}), shape=(4,), id="unknown_param"),
    e("unknown activation 'relu6'", ("dense", {"units": 3, "activation": "relu6"}), shape=(4,), id="bad_activation"),
    e("padding must be 'valid' or 'same'", ("conv2d", {"filters": 2, "kernel_size": 3, "padding": "full"}),
      id="bad_padding"),
    e("units must be a positive integer", ("dense", {"units": 0}), shape=(4,), id="zero_units"),
    e("kernel (9, 9) (dilation (1, 1)) with 'valid' padding is larger than the input (8, 8)",
      ("conv2d", {"filters": 2, "kernel_size": 9}), id="kernel_too_large"),
    e("groups=2 must divide both input channels (3)", ("conv2d", {"filters": 4, "kernel_size": 3, "groups": 2}),
      id="groups_do_not_divide"),
    e("strides > 1 with dilation > 1 is not supported", ("conv2d", {"filters": 2, "kernel_size": 3, "strides": 2,
                                                                     "dilation": 2}), id="stride_and_dilation"),
    e("dense needs a rank-2/3 input (batch included), got shape (8, 8, 3) (rank 4)", ("dense", {"units": 3}),
      id="dense_on_feature_map"),
    e("conv2d needs a rank-4 input", ("conv2d", {"filters": 2, "kernel_size": 1}), shape=(5, 3), id="conv2d_rank3"),
    e("gru with reset_after=False cannot be expressed in PyTorch", ("gru", {"units": 2, "reset_after": False}),
      shape=(5, 3), id="gru_reset_before"),
    e("dropout rate must be in [0, 1)", ("dropout", {"rate": 1.0}), id="dropout_rate_one"),
    e("pool (3, 3) with 'valid' padding does not fit the input (2, 2)", ("max_pool2d", {"pool_size": 3}),
      shape=(2, 2, 1), id="pool_too_large"),
    e("embedding must read the model input, and the model's input_dtype must be 'int32'",
      ("embedding", {"input_dim": 5, "output_dim": 2}), shape=(4,), id="embedding_float_input"),
    e("token-id (int32) input can only feed an embedding layer", ("dense", {"units": 2}), shape=(4,), dtype="int32",
      id="ids_into_dense"),
    e("layer 'prelu': per_channel must be True or False, got 'yes'", ("prelu", {"per_channel": "yes"}),
      id="prelu_per_channel_not_bool"),
    e("num_heads * key_dim = 2 * 3 = 6 must equal the input's last dim 8", ("multi_head_attention",
      {"num_heads": 2, "key_dim": 3}), shape=(4, 8), id="attention_heads_do_not_split_dim"),
    e("transformer_encoder needs a rank-3 input", ("transformer_encoder", {"num_heads": 1, "key_dim": 4,
      "dim_feedforward": 4}), shape=(4,), id="transformer_on_features"),
    e("activation must be 'relu' or 'gelu'", ("transformer_encoder", {"num_heads": 2, "key_dim": 4,
      "dim_feedforward": 8, "activation": "tanh"}), shape=(3, 8), id="transformer_activation_tanh"),
    e("reads 'embedding_0', which carries the mask of an embedding with mask_zero=True, but conv1d ignores masks",
      ("embedding", {"input_dim": 5, "output_dim": 2, "mask_zero": True}),
      ("conv1d", {"filters": 2, "kernel_size": 2}), shape=(4,), dtype="int32", id="mask_into_conv1d"),
    e("but dense ignores masks", ("embedding", {"input_dim": 5, "output_dim": 2, "mask_zero": True}),
      ("lstm", {"units": 2, "return_sequences": True}), ("dense", {"units": 2}), shape=(4,), dtype="int32",
      id="mask_through_lstm_into_dense"),
    e("merge_mode must be one of ['ave', 'concat', 'mul', 'sum'], got None",
      ("bidirectional", {"layer": "lstm", "units": 2, "merge_mode": None}), shape=(4, 3),
      id="bidirectional_merge_none"),
    e("layer must be one of ['gru', 'lstm'], got 'rnn'", ("bidirectional", {"layer": "rnn", "units": 2}),
      shape=(4, 3), id="bidirectional_simple_rnn"),
    e("gru with reset_after=False cannot be expressed in PyTorch",
      ("bidirectional", {"layer": "gru", "units": 2, "reset_after": False}), shape=(4, 3),
      id="bidirectional_gru_reset_before"),
    e("to_tokens needs a rank-4 input", ("to_tokens", {}), shape=(5, 3), id="to_tokens_on_a_sequence"),
    e("class_token needs a rank-3 input", ("class_token", {}), id="class_token_on_a_map"),
    e("position_embedding needs a rank-3 input", ("position_embedding", {}), shape=(4,), id="position_on_features"),
    e("index 3 is outside a sequence of 3 tokens", ("take_token", {"index": 3}), shape=(3, 4), id="take_token_past_end"),
    e("index must be an integer, got 0.5", ("take_token", {"index": 0.5}), shape=(3, 4), id="take_token_float_index"),
]


@pytest.mark.parametrize(("expect", "shape", "dtype", "layers"), BAD_SPECS)
def test_spec_rejects_invalid(expect, shape, dtype, layers):
    """An invalid layer or model spec raises SpecError whose message says what is wrong."""
    with pytest.raises(SpecError) as exc:
        ModelSpec("bad", shape, tuple(LayerSpec(kind, params) for kind, params in layers), dtype)
    assert expect in str(exc.value)


@pytest.mark.parametrize(("expect", "build"), [
    pytest.param("add needs at least two named inputs", lambda: layer("add", inputs=("a",)), id="add_one_input"),
    pytest.param("reads ['nowhere'], which is not an earlier layer",
                 lambda: ModelSpec("m", (4,), (layer("dense", units=2, inputs=("nowhere",)),)), id="unknown_source"),
    pytest.param("duplicate or reserved layer name(s) ['d']",
                 lambda: ModelSpec("m", (4,), (layer("dense", name="d", units=4), layer("dense", name="d", units=2))),
                 id="duplicate_names"),
    pytest.param("add needs inputs of one shape, got [(4,), (2,)]",
                 lambda: ModelSpec("m", (4,), (layer("dense", name="d", units=2),
                                               layer("add", inputs=("input", "d")))), id="add_shape_mismatch"),
    pytest.param("needs at least one layer", lambda: ModelSpec("m", (4,), ()), id="no_layers"),
    pytest.param("the key/value source's dim 4 must equal the query's 8",
                 lambda: ModelSpec("m", (3, 8), (layer("dense", name="src", units=4),
                                                 layer("cross_attention", inputs=("input", "src"), num_heads=2,
                                                       key_dim=4))), id="cross_attention_source_dim"),
    pytest.param("input_shape must be non-empty positive ints", lambda: ModelSpec("m", (0,), (layer("flatten"),)),
                 id="zero_input_dim"),
])
def test_spec_rejects_invalid_graph(expect, build):
    """Graph errors (merge arity, unknown sources, duplicate names, merge shapes, empty models) name the problem."""
    with pytest.raises(SpecError, match=None) as exc:
        build()
    assert expect in str(exc.value)


def test_spec_fills_defaults_names_and_shapes():
    """Defaults are filled in, layers are named <kind>_<index>, and shapes are inferred channels-last."""
    spec = ModelSpec("m", (7, 7, 3), (layer("conv2d", filters=4, kernel_size=3, strides=2, padding="same"),
                                      layer("max_pool2d"), layer("flatten"), layer("dense", units=2)))
    assert [l.name for l in spec.layers] == ["conv2d_0", "max_pool2d_1", "flatten_2", "dense_3"]
    assert dict(spec.shapes) == {"input": (7, 7, 3), "conv2d_0": (4, 4, 4), "max_pool2d_1": (2, 2, 4),
                                 "flatten_2": (16,), "dense_3": (2,)}
    assert spec.layers[0]["dilation"] == 1 and spec.is_linear


def test_spec_is_frozen_and_hashable():
    """Specs are immutable values: equal specs hash equal, and params cannot be changed in place."""
    a, b = layer("dense", units=3), layer("dense", units=3)
    assert a == b and hash(a) == hash(b)
    with pytest.raises(TypeError):
        a.params["units"] = 4


def test_spec_repr_is_short():
    """Reprs show only non-default parameters, so hypothesis' falsifying examples stay readable."""
    spec = ModelSpec("m", (4,), (layer("dense", units=3, activation="relu"),))
    assert repr(spec.layers[0]) == "dense_0:dense(units=3, activation='relu')"
    assert repr(spec) == "ModelSpec<m: (4,) -> 1 layers -> (3,)>"


@pytest.mark.parametrize(("n", "k", "s", "d", "pads"), [
    (7, 3, 2, 1, (1, 1)), (8, 3, 2, 1, (0, 1)), (6, 2, 1, 1, (0, 1)), (4, 4, 1, 1, (1, 2)), (9, 3, 1, 2, (2, 2)),
    (5, 1, 2, 1, (0, 0)),
])
def test_same_padding_puts_the_odd_pixel_after(n, k, s, d, pads):
    """TF's 'same' padding: total = (ceil(n/s)-1)*s + d*(k-1) + 1 - n, split with the extra pixel AFTER."""
    assert same_pads(n, k, s, d) == pads and conv_out(n, k, s, d, "same") == -(-n // s)


def _records_defined() -> set:
    """Every LayerKind instance in the modules of equivalence.layer_kinds (registered or not)."""
    found = set()
    for info in pkgutil.iter_modules(layer_kinds.__path__):
        module = importlib.import_module(f"equivalence.layer_kinds.{info.name}")
        found |= {v for v in vars(module).values() if isinstance(v, layer_kinds.LayerKind)}
    return found


def test_spec_kinds_are_the_registry():
    """The spec validates against the registry itself, every record a kind module defines is registered under its
    name, and LAYER_DB covers exactly these kinds, reading their Keras/torch names and notes from the records."""
    from equivalence.catalog.layers import LAYER_DB

    assert spec_module.KINDS is layer_kinds.KINDS
    assert all(name == kind.name for name, kind in layer_kinds.KINDS.items())
    assert _records_defined() == set(layer_kinds.KINDS.values()), "a LayerKind is defined but not registered"
    assert [i.name for i in LAYER_DB] == list(layer_kinds.KINDS)
    assert all((i.keras, i.torch, i.notes) == (i.kind.keras, i.kind.torch, i.kind.notes) for i in LAYER_DB)


@pytest.mark.parametrize("name", list(layer_kinds.KINDS))
def test_every_layer_kind_has_every_hook(name):
    """A record states each hook (callable), its Keras/torch names and notes, Arg entries, a known torch flatten
    order, slots the random families know (or is a family's backbone), and a weight table naming exactly the
    parameters its `params` hook declares."""
    from equivalence.catalog.layers import CASES
    from equivalence.layer_kinds.base import FLAT_ORDERS
    from equivalence.layer_kinds.mapping import Map, Weight
    from equivalence.strategies_spec import BACKBONES, SLOTS

    kind = layer_kinds.KINDS[name]
    fields = dataclasses.fields(layer_kinds.LayerKind)
    hooks = {f.name for f in fields if "Callable" in str(f.type) and f.default is dataclasses.MISSING}
    assert hooks == set(layer_kinds.HOOKS)
    assert kind.mask is None or callable(kind.mask)  # the one optional hook: None ignores masks (a masked input fails)
    assert [h for h in layer_kinds.HOOKS if not callable(getattr(kind, h))] == []
    assert kind.keras and kind.torch and kind.notes
    assert all(isinstance(a, layer_kinds.Arg) for a in kind.args.values())
    assert kind.torch_flat_order in FLAT_ORDERS
    assert set(kind.slots) <= set(SLOTS) and (kind.slots or name in BACKBONES.values())
    assert all(isinstance(m, Map) for m in kind.torch_params)
    declared = set()  # over the kind's LAYER_DB cases: optional parameters (a bias) are mapped but not always there
    for case in CASES:
        for l in (l for l in case.spec.layers if l.kind == name):
            params = kind.params(l, case.spec.shapes[case.spec.sources(l)[0]])
            assert all(isinstance(w, Weight) for w in params.values()), case.id
            declared |= set(params)
    assert sorted(n for m in kind.torch_params for n in m.canonicals) == sorted(declared)


@pytest.mark.parametrize("name,cases,problem", [
    ("nope", "dense", "not a spec kind"),
    ("dense", None, "needs at least one case"),
])
def test_layer_info_errors_name_the_registry_and_the_record(name, cases, problem):
    """A malformed LAYER_DB record fails at construction with the registry's one error type, naming the record."""
    from equivalence.catalog.layerinfo import LayerInfo, single
    from equivalence.registry import RecordError

    with pytest.raises(RecordError, match=rf"layer registry entry '{name}': .*{problem}"):
        LayerInfo(name, () if cases is None else (single(cases, "plain", (4,), units=2),))


def test_layer_kind_registry_rejects_a_malformed_or_repeated_kind():
    """KINDS comes from a Registry: a record with a bad hook or a taken name fails, naming the kind."""
    from equivalence.registry import RecordError, Registry

    dense = layer_kinds.KINDS["dense"]
    with pytest.raises(RecordError, match=r"layer-kind registry entry 'dense': forward is not callable"):
        dataclasses.replace(dense, forward=None)
    with pytest.raises(RecordError, match=r"layer-kind registry entry 'dense': duplicate id"):
        Registry(layer_kinds.LayerKind.REGISTRY, (dense, dense))
    assert list(layer_kinds.KINDS) == layer_kinds.KIND_REGISTRY.ids()
