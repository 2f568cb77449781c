"""Known differences: losses, optimizers and gradients, each entry right below its witness (or its factory call).

Witnesses run both frameworks on a few hand-picked numbers and return what each computed. `applies_to` selects the
property tests and the catalog records (equivalence/catalog/losses.py, optimizers.py) an entry concerns
('loss:<name or id>', 'optimizer:<name or id>', 'grad:<id>'); those records find their entries through
`differences.for_record`. Expected floats are the observed float32 results rounded to 6 decimals (`_r`, hence
`atol=ROUNDED`); where a closed form exists it is written in a comment beside them.
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from ..registry import Registry
from .entry import REGISTRY, KnownDifference
from .witness_tools import ROUNDED, rounded as _r

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness
# atol=ROUNDED: observations rounded to 6 decimals (`_r`); entries observing defaults are exact (atol=0.0)


LR_EVIDENCE_K = "keras/src/optimizers/{}.py (Keras 3.15 source: __init__ defaults and update_step)"
LR_EVIDENCE_T = "torch/optim/{}.py (torch 2.13 source and API docs)"


def _sources(module) -> str:
    """The evidence of an optimizer entry: both sources of the optimizer `module` (file stem in each library, or a
    (keras, torch) pair of stems)."""
    keras_mod, torch_mod = module if isinstance(module, tuple) else (module, module)
    return f"{LR_EVIDENCE_K.format(keras_mod)}; {LR_EVIDENCE_T.format(torch_mod)}"


def _kl():
    return runtime.keras().losses


def _tt():
    return runtime.torch()


def _f():
    return runtime.torch().nn.functional


# ---------------------------------------------------------------- optimizer stepping (one parameter, given grads)
def _keras_steps(opt, p0, grads):
    keras, tf = runtime.keras(), runtime.tf()
    var = keras.Variable(np.asarray(p0, np.float32))
    for g in grads:
        opt.apply_gradients([(tf.constant(np.asarray(g, np.float32)), var)])
    return var.numpy()


def _torch_steps(make, p0, grads):
    torch = _tt()
    p = torch.nn.Parameter(torch.tensor(np.asarray(p0, np.float32)))
    opt = make([p])
    for g in grads:
        p.grad = torch.tensor(np.asarray(g, np.float32))
        opt.step()
    return p.detach().numpy()


def _ko():
    return runtime.keras().optimizers


def _to():
    return runtime.torch().optim


def _defaults(keras_cls, torch_cls, keras_attrs, torch_keys):
    """Both constructors' defaults, read from the objects they build."""
    k = getattr(_ko(), keras_cls)()
    t = getattr(_to(), torch_cls)([_tt().nn.Parameter(_tt().zeros(1))])
    sig = lambda v: float(f"{float(np.asarray(v)):.6g}")  # float32-stored hyperparameters, 6 significant digits
    return {"tf": {a: sig(getattr(k, a)) for a in keras_attrs},
            "torch": {key: (list(t.defaults[key]) if isinstance(t.defaults[key], tuple) else t.defaults[key])
                      for key in torch_keys}}


def _grad(framework, fn, x):
    """d sum(fn(v)) / dv at v = float32 x, on `framework`'s CPU side."""
    from ..sides import side_for

    return _r(side_for(framework, "cpu").grad(fn, np.asarray(x, np.float32)))


def _grad_tf(fn, x):
    return _grad("tf", fn, x)


def _grad_torch(fn, x):
    return _grad("torch", fn, x)


def _loss_pair(keras_fn, torch_fn):
    return lambda: {"tf": _r(keras_fn(_kl())), "torch": _r(torch_fn(_tt(), _f()).detach().numpy())}


P3 = np.array([[0.5, 0.25, 0.25]], np.float32)


def _steps(keras_opt, torch_opt, p0, grads):
    """{'tf', 'torch'}: the parameter after the steps (rounded), each optimizer built by the given lambda."""
    return lambda: {"tf": _r(_keras_steps(keras_opt(_ko()), p0, grads)),
                    "torch": _r(_torch_steps(lambda ps: torch_opt(_to(), ps), p0, grads))}


def _grads(tf_fn, torch_fn, x):
    return lambda: {"tf": _grad_tf(lambda v: tf_fn(runtime.tf(), v), x), "torch": _grad_torch(lambda v: torch_fn(_tt(), v), x)}


ENTRIES.add(KnownDifference(
    id="softmax-output-into-crossentropyloss",
    area="losses",
    title="A softmax output fed to torch CrossEntropyLoss is softmaxed again; Keras CE(from_logits=False) is not",
    tf="CategoricalCrossentropy() (from_logits=False) takes probabilities: -log p[label].",
    torch="CrossEntropyLoss always applies log_softmax to its input, so probabilities are squashed twice "
          "(the loss is bounded well above 0 and its gradients shrink).",
    witness=_loss_pair(lambda k: k.CategoricalCrossentropy()(np.eye(3, dtype=np.float32)[[0]], P3).numpy(),
                       lambda t, f: f.cross_entropy(t.tensor(P3), t.tensor([0]))),
    expected={"tf": 0.693147, "torch": 0.93907},  # -log 0.5; log(e^.5 + 2e^.25) - .5
    snippet_tf="keras.losses.CategoricalCrossentropy()([[1,0,0]], [[.5,.25,.25]])  # 0.6931",
    snippet_torch="F.cross_entropy(torch.tensor([[.5,.25,.25]]), torch.tensor([0]))  # 0.9391",
    evidence="torch.nn.CrossEntropyLoss docs ('input is expected to contain unnormalized logits'); the seed's "
             "Keras CNN ends in softmax while its torch CNN ends in logits",
    mapping="drop the softmax layer on the torch side, or use F.nll_loss(torch.log(p), y)",
    applies_to=("loss:sparse_categorical_crossentropy-from_probs", "loss:categorical_crossentropy-from_probs"),
    atol=ROUNDED,
    gotcha=True,
))


ENTRIES.add(KnownDifference(
    id="ce-probability-clipping",
    area="losses",
    title="Cross-entropy of a zero probability: Keras clips to 1e-7 (16.1), torch nll_loss(log p) gives inf",
    tf="Probabilities are renormalised, then clipped to [1e-7, 1 - 1e-7] before the log.",
    torch="No clipping: log(0) = -inf, so the loss is inf (and the gradient NaN/inf).",
    witness=_loss_pair(
        lambda k: k.SparseCategoricalCrossentropy()(np.array([0]), np.array([[0.0, 1.0]], np.float32)).numpy(),
        lambda t, f: f.nll_loss(t.log(t.tensor([[0.0, 1.0]])), t.tensor([0]))),
    expected={"tf": 16.118095, "torch": float("inf")},  # -log(1e-7) = 16.118
    snippet_tf="keras.losses.SparseCategoricalCrossentropy()([0], [[0., 1.]])  # 16.118",
    snippet_torch="F.nll_loss(torch.log(torch.tensor([[0., 1.]])), torch.tensor([0]))  # inf",
    evidence="keras/src/backend/tensorflow/nn.py categorical_crossentropy (clip_by_value with epsilon())",
    mapping="clamp probabilities to [1e-7, 1-1e-7] on the torch side",
    applies_to=("loss:categorical_crossentropy", "loss:sparse_categorical_crossentropy-from_probs"),
    atol=ROUNDED,
))


