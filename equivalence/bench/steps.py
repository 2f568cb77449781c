"""The Keras work a model benchmark times (tests/bench): forward, gradients, and one optimizer step."""
from __future__ import annotations

from .. import runtime


class KerasSteps:
    """Mixin of a benchmark job. The job sets `pair` (a spec-built Pair), `x_tf` and `target_tf` (the batch and the
    loss target as TF tensors), `keras_loss` (a keras.losses.Loss) and `keras_opt` (a Keras optimizer)."""

    def keras_forward(self):
        return self.pair.keras(self.x_tf, training=False)

    def keras_forward_backward(self):
        """The loss and its gradients w.r.t. the trainable variables (training mode)."""
        tf, model = runtime.tf(), self.pair.keras
        with tf.GradientTape() as tape:
            loss = self.keras_loss(self.target_tf, model(self.x_tf, training=True))
        return loss, tape.gradient(loss, model.trainable_variables)

    def keras_train_step(self):
        loss, grads = self.keras_forward_backward()
        self.keras_opt.apply(grads, self.pair.keras.trainable_variables)
        return loss
