"""The platform a run happens on, as data: CPU, vector ISA, the kernels each framework picked, BLAS, threads, OS.

The same TF and torch releases give different results at edge values (NaN, inf) and can run different things on
different CPUs: TensorFlow turns oneDNN on by default only on CPUs with neural-network features (AVX512-VNNI,
AVX512-BF16, AVX-VNNI, AMX), and torch dispatches its vectorised kernels by `get_cpu_capability()`. Both can be
overridden (`TF_ENABLE_ONEDNN_OPTS=0|1`, `ATEN_CPU_CAPABILITY=default|avx2|avx512`), which is how one machine
reproduces another. Catalogue entries whose observed values depend on these state the expectation per
*condition* (`CONDITIONS`), and the run report records the platform so `diff` can tell a platform change from a
framework change.

Two views:
- `predicted()` reads /proc/cpuinfo and the environment only (no framework import): the pytest header uses it.
- `observed()` asks the frameworks what they decided (imports both): witnesses, the report and a test that proves
  the prediction right use it.
"""
from __future__ import annotations

import functools
import os
import platform as _stdlib_platform
import re
import sys
from typing import Any

# The conditions a catalogue expectation may depend on, with the values each can take.
CONDITIONS: dict[str, tuple] = {
    "tf_onednn": (True, False),  # TensorFlow runs its oneDNN (MKL) kernels on CPU
    "torch_cpu_capability": ("DEFAULT", "AVX2", "AVX512"),  # torch's vectorised-kernel level (x86)
    # The ISA oneDNN's JIT kernels use, in torch (exact GELU, convolutions, ...) and in TF when oneDNN is on:
    # the best the CPU has, capped by ONEDNN_MAX_CPU_ISA. Independent of ATEN_CPU_CAPABILITY.
    "onednn_cpu_isa": ("SSE41", "AVX2", "AVX512"),
}
# What each condition means, for the rendered catalogue.
CONDITION_TEXT = {
    "tf_onednn": "TensorFlow with oneDNN {}: TF_ENABLE_ONEDNN_OPTS, default on only on CPUs with AVX512-VNNI/BF16, "
                 "AVX-VNNI or AMX",
    "torch_cpu_capability": "torch CPU capability {}: ATEN_CPU_CAPABILITY, default the best the CPU has",
    "onednn_cpu_isa": "oneDNN JIT ISA {}: ONEDNN_MAX_CPU_ISA, default the best the CPU has",
}

# /proc/cpuinfo flags TensorFlow's DefaultOneDnnPolicy() tests on Linux x86 (tensorflow/core/util/port.cc).
ONEDNN_DEFAULT_FLAGS = ("avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")
# Flags worth showing: the vector ISA levels and the features the two frameworks dispatch on.
ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_vnni",
             "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16", "asimd", "sve")
_ENV = ("TF_ENABLE_ONEDNN_OPTS", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


@functools.cache
def _cpuinfo() -> dict[str, Any]:
    """Model name, flags and (ARM) implementer/part of the first CPU in /proc/cpuinfo (empty where there is none)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return {"model": _stdlib_platform.processor() or "unknown", "flags": frozenset(), "arm_part": None}
    return parse_cpuinfo(text)


def parse_cpuinfo(text: str) -> dict[str, Any]:
    """The fields of /proc/cpuinfo text this module uses: model, flags, arm_part ('0x41:0xd40' on ARM, else None)."""
    def field(pattern):
        match = re.search(rf"^(?:{pattern})\s*:\s*(.+)$", text, re.M)
        return match.group(1).strip() if match else None

    implementer, part = field("CPU implementer"), field("CPU part")
    return {"model": field("model name|Model|cpu model") or _stdlib_platform.processor() or "unknown",
            "flags": frozenset((field("flags|Features") or "").split()),
            "arm_part": f"{implementer.lower()}:{part.lower()}" if implementer and part else None}


def cpu_flags() -> frozenset[str]:
    return _cpuinfo()["flags"]


def vector_isa(flags: frozenset[str] | None = None) -> str:
    """The widest x86/ARM vector ISA the CPU reports: avx512, avx2, avx, sse4_2, sve, asimd or 'unknown'."""
    flags = cpu_flags() if flags is None else flags
    for level, needs in (("avx512", ("avx512f", "avx512bw", "avx512vl", "avx512dq")), ("avx2", ("avx2", "fma")),
                         ("avx", ("avx",)), ("sse4_2", ("sse4_2",)), ("sve", ("sve",)), ("asimd", ("asimd",))):
        if all(f in flags for f in needs):
            return level
    return "unknown"


def _env_bool(name: str) -> bool | None:
    """TensorFlow's ReadBoolFromEnvVar: '0'/'false' and '1'/'true' in any case, nothing stripped (' 1' is
    invalid); anything else means TF's default, as when the variable is unset."""
    value = os.environ.get(name, "").lower()
    return {"0": False, "false": False, "1": True, "true": True}.get(value)