ENTRIES.add(KnownDifference(
    id="bce-probability-saturation",
    area="losses",
    title="BCE at probabilities exactly 0 and 1: Keras clips with epsilon (~16), torch clamps the log at -100 (100)",
    tf="BinaryCrossentropy clips p to [1e-7, 1 - 1e-7]: a wrong saturated prediction costs -log(1e-7) ~ 16.",
    torch="F.binary_cross_entropy clamps each log term at -100: the same prediction costs 100.",
    witness=_loss_pair(
        lambda k: k.BinaryCrossentropy(reduction="none")(np.array([[1.0], [0.0]]), np.array([[0.0], [1.0]], np.float32)).numpy(),
        lambda t, f: f.binary_cross_entropy(t.tensor([[0.0], [1.0]]), t.tensor([[1.0], [0.0]]), reduction="none")[:, 0]),
    expected={"tf": [16.118095, 15.942385], "torch": [100.0, 100.0]},  # -log(1e-7); -log(1 - fl32(1 - 1e-7))
    snippet_tf="keras.losses.BinaryCrossentropy()([[1.]], [[0.]])  # 16.118",
    snippet_torch="F.binary_cross_entropy(torch.tensor([0.]), torch.tensor([1.]))  # 100.0",
    evidence="torch.nn.BCELoss docs ('clamps its log function outputs to be greater than or equal to -100'); "
             "keras/src/backend/tensorflow/nn.py binary_crossentropy",
    mapping="use from_logits / BCEWithLogitsLoss, which agree",
    applies_to=("loss:binary_crossentropy-from_probs",),
    atol=ROUNDED,
    gotcha=True,
))


ENTRIES.add(KnownDifference(
    id="ce-class-weight-mean-normalisation",
    area="losses",
    title="Weighted CE 'mean': torch divides by the sum of the class weights, Keras' default by the batch size",
    tf="sample_weight=class_weight[y] with the default reduction 'sum_over_batch_size' gives sum(w*l)/N "
       "(Keras fit(class_weight=...) does this); 'mean_with_sample_weight' gives sum(w*l)/sum(w).",
    torch="CrossEntropyLoss(weight=class_weights, reduction='mean') gives sum(w_y*l)/sum(w_y).",
    witness=_loss_pair(
        lambda k: k.SparseCategoricalCrossentropy(from_logits=True)(
            np.array([0, 1]), np.zeros((2, 2), np.float32), sample_weight=np.array([1.0, 3.0], np.float32)).numpy(),
        lambda t, f: f.cross_entropy(t.zeros(2, 2), t.tensor([0, 1]), weight=t.tensor([1.0, 3.0]))),
    expected={"tf": 1.386294, "torch": 0.693147},  # (1+3) log2 / 2 vs (1+3) log2 / 4
    snippet_tf="SparseCategoricalCrossentropy(from_logits=True)(y, x, sample_weight=cw[y])  # sum(w l)/N",
    snippet_torch="F.cross_entropy(x, y, weight=cw)  # sum(w l)/sum(w)",
    evidence="torch.nn.CrossEntropyLoss docs (weighted mean formula); keras/src/losses/loss.py reduce_values",
    mapping="Keras reduction='mean_with_sample_weight'",
    applies_to=("loss:sparse_categorical_crossentropy-class_weight",),
    atol=ROUNDED,
    gotcha=True,
))


ENTRIES.add(KnownDifference(
    id="elementwise-loss-sum-reduction",
    area="losses",
    title="reduction='sum' of MSE/BCE/MAE/Huber: torch sums all N*C terms, Keras sums the N per-sample means",
    tf="Keras losses first average the last axis (one value per sample), then 'sum' adds N values.",
    torch="torch elementwise losses with reduction='sum' add every element: C times Keras' value.",
    witness=_loss_pair(lambda k: k.MeanSquaredError(reduction="sum")(np.zeros((2, 4)), np.ones((2, 4), np.float32)).numpy(),
                       lambda t, f: f.mse_loss(t.ones(2, 4), t.zeros(2, 4), reduction="sum")),
    expected={"tf": 2.0, "torch": 8.0},
    snippet_tf="keras.losses.MeanSquaredError(reduction='sum')(zeros((2,4)), ones((2,4)))  # 2.0",
    snippet_torch="F.mse_loss(ones(2,4), zeros(2,4), reduction='sum')  # 8.0",
    evidence="keras/src/losses/losses.py mean_squared_error (mean over axis=-1); torch.nn.MSELoss docs",
    mapping="torch: loss(reduction='none').mean(-1).sum()  ('mean' agrees: equal-size rows)",
    applies_to=("loss:mean_squared_error", "loss:binary_crossentropy", "loss:huber"),
    atol=ROUNDED,
))


ENTRIES.add(KnownDifference(
    id="kl-div-input-convention",
    area="losses",
    title="KL divergence: torch kl_div takes LOG-probabilities as input (target first in the math), Keras probabilities",
    tf="KLDivergence()(y_true, y_pred) with both as probabilities: sum y_true*log(y_true/y_pred).",
    torch="F.kl_div(input, target) expects input = log q; passing q itself computes a different number.",
    witness=_loss_pair(lambda k: k.KLDivergence()(np.array([[0.5, 0.5]]), np.array([[0.25, 0.75]], np.float32)).numpy(),
                       lambda t, f: f.kl_div(t.tensor([[0.25, 0.75]]), t.tensor([[0.5, 0.5]]), reduction="batchmean")),
    expected={"tf": 0.143841, "torch": -1.193147},  # 0.5 log(0.5/0.25)+0.5 log(0.5/0.75); sum p(log p - q)
    snippet_tf="keras.losses.KLDivergence()([[.5,.5]], [[.25,.75]])  # 0.1438",
    snippet_torch="F.kl_div(torch.tensor([[.25,.75]]), torch.tensor([[.5,.5]]), reduction='batchmean')  # -1.19",
    evidence="torch.nn.KLDivLoss docs ('input should be log-probabilities'); keras/src/losses/losses.py kl_divergence",
    mapping="F.kl_div(torch.log(y_pred), y_true, reduction='batchmean')",
    applies_to=("loss:kl_divergence",),
    atol=ROUNDED,
    gotcha=True,
))


