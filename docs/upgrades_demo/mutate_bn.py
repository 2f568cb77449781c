"""Mutation for the upgrade-diff demonstration: Keras BatchNormalization's default momentum 0.99 -> 0.9.

Load with PYTHONPATH=docs/upgrades_demo and `-p mutate_bn`: it rewrites the default before any test runs (workers too).
"""
import inspect


def pytest_configure(config):
    from equivalence import runtime

    init = runtime.keras().layers.BatchNormalization.__init__
    names = [p.name for p in inspect.signature(init).parameters.values() if p.default is not inspect.Parameter.empty]
    defaults = list(init.__defaults__)
    defaults[names.index("momentum")] = 0.9  # the positional-or-keyword defaults, in signature order
    init.__defaults__ = tuple(defaults)