# TF's DefaultOneDnnPolicy() on Linux aarch64 turns oneDNN on for one core only: ARM Neoverse V1 (MIDR implementer
# 0x41, part 0xd40), read from /proc/cpuinfo's "CPU implementer"/"CPU part" here.
_ONEDNN_DEFAULT_ARM_PARTS = ("0x41:0xd40",)


def predicted_tf_onednn(flags: frozenset[str] | None = None, system: str | None = None,
                        arm_part: str | None = None) -> bool:
    """Whether TF (2.9+) turns oneDNN on: TF_ENABLE_ONEDNN_OPTS, else its default (tensorflow/core/util/port.cc):
    on Linux, on only for CPUs with neural-network features (AVX512-VNNI/BF16, AVX-VNNI, AMX) or a Neoverse V1;
    on Windows x86, on; on macOS, never (its builds have no oneDNN). `system` is a sys.platform value."""
    if flags is None:  # this machine's CPU
        flags, arm_part = cpu_flags(), _cpuinfo()["arm_part"] if arm_part is None else arm_part
    forced = _env_bool("TF_ENABLE_ONEDNN_OPTS")
    if forced is not None:
        return forced
    system = system or sys.platform
    if system != "linux":
        return system.startswith("win")
    return any(f in flags for f in ONEDNN_DEFAULT_FLAGS) or arm_part in _ONEDNN_DEFAULT_ARM_PARTS


def predicted_torch_capability(flags: frozenset[str] | None = None, arch: str | None = None) -> str:
    """torch's CPU capability (ATen DispatchStub.cpp, compute_cpu_capability), on x86 and ARM (where it is DEFAULT
    unless torch was built with SVE kernels, which this does not predict):
    ATEN_CPU_CAPABILITY when it is exactly 'default', 'avx2' or 'avx512' (lower case, nothing stripped; the x86
    levels only on x86; torch does NOT check that the CPU has what it is told, and warns about and ignores any other
    value); otherwise AVX512 when the CPU has AVX512 VL+BW+DQ and FMA, AVX2 when it has AVX2 and FMA, else DEFAULT.
    `arch`: a platform.machine() value (default this machine's)."""
    flags = cpu_flags() if flags is None else flags
    x86 = (arch or _stdlib_platform.machine()).lower() in ("x86_64", "amd64", "i386", "i686", "x86")
    asked = os.environ.get("ATEN_CPU_CAPABILITY")
    if asked == "default" or (x86 and asked in ("avx2", "avx512")):
        return asked.upper()
    if not x86:
        return "DEFAULT"
    if all(f in flags for f in ("avx512vl", "avx512bw", "avx512dq", "fma")):
        return "AVX512"
    if all(f in flags for f in ("avx2", "fma")):
        return "AVX2"
    return "DEFAULT"


# oneDNN's ISA names (dnnl_cpu_isa_t, ONEDNN_MAX_CPU_ISA values) grouped into the classes its kernels differ by.
_ONEDNN_CLASS = {"SSE41": "SSE41", "AVX": "SSE41", "AVX2": "AVX2", "AVX2_VNNI": "AVX2", "AVX2_VNNI_2": "AVX2"}


def predicted_onednn_isa(flags: frozenset[str] | None = None) -> str:
    """The ISA class of oneDNN's JIT kernels: the CPU's best, capped by ONEDNN_MAX_CPU_ISA (or DNNL_MAX_CPU_ISA).

    oneDNN exposes no query through torch or TF, so this is derived the way oneDNN decides it
    (src/cpu/x64/cpu_isa_traits.cpp: the variable caps the detected ISA; ALL or an unknown value caps nothing);
    the gelu-inf catalogue entry observes its consequence.
    """
    flags = cpu_flags() if flags is None else flags
    isa = vector_isa(flags)
    supported = {"avx512": "AVX512", "avx2": "AVX2"}.get(isa, "SSE41")
    asked = (os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or "").strip().upper()
    if asked in _ONEDNN_CLASS:
        cap = _ONEDNN_CLASS[asked]
    elif asked.startswith(("AVX512", "AVX10")):
        cap = "AVX512"
    else:
        cap = supported
    levels = CONDITIONS["onednn_cpu_isa"]
    return min(cap, supported, key=levels.index)