def _quiet(fn, *args, **kw):
    """Call fn with its (documented, expected) UserWarning silenced."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn(*args, **kw)


ENTRIES.add(KnownDifference(
    id="kl-div-mean-reduction",
    area="losses",
    title="KL 'mean': torch divides by N*C (the elements), Keras by N; torch's 'batchmean' matches Keras",
    tf="KLDivergence sums over the last axis per sample, then averages over the batch.",
    torch="reduction='mean' averages every element (documented as not the true KL; 'batchmean' is).",
    witness=_loss_pair(lambda k: k.KLDivergence()(np.array([[0.5, 0.5]]), np.array([[0.25, 0.75]], np.float32)).numpy(),
                       lambda t, f: _quiet(f.kl_div, t.log(t.tensor([[0.25, 0.75]])), t.tensor([[0.5, 0.5]]), reduction="mean")),
    expected={"tf": 0.143841, "torch": 0.071921},
    snippet_tf="keras.losses.KLDivergence()(p, q)  # per-sample sum, batch mean",
    snippet_torch="F.kl_div(q.log(), p, reduction='mean')  # divided by N*C as well",
    evidence="torch.nn.KLDivLoss docs (reduction='mean' warning; 'batchmean' aligns with the math definition)",
    mapping="reduction='batchmean'",
    applies_to=("loss:kl_divergence",),
    atol=ROUNDED,
))


def _kl_zero_target():
    """Is KL(y=[0, 1] || q=[.5, .5]) below log 2 by more than 5e-7? The clipped zero target adds -1.54e-6 (Keras);
    float32 rounding of log 2 is 3e-8, so the answer is a clean yes/no on each side."""
    units = lambda v: bool(float(v) < float(np.log(2.0)) - 5e-7)
    tf_v = _kl().KLDivergence()(np.array([[0.0, 1.0]]), np.array([[0.5, 0.5]], np.float32)).numpy()
    t, f = _tt(), _f()
    torch_v = f.kl_div(t.log(t.tensor([[0.5, 0.5]])), t.tensor([[0.0, 1.0]]), reduction="batchmean").item()
    return {"tf": units(tf_v), "torch": units(torch_v)}


ENTRIES.add(KnownDifference(
    id="kl-div-zero-target",
    area="losses",
    title="KL with a zero target probability: Keras clips it to 1e-7 (a small negative term), torch gives exactly 0",
    tf="y_true and y_pred are clipped to [1e-7, 1]: a 0 target contributes 1e-7*log(1e-7/q) < 0.",
    torch="kl_div uses xlogy semantics: a 0 target contributes exactly 0.",
    witness=_kl_zero_target,
    expected={"tf": True, "torch": False},  # 1e-7*log(1e-7/0.5) = -1.54e-6 below log 2 vs exactly log 2
    snippet_tf="keras.losses.KLDivergence()([[0., 1.]], [[.5, .5]])  # 0.6931456",
    snippet_torch="F.kl_div(torch.log(q), torch.tensor([[0., 1.]]), reduction='batchmean')  # 0.6931472",
    evidence="keras/src/losses/losses.py kl_divergence (ops.clip(y_true, epsilon, 1)); torch.nn.KLDivLoss docs",
    applies_to=("loss:kl_divergence",),
    atol=0.0,
))


ENTRIES.add(KnownDifference(
    id="poisson-log-input-default",
    area="losses",
    title="Poisson loss: torch PoissonNLLLoss takes LOG-rates by default (log_input=True); Keras Poisson takes rates",
    tf="Poisson()(y, rate) = mean(rate - y*log(rate + 1e-7)).",
    torch="PoissonNLLLoss() = exp(input) - y*input; with log_input=False: input - y*log(input + 1e-8).",
    witness=_loss_pair(lambda k: k.Poisson()(np.array([[1.0]]), np.array([[2.0]], np.float32)).numpy(),
                       lambda t, f: f.poisson_nll_loss(t.tensor([[2.0]]), t.tensor([[1.0]]))),
    expected={"tf": 1.306853, "torch": 5.389056},  # 2 - log 2 vs e^2 - 2
    snippet_tf="keras.losses.Poisson()([[1.]], [[2.]])  # 1.3069",
    snippet_torch="F.poisson_nll_loss(torch.tensor([[2.]]), torch.tensor([[1.]]))  # 5.389 (log_input=True)",
    evidence="torch.nn.PoissonNLLLoss docs (log_input=True, eps=1e-8); keras/src/losses/losses.py poisson",
    mapping="log_input=False (the log epsilons 1e-7 vs 1e-8 still differ near rate 0)",
    applies_to=("loss:poisson",),
    atol=ROUNDED,
))


ENTRIES.add(KnownDifference(
    id="cosine-loss-sign-convention",
    area="losses",
    title="Cosine loss: Keras CosineSimilarity is the NEGATIVE similarity (-1 best), torch CosineEmbeddingLoss 1-cos (0 best)",
    tf="keras.losses.CosineSimilarity returns -cos(y_true, y_pred): minimised at -1.",
    torch="nn.CosineEmbeddingLoss(target=1) returns 1 - cos; F.cosine_similarity returns +cos.",
    witness=_loss_pair(lambda k: k.CosineSimilarity()(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0]], np.float32)).numpy(),
                       lambda t, f: f.cosine_embedding_loss(t.tensor([[1.0, 0.0]]), t.tensor([[1.0, 0.0]]), t.tensor([1.0]))),
    expected={"tf": -1.0, "torch": 0.0},
    snippet_tf="keras.losses.CosineSimilarity()([[1., 0.]], [[1., 0.]])  # -1.0",
    snippet_torch="nn.CosineEmbeddingLoss()(a, a, torch.tensor([1.]))  # 0.0",
    evidence="keras/src/losses/losses.py cosine_similarity; torch.nn.CosineEmbeddingLoss docs",
    mapping="-F.cosine_similarity(y_pred, y_true, dim=-1)",
    applies_to=("loss:cosine_similarity",),
    atol=ROUNDED,
))


def _binary_label_losses():
    """Each framework's margin losses on p = [0.5, 0.5] with labels {0, 1} and the same labels as {-1, 1}."""
    keras, torch = runtime.keras(), _tt()
    p, labels = np.array([[0.5, 0.5]], np.float32), {"labels_01": [[0.0, 1.0]], "labels_pm1": [[-1.0, 1.0]]}
    tf_side = {name: {k: _r(getattr(keras.losses, name)()(np.array(y), p).numpy()) for k, y in labels.items()}
               for name in ("Hinge", "SquaredHinge")}
    torch_side = {name: {k: _r(getattr(torch.nn, name)()(torch.from_numpy(p), torch.tensor(y)).item())
                         for k, y in labels.items()} for name in ("SoftMarginLoss", "HingeEmbeddingLoss")}
    return {"tf": tf_side, "torch": torch_side}


ENTRIES.add(KnownDifference(
    id="hinge-binary-label-conversion",
    area="losses",
    title="Margin losses with {0,1} labels: Keras Hinge converts them to {-1,1}; torch's margin losses take 0 literally",
    tf="Hinge/SquaredHinge map labels to 2y-1 when every label is 0 or 1, so y=[0, 1] and y=[-1, 1] give the "
       "same loss: Hinge 1.0, SquaredHinge 1.25 on p=[0.5, 0.5].",
    torch="torch has no binary hinge loss. Its margin losses for a score per element document y in {-1, 1} and "
          "convert nothing: SoftMarginLoss = mean log(1 + exp(-y*p)) turns y=0 into log 2 whatever p is (0.5836 "
          "vs 0.7241 with y=-1); HingeEmbeddingLoss adds both branches for y=0, p + max(0, 1 - p) (0.75 vs 0.5).",
    witness=lambda: _binary_label_losses(),
    expected={"tf": {"Hinge": {"labels_01": 1.0, "labels_pm1": 1.0},  # (1.5 + 0.5)/2 both ways
                     "SquaredHinge": {"labels_01": 1.25, "labels_pm1": 1.25}},  # (2.25 + 0.25)/2
              "torch": {"SoftMarginLoss": {"labels_01": 0.583612, "labels_pm1": 0.724077},  # (log 2 + sp(-.5))/2
                        "HingeEmbeddingLoss": {"labels_01": 0.75, "labels_pm1": 0.5}}},
    snippet_tf="keras.losses.Hinge()([[0., 1.]], [[.5, .5]])  # 1.0, same as with labels [[-1., 1.]]",
    snippet_torch="nn.SoftMarginLoss()(torch.tensor([[.5, .5]]), torch.tensor([[0., 1.]]))  # 0.5836; "
                  "0.7241 with [[-1., 1.]]",
    evidence="keras/src/losses/losses.py convert_binary_labels_to_hinge; torch.nn.SoftMarginLoss and "
             "HingeEmbeddingLoss docs ('y containing 1 or -1'), aten/src/ATen/native/Loss.cpp "
             "hinge_embedding_loss (where(target != 1, ...) + where(target != -1, ...))",
    mapping="pass labels in {-1, 1} to torch (2*y - 1); the Keras hinge itself is clamp(1 - y*p, min=0).mean(-1)",
    applies_to=("loss:hinge", "loss:squared_hinge"),
    atol=ROUNDED,
))


