"""The models the suite ships, built through the spec, and their golden fixtures (frozen float64 reference
outputs for fixed weights, so a change in the reference or the weight init shows even where both frameworks
agree): `python -m equivalence.zoo freeze` rewrites them.
"""
from __future__ import annotations

import numpy as np

from . import reference, runtime
from .models import Pair
from .spec import ModelSpec, layer
from .weights import init_weights


def seed_models() -> dict[str, ModelSpec]:
    """The seed's three models, built through the spec."""
    relu = dict(activation="relu")
    return {
        "seed_mlp": ModelSpec("seed_mlp", (32,), (layer("dense", units=64, **relu), layer("dense", units=10))),
        # The Keras CIFAR-10 tutorial CNN: three 3x3 VALID convs, two max-pools, softmax head.
        "seed_cnn_keras": ModelSpec("seed_cnn_keras", (32, 32, 3), (
            layer("conv2d", filters=32, kernel_size=3, **relu), layer("max_pool2d", pool_size=2),
            layer("conv2d", filters=64, kernel_size=3, **relu), layer("max_pool2d", pool_size=2),
            layer("conv2d", filters=64, kernel_size=3, **relu), layer("flatten"),
            layer("dense", units=64, **relu), layer("dense", units=10, activation="softmax"))),
        # The PyTorch CIFAR-10 CNN: two padded (padding=1 == 'same') 3x3 convs, pools, logits head.
        "seed_cnn_torch": ModelSpec("seed_cnn_torch", (32, 32, 3), (
            layer("conv2d", filters=32, kernel_size=3, padding="same", **relu), layer("max_pool2d", pool_size=2),
            layer("conv2d", filters=64, kernel_size=3, padding="same", **relu), layer("max_pool2d", pool_size=2),
            layer("flatten"), layer("dense", units=64, **relu), layer("dense", units=10))),
    }


def _conv_bn(name: str, filters: int, kernel: int = 3, strides: int = 1, inputs=(), relu: bool = True) -> list:
    """conv2d (no bias: the BatchNorm's beta replaces it, and a bias before a training-mode BatchNorm has an exactly
    cancelling, zero gradient) -> batch_norm (-> relu)."""
    out = [layer("conv2d", name=f"{name}_conv", inputs=inputs, filters=filters, kernel_size=kernel, strides=strides,
                 padding="same", use_bias=False),
           layer("batch_norm", name=f"{name}_bn", momentum=0.9)]
    return out + ([layer("activation", name=f"{name}_relu", fn="relu")] if relu else [])


def _resnet(name: str, image: int, widths: tuple[int, ...], classes: int) -> ModelSpec:
    """A ResNet: a conv-BN-ReLU stem, one basic residual block per width (the first keeps the stem's width and
    shape: an identity shortcut; each later one halves the map with stride 2 and widens it: a projection shortcut,
    1x1 conv stride 2 + BN), global average pooling and a dense head (logits)."""
    layers = _conv_bn("stem", widths[0])
    prev, width = "stem_relu", widths[0]
    for i, w in enumerate(widths):
        stride = 1 if w == width and i == 0 else 2
        b = f"block{i}"
        layers += _conv_bn(f"{b}a", w, strides=stride, inputs=(prev,)) + _conv_bn(f"{b}b", w, relu=False)
        shortcut = prev
        if stride != 1 or w != width:
            layers += _conv_bn(f"{b}_proj", w, kernel=1, strides=stride, inputs=(prev,), relu=False)
            shortcut = f"{b}_proj_bn"
        layers += [layer("add", name=f"{b}_add", inputs=(shortcut, f"{b}b_bn")),
                   layer("activation", name=f"{b}_relu", fn="relu")]
        prev, width = f"{b}_relu", w
    layers += [layer("global_avg_pool2d", name="pool"), layer("dense", name="head", units=classes)]
    return ModelSpec(name, (image, image, 3), tuple(layers))