def predicted() -> dict[str, Any]:
    """The platform conditions as the environment and /proc/cpuinfo predict them; imports no framework."""
    return {"tf_onednn": predicted_tf_onednn(), "torch_cpu_capability": predicted_torch_capability(),
            "onednn_cpu_isa": predicted_onednn_isa()}


def static() -> dict[str, Any]:
    """What is known without any framework: CPU, ISA, OS, architecture, Python, cores, relevant environment."""
    info = _cpuinfo()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 0
    return {
        "cpu": info["model"],
        "vector_isa": vector_isa(),
        "isa_flags": sorted(f for f in ISA_FLAGS if f in info["flags"]),
        "arch": _stdlib_platform.machine(),
        "os": f"{_stdlib_platform.system()} {_stdlib_platform.release()}",
        "python": _stdlib_platform.python_version(),
        "cpus": usable,
        "env": {k: os.environ[k] for k in _ENV if k in os.environ},
    }


@functools.cache
def observed_conditions() -> dict[str, Any]:
    """The conditions as the frameworks decided them in this process (imports torch and TensorFlow)."""
    from . import runtime

    out: dict[str, Any] = {"torch_cpu_capability": runtime.torch().backends.cpu.get_cpu_capability(),
                           "onednn_cpu_isa": predicted_onednn_isa()}
    if runtime.has_module("tensorflow"):
        runtime.tf()
        from tensorflow.python.util import _pywrap_util_port  # the flag TF itself consults (tf's own tests do)

        out["tf_onednn"] = bool(_pywrap_util_port.IsMklEnabled())
    else:
        out["tf_onednn"] = None
    return out


def numpy_blas() -> str:
    """The BLAS NumPy was built with (name and version, from its build config; NumPy is no framework)."""
    import numpy as np

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:  # noqa: BLE001 - older NumPy has no dict mode; the BLAS is then unknown, not an error
        return "unknown"
    return " ".join(str(blas[k]) for k in ("name", "version") if blas.get(k)) or "unknown"


def _blas() -> dict[str, str]:
    """BLAS each side links: NumPy's build config, torch's BLAS_INFO; TF uses Eigen (or oneDNN when that is on)."""
    from . import runtime

    match = re.search(r"BLAS_INFO=(\w+)", runtime.torch().__config__.show())
    return {"numpy": numpy_blas(), "torch": match.group(1) if match else "unknown"}


def observed() -> dict[str, Any]:
    """The whole platform record for the run report: static facts plus what the frameworks decided."""
    from . import runtime

    t = runtime.torch()
    record = static() | observed_conditions()
    threads = {"torch_intra_op": t.get_num_threads(), "torch_inter_op": t.get_num_interop_threads()}
    if runtime.has_module("tensorflow"):
        cfg = runtime.tf().config.threading  # 0 means "TF picks" (all cores)
        threads |= {"tf_intra_op": cfg.get_intra_op_parallelism_threads(),
                    "tf_inter_op": cfg.get_inter_op_parallelism_threads()}
    record["threads"] = threads
    record["blas"] = _blas()
    return dict(sorted(record.items()))


# The fields that make two platforms compute differently; `diff` warns when any of them differs.
IDENTITY = ("arch", "cpu", "vector_isa", "tf_onednn", "torch_cpu_capability", "onednn_cpu_isa", "blas", "os")


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """'field: A -> B' for each identity field that differs between two platform records.

    `os` counts by its system name only ('Linux 6.8.0' and 'Linux 6.18.4' are the same platform: a kernel update
    changes no arithmetic). An empty record (a report that recorded no platform) differs from nothing: that the
    platform is unknown is the caller's warning to give."""
    if not a or not b:
        return []

    def key(field, record):
        value = record.get(field)
        return value.split()[0] if field == "os" and isinstance(value, str) and value else value

    return [f"{k}: {_show(a.get(k))} -> {_show(b.get(k))}" for k in IDENTITY if key(k, a) != key(k, b)]


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def describe_conditions(conditions: dict[str, Any]) -> str:
    """'oneDNN on, torch AVX512' style text."""
    parts = []
    if "tf_onednn" in conditions:
        on = conditions["tf_onednn"]
        parts.append(f"TF oneDNN {'unknown (no TensorFlow)' if on is None else 'on' if on else 'off'}")
    if "torch_cpu_capability" in conditions:
        parts.append(f"torch {conditions['torch_cpu_capability']}")
    if "onednn_cpu_isa" in conditions:
        parts.append(f"oneDNN ISA {conditions['onednn_cpu_isa']}")
    return ", ".join(parts)