ENTRIES.add(KnownDifference(
    id="smooth-l1-is-huber-over-beta",
    area="losses",
    title="torch SmoothL1Loss(beta) is Huber(beta)/beta; Keras Huber(delta) and torch HuberLoss(delta) are not divided",
    tf="Huber(delta): 0.5 e^2 for |e| <= delta, else delta*(|e| - delta/2).",
    torch="SmoothL1Loss(beta): 0.5 e^2/beta for |e| < beta, else |e| - beta/2 (= Huber/beta).",
    witness=_loss_pair(lambda k: k.Huber(delta=2.0)(np.array([[0.0]]), np.array([[3.0]], np.float32)).numpy(),
                       lambda t, f: f.smooth_l1_loss(t.tensor([[3.0]]), t.tensor([[0.0]]), beta=2.0)),
    expected={"tf": 4.0, "torch": 2.0},
    snippet_tf="keras.losses.Huber(delta=2.)([[0.]], [[3.]])  # 4.0",
    snippet_torch="F.smooth_l1_loss(torch.tensor([[3.]]), torch.tensor([[0.]]), beta=2.)  # 2.0",
    evidence="torch.nn.SmoothL1Loss docs ('Smooth L1 loss is HuberLoss divided by beta')",
    mapping="F.huber_loss(delta=d), or smooth_l1_loss(beta=d) * d",
    applies_to=("loss:huber-smooth_l1",),
    atol=ROUNDED,
))


ENTRIES.add(KnownDifference(
    id="ce-probs-renormalisation-gradient",
    area="gradients",
    title="Gradient of CE from probabilities: Keras renormalises p by its sum (gradient -y/p + 1), torch nll(log p) does not",
    tf="CategoricalCrossentropy(from_logits=False) divides p by sum(p) first, so dL/dp = -y/p + sum(y)/sum(p).",
    torch="F.nll_loss(torch.log(p), y) differentiates -log p[y] only: dL/dp = -y/p.",
    witness=lambda: {"tf": _grad_tf(lambda v: _kl().CategoricalCrossentropy()(np.eye(3, dtype=np.float32)[[0]], v), P3),
                     "torch": _grad_torch(lambda v: _f().nll_loss(_tt().log(v), _tt().tensor([0])), P3)},
    expected={"tf": [[-1.0, 1.0, 1.0]], "torch": [[-2.0, 0.0, 0.0]]},
    snippet_tf="tape.gradient(CategoricalCrossentropy()(y, p), p)  # [-1, 1, 1]",
    snippet_torch="F.nll_loss(p.log(), y).backward(); p.grad  # [-2, 0, 0]",
    evidence="keras/src/backend/tensorflow/nn.py categorical_crossentropy ('output / reduce_sum(output)')",
    mapping="equal along the simplex (both project to the same logits gradient through a softmax); the same "
            "holds for NLL on log-probabilities vs Keras sparse CE from_logits (softmax renormalises)",
    applies_to=("grad:sparse_categorical_crossentropy-from_probs", "grad:categorical_crossentropy-from_probs",
                "grad:nll-log_softmax"),
    atol=ROUNDED,
))


ENTRIES.add(KnownDifference(
    id="adam-epsilon-default",
    area="optimizers",
    title="Adam/AdamW epsilon default: Keras 1e-7, torch 1e-8",
    tf="keras.optimizers.Adam(epsilon=1e-07)",
    torch="torch.optim.Adam(eps=1e-08)",
    witness=lambda: _defaults("Adam", "Adam", ["epsilon", "learning_rate"], ["eps", "lr", "betas"]),
    expected={"tf": {"epsilon": 1e-7, "learning_rate": 0.001}, "torch": {"eps": 1e-8, "lr": 0.001, "betas": [0.9, 0.999]}},
    snippet_tf="keras.optimizers.Adam().epsilon  # 1e-07",
    snippet_torch="torch.optim.Adam(ps).defaults['eps']  # 1e-08",
    evidence=_sources("adam"),
    mapping="pass eps explicitly; see adam-epsilon-placement for why even equal values differ",
    applies_to=("optimizer:adam-defaults", "optimizer:adamw-defaults"),
    atol=0.0,
    gotcha=True,
))


ENTRIES.add(KnownDifference(
    id="adam-epsilon-placement",
    area="optimizers",
    title="Adam epsilon is added to sqrt(v) before bias correction in Keras, after it in torch",
    tf="p -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v) + eps): eps acts like eps/sqrt(1-b2^t) in torch's form.",
    torch="p -= lr/(1-b1^t) * m/(sqrt(v)/sqrt(1-b2^t) + eps).",
    witness=_steps(lambda o: o.Adam(learning_rate=1.0, epsilon=1e-7), lambda o, ps: o.Adam(ps, lr=1.0, eps=1e-7),
                   [0.0], [[-1e-7]]),
    expected={"tf": [0.030653], "torch": [0.5]},  # sqrt(1e-3)/.1*1e-8/(sqrt(1e-17)+1e-7); 1e-7/(1e-7+1e-7)
    snippet_tf="Adam(learning_rate=1., epsilon=1e-7) one step on g=-1e-7  # +0.0307",
    snippet_torch="Adam(ps, lr=1., eps=1e-7) one step on g=-1e-7  # +0.5",
    evidence=_sources("adam"),
    mapping="torch eps = keras eps / sqrt(1 - beta2^t): exact only for one step t; negligible when sqrt(v) >> eps",
    applies_to=("optimizer:adam-defaults",),
    atol=ROUNDED,
))


ENTRIES.add(KnownDifference(
    id="adam-bias-correction-float32",
    area="optimizers",
    title="Keras computes Adam's 1 - beta^t in float32; torch in Python float64",
    tf="beta_1/beta_2 are cast to the variable dtype and raised to t in float32: 1 - beta2^t loses ~u/(1-beta2).",
    torch="bias corrections are Python floats (float64) unless capturable=True.",
    witness=_steps(lambda o: o.Adam(learning_rate=1.0, epsilon=0.0), lambda o, ps: o.Adam(ps, lr=1.0, eps=0.0),
                   [0.0], [[1.0]] * 2),
    expected={"tf": [-1.999983], "torch": [-2.0]},  # exactly lr per step in real arithmetic
    snippet_tf="Adam(learning_rate=1., epsilon=0.) two steps on g=1  # -1.999983",
    snippet_torch="Adam(ps, lr=1., eps=0.) two steps on g=1  # -2.0",
    evidence=_sources("adam"),
    mapping="none; bounded per step by the Keras Adam rule's constants_rtol (catalog/optimizers.py)",
    applies_to=("optimizer:adam",),
    atol=ROUNDED,
))


ENTRIES.add(KnownDifference(
    id="adamw-weight-decay-default",
    area="optimizers",
    title="AdamW weight_decay default: Keras 0.004, torch 0.01",
    tf="keras.optimizers.AdamW(weight_decay=0.004)",
    torch="torch.optim.AdamW(weight_decay=0.01)",
    witness=lambda: _defaults("AdamW", "AdamW", ["weight_decay", "epsilon"], ["weight_decay", "eps"]),
    expected={"tf": {"weight_decay": 0.004, "epsilon": 1e-7}, "torch": {"weight_decay": 0.01, "eps": 1e-8}},
    snippet_tf="keras.optimizers.AdamW().weight_decay  # 0.004",
    snippet_torch="torch.optim.AdamW(ps).defaults['weight_decay']  # 0.01",
    evidence=_sources("adamw"),
    applies_to=("optimizer:adamw-defaults",),
    atol=0.0,
    gotcha=True,
))


ENTRIES.add(KnownDifference(
    id="adam-weight-decay-coupling",
    area="optimizers",
    title="Adam(weight_decay=...) is decoupled in Keras (AdamW-style), L2 in torch",
    tf="Every Keras optimizer applies p -= lr*wd*p before its update (decoupled).",
    torch="torch.optim.Adam adds wd*p to the gradient, which is then normalised by sqrt(v): a different update.",
    witness=_steps(lambda o: o.Adam(learning_rate=0.1, weight_decay=0.1, epsilon=1e-12),
                   lambda o, ps: o.Adam(ps, lr=0.1, weight_decay=0.1, eps=1e-12), [1.0], [[0.0]]),
    expected={"tf": [0.99], "torch": [0.9]},  # 1 - 0.1*0.1 vs a full Adam step of size lr on g = 0.1
    snippet_tf="Adam(learning_rate=.1, weight_decay=.1) on p=1, g=0  # 0.99",
    snippet_torch="Adam(ps, lr=.1, weight_decay=.1) on p=1, g=0  # 0.9",
    evidence=_sources(("base_optimizer", "adam")),
    mapping="torch.optim.AdamW(weight_decay=wd) == keras Adam/AdamW(weight_decay=wd)",
    applies_to=("optimizer:adam-weight_decay",),
    atol=ROUNDED,
))


