"""Spec -> PyTorch nn.Module, as a torch user writes it by hand (NCHW feature maps, nn.Flatten on NCHW).

Torch layouts: rank-4 maps are NCHW; rank-3 tensors stay (N, L, C) as torch's batch_first LSTM/GRU take them
(Conv1d wrappers transpose to NCL and back); a Flatten of an NCHW map yields features in (c, h, w) order, which
the next Dense absorbs in its weights (equivalence.weights) and any other consumer gets re-ordered explicitly.
TF's 'same' padding is reproduced exactly: symmetric pads go into the torch layer's own `padding`; asymmetric
ones (stride 2, even kernels) need an explicit F.pad, zeros for convs, -inf for max-pool, and an average pool
that divides by the count of real (unpadded) pixels, as Keras does.
"""
from __future__ import annotations

import functools
import types

import numpy as np

from . import _runtime
from .spec import INPUT, LayerSpec, ModelSpec, same_pads
from .weights import chw_index, flatten_origin


def activation_fn(name: str, *, negative_slope: float = 0.2, alpha: float = 1.0, channel_dim: int = -1):
    """A torch callable for a neutral activation name; softmax runs over the channel dim of the torch layout."""
    F = _runtime.torch().nn.functional
    table = {
        "linear": lambda x: x, "relu": F.relu, "tanh": _runtime.torch().tanh, "sigmoid": _runtime.torch().sigmoid,
        "softmax": lambda x: F.softmax(x, dim=channel_dim), "selu": F.selu, "silu": F.silu,
        "gelu": lambda x: F.gelu(x, approximate="none"), "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
        "leaky_relu": lambda x: F.leaky_relu(x, negative_slope=negative_slope),
        "elu": lambda x: F.elu(x, alpha=alpha),
    }
    return table[name]


@functools.cache
def _classes():
    """Wrapper modules, defined on first use so that importing this module imports no framework."""
    torch = _runtime.torch()
    nn, F = torch.nn, torch.nn.functional

    class Wrap(nn.Module):
        """core (holds the parameters) with optional pad, layout permutes and activation around it."""

        def __init__(self, core, *, pad=None, pad_value=0.0, act=None, to_cf=None, from_cf=None):
            super().__init__()
            self.core, self.pad, self.pad_value, self.act = core, pad, pad_value, act
            self.to_cf, self.from_cf = to_cf, from_cf

        def forward(self, x):
            x = x.permute(*self.to_cf) if self.to_cf else x
            x = F.pad(x, self.pad, value=self.pad_value) if self.pad else x
            x = self.core(x)
            x = x.permute(*self.from_cf) if self.from_cf else x
            return self.act(x) if self.act else x  # after the permute: softmax's channel dim is that layout's

    class SameAvgPool2d(nn.Module):
        """Keras 'same' average pooling: the mean over the real pixels of each window (padding not counted)."""

        def __init__(self, k, s, pad, hw):
            super().__init__()
            self.k, self.s, self.pad = k, s, pad
            ones = torch.ones(1, 1, *hw)
            self.register_buffer("count", F.avg_pool2d(F.pad(ones, pad), k, s), persistent=False)

        def forward(self, x):
            return F.avg_pool2d(F.pad(x, self.pad), self.k, self.s) / self.count

    class Recurrent(nn.Module):
        def __init__(self, core, return_sequences):
            super().__init__()
            self.core, self.return_sequences = core, return_sequences

        def forward(self, x):
            out, _ = self.core(x)
            return out if self.return_sequences else out[:, -1]

    class Lambda(nn.Module):
        def __init__(self, fn, what):
            super().__init__()
            self.fn, self.what = fn, what

        def forward(self, *xs):
            return self.fn(*xs)

        def extra_repr(self):
            return self.what

    class SpecModule(nn.Module):
        """Runs the spec's layers in order; `layers[name]` holds each layer, `plan` their wiring."""

        def __init__(self, spec: ModelSpec):
            super().__init__()
            self.spec_name = spec.name
            self.layers = nn.ModuleDict()
            self.plan = []
            for l in spec.layers:
                self.layers[l.name] = torch_layer(spec, l)
                reorder = []
                for i, src in enumerate(spec.sources(l)):
                    origin = flatten_origin(spec, src)
                    if origin is not None and l.kind not in ("dense", "dropout", "activation"):
                        buf = f"_to_hwc_{l.name}_{i}"
                        self.register_buffer(buf, torch.from_numpy(np.argsort(chw_index(origin))), persistent=False)
                        reorder.append(buf)
                    else:
                        reorder.append(None)
                self.plan.append((l.name, spec.sources(l), tuple(reorder)))
            self.output_origin = flatten_origin(spec, spec.layers[-1].name)

        def forward(self, x):
            values = {INPUT: x}
            for name, srcs, reorder in self.plan:
                args = [values[s] if r is None else values[s][:, getattr(self, r)] for s, r in zip(srcs, reorder)]
                values[name] = self.layers[name](*args)
            return values[self.plan[-1][0]]

    return types.SimpleNamespace(Wrap=Wrap, SameAvgPool2d=SameAvgPool2d, Recurrent=Recurrent, Lambda=Lambda,
                                 SpecModule=SpecModule)


