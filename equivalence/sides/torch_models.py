"""Spec -> PyTorch nn.Module, as a torch user writes it by hand (NCHW feature maps, nn.Flatten on NCHW).

Torch layouts: rank-4 maps are NCHW; rank-3 tensors stay (N, L, C) as torch's batch_first LSTM/GRU take them
(Conv1d wrappers transpose to NCL and back); a Flatten of an NCHW map yields features in (c, h, w) order, which
the next Dense absorbs in its weights (equivalence.weights) and any other consumer gets re-ordered explicitly.
Each kind's module is its record's `torch_module` (equivalence.layer_kinds), which also reproduces TF's 'same'
padding exactly. Masks (Keras' Embedding mask_zero) travel as torch users pass them, by hand: a module with
`output_mask(x, mask)` hands one on, and the next layer gets it as `forward(x, mask=...)` (the spec admits masks
only into kinds that take them).
"""
from __future__ import annotations

import functools
import types

import numpy as np

from .. import runtime
from ..layer_kinds import KINDS
from ..layer_kinds.base import ABSORBS, PASSES
from ..spec import INPUT, LayerSpec, ModelSpec
from ..weights import chw_index, flatten_origin


@functools.cache
def _classes():
    """The model module, defined on first use so that importing this module imports no framework."""
    torch = runtime.torch()
    nn = torch.nn

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
                    if origin is not None and KINDS[l.kind].torch_flat_order not in (ABSORBS, PASSES):
                        buf = f"_to_hwc_{l.name}_{i}"
                        self.register_buffer(buf, torch.from_numpy(np.argsort(chw_index(origin))), persistent=False)
                        reorder.append(buf)
                    else:
                        reorder.append(None)
                self.plan.append((l.name, spec.sources(l), tuple(reorder)))
            self.output_origin = flatten_origin(spec, spec.layers[-1].name)

        def forward(self, x):
            values, masks = {INPUT: x}, {INPUT: None}
            for name, srcs, reorder in self.plan:
                args = [values[s] if r is None else values[s][:, getattr(self, r)] for s, r in zip(srcs, reorder)]
                layer, mask = self.layers[name], masks[srcs[0]]
                values[name] = layer(*args) if mask is None else layer(*args, mask=mask)
                # the mask protocol (Embedding mask_zero): a module with output_mask(x, mask) hands one on
                masks[name] = layer.output_mask(args[0], mask) if hasattr(layer, "output_mask") else None
            return values[self.plan[-1][0]]

    return types.SimpleNamespace(SpecModule=SpecModule)


def torch_layer(spec: ModelSpec, l: LayerSpec):
    """One torch module for one LayerSpec (input shape taken from the spec)."""
    return KINDS[l.kind].torch_module(l, spec.shapes[spec.sources(l)[0]])


def build_torch(spec: ModelSpec):
    """A torch nn.Module for `spec` (float32, eval mode)."""
    return _classes().SpecModule(spec).eval()
