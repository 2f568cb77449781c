"""equivalence.platform: the prediction (CPU flags + environment, no framework import) is what TF and torch decide.

In this process, and in subprocesses that set TF_ENABLE_ONEDNN_OPTS and ATEN_CPU_CAPABILITY, `predicted()` must
equal `observed_conditions()` (what `IsMklEnabled()` and `get_cpu_capability()` say); the pure functions are
checked on the flag sets of other CPUs (AVX2-only AMD, AVX-512 without VNNI, Sapphire Rapids with AMX, Neoverse).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import equivalence
from equivalence import platform

pytestmark = pytest.mark.meta

ROOT = Path(equivalence.__file__).resolve().parents[1]
PREDICTED = ("tf_onednn", "torch_cpu_capability")  # what the frameworks can be asked; oneDNN's ISA cannot

# /proc/cpuinfo flags (the parts that matter) of CPUs this suite may meet.
X86_BASE = {"sse", "sse2", "ssse3", "sse4_1", "sse4_2", "avx", "f16c", "popcnt"}
ZEN2_AVX2_ONLY = frozenset(X86_BASE | {"avx2", "fma", "bmi2"})  # AMD EPYC 7002: no AVX-512, no VNNI
SKYLAKE_SP = frozenset(ZEN2_AVX2_ONLY | {"avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd"})  # no VNNI
CASCADE_LAKE = SKYLAKE_SP | {"avx512_vnni"}
SAPPHIRE_RAPIDS = CASCADE_LAKE | {"avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16"}
ALDER_LAKE = ZEN2_AVX2_ONLY | {"avx_vnni"}  # AVX-VNNI without AVX-512: oneDNN on by default in TF
OLD_AVX = frozenset(X86_BASE)  # Sandy Bridge: AVX, no AVX2/FMA
ARM_FLAGS = frozenset({"fp", "asimd", "evtstrm", "aes", "pmull", "sha1", "sha2", "crc32", "atomics", "asimddp"})
NEOVERSE_N1, NEOVERSE_V1 = "0x41:0xd0c", "0x41:0xd40"  # Graviton2, Graviton3 (TF's one aarch64 oneDNN default)

_VARIABLES = ("TF_ENABLE_ONEDNN_OPTS", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")


@pytest.fixture
def clean_env(monkeypatch):
    """No platform variable set (the unit tests set the ones they test)."""
    for name in _VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# ---------------------------------------------------------------- the prediction against the frameworks


def test_prediction_matches_what_the_frameworks_decided_in_this_process():
    """TF's IsMklEnabled() and torch's get_cpu_capability() in this process are what /proc/cpuinfo and the
    environment predict (so the pytest header, which imports no framework, tells the truth)."""
    observed = platform.observed_conditions()
    assert {k: observed[k] for k in PREDICTED} == {k: platform.predicted()[k] for k in PREDICTED}
    assert observed["onednn_cpu_isa"] == platform.predicted()["onednn_cpu_isa"]


_PROBE = """
import json, warnings
warnings.simplefilter("ignore")
from equivalence import platform
print("PROBE " + json.dumps({"predicted": platform.predicted(), "observed": platform.observed_conditions()}))
"""
# Each probe is a subprocess that imports torch and TF (~5 s of CPU). Each setting is probed by the one test that
# reads it, so no probe runs twice whichever worker (and in whatever order) the tests run. The third sets values the
# frameworks do not accept as given (torch compares exactly 'avx2'; TF strips nothing): both keep their defaults.
SETTINGS = {
    "onednn-off-torch-default": {"TF_ENABLE_ONEDNN_OPTS": "0", "ATEN_CPU_CAPABILITY": "default"},
    "onednn-on-torch-avx2": {"TF_ENABLE_ONEDNN_OPTS": "1", "ATEN_CPU_CAPABILITY": "avx2"},
    "values-ignored": {"TF_ENABLE_ONEDNN_OPTS": " 0", "ATEN_CPU_CAPABILITY": "AVX2"},
}


def probe(name: str) -> dict:
    """predicted() and observed_conditions() in a subprocess under SETTINGS[name]."""
    full = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                TF_CPP_MIN_LOG_LEVEL="3", **SETTINGS[name])
    proc = subprocess.run([sys.executable, "-c", _PROBE], env=full, cwd=ROOT, text=True, capture_output=True,
                          timeout=300)
    assert proc.returncode == 0, f"{name}: the probe failed:\n{proc.stderr[-3000:]}"
    line = next(line for line in proc.stdout.splitlines() if line.startswith("PROBE "))
    return json.loads(line[len("PROBE "):])


@pytest.mark.slow  # runs both frameworks in a child process
@pytest.mark.parametrize("setting, expected", [
    ("onednn-off-torch-default", {"tf_onednn": False, "torch_cpu_capability": "DEFAULT"}),
    ("onednn-on-torch-avx2", {"tf_onednn": True, "torch_cpu_capability": "AVX2"}),
])
def test_prediction_follows_the_variables_and_matches_the_frameworks(setting, expected):
    """With TF_ENABLE_ONEDNN_OPTS and ATEN_CPU_CAPABILITY set, the prediction follows them and TF and torch agree."""
    if platform.vector_isa() not in ("avx2", "avx512") and setting == "onednn-on-torch-avx2":
        pytest.skip("ATEN_CPU_CAPABILITY=avx2 needs an x86 CPU with AVX2")
    probed = probe(setting)
    assert {k: probed["predicted"][k] for k in PREDICTED} == expected
    assert {k: probed["observed"][k] for k in PREDICTED} == expected


@pytest.mark.slow  # runs both frameworks in a child process
def test_values_the_frameworks_ignore_are_ignored_by_the_prediction(clean_env):
    """' 0' and 'AVX2' are not values TF and torch accept: both keep their CPU default, and so does the prediction."""
    default = platform.predicted()  # clean_env: no variable set in this process
    probed = probe("values-ignored")
    assert {k: probed["observed"][k] for k in PREDICTED} == {k: default[k] for k in PREDICTED}
    assert {k: probed["predicted"][k] for k in PREDICTED} == {k: default[k] for k in PREDICTED}


@pytest.mark.slow  # pytest in a child process
def test_header_and_collection_import_no_framework(tmp_path):
    """`pytest --collect-only` on the whole suite prints the platform header and imports neither framework."""
    (tmp_path / "frameworks_probe.py").write_text(
        "import sys\n"
        "def pytest_collection_finish(session):\n"
        "    print('FRAMEWORKS', sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path), str(ROOT),
                                                                    os.environ.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-p", "no:xdist", "-p",
                             "no:cacheprovider", "-p", "frameworks_probe", "tests"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert "FRAMEWORKS []" in lines
    for line in platform.header_lines():
        assert line in lines


# ---------------------------------------------------------------- the pure functions, on other CPUs


@pytest.mark.parametrize("flags, isa, tf_onednn, torch, onednn", [
    (ZEN2_AVX2_ONLY, "avx2", False, "AVX2", "AVX2"),
    (SKYLAKE_SP, "avx512", False, "AVX512", "AVX512"),  # AVX-512 without VNNI: TF keeps oneDNN off
    (CASCADE_LAKE, "avx512", True, "AVX512", "AVX512"),
    (SAPPHIRE_RAPIDS, "avx512", True, "AVX512", "AVX512"),
    (ALDER_LAKE, "avx2", True, "AVX2", "AVX2"),
    (OLD_AVX, "avx", False, "DEFAULT", "SSE41"),
], ids=["amd-avx2-only", "avx512-no-vnni", "cascade-lake-vnni", "sapphire-rapids-amx", "alder-lake-avx-vnni",
        "avx-only"])
def test_x86_defaults(clean_env, flags, isa, tf_onednn, torch, onednn):
    """Without variables: TF's oneDNN on only with VNNI/BF16/AMX features, torch and oneDNN at the CPU's best."""
    assert platform.vector_isa(flags) == isa
    assert platform.predicted_tf_onednn(flags, "linux") is tf_onednn
    assert platform.predicted_torch_capability(flags, "x86_64") == torch
    assert platform.predicted_onednn_isa(flags) == onednn
    assert (tf_onednn, torch, onednn) in [(a, b, c) for a in platform.CONDITIONS["tf_onednn"]
                                          for b in platform.CONDITIONS["torch_cpu_capability"]
                                          for c in platform.CONDITIONS["onednn_cpu_isa"]]


@pytest.mark.parametrize("arm_part, tf_onednn", [(NEOVERSE_N1, False), (NEOVERSE_V1, True), (None, False)])
def test_aarch64(clean_env, arm_part, tf_onednn):
    """On Linux aarch64 TF turns oneDNN on by default for a Neoverse V1 only; torch has no x86 levels there."""
    flags = ARM_FLAGS | ({"sve"} if arm_part == NEOVERSE_V1 else set())
    assert platform.vector_isa(flags) == ("sve" if arm_part == NEOVERSE_V1 else "asimd")
    assert platform.predicted_tf_onednn(flags, "linux", arm_part) is tf_onednn
    assert platform.predicted_torch_capability(flags, "aarch64") == "DEFAULT"
    clean_env.setenv("ATEN_CPU_CAPABILITY", "avx2")  # an ARM build has no AVX2 kernels: torch ignores it
    assert platform.predicted_torch_capability(flags, "aarch64") == "DEFAULT"
    clean_env.setenv("ATEN_CPU_CAPABILITY", "default")
    assert platform.predicted_torch_capability(flags, "aarch64") == "DEFAULT"


@pytest.mark.parametrize("system, expected", [("linux", False), ("darwin", False), ("win32", True)])
def test_tf_onednn_default_by_os(clean_env, system, expected):
    """TF's default off Linux: on for Windows x86 builds, never on macOS (no oneDNN in those builds)."""
    assert platform.predicted_tf_onednn(ZEN2_AVX2_ONLY, system) is expected


