"""The check engine: each verdict (TF vs float64, torch vs float64, TF vs torch, or a device vs its CPU) is made
once, here, with the catalogue's known differences applied in one place; the tests are parametrizations over
records x dtypes x devices that call these.

- check_op (ops.py): one drawn sample of an OP_DB record on one device.
- check_grad, check_loss_grad, check_model_grad (grads.py): an OP_DB record's gradient on one device, a loss's and
  a spec-built model's gradients.
- check_layer, check_model, check_model_step (models.py): a LAYER_DB case, a spec-built forward on one device, a
  spec-built model's gradients and one Adam step on one device.
- check_step (steps.py): an OPTIMIZER_DB configuration's updates on one device.
- check_loss (losses.py): a LOSS_DB loss under one reduction.
"""
from .axes import ACCELERATORS, CPU, DEVICES, on_devices, require_device
from .grads import check_grad, check_loss_grad, check_model_grad, grad_samples
from .losses import check_loss
from .models import check_layer, check_model, check_model_step
from .ops import check_op, known_differences, narrowed
from .steps import check_step

__all__ = ["ACCELERATORS", "CPU", "DEVICES", "check_grad", "check_layer", "check_loss", "check_loss_grad",
           "check_model", "check_model_grad", "check_model_step", "check_op", "check_step", "grad_samples",
           "known_differences", "narrowed", "on_devices", "require_device"]
