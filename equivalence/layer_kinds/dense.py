"""dense: keras.layers.Dense <-> torch.nn.Linear, on the last axis of a rank-2 or rank-3 input."""
from __future__ import annotations

from .. import runtime
from . import linear
from .base import ABSORBS, Arg, LayerKind, REQUIRED, boolean, need_rank, no_check, positive_int
from .mapping import FlatRows, Map, T, Weight, glorot, small
from .torchnn import modules
from .activation import ACTIVATIONS, activation_name, keras_activation, torch_act


def _shape(l, ins):
    # Keras applies Dense to the last axis of any rank; torch's Linear on an NCHW map would hit W, not C.
    need_rank(l, ins[0], 2, 3)
    return (*ins[0][:-1], l["units"])


def _params(l, x):
    return {"kernel": Weight((x[-1], l["units"]), glorot)} | (
        {"bias": Weight((l["units"],), small)} if l["use_bias"] else {})


def pre(l, x, w):
    return x @ w["kernel"] + (w["bias"] if "bias" in w else 0.0)


def fan_in(l, x):
    return x[-1]


def _keras(l, x):
    return runtime.keras().layers.Dense(l["units"], activation=keras_activation(l["activation"]),
                                         use_bias=l["use_bias"], name=l.name)


def _torch(l, x):
    nn = runtime.torch().nn
    return modules().Wrap(nn.Linear(x[-1], l["units"], bias=l["use_bias"]), act=torch_act(l["activation"], len(x) + 1))


def _draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    return dict(units=draw(st.integers(1, 6), label=f"units{tag}"),
                activation=draw(st.sampled_from(ACTIVATIONS), label=f"act{tag}"),
                use_bias=draw(st.booleans(), label=f"bias{tag}"))


DENSE = LayerKind(
    name="dense", keras="keras.layers.Dense", torch="torch.nn.Linear",
    notes="kernel (in, out) -> Linear.weight (out, in): transpose",
    args=dict(units=Arg(REQUIRED, positive_int), activation=Arg("linear", activation_name),
              use_bias=Arg(True, boolean)),
    merge=False, reads_ids=False, torch_flat_order=ABSORBS, check=no_check, shape=_shape,
    params=_params,
    # After a Flatten of an NCHW map torch's features come in (c, h, w) order: the kernel rows follow them.
    torch_params=(Map("kernel", "weight", FlatRows(), T), Map("bias", "bias")),
    keras_layer=_keras, torch_module=_torch,
    forward=linear.forward(pre), depth=linear.depth(fan_in, "units"), bound=linear.bound(pre, fan_in),
    scale=linear.scale, strategy=_draw, slots=("seq",),
)
