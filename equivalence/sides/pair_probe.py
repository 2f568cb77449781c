"""Framework introspection for `equivalence.check_pair` (a user's own Keras model and torch module): what each
model is made of, its value at every layer boundary, its weights in and out, its gradients and one optimizer step.

Everything here speaks NumPy: Keras values in Keras' layout, torch values in torch's own layout (the engine in
`equivalence.pair` converts). A Keras layer is described from its class and config, a torch module from its class
and attributes, each as a `Node` with a neutral kind (the spec kinds of `equivalence.layer_kinds`, 'activation:<fn>'
for activations, the class name for anything else). Keras values come from a probe model over every layer's
output (and the inputs of the layers the engine needs them for); torch values from forward hooks on every module
that runs, in the order they run. Nothing here runs at import time.
"""
from __future__ import annotations

import contextlib
import dataclasses

import numpy as np

from .. import runtime
from .torch_side import _mode

# ------------------------------------------------------------------------------------------------ neutral kinds
_KERAS_KINDS = {"Dense": "dense", "Conv1D": "conv1d", "Conv2D": "conv2d", "BatchNormalization": "batch_norm",
                "LayerNormalization": "layer_norm", "Embedding": "embedding", "LSTM": "lstm", "GRU": "gru",
                "PReLU": "prelu", "Flatten": "flatten", "MaxPooling2D": "max_pool2d",
                "AveragePooling2D": "avg_pool2d", "GlobalAveragePooling2D": "global_avg_pool2d",
                "Dropout": "dropout", "Add": "add", "Concatenate": "concat", "ZeroPadding2D": "pad",
                "MultiHeadAttention": "attention"}
_KERAS_ACTIVATION_LAYERS = {"ReLU": "relu", "Softmax": "softmax", "LeakyReLU": "leaky_relu", "ELU": "elu"}
_TORCH_KINDS = {"Linear": "dense", "Conv1d": "conv1d", "Conv2d": "conv2d", "BatchNorm1d": "batch_norm",
                "BatchNorm2d": "batch_norm", "LayerNorm": "layer_norm", "Embedding": "embedding", "LSTM": "lstm",
                "GRU": "gru", "PReLU": "prelu", "Flatten": "flatten", "MaxPool2d": "max_pool2d",
                "AvgPool2d": "avg_pool2d", "AdaptiveAvgPool2d": "global_avg_pool2d", "Dropout": "dropout",
                "ZeroPad2d": "pad", "ConstantPad2d": "pad", "MultiheadAttention": "attention"}
_TORCH_ACTIVATIONS = {"ReLU": "relu", "GELU": "gelu", "Tanh": "tanh", "Sigmoid": "sigmoid", "Softmax": "softmax",
                      "LeakyReLU": "leaky_relu", "ELU": "elu", "SELU": "selu", "SiLU": "silu"}
ELEMENTWISE = ("dropout",)  # kinds (besides activations) whose output keeps its input's feature order
# Keras layers whose `activation` is applied to their output (a recurrent layer's is its cell's, inside the loop)
FUSES = ("Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "DepthwiseConv2D", "SeparableConv2D",
         "Conv1DTranspose", "Conv2DTranspose")


@dataclasses.dataclass
class Node:
    """One layer (Keras) or module call (torch) whose output is a boundary.

    name: Keras layer name or torch module path (as in named_modules()); call: which call of a torch module (0 the
    first); part: 'output', or for a Keras layer with a fused activation 'pre-activation' (the layer without it)
    and 'activation' (its output); kind: the neutral kind; cls: the framework class; params: {parameter name:
    shape} in the framework's own names and layout (empty: no parameters); count: parameters the way the framework
    counts them (Keras count_params(), torch parameters()); config: what explanations read (padding, epsilon,
    momentum, activation, ...); shape: output shape, in_shape: (first) input shape, batch included.
    """

    name: str
    kind: str
    cls: str
    call: int = 0
    part: str = "output"
    params: dict = dataclasses.field(default_factory=dict)
    count: int = 0
    config: dict = dataclasses.field(default_factory=dict)
    shape: tuple = ()
    in_shape: tuple = ()
    sources: tuple = ()  # Keras: the layers this one reads

    @property
    def label(self) -> str:
        extra = "" if self.part == "output" else f" ({self.part})"
        return f"{self.name}{extra}" if self.call == 0 else f"{self.name}{extra} [call {self.call + 1}]"

    def describe(self) -> str:
        """'conv2d: kernel (3, 3, 3, 8), bias (8,)'"""
        shapes = ", ".join(f"{k} {tuple(v)}" for k, v in self.params.items())
        return f"{self.kind}: {shapes}" if shapes else self.kind


