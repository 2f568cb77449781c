"""The public API surface (every Keras/torch layer, loss and optimizer constructor) is the committed one.

equivalence/api_surface.py snapshots each public class's constructor signature (names, kinds, defaults) and, where
it can be built, its Keras get_config() / torch optimizer `defaults`; fixtures/api_surface/keras-<v>_torch-<v>.json
holds it for each pair of versions. An upgrade that renames, adds or removes a parameter, or changes a default, of
any public class fails here, the message naming class and parameter. Mutation tests change one constructor and
check that the difference is named.
"""
from __future__ import annotations

import functools
import json
import pathlib

import pytest

from equivalence import api_surface, runtime

pytestmark = pytest.mark.catalogue


@pytest.fixture(autouse=True)
def _needs_tf():
    if not runtime.has_module("tensorflow"):
        pytest.skip("the Keras half of the API surface needs TensorFlow, which is not installed here")


@functools.cache
def _current() -> dict:
    return api_surface.snapshot()


def _committed_or_skip() -> dict:
    committed = api_surface.load_committed()
    if committed is None:
        v = api_surface.snapshot_versions()
        pytest.skip(f"no committed API surface snapshot for keras {v['keras']} / torch {v['torch']} "
                    f"({api_surface.snapshot_path().name}); create it with `{api_surface.GENERATOR}`")
    return committed


def _group(surface: dict, group: str) -> dict:
    return {k: v for k, v in surface.items() if k.startswith(f"{group}.")}


def test_api_surface_matches_committed_snapshot():
    """Every public layer, loss and optimizer constructor (signature and built config/defaults) is the committed one."""
    committed = _committed_or_skip()
    found = api_surface.changes(committed, _current())
    assert not found, (f"{len(found)} API surface changes against {api_surface.snapshot_path()} (rewrite it with "
                       f"`{api_surface.GENERATOR}` once each is understood):\n  " + "\n  ".join(found[:40]))


def test_snapshot_is_json_stable_and_covers_every_group():
    """The snapshot survives a JSON round trip unchanged and records classes of every group."""
    surface = _current()
    assert json.loads(api_surface.document(surface))["surface"] == surface
    empty = [g for g in api_surface.GROUPS if not _group(surface, g)]
    assert not empty, f"groups with no class recorded: {empty}"
    assert surface["keras.layers.Dense"]["sig.use_bias"] == "pos_or_kw = True"
    assert surface["torch.optim.Adam"]["defaults.lr"] == 0.001


def test_default_environment_has_a_committed_snapshot():
    """Each version pair with a committed defaults snapshot (the environments the suite is run in) has an API
    surface snapshot too, so the comparison above is skipped only in an environment nobody snapshotted."""
    defaults_dir = pathlib.Path(api_surface.FIXTURES).parent / "defaults"
    pairs = sorted(p.name for p in defaults_dir.glob("keras-*_torch-*.json"))
    assert pairs, f"no defaults snapshots in {defaults_dir}"
    missing = [p for p in pairs if not (api_surface.FIXTURES / p).exists()]
    assert not missing, f"no API surface snapshot for {missing}; write it with `{api_surface.GENERATOR}`"


def test_changed_keras_default_is_named(monkeypatch):
    """A keras.layers.Dense whose use_bias default became False is reported by class and parameter."""
    committed = _committed_or_skip()
    keras = runtime.keras()
    original = keras.layers.Dense

    class Dense(original):
        def __init__(self, units, activation=None, use_bias=False, **kwargs):
            super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)

    monkeypatch.setattr(keras.layers, "Dense", Dense)
    found = api_surface.changes(_group(committed, "keras.layers"), api_surface.snapshot(("keras.layers",)))
    named = [line for line in found if line.startswith("keras.layers.Dense:") and "use_bias" in line]
    assert any("sig.use_bias default changed from 'pos_or_kw = True' to 'pos_or_kw = False'" in line
               for line in named), found
    assert any("config.use_bias default changed from True to False" in line for line in named), found


def test_renamed_torch_parameter_is_named(monkeypatch):
    """A torch.nn.Linear whose `bias` parameter was renamed `use_bias` shows as one removed and one added."""
    committed = _committed_or_skip()
    torch = runtime.torch()
    original = torch.nn.Linear

    class Linear(original):
        def __init__(self, in_features, out_features, use_bias=True, device=None, dtype=None):
            super().__init__(in_features, out_features, bias=use_bias, device=device, dtype=dtype)

    monkeypatch.setattr(torch.nn, "Linear", Linear)
    found = api_surface.changes(_group(committed, "torch.nn.modules"), api_surface.snapshot(("torch.nn.modules",)))
    assert found == ["torch.nn.modules.Linear: parameter sig.bias removed (default was 'pos_or_kw = True')",
                     "torch.nn.modules.Linear: parameter sig.use_bias added (default 'pos_or_kw = True')"], found


def test_unknown_group_is_rejected():
    """Asking for a group that does not exist raises ValueError naming it and the known groups."""
    with pytest.raises(ValueError, match=r"unknown API surface group.*'keras.metrics'.*keras.layers"):
        api_surface.snapshot(("keras.metrics",))