def _mobilenet(name: str, image: int, stem: int, blocks: tuple[tuple[int, int], ...], classes: int) -> ModelSpec:
    """A MobileNet: a conv-BN-ReLU stem, depthwise-separable blocks written out (depthwise 3x3 -> BN -> ReLU ->
    pointwise 1x1 conv -> BN -> ReLU; (filters, stride) each), one fused `separable_conv2d` block (Keras'
    SeparableConv2D: depthwise then pointwise in one layer) -> BN -> ReLU, global average pooling, a dense head."""
    relu = lambda n: layer("activation", name=n, fn="relu")
    bn = lambda n: layer("batch_norm", name=n, momentum=0.9)
    layers = _conv_bn("stem", stem)
    for i, (filters, stride) in enumerate(blocks):
        layers += [layer("depthwise_conv2d", name=f"dw{i}", kernel_size=3, strides=stride, padding="same",
                         use_bias=False), bn(f"dw{i}_bn"), relu(f"dw{i}_relu"),
                   layer("conv2d", name=f"pw{i}", filters=filters, kernel_size=1, use_bias=False), bn(f"pw{i}_bn"),
                   relu(f"pw{i}_relu")]
    layers += [layer("separable_conv2d", name="sep", filters=blocks[-1][0], kernel_size=3, padding="same",
                     use_bias=False), bn("sep_bn"), relu("sep_relu"),
               layer("global_avg_pool2d", name="pool"), layer("dense", name="head", units=classes)]
    return ModelSpec(name, (image, image, 3), tuple(layers))


def _unet(name: str, image: int, widths: tuple[int, ...], classes: int) -> ModelSpec:
    """A U-Net: per level two 3x3 'same' convs (ReLU), then a 2x2 max-pool down; a bottleneck conv (no bias) ->
    BN -> ReLU; per level up a 2x2 stride-2 `conv2d_transpose`, the skip concatenated (channels), two 3x3 convs;
    a 1x1 conv to per-pixel class logits (the output is a map)."""
    conv = lambda n, f, **kw: layer("conv2d", name=n, filters=f, kernel_size=3, padding="same", activation="relu", **kw)
    layers, skips, prev = [], [], "input"
    for i, w in enumerate(widths[:-1]):
        layers += [conv(f"enc{i}a", w, inputs=(prev,)), conv(f"enc{i}b", w),
                   layer("max_pool2d", name=f"down{i}", pool_size=2)]
        skips.append(f"enc{i}b")
        prev = f"down{i}"
    layers += _conv_bn("mid", widths[-1], inputs=(prev,))
    prev = "mid_relu"
    for i in reversed(range(len(widths) - 1)):
        layers += [layer("conv2d_transpose", name=f"up{i}", inputs=(prev,), filters=widths[i], kernel_size=2,
                         strides=2),
                   layer("concat", name=f"skip{i}", inputs=(skips[i], f"up{i}")),
                   conv(f"dec{i}a", widths[i]), conv(f"dec{i}b", widths[i])]
        prev = f"dec{i}b"
    layers.append(layer("conv2d", name="logits", filters=classes, kernel_size=1))
    return ModelSpec(name, (image, image, 3), tuple(layers))


def _vit(name: str, image: int, patch: int, dim: int, heads: int, depth: int, classes: int) -> ModelSpec:
    """A Vision Transformer: patch embedding (a conv with kernel = stride = patch), the map into tokens, a class
    token prepended, learned position embeddings, `depth` pre-norm encoder blocks (GELU MLP of 2*dim), a final
    LayerNorm, the class token's features into a dense head."""
    layers = [layer("conv2d", name="patches", filters=dim, kernel_size=patch, strides=patch),
              layer("to_tokens", name="tokens"), layer("class_token", name="cls"),
              layer("position_embedding", name="pos")]
    layers += [layer("transformer_encoder", name=f"encoder{i}", num_heads=heads, key_dim=dim // heads,
                     dim_feedforward=2 * dim, activation="gelu", norm_first=True) for i in range(depth)]
    layers += [layer("layer_norm", name="norm", epsilon=1e-6), layer("take_token", name="cls_out", index=0),
               layer("dense", name="head", units=classes)]
    return ModelSpec(name, (image, image, 3), tuple(layers))


