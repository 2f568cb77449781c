"""A ResNet block written in Keras, ported to torch by hand: once correctly, and once with each classic bug.

    python examples/resnet_block_port.py        # prints each port's verdict and where it first goes wrong

The Keras model (16x16x3 input): a stride-2 'same' stem convolution, BatchNorm and an exact GELU; a residual block
of two 3x3 convolutions with BatchNorm and a ReLU between them; ReLU after the add; Flatten; Dense logits. The torch
port names everything differently (`stem.conv`, `block.conv_a`, ...), so check_pair pairs layers by structure.
The faithful port reproduces TF's asymmetric 'same' padding with F.pad, passes Keras' BatchNorm epsilon (1e-3) and
momentum (torch 0.01 = 1 - 0.99), uses exact GELU and flattens NCHW (the weight transfer permutes the Dense rows).
Each buggy port makes one mistake; check_pair localizes it and names the catalogue entry:

    bug              the mistake                                             first divergence      entry
    same_padding     stem Conv2d(stride=2, padding=1): symmetric padding     stem.conv             conv-same-stride2-padding
    bn_epsilon       BatchNorm2d(C) with torch's default eps=1e-5            stem.bn               bn-epsilon-default
    gelu             nn.GELU(approximate='tanh')                             stem.act              gelu-approximate-default
    flatten_order    a hand-written converter copies the Dense kernel        head.fc               flatten-order
                     transposed, without permuting its rows to (c, h, w)
    bn_momentum      BatchNorm2d(C, eps=1e-3) with torch's default           stem.bn (running      bn-momentum-convention
                     momentum=0.1: one training step (training=True,          statistics after
                     step=('adam', ...)) moves the statistics differently     the step)
"""
from __future__ import annotations

import sys

import numpy as np

BUGS = ("same_padding", "bn_epsilon", "gelu", "flatten_order", "bn_momentum")
INPUT_SHAPE = (16, 16, 3)
C = 6  # channels: 8x8 maps of 6 channels, so NCHW and NHWC shapes differ


def keras_model(seed: int = 0):
    """The Keras original, with nonzero BatchNorm statistics (so a wrong epsilon or statistic shows)."""
    from equivalence import runtime

    keras = runtime.keras()
    keras.utils.set_random_seed(seed)
    L = keras.layers
    inp = keras.Input(INPUT_SHAPE, name="image")
    x = L.Conv2D(C, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(inp)
    x = L.BatchNormalization(name="stem_bn")(x)
    x = L.Activation("gelu", name="stem_gelu")(x)
    y = L.Conv2D(C, 3, padding="same", use_bias=False, name="block_conv1")(x)
    y = L.BatchNormalization(name="block_bn1")(y)
    y = L.Activation("relu", name="block_relu1")(y)
    y = L.Conv2D(C, 3, padding="same", use_bias=False, name="block_conv2")(y)
    y = L.BatchNormalization(name="block_bn2")(y)
    x = L.Add(name="block_add")([x, y])
    x = L.Activation("relu", name="block_relu")(x)
    x = L.Flatten(name="flatten")(x)
    out = L.Dense(10, name="logits")(x)
    model = keras.Model(inp, out, name="resnet_block")
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, c), rng.uniform(-0.2, 0.2, c), rng.uniform(-0.2, 0.2, c),
                               rng.uniform(0.5, 1.5, c)])
    return model