def _fn_name(fn) -> str:
    name = getattr(fn, "__name__", None) or getattr(getattr(fn, "func", None), "__name__", None) or repr(fn)
    return name


# ------------------------------------------------------------------------------------------------ Keras
def is_keras_model(obj) -> bool:
    keras = runtime.keras()
    return isinstance(obj, keras.Model)


def load_keras(path: str):
    """A .keras file as a model (compile=False: the check needs no loss)."""
    return runtime.keras().saving.load_model(path, compile=False)


def keras_input_specs(model) -> list[tuple[tuple, str]]:
    """(shape with None for the batch, dtype) of each model input."""
    return [(tuple(t.shape), str(t.dtype)) for t in model.inputs]


def keras_built(model) -> bool:
    try:
        return bool(model.inputs)
    except (AttributeError, ValueError):
        return False


def weight_names(layer) -> list[str]:
    """Each weight's name within its layer: the variable name ('kernel'), or, where a layer holds several of one
    name (MultiHeadAttention's query/key/value/output kernels), the last two parts of its path ('query/kernel')."""
    names = [v.name for v in layer.weights]
    if len(set(names)) == len(names):
        return names
    return ["/".join(v.path.split("/")[-2:]) for v in layer.weights]


def _keras_activation(layer) -> str:
    act = getattr(layer, "activation", None)
    return "linear" if act is None else _fn_name(act)


def _keras_config(layer) -> dict:
    cfg = layer.get_config()
    keep = ("padding", "strides", "kernel_size", "dilation_rate", "groups", "epsilon", "momentum", "rate", "units",
            "filters", "pool_size", "use_bias", "negative_slope", "alpha", "axis", "return_sequences",
            "reset_after", "input_dim", "output_dim", "shared_axes", "data_format", "num_heads", "key_dim",
            "value_dim")
    out = {k: cfg[k] for k in keep if k in cfg}
    act = _keras_activation(layer)
    if type(layer).__name__ in (*FUSES, "Activation") and getattr(layer, "activation", None) is not None:
        out["activation"] = act
        kw = getattr(layer.activation, "keywords", None) or {}
        if act == "gelu":
            out["approximate"] = bool(kw.get("approximate", False))  # keras.activations.gelu defaults to exact
    return out


def _sources(layer) -> tuple:
    try:
        node = layer._inbound_nodes[0]
    except (AttributeError, IndexError):
        return ()
    return tuple(p.operation.name for p in node.parent_nodes if type(p.operation).__name__ != "InputLayer")


def _shape_of(t) -> tuple:
    if isinstance(t, (list, tuple)):
        t = t[0]
    return tuple(t.shape) if hasattr(t, "shape") else ()


def keras_nodes(model) -> list[Node]:
    """The model's layers as Nodes, in the model's (topological) order; a layer with a fused non-linear activation
    is two Nodes: its pre-activation and its activation."""
    nodes = []
    for layer in model.layers:
        cls = type(layer).__name__
        if cls == "InputLayer":
            continue
        cfg = _keras_config(layer)
        kind = _KERAS_KINDS.get(cls)
        if cls == "Activation":
            kind = f"activation:{cfg.get('activation', 'linear')}"
        elif cls in _KERAS_ACTIVATION_LAYERS:
            kind = f"activation:{_KERAS_ACTIVATION_LAYERS[cls]}"
        kind = kind or cls
        params = {n: tuple(v.shape) for n, v in zip(weight_names(layer), layer.weights)}
        base = Node(layer.name, kind, cls, params=params, count=int(layer.count_params()) if layer.built else 0,
                    config=cfg, shape=_shape_of(layer.output), in_shape=_shape_of(layer.input),
                    sources=_sources(layer))
        act = cfg.get("activation")
        if cls != "Activation" and act not in (None, "linear"):
            base.part = "pre-activation"
            nodes.append(base)
            nodes.append(Node(layer.name, f"activation:{act}", cls, part="activation", config=cfg,
                              shape=base.shape, in_shape=base.shape, sources=(layer.name,)))
        else:
            nodes.append(base)
    return nodes