ENTRIES.add(KnownDifference(
    id="sgd-weight-decay-coupling",
    area="optimizers",
    title="SGD weight decay with momentum: Keras decays the weights, torch the gradient",
    tf="Keras SGD(weight_decay) subtracts lr*wd*p directly; momentum never sees it.",
    torch="torch SGD(weight_decay) adds wd*p to the gradient, so it accumulates in the momentum buffer.",
    witness=_steps(lambda o: o.SGD(learning_rate=0.1, momentum=0.9, weight_decay=0.1),
                   lambda o, ps: o.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1), [1.0], [[0.0]] * 2),
    expected={"tf": [0.9801], "torch": [0.9711]},  # 0.99^2 vs 0.99 - 0.1*(0.9*0.1 + 0.099)
    snippet_tf="SGD(learning_rate=.1, momentum=.9, weight_decay=.1), 2 steps on g=0  # 0.9801",
    snippet_torch="SGD(ps, lr=.1, momentum=.9, weight_decay=.1), 2 steps on g=0  # 0.9711",
    evidence=_sources(("base_optimizer", "sgd")),
    mapping="identical without momentum (the sgd-weight_decay configuration)",
    applies_to=("optimizer:sgd-momentum_weight_decay",),
    atol=ROUNDED,
))


ENTRIES.add(KnownDifference(
    id="sgd-lr-default",
    area="optimizers",
    title="SGD learning-rate default: Keras 0.01, torch 0.001",
    tf="keras.optimizers.SGD(learning_rate=0.01)",
    torch="torch.optim.SGD(lr=0.001)",
    witness=lambda: _defaults("SGD", "SGD", ["learning_rate", "momentum"], ["lr", "momentum", "dampening"]),
    expected={"tf": {"learning_rate": 0.01, "momentum": 0.0}, "torch": {"lr": 0.001, "momentum": 0, "dampening": 0}},
    snippet_tf="keras.optimizers.SGD().learning_rate  # 0.01",
    snippet_torch="torch.optim.SGD(ps).defaults['lr']  # 0.001",
    evidence=_sources("sgd"),
    applies_to=("optimizer:sgd-defaults",),
    atol=0.0,
))


ENTRIES.add(KnownDifference(
    id="rmsprop-rho-alpha-default",
    area="optimizers",
    title="RMSprop defaults: Keras rho=0.9 lr=1e-3 eps=1e-7, torch alpha=0.99 lr=1e-2 eps=1e-8",
    tf="keras.optimizers.RMSprop(learning_rate=0.001, rho=0.9, epsilon=1e-07)",
    torch="torch.optim.RMSprop(lr=0.01, alpha=0.99, eps=1e-08): the decay is called alpha, not rho",
    witness=lambda: _defaults("RMSprop", "RMSprop", ["learning_rate", "rho", "epsilon"], ["lr", "alpha", "eps"]),
    expected={"tf": {"learning_rate": 0.001, "rho": 0.9, "epsilon": 1e-7}, "torch": {"lr": 0.01, "alpha": 0.99, "eps": 1e-8}},
    snippet_tf="keras.optimizers.RMSprop().rho  # 0.9",
    snippet_torch="torch.optim.RMSprop(ps).defaults['alpha']  # 0.99",
    evidence=_sources("rmsprop"),
    applies_to=("optimizer:rmsprop-defaults",),
    atol=0.0,
    gotcha=True,
))


ENTRIES.add(KnownDifference(
    id="rmsprop-epsilon-placement",
    area="optimizers",
    title="RMSprop/Adagrad epsilon: inside the square root in Keras, outside in torch",
    tf="g / sqrt(v + eps)",
    torch="g / (sqrt(v) + eps)",
    witness=_steps(lambda o: o.RMSprop(learning_rate=1.0, rho=0.9, epsilon=1e-7),
                   lambda o, ps: o.RMSprop(ps, lr=1.0, alpha=0.9, eps=1e-7), [0.0], [[1e-4]]),
    expected={"tf": [-0.314658], "torch": [-3.152309]},  # 1e-4/sqrt(1e-9 + 1e-7); 1e-4/(sqrt(1e-9) + 1e-7)
    snippet_tf="RMSprop(learning_rate=1., rho=.9, epsilon=1e-7), g=1e-4  # -0.3147",
    snippet_torch="RMSprop(ps, lr=1., alpha=.9, eps=1e-7), g=1e-4  # -3.152",
    evidence=_sources("rmsprop"),
    mapping="torch eps = sqrt(keras eps) is exact only where v = 0; use a negligible epsilon on both",
    applies_to=("optimizer:rmsprop-defaults",),
    atol=ROUNDED,
))


ENTRIES.add(KnownDifference(
    id="adagrad-initial-accumulator",
    area="optimizers",
    title="Adagrad: Keras starts the accumulator at 0.1, torch at 0 (and eps 1e-7 vs 1e-10)",
    tf="keras.optimizers.Adagrad(initial_accumulator_value=0.1, epsilon=1e-07), eps inside the root",
    torch="torch.optim.Adagrad(initial_accumulator_value=0, eps=1e-10), eps outside the root",
    witness=_steps(lambda o: o.Adagrad(learning_rate=1.0), lambda o, ps: o.Adagrad(ps, lr=1.0), [0.0], [[1.0]]),
    expected={"tf": [-0.953463], "torch": [-1.0]},  # 1/sqrt(1.1 + 1e-7) vs 1/(1 + 1e-10)
    snippet_tf="Adagrad(learning_rate=1.) one step on g=1  # -0.9535",
    snippet_torch="Adagrad(ps, lr=1.) one step on g=1  # -1.0",
    evidence=_sources("adagrad"),
    mapping="initial_accumulator_value=0.1 on torch (and a negligible epsilon on both)",
    applies_to=("optimizer:adagrad-defaults",),
    atol=ROUNDED,
    gotcha=True,
))


ENTRIES.add(KnownDifference(
    id="adadelta-defaults",
    area="optimizers",
    title="Adadelta defaults: Keras lr=1e-3 rho=0.95 eps=1e-7, torch lr=1.0 rho=0.9 eps=1e-6",
    tf="keras.optimizers.Adadelta(learning_rate=0.001, rho=0.95, epsilon=1e-07)",
    torch="torch.optim.Adadelta(lr=1.0, rho=0.9, eps=1e-06): the paper's lr=1 (Keras scales the step by 1e-3)",
    witness=lambda: _defaults("Adadelta", "Adadelta", ["learning_rate", "rho", "epsilon"], ["lr", "rho", "eps"]),
    expected={"tf": {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7}, "torch": {"lr": 1.0, "rho": 0.9, "eps": 1e-6}},
    snippet_tf="keras.optimizers.Adadelta().learning_rate  # 0.001",
    snippet_torch="torch.optim.Adadelta(ps).defaults['lr']  # 1.0",
    evidence=_sources("adadelta"),
    applies_to=("optimizer:adadelta-defaults",),
    atol=0.0,
))