@pytest.mark.parametrize("value, on_amd_avx2, on_sapphire_rapids", [
    ("0", False, False), ("false", False, False), ("FALSE", False, False),
    ("1", True, True), ("true", True, True), ("True", True, True),
    (" 1", False, True), ("yes", False, True), ("", False, True),  # not TF's values: its CPU default
])
def test_tf_onednn_variable(clean_env, value, on_amd_avx2, on_sapphire_rapids):
    """TF_ENABLE_ONEDNN_OPTS as TF's ReadBoolFromEnvVar reads it: 0/1/true/false in any case, nothing stripped."""
    clean_env.setenv("TF_ENABLE_ONEDNN_OPTS", value)
    assert platform.predicted_tf_onednn(ZEN2_AVX2_ONLY, "linux") is on_amd_avx2
    assert platform.predicted_tf_onednn(SAPPHIRE_RAPIDS, "linux") is on_sapphire_rapids
    assert platform.predicted_tf_onednn(ZEN2_AVX2_ONLY, "darwin") is on_amd_avx2  # macOS: forced, else off


@pytest.mark.parametrize("value, on_amd_avx2, on_sapphire_rapids", [
    ("default", "DEFAULT", "DEFAULT"), ("avx2", "AVX2", "AVX2"),
    ("avx512", "AVX512", "AVX512"),  # torch takes it without checking the CPU (an AVX2 CPU would then crash)
    ("AVX2", "AVX2", "AVX512"), (" avx2", "AVX2", "AVX512"), ("sse", "AVX2", "AVX512"),  # ignored: the CPU's best
])
def test_torch_capability_variable(clean_env, value, on_amd_avx2, on_sapphire_rapids):
    """ATEN_CPU_CAPABILITY as ATen reads it: exactly 'default', 'avx2' or 'avx512', else the CPU's best."""
    clean_env.setenv("ATEN_CPU_CAPABILITY", value)
    assert platform.predicted_torch_capability(ZEN2_AVX2_ONLY, "x86_64") == on_amd_avx2
    assert platform.predicted_torch_capability(SAPPHIRE_RAPIDS, "x86_64") == on_sapphire_rapids


