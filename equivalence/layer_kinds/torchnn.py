"""The torch wrapper modules several kinds build with, defined on first use (importing this imports no torch)."""
from __future__ import annotations

import functools
import types

from .. import runtime


@functools.cache
def modules():
    nn, F = runtime.torch().nn, runtime.torch().nn.functional

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

    class Lambda(nn.Module):
        def __init__(self, fn, what):
            super().__init__()
            self.fn, self.what = fn, what

        def forward(self, *xs):
            return self.fn(*xs)

        def extra_repr(self):
            return self.what

    return types.SimpleNamespace(Wrap=Wrap, Lambda=Lambda)


def lambda_module(fn, what: str):
    """A parameter-free module calling fn(*inputs); `what` is its repr."""
    return modules().Lambda(fn, what)


CHANNELS_FIRST = dict(to_cf=(0, 2, 1), from_cf=(0, 2, 1))  # (N, L, C) <-> (N, C, L) around a channels-first core