ENTRIES.add(KnownDifference(
    id="adamax-defaults",
    area="optimizers",
    title="Adamax defaults: Keras lr=1e-3 eps=1e-7 (added after the max), torch lr=2e-3 eps=1e-8 (inside)",
    tf="keras.optimizers.Adamax(learning_rate=0.001, epsilon=1e-07): m / ((1-b1^t)(u + eps))",
    torch="torch.optim.Adamax(lr=0.002, eps=1e-08): u = max(b2*u, |g| + eps)",
    witness=lambda: _defaults("Adamax", "Adamax", ["learning_rate", "epsilon"], ["lr", "eps"]),
    expected={"tf": {"learning_rate": 0.001, "epsilon": 1e-7}, "torch": {"lr": 0.002, "eps": 1e-8}},
    snippet_tf="keras.optimizers.Adamax().learning_rate  # 0.001",
    snippet_torch="torch.optim.Adamax(ps).defaults['lr']  # 0.002",
    evidence=_sources("adamax"),
    applies_to=("optimizer:adamax-defaults",),
    atol=0.0,
))


ENTRIES.add(KnownDifference(
    id="nadam-momentum-decay",
    area="optimizers",
    title="Nadam momentum schedule: Keras hard-codes 0.96^t, torch uses 0.96^(t*momentum_decay=0.004)",
    tf="mu_t = beta1*(1 - 0.5*0.96^t): the momentum weight falls to ~beta1/2 within ~20 steps.",
    torch="mu_t = beta1*(1 - 0.5*0.96^(0.004*t)): stays ~beta1/2 for thousands of steps; lr default 2e-3.",
    witness=_steps(lambda o: o.Nadam(learning_rate=1.0, epsilon=1e-12),
                   lambda o, ps: o.NAdam(ps, lr=1.0, eps=1e-12), [0.0], [[1.0], [-1.0], [1.0]]),
    expected={"tf": [-1.003446], "torch": [-1.009634]},  # Nadam rule with psi = 1 vs 0.004
    snippet_tf="Nadam(learning_rate=1.) 3 steps on g=1, -1, 1",
    snippet_torch="NAdam(ps, lr=1.) 3 steps on g=1, -1, 1 (momentum_decay=1.0 reproduces Keras)",
    evidence=_sources(("nadam", "nadam")),
    mapping="torch.optim.NAdam(momentum_decay=1.0)",
    applies_to=("optimizer:nadam-defaults",),
    atol=ROUNDED,
))


ENTRIES.add(KnownDifference(
    id="maximum-tie-gradient",
    area="gradients",
    title="Gradient of elementwise maximum(x, y) at x == y: TF gives all of it to x, torch splits it 0.5/0.5",
    tf="tf.maximum's gradient routes to x where x >= y (ties go to the first argument); keras.ops.maximum too.",
    torch="torch.maximum's gradient is split evenly between the two inputs where they are equal.",
    witness=_grads(lambda tf, v: tf.reduce_sum(tf.maximum(v, 1.0)), lambda t, v: t.maximum(v, t.tensor(1.0)).sum(),
                   [0.0, 1.0, 2.0]),
    expected={"tf": [0.0, 1.0, 1.0], "torch": [0.0, 0.5, 1.0]},
    snippet_tf="tape.gradient(tf.reduce_sum(tf.maximum(x, 1.)), x) at x=1  # 1.0",
    snippet_torch="torch.maximum(x, torch.tensor(1.)).sum().backward() at x=1  # 0.5",
    evidence="tensorflow/python/ops/math_grad.py _MaximumMinimumGrad (x >= y mask); torch derivatives.yaml "
             "maximum (masked_fill with 0.5 at equality)",
    mapping="relu-style max(x, 0) is unaffected (the constant takes the other half in torch): only the input's share differs",
    applies_to=("grad:maximum", "grad:minimum"),
    atol=ROUNDED,
))


ENTRIES.add(KnownDifference(
    id="max-dim-tie-gradient",
    area="gradients",
    title="Gradient of max over an axis with ties: TF reduce_max splits it evenly, torch max(dim) gives it to one index",
    tf="tf.reduce_max / keras.ops.max distribute the gradient equally among the tied maxima.",
    torch="torch.max(x, dim).values sends it all to the returned index; torch.amax and x.max() split evenly.",
    witness=_grads(lambda tf, v: tf.reduce_sum(tf.reduce_max(v, axis=0)), lambda t, v: v.max(dim=0).values.sum(),
                   [1.0, 1.0, 0.0]),
    expected={"tf": [0.5, 0.5, 0.0], "torch": [1.0, 0.0, 0.0]},
    snippet_tf="tape.gradient(tf.reduce_max(x, 0), x) at x=[1,1,0]  # [.5, .5, 0]",
    snippet_torch="x.max(dim=0).values.backward() at x=[1,1,0]  # [1, 0, 0] (torch.amax: [.5, .5, 0])",
    evidence="torch.amax docs ('amax/amin evenly distributes gradient between equal values'); "
             "tensorflow/python/ops/math_grad.py _MinOrMaxGrad",
    mapping="torch.amax(x, dim)",
    applies_to=("grad:max",),
    atol=ROUNDED,
))


ENTRIES.add(KnownDifference(
    id="norm-gradient-at-zero",
    area="gradients",
    title="Gradient of the L2 norm at the zero vector: TF gives NaN, torch gives 0 (a sub-gradient)",
    tf="tf.norm = sqrt(sum x^2): its gradient x/||x|| is 0/0 = NaN at 0.",
    torch="torch.linalg.vector_norm's backward masks the zero norm and returns 0.",
    witness=_grads(lambda tf, v: tf.norm(v), lambda t, v: t.linalg.vector_norm(v), [0.0, 0.0]),
    expected={"tf": [float("nan"), float("nan")], "torch": [0.0, 0.0]},
    snippet_tf="tape.gradient(tf.norm(x), x) at x=0  # [nan, nan]",
    snippet_torch="torch.linalg.vector_norm(x).backward() at x=0  # [0., 0.]",
    evidence="torch/csrc/autograd/FunctionsManual.cpp norm_backward (masked at norm == 0); TF math_grad sqrt",
    mapping="tf.sqrt(tf.reduce_sum(x*x) + tiny) or a tf.where guard",
    applies_to=("grad:norm",),
    atol=ROUNDED,
    gotcha=True,
))


ENTRIES.add(KnownDifference(
    id="hardtanh-gradient-at-bound",
    area="gradients",
    title="Gradient of hard_tanh at exactly -1 and 1: Keras 1 (bounds inclusive), torch 0",
    tf="keras.ops.hard_tanh is clip-like at the bounds: the gradient there is 1 (like tf.clip_by_value).",
    torch="F.hardtanh's backward passes the gradient only strictly inside (min_val, max_val).",
    witness=_grads(lambda tf, v: tf.reduce_sum(runtime.keras().ops.hard_tanh(v)),
                   lambda t, v: t.nn.functional.hardtanh(v).sum(), [-1.0, 1.0, 0.5]),
    expected={"tf": [1.0, 1.0, 1.0], "torch": [0.0, 0.0, 1.0]},
    snippet_tf="tape.gradient(keras.ops.hard_tanh(x), x) at x=1  # 1.0",
    snippet_torch="F.hardtanh(x).backward() at x=1  # 0.0 (torch.clamp at its bound: 1.0)",
    evidence="torch derivatives.yaml hardtanh_backward ((x > min) & (x < max)); keras/src/backend/tensorflow/nn.py",
    mapping="torch.clamp(x, -1, 1) (gradient 1 at the bound, like TF)",
    atol=ROUNDED,
))


_TINY_PAIR = [2.0 ** -63, -(2.0 ** -63)]  # cumprod [2^-63, -2^-126]: normal, but y * 0.5 is subnormal


def _cumprod_gradients() -> dict:
    """d sum(cumprod(v)) / dv at [2, 0, 3], and d sum(0.5 cumprod(v)) / dv1 at _TINY_PAIR in units of its true
    value 0.5 * 2^-63 (so the observation is 1.0 or 0.0, not a number below every tolerance)."""
    from ..sides import side_for

    out = {}
    for side in ("tf", "torch"):
        cumprod = (lambda v: runtime.tf().math.cumprod(v)) if side == "tf" else (lambda v: v.cumprod(0))
        tiny = side_for(side, "cpu").grad(lambda v: 0.5 * cumprod(v), np.asarray(_TINY_PAIR, np.float32))
        out[side] = {"at [2, 0, 3]": _grad(side, cumprod, [2.0, 0.0, 3.0]),
                     "tiny product, dv1 / true": round(float(tiny[1]) / (0.5 * 2.0 ** -63), 6) + 0.0}  # -0.0 -> 0.0
    return out