@pytest.mark.parametrize("name, value, on_amd_avx2, on_sapphire_rapids", [
    ("ONEDNN_MAX_CPU_ISA", "SSE41", "SSE41", "SSE41"), ("ONEDNN_MAX_CPU_ISA", "AVX2", "AVX2", "AVX2"),
    ("ONEDNN_MAX_CPU_ISA", "avx2_vnni", "AVX2", "AVX2"), ("ONEDNN_MAX_CPU_ISA", "AVX512_CORE", "AVX2", "AVX512"),
    ("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_AMX", "AVX2", "AVX512"), ("ONEDNN_MAX_CPU_ISA", "ALL", "AVX2", "AVX512"),
    ("DNNL_MAX_CPU_ISA", "AVX", "SSE41", "SSE41"),  # the older name still caps
])
def test_onednn_isa_variable(clean_env, name, value, on_amd_avx2, on_sapphire_rapids):
    """ONEDNN_MAX_CPU_ISA (or DNNL_MAX_CPU_ISA) caps oneDNN's ISA; it never raises it above the CPU's."""
    clean_env.setenv(name, value)
    assert platform.predicted_onednn_isa(ZEN2_AVX2_ONLY) == on_amd_avx2
    assert platform.predicted_onednn_isa(SAPPHIRE_RAPIDS) == on_sapphire_rapids