@contextlib.contextmanager
def _keras_dropout_off(model, training: bool):
    """Training mode with dropout disabled: each Dropout-like layer's rate is 0 for the block (then restored)."""
    saved = []
    if training:
        for layer in model.layers:
            if hasattr(layer, "rate") and type(layer).__name__ in ("Dropout", "SpatialDropout1D", "SpatialDropout2D",
                                                                   "AlphaDropout", "GaussianDropout"):
                saved.append((layer, layer.rate))
                layer.rate = 0.0
    try:
        yield
    finally:
        for layer, rate in saved:
            layer.rate = rate


def _fused(layer) -> bool:
    """A layer with a non-linear activation applied to its output (two boundaries: before and after it)."""
    return type(layer).__name__ in FUSES and getattr(layer, "activation", None) is not None and \
        _keras_activation(layer) != "linear"


def _keras_call_inputs(model, xs):
    return xs[0] if len(model.inputs) == 1 else list(xs)


def keras_values(model, xs, training: bool, want_inputs: set[str]) -> dict[tuple[str, str], np.ndarray]:
    """{(layer name, 'output'|'input'|'pre-activation'): value} from one probe run; 'input' for the layers named in
    `want_inputs`, 'pre-activation' for every layer with a fused non-linear activation (the layer called again on
    its input with the activation removed)."""
    keras = runtime.keras()
    layers = [l for l in model.layers if type(l).__name__ != "InputLayer"]
    outs, keys = [], []
    for l in layers:
        outs.append(l.output)
        keys.append((l.name, "output"))
        fused = _fused(l)
        if (l.name in want_inputs or fused) and not isinstance(l.input, (list, tuple)):
            outs.append(l.input)
            keys.append((l.name, "input"))
    probe = keras.Model(model.inputs[0] if len(model.inputs) == 1 else model.inputs, outs)
    with _keras_dropout_off(model, training):
        values = probe(_keras_call_inputs(model, xs), training=training)
    values = dict(zip(keys, (np.asarray(v) for v in values)))
    for l in layers:
        if (l.name, "input") in values and _fused(l):
            act = l.activation
            l.activation = keras.activations.linear
            try:
                values[(l.name, "pre-activation")] = np.asarray(l(values[(l.name, "input")]))
            finally:
                l.activation = act
    return values


def keras_output(model, xs, training: bool) -> np.ndarray:
    with _keras_dropout_off(model, training):
        y = model(_keras_call_inputs(model, xs), training=training)
    return np.asarray(y[0] if isinstance(y, (list, tuple)) else y)


def keras_weights(model, name: str) -> dict[str, np.ndarray]:
    """{weight name: array} of one layer (trainable and not; names as `weight_names`)."""
    layer = model.get_layer(name)
    return {n: np.array(v.numpy()) for n, v in zip(weight_names(layer), layer.weights)}


def set_keras_weights(model, name: str, arrays: dict[str, np.ndarray]) -> None:
    layer = model.get_layer(name)
    variables = dict(zip(weight_names(layer), layer.weights))
    for k, a in arrays.items():
        variables[k].assign(np.asarray(a, variables[k].dtype))


def keras_snapshot(model):
    return [np.array(v.numpy()) for v in model.weights]


def keras_restore(model, snapshot) -> None:
    for v, a in zip(model.weights, snapshot):
        v.assign(a)


def keras_grads(model, xs, cotangent, training: bool, names) -> dict[str, dict[str, np.ndarray]]:
    """d(sum(output * cotangent))/d(every trainable weight of the named layers)."""
    tf = runtime.tf()
    variables = []
    for n in names:
        layer = model.get_layer(n)
        named = {id(v): w for w, v in zip(weight_names(layer), layer.weights)}
        variables += [(n, named[id(v)], v) for v in layer.trainable_weights]
    with _keras_dropout_off(model, training), tf.GradientTape() as tape:
        y = model(_keras_call_inputs(model, xs), training=training)
        y = y[0] if isinstance(y, (list, tuple)) else y
        loss = tf.reduce_sum(tf.cast(y, tf.float64) * tf.constant(cotangent, tf.float64))
    grads = tape.gradient(loss, [v for _, _, v in variables])
    out: dict = {n: {} for n in names}
    for (n, w, v), g in zip(variables, grads):
        out[n][w] = np.zeros(v.shape, np.float32) if g is None else np.asarray(tf.convert_to_tensor(g))
    return out