def _conv_pads(l: LayerSpec, hw: tuple[int, ...]):
    """(symmetric padding for the torch layer, explicit F.pad tuple or None) reproducing TF's padding."""
    n = len(hw)
    p = l.params
    ks = [p.get("kernel_size", p.get("pool_size"))] * n if isinstance(p.get("kernel_size", p.get("pool_size")), int) \
        else list(p.get("kernel_size", p.get("pool_size")))
    st = p["strides"] if p["strides"] is not None else p["pool_size"]
    st = [st] * n if isinstance(st, int) else list(st)
    dl = p.get("dilation", 1)
    dl = [dl] * n if isinstance(dl, int) else list(dl)
    if p["padding"] == "valid":
        return [0] * n, None, ks, st, dl
    pads = [same_pads(m, k, s, d) for m, k, s, d in zip(hw, ks, st, dl)]
    if all(a == b for a, b in pads):
        return [a for a, _ in pads], None, ks, st, dl
    flat = tuple(v for a, b in reversed(pads) for v in (a, b))  # F.pad wants the LAST dim first
    return [0] * n, flat, ks, st, dl


def torch_layer(spec: ModelSpec, l: LayerSpec):
    """One torch module for one LayerSpec (input shape taken from the spec)."""
    torch, C = _runtime.torch(), _classes()
    nn, p, k = torch.nn, l.params, l.kind
    x = spec.shapes[spec.sources(l)[0]]
    if k == "dense":
        return C.Wrap(nn.Linear(x[-1], p["units"], bias=p["use_bias"]), act=_act(p["activation"], len(x)))
    if k in ("conv1d", "conv2d"):
        sym, pad, ks, st, dl = _conv_pads(l, x[:-1])
        cls = nn.Conv1d if k == "conv1d" else nn.Conv2d
        core = cls(x[-1], p["filters"], ks, stride=st, padding=sym, dilation=dl, groups=p["groups"], bias=p["use_bias"])
        perm = dict(to_cf=(0, 2, 1), from_cf=(0, 2, 1)) if k == "conv1d" else {}
        return C.Wrap(core, pad=pad, act=_act(p["activation"], 4 if k == "conv2d" else 3), **perm)
    if k == "max_pool2d":
        sym, pad, ks, st, _ = _conv_pads(l, x[:-1])
        if pad is None and all(2 * s <= kk for s, kk in zip(sym, ks)):
            return nn.MaxPool2d(ks, st, padding=sym)
        pad = pad or (sym[1], sym[1], sym[0], sym[0])
        return C.Wrap(nn.MaxPool2d(ks, st), pad=pad, pad_value=float("-inf"))
    if k == "avg_pool2d":
        sym, pad, ks, st, _ = _conv_pads(l, x[:-1])
        if pad is None and all(2 * s <= kk for s, kk in zip(sym, ks)):
            return nn.AvgPool2d(ks, st, padding=sym, count_include_pad=False)
        return C.SameAvgPool2d(ks, st, pad or (sym[1], sym[1], sym[0], sym[0]), x[:2])
    return _torch_other(spec, l, x)


def _torch_other(spec: ModelSpec, l: LayerSpec, x: tuple[int, ...]):
    torch, C = _runtime.torch(), _classes()
    nn, p, k, rank = torch.nn, l.params, l.kind, len(x) + 1
    if k == "global_avg_pool2d":
        return C.Lambda(lambda t: t.mean(dim=(2, 3)), "mean over H, W")
    if k == "flatten":
        return nn.Flatten()
    if k == "batch_norm":  # torch momentum = weight of the NEW statistic = 1 - Keras momentum
        core = (nn.BatchNorm2d if rank == 4 else nn.BatchNorm1d)(x[-1], eps=p["epsilon"], momentum=1.0 - p["momentum"])
        return C.Wrap(core, to_cf=(0, 2, 1), from_cf=(0, 2, 1)) if rank == 3 else core
    if k == "layer_norm":
        core = nn.LayerNorm(x[-1], eps=p["epsilon"])
        return C.Wrap(core, to_cf=(0, 2, 3, 1), from_cf=(0, 3, 1, 2)) if rank == 4 else core
    if k == "dropout":
        return nn.Dropout(p["rate"])
    if k == "embedding":
        return nn.Embedding(p["input_dim"], p["output_dim"])
    if k in ("lstm", "gru"):
        cls = nn.LSTM if k == "lstm" else nn.GRU
        return C.Recurrent(cls(x[-1], p["units"], batch_first=True), p["return_sequences"])
    if k == "activation":
        fn = activation_fn(p["fn"], negative_slope=p["negative_slope"], alpha=p["alpha"],
                           channel_dim=1 if rank == 4 else -1)
        return C.Lambda(fn, p["fn"])
    if k == "add":
        return C.Lambda(lambda *ts: functools.reduce(lambda a, b: a + b, ts), "add")
    dim = 1 if rank == 4 else -1
    return C.Lambda(lambda *ts: torch.cat(ts, dim=dim), f"cat(dim={dim})")


def _act(name: str, rank: int):
    return None if name == "linear" else activation_fn(name, channel_dim=1 if rank == 4 else -1)


def build_torch(spec: ModelSpec):
    """A torch nn.Module for `spec` (float32, eval mode)."""
    return _classes().SpecModule(spec).eval()


def to_torch_layout(x: np.ndarray) -> np.ndarray:
    """Canonical (channels-last) input -> torch layout: NHWC -> NCHW; other ranks unchanged."""
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if x.ndim == 4 else x


def from_torch_layout(y: np.ndarray, module) -> np.ndarray:
    """Torch output -> canonical layout: NCHW -> NHWC, a (c,h,w)-ordered flatten -> (h,w,c) order."""
    if y.ndim == 4:
        return np.ascontiguousarray(y.transpose(0, 2, 3, 1))
    if module.output_origin is not None:
        return y[:, np.argsort(chw_index(module.output_origin))]
    return y
