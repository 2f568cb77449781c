"""PyTorch on the CPU or CUDA: tensors placed on the device, autograd VJPs, optimizer.step(), NCHW activations.

Torch layouts (equivalence.sides.torch_models): rank-4 feature maps are NCHW; rank-3 stay (N, L, C) as the spec-built modules
take them; a Flatten of an NCHW map yields features in (c, h, w) order, which `from_layout` puts back in (h, w, c)
order where the module says its output came from such a flatten (`output_origin`).
"""
from __future__ import annotations

import contextlib
import warnings

import numpy as np

from .. import runtime
from .base import Side, Vjp, as_outputs


@contextlib.contextmanager
def _mode(model, training: bool):
    """`model` in training or inference mode for the block, its own mode restored afterwards."""
    was_training = model.training
    model.train(training)
    try:
        yield
    finally:
        model.train(was_training)


class TorchSide(Side):
    framework = "torch"
    package = "torch"
    devices = ("cpu", "cuda")

    def _dtype(self, dtype):
        return getattr(runtime.torch(), dtype) if isinstance(dtype, str) else dtype

    def tensor(self, arr, dtype=None):
        t = runtime.torch()
        a = np.asarray(arr)
        if a.dtype.name == "bfloat16":  # via float32, which holds every bfloat16 value exactly
            x = t.from_numpy(a.astype(np.float32)).to(device=self.device, dtype=t.bfloat16)
        else:
            x = t.from_numpy(a.copy()).to(self.device)
        return x if dtype is None else x.to(self._dtype(dtype))

    def _args(self, args, dtype):
        t = runtime.torch()
        xs = [a if t.is_tensor(a) else self.tensor(a) for a in args]
        return xs if dtype is None else [x.to(self._dtype(dtype)) if x.is_floating_point() else x for x in xs]

    def call(self, fn, *args, **kwargs) -> tuple:
        return as_outputs(fn(*self._args(args, None), **kwargs))

    def op_vjp(self, fn, args, kwargs, cotangents, wrt, *, dtype=None) -> Vjp:
        torch = runtime.torch()
        xs = [x.contiguous().requires_grad_(i in wrt) for i, x in enumerate(self._args(args, dtype))]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch warns on 'same' padding with an even kernel (drawn)
            outs = as_outputs(fn(*xs, **kwargs))
        leaves = [xs[i] for i in wrt]
        if cotangents is None:
            outs = tuple(o for o in outs if o.is_floating_point())
            grads = torch.autograd.grad(outs, leaves, grad_outputs=[torch.ones_like(o) for o in outs],
                                        allow_unused=True)
        else:
            outs = outs[:1]
            (outs[0].double() * self.tensor(cotangents)).sum().backward()
            grads = [x.grad for x in leaves]
        return Vjp([None if g is None else self.numpy(g) for g in grads], tuple(self.numpy(o) for o in outs))

    def to_layout(self, x: np.ndarray) -> np.ndarray:
        """NHWC -> NCHW; other ranks unchanged."""
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if x.ndim == 4 else x

    def from_layout(self, y: np.ndarray, model=None) -> np.ndarray:
        """NCHW -> NHWC; a (c, h, w)-ordered flatten at `model`'s output -> (h, w, c) order."""
        if y.ndim == 4:
            return np.ascontiguousarray(y.transpose(0, 2, 3, 1))
        if model is not None and model.output_origin is not None:
            from ..weights import chw_index

            return y[:, np.argsort(chw_index(model.output_origin))]
        return y

    def forward(self, model, spec, x, training=False):
        torch = runtime.torch()
        x = np.asarray(x)
        t = x.astype(np.int64) if spec.input_dtype == "int32" else self.to_layout(x.astype(np.float32))
        with _mode(model, training), torch.no_grad():
            (y,) = self.call(model, t)
        return self.from_layout(self.numpy(y), model)

    def canonical_grads(self, pair) -> dict:
        """The `.grad` of every trainable parameter of pair.torch, in the canonical weight layout.

        Layout conversions are permutations/transposes, so they map gradients exactly like weights. Buffers (running
        statistics) get zeros and are dropped; LSTM's canonical bias is bias_ih + bias_hh (PlusZero), whose gradient
        is either one's, so bias_hh's gradient (any tensor canonical ones map to zeros) is zeroed before the sum. A
        parameter without a gradient gets zeros.
        """
        from ..weights import from_torch, param_shapes, to_torch, torch_core

        torch = runtime.torch()
        raw = {}
        shapes = param_shapes(pair.spec)
        # torch tensors that canonical ones map to zeros: the zero half of a canonical sum (PlusZero: LSTM bias_hh)
        ones = to_torch(pair.spec, {n: {p: np.ones(s) for p, s in ps.items()} for n, ps in shapes.items()})
        zero_halves = {n: [k for k, a in lt.items() if not a.any()] for n, lt in ones.items()}
        for name in param_shapes(pair.spec):
            core = torch_core(pair.torch, name)
            grads = {k: self.numpy(p.grad if p.grad is not None else torch.zeros_like(p))
                     for k, p in core.named_parameters()}
            grads |= {k: np.zeros(b.shape, np.float32) for k, b in core.named_buffers() if b.is_floating_point()}
            for k in zero_halves[name]:  # the zero half of a canonical sum (PlusZero): its gradient counted once
                grads[k] = np.zeros_like(grads[k])
            raw[name] = grads
        canonical = from_torch(pair.spec, raw)
        keep = {name: {v.name for v in pair.keras.get_layer(name).trainable_weights} for name in raw}
        return {n: {k: v for k, v in lw.items() if k in keep[n]} for n, lw in canonical.items()}

    def model_vjp(self, pair, x, cotangent, training):
        module = pair.torch
        module.train(training)
        xt = self.tensor(self.to_layout(x)).requires_grad_()
        module.zero_grad(set_to_none=True)
        y = module(xt)
        # a flattened output's cotangent would need from_layout's (c, h, w) reordering undone: the models end in Dense
        (y * self.tensor(self.to_layout(cotangent), y.dtype)).sum().backward()
        grads = self.canonical_grads(pair)
        module.train(False)
        return self.from_layout(self.numpy(xt.grad)), grads

    def optimizer_trajectory(self, info, p0, grads):
        torch = runtime.torch()
        param = torch.nn.Parameter(self.tensor(np.asarray(p0), "float32"))
        opt = info.torch([param], info.hyper)
        out = [np.asarray(p0, np.float64)]
        for g in grads:
            opt.zero_grad()
            param.grad = self.tensor(np.asarray(g), "float32")
            opt.step()
            out.append(self.numpy(param).astype(np.float64))
        return np.stack(out)

    def param_grads(self, model, x, loss, *, training=True, dtype=None) -> dict:
        torch = runtime.torch()
        params = {k: p for k, p in model.named_parameters() if p.requires_grad}
        with _mode(model, training):  # autograd.grad leaves every .grad as it was
            grads = torch.autograd.grad(loss(model(self.tensor(self.to_layout(x), dtype))), list(params.values()))
        return {k: self.numpy(g) for k, g in zip(params, grads)}

    def train_step(self, model, x, loss, optimizer, *, training=True, dtype=None) -> dict:
        with _mode(model, training):
            optimizer.zero_grad()
            loss(model(self.tensor(self.to_layout(x), dtype))).backward()
        grads = {k: self.numpy(p.grad) for k, p in model.named_parameters() if p.grad is not None}
        optimizer.step()
        return grads