def keras_optimizer(name: str, hyper: dict):
    keras = runtime.keras()
    return {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}[name](**hyper)


def keras_step(model, xs, cotangent, training: bool, optimizer) -> None:
    """One optimizer update on sum(output * cotangent), over every trainable weight."""
    tf = runtime.tf()
    with _keras_dropout_off(model, training), tf.GradientTape() as tape:
        y = model(_keras_call_inputs(model, xs), training=training)
        y = y[0] if isinstance(y, (list, tuple)) else y
        loss = tf.reduce_sum(y * tf.constant(cotangent, y.dtype))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients([(g, v) for g, v in zip(grads, model.trainable_variables) if g is not None])


# ------------------------------------------------------------------------------------------------ torch
def is_torch_module(obj) -> bool:
    return isinstance(obj, runtime.torch().nn.Module)


def _torch_config(m) -> dict:
    keep = ("padding", "stride", "kernel_size", "dilation", "groups", "eps", "momentum", "p", "approximate",
            "negative_slope", "alpha", "count_include_pad", "ceil_mode", "output_size", "num_layers",
            "bidirectional", "batch_first", "bias", "dim", "start_dim", "padding_mode", "track_running_stats",
            "num_parameters", "affine", "num_heads", "embed_dim")
    out = {}
    for k in keep:
        if hasattr(m, k) and not callable(getattr(m, k)):
            v = getattr(m, k)
            if isinstance(v, (int, float, str, bool, tuple, list)) or v is None:
                out[k] = list(v) if isinstance(v, tuple) else v
    if type(m).__name__ == "Linear":
        out["bias"] = m.bias is not None
    return out


_HOLDS_CHILDREN = ("MultiheadAttention",)  # modules whose forward uses their children's weights directly


def _own_tensors(module) -> dict:
    """A module's own parameters and floating buffers (running statistics); MultiheadAttention's include its
    out_proj's, which its forward reads without calling the child."""
    deep = type(module).__name__ in _HOLDS_CHILDREN
    t = {k: p for k, p in module.named_parameters(recurse=deep)}
    return t | {k: b for k, b in module.named_buffers(recurse=deep) if b.is_floating_point()}


def torch_tensors(module) -> dict[str, np.ndarray]:
    """`_own_tensors` in torch layout, as NumPy copies."""
    return {k: v.detach().cpu().numpy().copy() for k, v in _own_tensors(module).items()}


def torch_count(module) -> int:
    return sum(p.numel() for p in module.parameters(recurse=type(module).__name__ in _HOLDS_CHILDREN))


def _owns(module) -> bool:
    """A module whose output is a boundary: a leaf, or one holding parameters of its own."""
    return not any(True for _ in module.children()) or any(True for _ in module.parameters(recurse=False))


def torch_first_kind(module) -> str | None:
    """The neutral kind of the first leaf module (registration order), None when it has none."""
    for _, m in module.named_modules():
        if not any(True for _ in m.children()):
            return torch_kind(m)
    return None


def torch_kind(m) -> str:
    cls = type(m).__name__
    if cls in _TORCH_ACTIVATIONS:
        return f"activation:{_TORCH_ACTIVATIONS[cls]}"
    return _TORCH_KINDS.get(cls, cls)


def _first_tensor(v):
    torch = runtime.torch()
    if torch.is_tensor(v):
        return v
    if isinstance(v, (list, tuple)):
        for item in v:
            t = _first_tensor(item)
            if t is not None:
                return t
    return None


def _to_torch(xs, module):
    torch = runtime.torch()
    p = next(iter(module.parameters()), None)
    device = p.device if p is not None else "cpu"
    return [torch.from_numpy(np.ascontiguousarray(x)).to(device) for x in xs]


@contextlib.contextmanager
def _torch_dropout_off(module, training: bool):
    """Training mode with dropout disabled: Dropout modules in eval mode for the block."""
    drops = [m for m in module.modules() if "Dropout" in type(m).__name__] if training else []
    for m in drops:
        m.eval()
    try:
        yield
    finally:
        for m in drops:
            m.train(training)