def _bilstm_text(name: str, vocab: int, steps: int, dim: int, units: int, classes: int) -> ModelSpec:
    """A masked text classifier: token ids -> Embedding(mask_zero=True: id 0 pads) -> Bidirectional(LSTM, every
    step) -> the mean over the valid steps (GlobalAveragePooling1D under the mask) -> dense logits."""
    return ModelSpec(name, (steps,), (
        layer("embedding", name="embed", input_dim=vocab, output_dim=dim, mask_zero=True),
        layer("bidirectional", name="bilstm", layer="lstm", units=units, return_sequences=True),
        layer("global_avg_pool1d", name="pool"),
        layer("dense", name="head", units=classes)), "int32")


def zoo_models(size: str = "small") -> dict[str, ModelSpec]:
    """Real architectures built through the spec (docs/models.md, 'The zoo'): `small` (the default run: tiny maps
    and widths) or `large` (the thorough variants: the same architectures, bigger)."""
    if size not in ("small", "large"):
        raise ValueError(f"zoo_models(size={size!r}): size must be 'small' or 'large'")
    small = size == "small"
    return {
        "resnet": _resnet("resnet", 8 if small else 32, (4, 8) if small else (16, 32, 64), 5 if small else 10),
        "mobilenet": _mobilenet("mobilenet", 8 if small else 32, 4 if small else 16,
                                ((8, 2), (8, 2)) if small else ((32, 1), (64, 2), (64, 1), (128, 2)), 5 if small else 10),
        "unet": _unet("unet", 8 if small else 32, (4, 8) if small else (8, 16, 32), 2 if small else 3),
        "vit": _vit("vit", 8, 4, 8, 2, 1, 5) if small else _vit("vit", 32, 4, 32, 4, 2, 10),
        "bilstm_text": _bilstm_text("bilstm_text", 20, 6, 8, 4, 3) if small else _bilstm_text("bilstm_text", 200, 32,
                                                                                               32, 16, 5),
    }


FIXTURES = "fixtures/seed_models"
ZOO_FIXTURES = "fixtures/zoo"
GOLDEN_SEED, GOLDEN_INPUT_SEED, GOLDEN_BATCH = 0, 1, 2
FIXTURE_SETS = {"seed": (FIXTURES, seed_models), "zoo": (ZOO_FIXTURES, zoo_models)}


