"""Window geometry shared by the conv and pooling kinds: TF's output sizes and 'same' padding, the torch padding
that reproduces it, and the float64 sliding windows of the reference forward (NumPy only)."""
from __future__ import annotations

import numpy as np


def ntuple(v, n: int) -> tuple[int, ...]:
    """An int or an n-sequence as an n-tuple of ints (the window arguments of the 1-, 2- and 3-D kinds)."""
    return (int(v),) * n if isinstance(v, int) else tuple(int(i) for i in v)


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
        return ((0, 0),) * len(hw)
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


def windows_nd(x: np.ndarray, ks, st, dl, pad, fill: float):
    """`windows` for any number of spatial axes (N, *spatial, C): (kernel offset tuple, strided view)."""
    import itertools

    xp = np.pad(x, ((0, 0), *pad, (0, 0)), constant_values=fill)
    outs = [(n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(xp.shape[1:-1], ks, st, dl)]
    for offset in itertools.product(*(range(k) for k in ks)):
        index = tuple(slice(o * d, o * d + s * (m - 1) + 1, s) for o, d, s, m in zip(offset, dl, st, outs))
        yield offset, xp[(slice(None), *index)]


# ------------------------------------------------------------------------------------------ transposed convolution
def transpose_out(n: int, k: int, s: int, padding: str) -> int:
    """Keras' Conv2DTranspose output length (output_padding=None): 'same' n*s, 'valid' n*s + max(k - s, 0)."""
    return n * s if padding == "same" else n * s + max(k - s, 0)


def transpose_crop(k: int, s: int, padding: str) -> int:
    """How many leading rows of the full transposed output ((n-1)*s + k long) Keras drops: TF runs the gradient of
    a conv with that padding, whose 'same' split puts the odd pixel AFTER, so (k - s)//2 before, the rest after."""
    return max(k - s, 0) // 2 if padding == "same" else 0


def transpose_torch(k: int, s: int, padding: str) -> tuple[int, int, int]:
    """(padding, output_padding, rows to crop at the end) that make torch's ConvTranspose reproduce Keras' output.

    torch's length is (n-1)*s + k - 2p + op, cropping p rows at BOTH ends and adding op at the end: p = the
    leading crop, op = s - k + 2p. 'same' with k - s odd and positive needs op = -1: torch cannot, so
    ConvTranspose(padding=p) is followed by dropping the last row. ('same' k=3 s=2: p=0 and crop 1, NOT the
    common padding=1, output_padding=1, which keeps the last row and drops the first.)
    """
    p = transpose_crop(k, s, padding)
    op = transpose_out(1, k, s, padding) - (k - 2 * p)  # n = 1; op is independent of n
    return (p, op, 0) if op >= 0 else (p, 0, -op)