X86_CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse sse2 avx avx2 fma avx512f avx512dq avx512bw avx512vl avx512_vnni amx_tile
processor\t: 1
model name\t: Intel(R) Xeon(R) Platinum 8480+
"""
ARM_CPUINFO = """processor\t: 0
BogoMIPS\t: 2100.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics sve
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x1
CPU part\t: 0xd40
"""


def test_parse_cpuinfo():
    """Model, flags and ARM implementer/part from /proc/cpuinfo text, x86 and aarch64."""
    x86 = platform.parse_cpuinfo(X86_CPUINFO)
    assert x86["model"] == "Intel(R) Xeon(R) Platinum 8480+" and x86["arm_part"] is None
    assert {"avx512_vnni", "amx_tile", "avx2"} <= x86["flags"] and platform.vector_isa(x86["flags"]) == "avx512"
    arm = platform.parse_cpuinfo(ARM_CPUINFO)
    assert arm["arm_part"] == NEOVERSE_V1 and "sve" in arm["flags"]


LINUX_X86 = pytest.mark.skipif(sys.platform != "linux" or os.uname().machine != "x86_64",
                               reason="the module's own lookups are checked on Linux x86_64")


def fake_machine(monkeypatch, cpuinfo: str) -> None:
    """Make this machine's /proc/cpuinfo `cpuinfo` for the module's own lookups."""
    parsed = platform.parse_cpuinfo(cpuinfo)
    monkeypatch.setattr(platform, "_cpuinfo", lambda: parsed)


@LINUX_X86
def test_predicted_and_header_on_a_faked_machine(clean_env):
    """predicted() and the pytest header read /proc/cpuinfo and the variables; an ARM machine reads its part."""
    fake_machine(clean_env, X86_CPUINFO)
    assert platform.predicted() == {"tf_onednn": True, "torch_cpu_capability": "AVX512", "onednn_cpu_isa": "AVX512"}
    clean_env.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    clean_env.setenv("ATEN_CPU_CAPABILITY", "default")
    first, second = platform.header_lines()
    assert first.startswith("platform: Intel(R) Xeon(R) Platinum 8480+, ")
    assert " avx512 + avx512_vnni amx_tile, " in first and "cpus, " in first and "NumPy BLAS " in first
    assert second == ("kernels (predicted from CPU flags and environment): TF oneDNN off, torch DEFAULT, oneDNN ISA "
                      "AVX512; platform variables: TF_ENABLE_ONEDNN_OPTS=0 ATEN_CPU_CAPABILITY=default"
                      + "".join(f" {k}={os.environ[k]}" for k in platform._ENV[2:] if k in os.environ))
    fake_machine(clean_env, ARM_CPUINFO)
    clean_env.delenv("TF_ENABLE_ONEDNN_OPTS")
    assert platform.predicted()["tf_onednn"] is True  # a Neoverse V1: TF's aarch64 default


@LINUX_X86
def test_other_onednn_setting(clean_env):
    """The CI's second pass flips TF's oneDNN from this machine's default, and leaves the variable as it was."""
    fake_machine(clean_env, X86_CPUINFO)
    clean_env.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    assert platform.other_onednn_setting() == "0"  # default on (VNNI, AMX): the other pass turns it off
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1"
    fake_machine(clean_env, X86_CPUINFO.replace(" avx512_vnni amx_tile", ""))
    assert platform.other_onednn_setting() == "1"