def freeze_fixtures(directory: str = FIXTURES, models: str = "seed") -> None:
    """Write each model's golden data (input, float64 reference output, weight digest) and a MANIFEST.json, for the
    seed models (`models="seed"`) or the zoo (`"zoo"`: also the training-mode reference, `reference_training`,
    since the zoo's BatchNorms normalise by batch statistics there).

    The weights themselves are not stored: they are regenerated from GOLDEN_SEED and checked against the digest.
    """
    import json
    import os
    import sys

    from .weights import digest

    os.makedirs(directory, exist_ok=True)
    manifest = {"generator": f"python -m equivalence.zoo freeze {models} {directory}", "versions": runtime.versions(),
                "python": sys.version.split()[0], "weight_seed": GOLDEN_SEED, "input_seed": GOLDEN_INPUT_SEED,
                "models": {}}
    for name, spec in FIXTURE_SETS[models][1]().items():
        weights = init_weights(spec, GOLDEN_SEED)
        x = Pair(spec, None, None, weights).sample_input(GOLDEN_INPUT_SEED, batch=GOLDEN_BATCH)
        arrays = dict(x=x, reference=reference.forward(spec, weights, x))
        if models == "zoo":
            arrays["reference_training"] = reference.forward(spec, weights, x, training=True)
        np.savez_compressed(os.path.join(directory, f"{name}.npz"), **arrays)
        manifest["models"][name] = {"file": f"{name}.npz", "spec": repr(spec.layers), "input_shape": list(spec.input_shape),
                                    "weights_sha256": digest(weights)}
    with open(os.path.join(directory, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")


def measure(size: str = "small") -> str:
    """Run the zoo's checks (forward, gradients, SGD and Adam steps, both modes, on the CPU) and return a Markdown
    table of each model's parameter counts and its largest error as a fraction of its tolerance per check (the
    figures of docs/models.md's zoo section): `python -m equivalence.zoo measure [small|large]`."""
    from .catalog.optimizers import by_id
    from .checks import check_model
    from .checks.zoo import check_zoo_training, reset
    from .compare import recording
    from .models import build_pair
    from .weights import param_count

    rows = ["| model | params (Keras count_params / torch parameters + buffers) | forward TF, torch vs float64 | "
            "forward TF vs torch | grads vs torch float64 | grads TF vs torch | <g, d> vs float64 FD | "
            "step vs own rule | step TF vs torch |", "|---" * 9 + "|"]
    for name, spec in zoo_models(size).items():
        pair = build_pair(spec, seed=GOLDEN_SEED)
        x = pair.sample_input(GOLDEN_INPUT_SEED, batch=GOLDEN_BATCH)
        worst: dict[str, float] = {}
        with recording() as records:
            for training in (False, True):
                check_model(reset(pair), x, modes=(training,), what=name)
                for opt in ("sgd-plain", "adam-tiny_eps"):
                    check_zoo_training(pair, x, training, by_id(opt))
        for r in records:
            kind = ("step" if "update of" in r["what"] else "fd" if "<grad, d>" in r["what"]
                    else "grad" if "d loss" in r["what"] else "forward")
            cross = {r["a"], r["b"]} == {"tf", "torch"}
            key = f"{kind}{'-cross' if cross else ''}"
            worst[key] = max(worst.get(key, 0.0), r["error_over_tol"])
        torch_params = sum(p.numel() for p in pair.torch.parameters())
        buffers = sum(b.numel() for b in pair.torch.buffers() if b.is_floating_point())
        cells = [f"{worst.get(k, float('nan')):.2g}" for k in
                 ("forward", "forward-cross", "grad", "grad-cross", "fd", "step", "step-cross")]
        rows.append(f"| {name} | {pair.keras.count_params():,} / {torch_params:,} + {buffers:,} "
                    f"(spec {param_count(spec):,}) | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


USAGE = ("usage: python -m equivalence.zoo freeze [seed|zoo [DIRECTORY]]  (no set: both, each to its own directory)\n"
         "       python -m equivalence.zoo measure [small|large]")

if __name__ == "__main__":
    import sys

    args = sys.argv[1:]
    if args[:1] == ["measure"] and len(args) <= 2:
        sys.stdout.write(measure(*args[1:]))
        sys.exit(0)
    if args[:1] != ["freeze"] or len(args) > 3:
        sys.exit(USAGE)
    if len(args) == 1:
        for which, (where, _) in FIXTURE_SETS.items():
            freeze_fixtures(where, which)
    elif args[1] in FIXTURE_SETS:
        freeze_fixtures(args[2] if len(args) > 2 else FIXTURE_SETS[args[1]][0], args[1])
    elif len(args) == 2:  # the seed models into DIRECTORY, as before the zoo
        freeze_fixtures(args[1], "seed")
    else:
        sys.exit(USAGE)


__all__ = ["FIXTURES", "FIXTURE_SETS", "GOLDEN_SEED", "ZOO_FIXTURES", "freeze_fixtures", "measure", "seed_models", "zoo_models"]