def header_lines() -> list[str]:
    """The pytest header: the platform without importing a framework (tests/meta/test_platform.py proves the
    predicted kernel choices equal what the frameworks decide)."""
    s, p = static(), predicted()
    env = " ".join(f"{k}={v}" for k, v in s["env"].items()) or "none set"
    nn = [f for f in ONEDNN_DEFAULT_FLAGS if f in s["isa_flags"]]
    return [f"platform: {s['cpu']}, {s['arch']} {s['vector_isa']}{' + ' + ' '.join(nn) if nn else ''}, "
            f"{s['cpus']} cpus, {s['os']}, Python {s['python']}, NumPy BLAS {numpy_blas()}",
            f"kernels (predicted from CPU flags and environment): {describe_conditions(p)}; "
            f"platform variables: {env}"]


def summary_lines(record: dict[str, Any]) -> list[str]:
    """A platform record (`observed()`, as the run report holds it) in two lines; one line when it is empty."""
    if not record:
        return ["platform: not recorded (a report of schema version 1)"]
    threads = record.get("threads") or {}
    t = ", ".join(f"{k.replace('_', ' ', 1)} {v or 'auto'}" for k, v in threads.items())
    blas = ", ".join(f"{k} {v}" for k, v in (record.get("blas") or {}).items())
    env = " ".join(f"{k}={v}" for k, v in (record.get("env") or {}).items())
    return [f"platform: {record.get('cpu')}, {record.get('arch')} {record.get('vector_isa')}, {record.get('cpus')} "
            f"cpus, {record.get('os')}, Python {record.get('python')}",
            f"kernels: {describe_conditions(record)}; BLAS {blas or '-'}; threads {t or '-'}"
            + (f"; {env}" if env else "")]


def other_onednn_setting() -> str:
    """'0' or '1': the TF_ENABLE_ONEDNN_OPTS value that is NOT this machine's default (for the second CI pass)."""
    saved = os.environ.pop("TF_ENABLE_ONEDNN_OPTS", None)
    try:
        return "0" if predicted_tf_onednn() else "1"
    finally:
        if saved is not None:
            os.environ["TF_ENABLE_ONEDNN_OPTS"] = saved


# Settings one machine can switch to, to reproduce other machines (tox label `platforms`, `.ci/run`'s second pass).
SETTINGS = {
    "tf-onednn-off": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "tf-onednn-on": {"TF_ENABLE_ONEDNN_OPTS": "1"},
    "torch-default": {"ATEN_CPU_CAPABILITY": "default"},
    "torch-avx2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "torch-avx512": {"ATEN_CPU_CAPABILITY": "avx512"},  # NOT capped by torch: only for CPUs with AVX-512
    "onednn-isa-avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2"},
    "onednn-isa-sse41": {"ONEDNN_MAX_CPU_ISA": "SSE41"},
    # An AVX2-only x86 machine (e.g. AMD EPYC Zen 2/3): TF without oneDNN, torch AVX2, oneDNN AVX2.
    "avx2-machine": {"TF_ENABLE_ONEDNN_OPTS": "0", "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
}


def main(argv: list[str] | None = None) -> int:
    """`python -m equivalence platform`: print this platform (or one fact of it) for people and scripts."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m equivalence platform", description=main.__doc__.split(":")[1])
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--predicted", action="store_true", help="only what CPU flags and environment predict "
                      "(imports no framework)")
    what.add_argument("--other-onednn", action="store_true", help="print the TF_ENABLE_ONEDNN_OPTS value (0 or 1) "
                      "that is NOT this machine's default")
    what.add_argument("--settings", action="store_true", help="the environment settings that reproduce other "
                      "machines here, one per line")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    if args.other_onednn:
        print(other_onednn_setting())
        return 0
    if args.settings:
        for name, env in SETTINGS.items():
            print(f"{name}: " + " ".join(f"{k}={v}" for k, v in env.items()))
        return 0
    record = static() | predicted() if args.predicted else observed()
    if args.json:
        print(json.dumps(record, indent=1, sort_keys=True))
    else:
        for key, value in sorted(record.items()):
            print(f"{key}: {value}")
    return 0