def torch_port(bug: str | None = None):
    """The torch port (eval mode); `bug` plants one of BUGS ('flatten_order' lives in `convert`, not here)."""
    from equivalence import runtime

    torch = runtime.torch()
    nn, F = torch.nn, torch.nn.functional
    eps = 1e-5 if bug == "bn_epsilon" else 1e-3  # Keras' BatchNormalization epsilon is 1e-3

    def bn(c):
        if bug == "bn_momentum":
            return nn.BatchNorm2d(c, eps=eps)  # torch's default momentum 0.1
        return nn.BatchNorm2d(c, eps=eps, momentum=0.01)  # torch momentum = 1 - Keras momentum (0.99)

    class Stem(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, C, 3, stride=2, padding=1 if bug == "same_padding" else 0, bias=False)
            self.bn = bn(C)
            self.act = nn.GELU(approximate="tanh" if bug == "gelu" else "none")

        def forward(self, x):
            if bug != "same_padding":
                x = F.pad(x, (0, 1, 0, 1))  # TF 'same', stride 2, 16 -> 8: 0 before, 1 after
            return self.act(self.bn(self.conv(x)))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv_a, self.bn_a = nn.Conv2d(C, C, 3, padding=1, bias=False), bn(C)
            self.act = nn.ReLU()
            self.conv_b, self.bn_b = nn.Conv2d(C, C, 3, padding=1, bias=False), bn(C)
            self.out = nn.ReLU()

        def forward(self, x):
            return self.out(x + self.bn_b(self.conv_b(self.act(self.bn_a(self.conv_a(x))))))

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten, self.fc = nn.Flatten(), nn.Linear(8 * 8 * C, 10)

        def forward(self, x):
            return self.fc(self.flatten(x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem, self.block, self.head = Stem(), Block(), Head()

        def forward(self, x):
            return self.head(self.block(self.stem(x)))

    torch.manual_seed(0)
    return Net().eval()


def faithful_port():
    """FACTORY for the command line: `--torch resnet_block_port:faithful_port`."""
    return torch_port(None)


def gelu_port():
    """FACTORY for the command line: the port with the GELU approximation bug."""
    return torch_port("gelu")


def convert(keras_model, module, *, permute_flatten: bool = True) -> None:
    """A user's hand-written checkpoint converter (what check_pair(transfer=None) validates). With
    permute_flatten=False it makes the classic mistake: the Dense kernel is transposed but its rows stay in
    Keras' (h, w, c) order while torch's Flatten of NCHW yields (c, h, w)."""
    from equivalence import runtime

    torch = runtime.torch()
    get = {layer.name: [np.asarray(w) for w in layer.get_weights()] for layer in keras_model.layers}
    hwio = lambda k: torch.from_numpy(np.ascontiguousarray(k.transpose(3, 2, 0, 1)))  # noqa: E731

    def set_bn(m, w):
        for t, a in zip((m.weight, m.bias, m.running_mean, m.running_var), w):
            t.copy_(torch.from_numpy(a))

    with torch.no_grad():
        module.stem.conv.weight.copy_(hwio(get["stem_conv"][0]))
        set_bn(module.stem.bn, get["stem_bn"])
        module.block.conv_a.weight.copy_(hwio(get["block_conv1"][0]))
        set_bn(module.block.bn_a, get["block_bn1"])
        module.block.conv_b.weight.copy_(hwio(get["block_conv2"][0]))
        set_bn(module.block.bn_b, get["block_bn2"])
        kernel, bias = get["logits"]
        if permute_flatten:  # rows (h, w, c) -> (c, h, w)
            kernel = kernel.reshape(8, 8, C, 10).transpose(2, 0, 1, 3).reshape(8 * 8 * C, 10)
        module.head.fc.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.T)))
        module.head.fc.bias.copy_(torch.from_numpy(bias))


def sample(batch: int = 2, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, *INPUT_SHAPE)).astype(np.float32)


def ports() -> dict:
    """name -> (torch module, check_pair keyword arguments), each with a fresh Keras model to compare against."""
    step = {"training": True, "step": ("adam", {"learning_rate": 1e-3})}
    out = {"faithful (transfer keras_to_torch, training mode, one Adam step)": (None, {"transfer": "keras_to_torch",
                                                                                     **step}),
           "faithful (transfer torch_to_keras)": (None, {"transfer": "torch_to_keras"})}
    out |= {f"bug: {b}": (b, {"transfer": "keras_to_torch"}) for b in BUGS if b not in ("flatten_order",
                                                                                       "bn_momentum")}
    out["bug: bn_momentum (training mode, one Adam step)"] = ("bn_momentum", {"transfer": "keras_to_torch", **step})
    out["faithful (own converter, transfer=None)"] = ("convert", {})
    out["bug: flatten_order (own converter, transfer=None)"] = ("flatten_order", {})
    return out


def build(which):
    """(keras model, torch module) for one entry of `ports()` (the converter ones already converted)."""
    km = keras_model()
    if which in ("convert", "flatten_order"):
        tm = torch_port(None)
        convert(km, tm, permute_flatten=which == "convert")
        return km, tm
    return km, torch_port(which)


def main() -> int:
    from equivalence import check_pair

    x = sample()
    for name, (which, kw) in ports().items():
        km, tm = build(which)
        result = check_pair(km, tm, x, **kw)
        print(f"== {name}\n{result.summary()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
