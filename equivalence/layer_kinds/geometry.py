"""Window geometry shared by the conv and pooling kinds: TF's output sizes and 'same' padding, the torch padding
that reproduces it, and the float64 sliding windows of the reference forward (NumPy only)."""
from __future__ import annotations

import numpy as np


def pair(v) -> tuple[int, int]:
    """An int or a 2-sequence as a pair of ints (kernel_size, strides, dilation, pool_size of the 2-D kinds)."""
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


def as_list(v, n: int) -> list[int]:
    """An int or an n-sequence as a list of n ints (what the torch builders pass; MaxPool2d keeps it as given)."""
    return [v] * n if isinstance(v, int) else list(v)


def conv_out(n: int, k: int, s: int, d: int, padding: str) -> int:
    """Output length of a conv/pool along one axis (TF's rule; 'same' gives ceil(n/s))."""
    if padding == "same":
        return -(-n // s)
    return (n - d * (k - 1) - 1) // s + 1


def same_pads(n: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    """TF's 'same' padding (before, after) along one axis: the odd pixel goes AFTER (asymmetric when s > 1)."""
    total = max((conv_out(n, k, s, d, "same") - 1) * s + d * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def torch_pads(hw, ks, st, dl, padding: str):
    """(symmetric padding for the torch layer, explicit F.pad tuple or None) reproducing TF's padding: torch's own
    `padding` is symmetric, so an asymmetric 'same' split (stride 2, even kernels) needs an F.pad before the layer."""
    n = len(hw)
    if padding == "valid":
        return [0] * n, None
    pads = [same_pads(m, k, s, d) for m, k, s, d in zip(hw, ks, st, dl)]
    if all(a == b for a, b in pads):
        return [a for a, _ in pads], None
    return [0] * n, tuple(v for a, b in reversed(pads) for v in (a, b))  # F.pad wants the LAST dim first


def tf_pads(hw, ks, st, dl, padding: str):
    """np.pad widths (before, after) per spatial axis for TF's padding."""
    if padding == "valid":
        return ((0, 0), (0, 0))
    return tuple(same_pads(n, k, s, d) for n, k, s, d in zip(hw, ks, st, dl))


def windows(x: np.ndarray, ks, st, dl, pad, fill: float):
    """Pad NHWC `x` and yield (kernel offset, strided view (N, Ho, Wo, C)) for every kernel position."""
    xp = np.pad(x, ((0, 0), pad[0], pad[1], (0, 0)), constant_values=fill)
    ho = (xp.shape[1] - dl[0] * (ks[0] - 1) - 1) // st[0] + 1
    wo = (xp.shape[2] - dl[1] * (ks[1] - 1) - 1) // st[1] + 1
    for a in range(ks[0]):
        for b in range(ks[1]):
            r, c = a * dl[0], b * dl[1]
            yield (a, b), xp[:, r:r + st[0] * (ho - 1) + 1:st[0], c:c + st[1] * (wo - 1) + 1:st[1], :]
