"""The seed article's two CIFAR-10 CNNs, which it calls mirrors of each other: check_pair says why they are not.

    python examples/cifar_cnns.py

Keras (the TensorFlow tutorial): three 3x3 'valid' convolutions (32, 64, 64 filters) with two 2x2 max-pools,
Dense 64 relu, Dense 10 softmax: 122,570 parameters. torch (the article's port): two 3x3 convolutions with
padding=1 (32, 64) and two pools, Linear 4096 -> 64, Linear 64 -> 10 returning logits: 282,250 parameters.
check_pair finds no weight mapping (the third convolution has no counterpart, the first Dense reads 1,024
features in Keras and 4,096 in torch) and, compared as they are, the padding differs from the first layer on and
the Keras head ends in a softmax the torch module does not have.
"""
from __future__ import annotations

import sys

import numpy as np

INPUT_SHAPE = (32, 32, 3)


def keras_cnn(seed: int = 0):
    from equivalence import runtime

    keras = runtime.keras()
    keras.utils.set_random_seed(seed)
    L = keras.layers
    # the tutorial's code; the names are the ones Keras gives these layers in a fresh session, spelled out so that
    # they stay the same whatever else the process has built
    return keras.Sequential([
        keras.Input(INPUT_SHAPE),
        L.Conv2D(32, (3, 3), activation="relu", name="conv2d"), L.MaxPooling2D((2, 2), name="max_pooling2d"),
        L.Conv2D(64, (3, 3), activation="relu", name="conv2d_1"), L.MaxPooling2D((2, 2), name="max_pooling2d_1"),
        L.Conv2D(64, (3, 3), activation="relu", name="conv2d_2"),
        L.Flatten(name="flatten"), L.Dense(64, activation="relu", name="dense"),
        L.Dense(10, activation="softmax", name="dense_1"),
    ], name="keras_cifar_cnn")


def torch_cnn():
    """FACTORY for the command line: `--torch cifar_cnns:torch_cnn`."""
    from equivalence import runtime

    torch = runtime.torch()
    nn, F = torch.nn, torch.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
            self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
            self.pool = nn.MaxPool2d(2, 2)
            self.fc1 = nn.Linear(64 * 8 * 8, 64)
            self.fc2 = nn.Linear(64, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = torch.flatten(x, 1)
            return self.fc2(F.relu(self.fc1(x)))

    torch.manual_seed(0)
    return Net().eval()


def sample(batch: int = 2, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, *INPUT_SHAPE)).astype(np.float32)


def main() -> int:
    from equivalence import check_pair
    from equivalence.pair import MappingError

    km, tm = keras_cnn(), torch_cnn()
    print("== compared as they are (transfer=None)")
    print(check_pair(km, tm, sample(), grads=False).summary())
    print("\n== with transfer='keras_to_torch'")
    try:
        check_pair(km, tm, sample(), transfer="keras_to_torch")
    except MappingError as exc:
        print(f"MappingError: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