def _cumprod_product_may_flush(sample) -> bool:
    """A drawn cumprod case with a running product y below 2^-96 in magnitude: TF's gradient forms y * g, which is
    subnormal (and flushed) once |g| < 2^-126 / |y|, a cotangent of ordinary size when y is that small. Above
    2^-96 it takes |g| < 2^-30 (~1e-9), which a standard normal cotangent draws with probability ~1e-9."""
    y = np.abs(np.cumprod(np.asarray(sample.args[0], np.float64), axis=sample.kwargs["axis"]))  # scans: int axis
    return bool(np.any((y > 0) & (y < 2.0 ** -96)))


ENTRIES.add(KnownDifference(
    id="cumprod-gradient-at-zero",
    area="gradients",
    title="Gradient of cumprod: TF divides y*g by x, so an exact zero input gets 0, and so does any input whose "
          "y*g is subnormal (TF flushes it); torch gives the true derivative",
    tf="tf.math.cumprod's gradient is reverse_cumsum(y * g) / x (div_no_nan): a zero input gets gradient 0, and "
       "where the product y * g is subnormal TF's CPU kernels flush it to 0 first (tf-cpu-flushes-subnormals), "
       "so d sum(0.5 cumprod([2^-63, -2^-63])) / dx1 is -0.0 where the true value is 0.5 * 2^-63 (normal).",
    torch="torch.cumprod's backward handles zeros exactly (d/dx1 sum(cumprod([2, x1, 3])) = 2 + 2*3 = 8) and "
          "forms no y * g / x: 0.5 * 2^-63 exactly.",
    witness=_cumprod_gradients,
    expected={"tf": {"at [2, 0, 3]": [1.0, 0.0, 0.0], "tiny product, dv1 / true": 0.0},
              "torch": {"at [2, 0, 3]": [1.0, 8.0, 0.0], "tiny product, dv1 / true": 1.0}},
    snippet_tf="tape.gradient(tf.reduce_sum(tf.math.cumprod(x)), x) at [2, 0, 3]  # [1, 0, 0]",
    snippet_torch="x.cumprod(0).sum().backward() at [2, 0, 3]  # [1, 8, 0]",
    evidence="tensorflow/python/ops/math_grad.py _CumprodGrad (divides by x: 'TODO fix this for zeros'); "
             "torch derivatives.yaml cumprod_backward (handles zeros); the flushed product found by "
             "tests/test_grads.py under thorough (seed 13: [1.08e-19, -1.08e-19] along axis 0)",
    mapping="none on the TF side short of a custom gradient",
    applies_to=("grad:cumprod",),
    atol=ROUNDED,
    gotcha=True,
    # Running products below 2^-96 are left to the witness: TF's y * g flushes for ordinary cotangents there
    grad_narrows=_cumprod_product_may_flush,
))


ENTRIES.add(KnownDifference(
    id="pow-gradient-zero-base",
    area="gradients",
    title="Gradient of x**y w.r.t. x at x = 0, y = 0: TF gives NaN (0 * 0**-1), torch 0",
    tf="tf.pow's gradient y * x**(y-1) evaluates 0 * inf = NaN at x = 0, y = 0.",
    torch="torch.pow's backward masks y == 0 to a zero gradient.",
    witness=_grads(lambda tf, v: tf.reduce_sum(tf.pow(v, 0.0)), lambda t, v: v.pow(t.tensor(0.0)).sum(), [0.0]),
    expected={"tf": [float("nan")], "torch": [0.0]},
    snippet_tf="tape.gradient(tf.pow(x, 0.), x) at x=0  # nan",
    snippet_torch="x.pow(torch.tensor(0.)).backward() at x=0  # 0.",
    evidence="torch/csrc/autograd/FunctionsManual.cpp pow_backward (masked_fill where exponent == 0); "
             "tensorflow/python/ops/math_grad.py _PowGrad",
    applies_to=("grad:pow",),
    atol=ROUNDED,
))


def _schedule_over_two_epochs():
    """Two epochs of two batches with gradient 1 on one SGD weight: each step's move is the lr it used.

    Keras: the schedule is read at every apply_gradients. torch: the loop a user writes, optimizer.step() per batch
    and scheduler.step() at the end of each epoch."""
    keras, tf, torch = runtime.keras(), runtime.tf(), _tt()
    k_opt = keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5))
    var = keras.Variable(np.zeros(1, np.float32))
    p = torch.nn.Parameter(torch.zeros(1))
    t_opt = torch.optim.SGD([p], lr=1.0)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(t_opt, gamma=0.5)
    used = {"tf": [], "torch": []}
    for _epoch in range(2):
        for _batch in range(2):
            before = float(var.numpy()[0])
            k_opt.apply_gradients([(tf.constant([1.0]), var)])
            used["tf"].append(before - float(var.numpy()[0]))
            t_opt.zero_grad()
            p.grad = torch.ones(1)
            before = p.item()
            t_opt.step()
            used["torch"].append(before - p.item())
        scheduler.step()
    return {"tf": {"lr_per_step": _r(used["tf"]), "lr_after": _r(float(k_opt.learning_rate))},
            "torch": {"lr_per_step": _r(used["torch"]), "lr_after": _r(scheduler.get_last_lr()[0])}}


ENTRIES.add(KnownDifference(
    id="lr-schedule-step-unit",
    area="optimizers",
    title="LR schedules: Keras schedules advance every optimizer step (batch); torch schedulers when .step() is called",
    tf="A LearningRateSchedule is evaluated at optimizer.iterations: decay_steps count batches. "
       "ExponentialDecay(1, decay_steps=1, decay_rate=0.5) over 2 epochs of 2 batches steps with lr "
       "1, 0.5, 0.25, 0.125.",
    torch="An LRScheduler changes lr only on scheduler.step(), which training loops usually call once per "
          "epoch: ExponentialLR(gamma=0.5) stepped after each epoch of 2 batches steps with lr 1, 1, 0.5, 0.5.",
    witness=lambda: _schedule_over_two_epochs(),
    expected={"tf": {"lr_per_step": [1.0, 0.5, 0.25, 0.125], "lr_after": 0.0625},
              "torch": {"lr_per_step": [1.0, 1.0, 0.5, 0.5], "lr_after": 0.25}},
    snippet_tf="opt = SGD(ExponentialDecay(1., decay_steps=1, decay_rate=.5))  # lr per batch: 1, .5, .25, .125",
    snippet_torch="for epoch in range(2):\n    for batch in range(2): ...; opt.step()\n    "
                  "sched.step()  # ExponentialLR(opt, gamma=.5): lr per batch 1, 1, .5, .5",
    evidence="keras/src/optimizers/schedules/learning_rate_schedule.py; torch.optim.lr_scheduler docs "
             "('scheduler.step() should be called after optimizer.step()', typically per epoch)",
    mapping="call scheduler.step() after every optimizer.step(), with the schedule in batches",
    applies_to=("optimizer:*",),
    atol=ROUNDED,
))


