"""TensorFlow / Keras on the CPU or a GPU: tf.constant in, GradientTape VJPs, apply_gradients steps.

Work runs under tf.device, so the CPU side stays on the CPU where TF would otherwise pick a visible GPU. Keras'
layout is the canonical one: the layout conversions are identities.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import runtime
from .base import Side, Vjp, as_outputs


class TFSide(Side):
    framework = "tf"
    package = "tensorflow"
    devices = ("cpu", "gpu")

    def placed(self):
        """The tf.device scope of this side."""
        return runtime.tf().device("/GPU:0" if self.accelerated else "/CPU:0")

    def tensor(self, arr, dtype=None):
        # TF takes ml_dtypes bfloat16 arrays directly
        tf = runtime.tf()
        with self.placed():
            return tf.constant(np.asarray(arr)) if dtype is None else tf.cast(tf.constant(np.asarray(arr)), dtype)

    def _args(self, args, dtype):
        tf = runtime.tf()
        xs = [a if tf.is_tensor(a) else self.tensor(a) for a in args]
        return xs if dtype is None else [tf.cast(x, dtype) if x.dtype.is_floating else x for x in xs]

    def call(self, fn, *args, **kwargs) -> tuple:
        with self.placed():
            return as_outputs(fn(*self._args(args, None), **kwargs))

    def op_vjp(self, fn, args, kwargs, cotangents, wrt, *, dtype=None) -> Vjp:
        tf = runtime.tf()
        with self.placed():
            xs = [tf.Variable(x) if i in wrt else x for i, x in enumerate(self._args(args, dtype))]
            with tf.GradientTape() as tape, warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # Keras warns on a softmax over a size-1 axis (drawn)
                outs = as_outputs(fn(*xs, **kwargs))
                if cotangents is None:
                    outs = tuple(o for o in outs if o.dtype.is_floating)
                    target = list(outs)
                else:
                    outs = outs[:1]
                    target = tf.reduce_sum(tf.cast(outs[0], tf.float64) * cotangents)
            grads = tape.gradient(target, [xs[i] for i in wrt])
            # IndexedSlices (gather's gradient) made dense
            grads = [None if g is None else tf.convert_to_tensor(g) for g in grads]
        return Vjp([None if g is None else g.numpy() for g in grads], tuple(self.numpy(o) for o in outs))

    def to_layout(self, x: np.ndarray) -> np.ndarray:
        return x

    def from_layout(self, y: np.ndarray, model=None) -> np.ndarray:
        return y

    def forward(self, model, spec, x, training=False):
        (y,) = self.call(model, np.asarray(x).astype(spec.input_dtype), training=training)
        return self.numpy(y)

    def model_vjp(self, pair, x, cotangent, training):
        from ..weights import param_shapes

        tf = runtime.tf()
        with self.placed():
            xv = tf.Variable(x)
            layers = {name: pair.keras.get_layer(name).trainable_weights for name in param_shapes(pair.spec)}
            with tf.GradientTape() as tape:
                y = pair.keras(xv, training=training)
                loss = tf.reduce_sum(y * tf.constant(cotangent))
            flat = [v for vs in layers.values() for v in vs]
            gx, *gw = tape.gradient(loss, [xv, *flat])
        it = iter(gw)
        return gx.numpy(), {name: {v.name: next(it).numpy() for v in vs} for name, vs in layers.items()}

    def optimizer_trajectory(self, info, p0, grads):
        keras, tf = runtime.keras(), runtime.tf()
        with self.placed():
            var = keras.Variable(p0, dtype="float32")
            opt = info.keras(info.hyper)
            out = [np.asarray(p0, np.float64)]
            for g in grads:
                opt.apply_gradients([(tf.constant(g), var)])
                out.append(np.asarray(var.numpy(), np.float64))
        return np.stack(out)

    def _loss_grads(self, model, x, loss, training, dtype) -> list:
        tf = runtime.tf()
        with tf.GradientTape() as tape:
            value = loss(model(self.tensor(x, dtype), training=training))
        return tape.gradient(value, model.trainable_variables)

    def _by_name(self, model, grads) -> dict:
        # IndexedSlices (an Embedding's gradient) made dense
        tf = runtime.tf()
        return {v.path: tf.convert_to_tensor(g).numpy() for v, g in zip(model.trainable_variables, grads)
                if g is not None}

    def param_grads(self, model, x, loss, *, training=True, dtype=None) -> dict:
        with self.placed():
            return self._by_name(model, self._loss_grads(model, x, loss, training, dtype))

    def train_step(self, model, x, loss, optimizer, *, training=True, dtype=None) -> dict:
        with self.placed():
            grads = self._loss_grads(model, x, loss, training, dtype)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return self._by_name(model, grads)