BASE = {"arch": "x86_64", "cpu": "AMD EPYC", "vector_isa": "avx512", "tf_onednn": True,
        "torch_cpu_capability": "AVX512", "onednn_cpu_isa": "AVX512", "blas": {"numpy": "openblas", "torch": "mkl"},
        "os": "Linux 6.8.0", "threads": {"torch_intra_op": 2}, "env": {}, "python": "3.11.7"}


@pytest.mark.parametrize("change, expected", [
    ({}, []),
    ({"os": "Linux 6.18.4-custom", "threads": {"torch_intra_op": 8}, "python": "3.12.1", "env": {"X": "1"}}, []),
    ({"tf_onednn": False}, ["tf_onednn: True -> False"]),
    ({"cpu": "Intel Xeon", "vector_isa": "avx2"}, ["cpu: AMD EPYC -> Intel Xeon", "vector_isa: avx512 -> avx2"]),
    ({"blas": {"numpy": "openblas", "torch": "openblas"}},
     ["blas: numpy openblas, torch mkl -> numpy openblas, torch openblas"]),
    ({"os": "Darwin 24.1.0"}, ["os: Linux 6.8.0 -> Darwin 24.1.0"]),
], ids=["same", "kernel-threads-python-env", "onednn", "cpu", "blas", "os"])
def test_differences(change, expected):
    """Only identity fields count; the OS by its name, not its kernel release."""
    assert platform.differences(BASE, dict(BASE, **change)) == expected


def test_differences_of_an_unknown_platform_is_empty():
    """A report without a platform record (schema version 1) differs from nothing: `diff` warns separately."""
    assert platform.differences({}, BASE) == platform.differences(BASE, {}) == []


def test_describe_and_summary_lines():
    """The conditions in words, and the report summary's two platform lines (one when nothing was recorded)."""
    assert platform.describe_conditions({"tf_onednn": False, "torch_cpu_capability": "AVX2"}) == \
        "TF oneDNN off, torch AVX2"
    assert platform.describe_conditions({"tf_onednn": None}) == "TF oneDNN unknown (no TensorFlow)"
    assert platform.summary_lines({}) == ["platform: not recorded (a report of schema version 1)"]
    lines = platform.summary_lines(dict(BASE, cpus=2, env={"OMP_NUM_THREADS": "2"},
                                        threads={"tf_intra_op": 0, "torch_intra_op": 2}))
    assert lines == ["platform: AMD EPYC, x86_64 avx512, 2 cpus, Linux 6.8.0, Python 3.11.7",
                     "kernels: TF oneDNN on, torch AVX512, oneDNN ISA AVX512; BLAS numpy openblas, torch mkl; "
                     "threads tf intra_op auto, torch intra_op 2; OMP_NUM_THREADS=2"]


def test_observed_record_is_a_valid_report_platform():
    """observed() (what the report records) has every field the report schema requires, with valid values."""
    from equivalence.report import schema

    record = platform.observed()
    assert set(record) == set(schema._PLATFORM)
    schema._check_platform(schema.encode(record), "observed()")
    assert {k: record[k] for k in platform.CONDITIONS} == platform.observed_conditions()