def torch_trace(module, xs, training: bool) -> tuple[list[Node], dict, np.ndarray]:
    """Run `module` on torch-layout NumPy inputs with a forward hook on every module that owns a boundary:
    (Nodes in the order the calls ran, {(path, call): output}, the module's output)."""
    torch = runtime.torch()
    nodes, values, calls, handles = [], {}, {}, []
    for path, m in module.named_modules():
        if path == "" or not _owns(m):
            continue

        def hook(mod, args, out, path=path):
            y, x = _first_tensor(out), _first_tensor(args)
            if y is None:
                return
            k = calls.get(path, 0)
            calls[path] = k + 1
            nodes.append(Node(path, torch_kind(mod), type(mod).__name__, call=k,
                              params={n: tuple(v.shape) for n, v in torch_tensors(mod).items()},
                              count=torch_count(mod), config=_torch_config(mod), shape=tuple(y.shape),
                              in_shape=tuple(x.shape) if x is not None else ()))
            values[(path, k)] = y.detach().cpu().numpy().copy()

        handles.append(m.register_forward_hook(hook))
    try:
        with _mode(module, training), _torch_dropout_off(module, training), torch.no_grad():
            y = _first_tensor(module(*_to_torch(xs, module)))
    finally:
        for h in handles:
            h.remove()
    return nodes, values, y.detach().cpu().numpy().copy()


def torch_module_paths(module) -> set[str]:
    return {p for p, _ in module.named_modules() if p}


def set_torch_tensors(module, path: str, arrays: dict[str, np.ndarray]) -> None:
    torch = runtime.torch()
    tensors = _own_tensors(module.get_submodule(path))
    with torch.no_grad():
        for k, a in arrays.items():
            tensors[k].copy_(torch.from_numpy(np.ascontiguousarray(a, np.float32)).to(tensors[k].dtype))


def torch_tensors_at(module, path: str) -> dict[str, np.ndarray]:
    return torch_tensors(module.get_submodule(path))


def torch_snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def torch_restore(module, snapshot) -> None:
    module.load_state_dict(snapshot)


def _torch_loss(module, xs, cotangent, training):
    torch = runtime.torch()
    y = _first_tensor(module(*_to_torch(xs, module)))
    return (y.double() * torch.from_numpy(np.ascontiguousarray(cotangent, np.float64)).to(y.device)).sum()


def torch_grads(module, xs, cotangent, training: bool, paths) -> dict[str, dict[str, np.ndarray]]:
    """d(sum(output * cotangent))/d(every parameter of the named modules), torch layout."""
    torch = runtime.torch()
    params = [(p, n, t) for p in paths for n, t in _own_tensors(module.get_submodule(p)).items()
              if t.requires_grad]
    with _mode(module, training), _torch_dropout_off(module, training), torch.enable_grad():
        loss = _torch_loss(module, xs, cotangent, training)
        grads = torch.autograd.grad(loss, [t for _, _, t in params], allow_unused=True)
    out: dict = {p: {} for p in paths}
    for (p, n, t), g in zip(params, grads):
        out[p][n] = np.zeros(tuple(t.shape), np.float32) if g is None else g.detach().cpu().numpy().copy()
    return out


def torch_optimizer(module, name: str, hyper: dict):
    torch = runtime.torch()
    return {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[name](module.parameters(), **hyper)


def torch_step(module, xs, cotangent, training: bool, optimizer) -> None:
    with _mode(module, training), _torch_dropout_off(module, training), runtime.torch().enable_grad():
        optimizer.zero_grad()
        _torch_loss(module, xs, cotangent, training).float().backward()
    optimizer.step()


__all__ = ["ELEMENTWISE", "Node", "is_keras_model", "is_torch_module", "keras_grads", "keras_nodes",
           "keras_output", "keras_values", "keras_weights", "load_keras", "set_keras_weights",
           "set_torch_tensors", "torch_grads", "torch_trace", "torch_tensors", "torch_tensors_at"]


def keras_total(model) -> int:
    """Keras' own count (model.count_params(): BatchNorm moving statistics included)."""
    return int(model.count_params())


def torch_total(module) -> int:
    """torch's own count (sum of parameters(): buffers such as running statistics excluded)."""
    return int(sum(p.numel() for p in module.parameters()))