def _momentum_under_schedule():
    """p after 3 SGD(momentum 0.5) steps of g = 1 with lr 1, 0.5, 0.25 (a per-step exponential schedule)."""
    keras, tf, torch = runtime.keras(), runtime.tf(), _tt()
    k_opt = keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(1.0, 1, 0.5), momentum=0.5)
    var = keras.Variable(np.zeros(1, np.float32))
    p = torch.nn.Parameter(torch.zeros(1))
    t_opt = torch.optim.SGD([p], lr=1.0, momentum=0.5)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(t_opt, 0.5)
    out = {"tf": [], "torch": []}
    for _ in range(3):
        k_opt.apply_gradients([(tf.constant([1.0]), var)])
        out["tf"].append(float(var.numpy()[0]))
        t_opt.zero_grad()
        p.grad = torch.ones(1)
        t_opt.step()
        scheduler.step()
        out["torch"].append(p.item())
    return out


ENTRIES.add(KnownDifference(
    id="sgd-momentum-under-schedule",
    area="optimizers",
    title="SGD momentum with a decaying lr: Keras keeps each step's lr inside the velocity, torch scales the whole "
          "buffer by the current lr",
    tf="keras.optimizers.SGD(momentum=mu) updates v = mu*v - lr_t*g, p += v: a gradient keeps the lr of the "
       "step it arrived in. With lr 1, 0.5, 0.25, mu 0.5 and g = 1: p = -1, -2, -2.75.",
    torch="torch.optim.SGD(momentum=mu) updates b = mu*b + g, p -= lr_t*b: a schedule rescales all past "
          "gradients at once. Same inputs (ExponentialLR stepped per batch): p = -1, -1.75, -2.1875.",
    witness=lambda: _momentum_under_schedule(),
    expected={"tf": [-1.0, -2.0, -2.75], "torch": [-1.0, -1.75, -2.1875]},
    snippet_tf="SGD(ExponentialDecay(1., 1, .5), momentum=.5)  # p after 3 steps of g=1: -1, -2, -2.75",
    snippet_torch="SGD([p], lr=1., momentum=.5) + ExponentialLR(opt, .5) per step  # -1, -1.75, -2.1875",
    evidence="keras/src/optimizers/sgd.py update_step (m = m*momentum - g*lr); torch/optim/sgd.py "
             "(buf = momentum*buf + g; p -= lr*buf); found by tests/test_training.py::"
             "test_schedule_with_momentum_differs (weights 0.0996 apart after 9 steps)",
    mapping="none built in: feed lr_t/lr_0 * g to a constant-lr torch SGD to reproduce Keras (matches to 7.5e-8)",
    atol=ROUNDED,
))


def _clip_norms():
    """The SGD(lr=1) move of two variables with gradients [0, 3] and [4, 0] under each clipping (threshold 1)."""
    keras, tf, torch = runtime.keras(), runtime.tf(), _tt()
    grads = ([0.0, 3.0], [4.0, 0.0])

    def keras_moves(**clip):
        opt = keras.optimizers.SGD(1.0, **clip)
        vs = [keras.Variable(np.zeros(2, np.float32)) for _ in grads]
        opt.apply_gradients([(tf.constant(g), v) for g, v in zip(grads, vs)])
        return [_r((-v.numpy() + 0.0).tolist()) for v in vs]

    def torch_moves(per_parameter):
        ps = [torch.nn.Parameter(torch.zeros(2)) for _ in grads]
        for q, g in zip(ps, grads):
            q.grad = torch.tensor(g)
        for group in ([[q] for q in ps] if per_parameter else [ps]):
            torch.nn.utils.clip_grad_norm_(group, 1.0)
        torch.optim.SGD(ps, lr=1.0).step()
        return [_r((-q.detach().numpy() + 0.0).tolist()) for q in ps]

    return {"tf": {"clipnorm": keras_moves(clipnorm=1.0), "global_clipnorm": keras_moves(global_clipnorm=1.0)},
            "torch": {"clip_grad_norm_": torch_moves(False), "clip_grad_norm_ per parameter": torch_moves(True)}}


ENTRIES.add(KnownDifference(
    id="clipnorm-per-variable-vs-global",
    area="optimizers",
    title="Gradient norm clipping: Keras clipnorm clips each variable by its own norm; clip_grad_norm_ clips by "
          "the global norm",
    tf="optimizer(clipnorm=c) rescales every variable's gradient whose own L2 norm exceeds c; "
       "global_clipnorm=c rescales all of them by c / (global norm). Gradients [0, 3] and [4, 0] with c = 1: "
       "clipnorm moves [0, 1] and [1, 0], global_clipnorm [0, 0.6] and [0.8, 0].",
    torch="torch.nn.utils.clip_grad_norm_(params, c) is global (like global_clipnorm): [0, 0.6] and [0.8, 0]; "
          "called per parameter it reproduces clipnorm.",
    witness=lambda: _clip_norms(),
    expected={"tf": {"clipnorm": [[0.0, 1.0], [1.0, 0.0]], "global_clipnorm": [[0.0, 0.6], [0.8, 0.0]]},
              "torch": {"clip_grad_norm_": [[0.0, 0.6], [0.8, 0.0]],
                        "clip_grad_norm_ per parameter": [[0.0, 1.0], [1.0, 0.0]]}},
    snippet_tf="SGD(1., clipnorm=1.)  # per variable: [0,3] -> [0,1], [4,0] -> [1,0]",
    snippet_torch="clip_grad_norm_([a, b], 1.)  # global norm 5: [0,.6], [.8,0]",
    evidence="keras/src/optimizers/base_optimizer.py _clip_gradients (clip_by_norm per gradient) and "
             "global_clipnorm (clip_by_global_norm); torch/nn/utils/clip_grad.py; measured by "
             "tests/test_training.py::test_clipnorm_is_per_variable (weights 0.084 apart)",
    mapping="global_clipnorm <-> clip_grad_norm_; clipnorm <-> clip_grad_norm_ on each parameter",
    applies_to=("optim:clipnorm", "optim:global_clipnorm"),
    atol=ROUNDED,
))


def _clip_tiny():
    """A gradient [1e-6] clipped to norm 1e-7 on each side."""
    keras, tf, torch = runtime.keras(), runtime.tf(), _tt()
    tf_side = {}
    for clip in ("global_clipnorm", "clipnorm"):
        var = keras.Variable(np.zeros(1, np.float32))
        keras.optimizers.SGD(1.0, **{clip: 1e-7}).apply_gradients([(tf.constant([1e-6]), var)])
        tf_side[clip] = _r(float(-var.numpy()[0]), 12)  # decimals: values ~1e-7
    q = torch.nn.Parameter(torch.zeros(1))
    q.grad = torch.tensor([1e-6])
    torch.nn.utils.clip_grad_norm_([q], 1e-7)
    return {"tf": tf_side, "torch": _r(q.grad.item(), 12)}


ENTRIES.add(KnownDifference(
    id="clip-grad-norm-epsilon",
    area="optimizers",
    title="Norm clipping of a tiny gradient: torch divides by norm + 1e-6, Keras by the norm",
    tf="global_clipnorm / clipnorm scale by c / norm: [1e-6] clipped to 1e-7 is 1e-7.",
    torch="clip_grad_norm_ scales by c / (norm + 1e-6): [1e-6] clipped to 1e-7 is 5e-8 (half), and every "
          "clipped gradient is shrunk by a further factor norm / (norm + 1e-6).",
    witness=lambda: _clip_tiny(),
    expected={"tf": {"global_clipnorm": 1e-07, "clipnorm": 1e-07}, "torch": 5e-08},
    snippet_tf="SGD(1., global_clipnorm=1e-7) on g = [1e-6]  # update 1e-7",
    snippet_torch="clip_grad_norm_([p], 1e-7) with p.grad = [1e-6]  # 5e-8",
    evidence="torch/nn/utils/clip_grad.py (clip_coef = max_norm / (total_norm + 1e-6)); "
             "keras/src/optimizers/base_optimizer.py (clip_by_global_norm)",
    mapping="none for tiny norms; for norms >> 1e-6 the relative difference is 1e-6 / norm",
    atol=1e-10,  # the values are ~1e-7: the module's 2e-6 slack would hide the whole difference
))
