# SPDX-License-Identifier: MIT
"""What instruction set a peer's libraries actually run, beside what the
bench/*.sh script asked for (ISA=avx2|avx512|native, bench/common.sh
bench_isa, which exports OPENBLAS_CORETYPE and PyTorch's own switches).

Every peer prints isa_line(NAME) once its libraries are loaded:

    numpy ISA: asked avx2 (OPENBLAS_CORETYPE=Haswell); runs: openblas 0.3.21 core=Haswell, 2 threads

The BLAS core is threadpoolctl's: OpenBLAS reports the core it chose at
load time ('architecture'); other BLAS libraries (MKL, BLIS) report none,
and the line says so rather than guess.  PyTorch dispatches its own
vectorised operators (ATen's CPU capability: ATEN_CPU_CAPABILITY) and its
oneDNN primitives (ONEDNN_MAX_CPU_ISA, a ceiling, not a choice) apart from
its BLAS; with torch= those are printed too, read back from the library.
A core or capability other than the one asked is flagged "NOT as asked":
the run then does not measure what ISA= promised."""
import ctypes
import os
import re

# ISA= -> what bench_isa exports (kept in step with bench/common.sh)
ASKED = {
    "avx2": {"blas": "Haswell", "aten": "AVX2", "onednn": "avx2"},
    "avx512": {"blas": "SkylakeX", "aten": "AVX512", "onednn": "avx512_core"},
}

# oneDNN's dnnl_cpu_isa_t (dnnl_types.h, v2.x): the values are cumulative
# feature masks; 0x1/0x3/0x7 are checked against ONEDNN_MAX_CPU_ISA here
ONEDNN_ISA = {
    0x1: "sse41", 0x3: "avx", 0x7: "avx2", 0xF: "avx512_mic", 0x1F: "avx512_mic_4ops", 0x27: "avx512_core",
    0x67: "avx512_core_vnni", 0xE7: "avx512_core_bf16", 0x3E7: "avx512_core_amx", 0x407: "avx2_vnni",
}


def asked():
    """(ISA, the environment bench_isa set for it, as 'K=V, ...')"""
    isa = os.environ.get("ISA") or "native"
    keys = ["OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS"]
    env = ", ".join(f"{k}={os.environ[k]}" for k in keys if os.environ.get(k))
    return isa, env


def blas():
    """[(library, core or None, threads)] for every BLAS threadpoolctl finds
    loaded, or a one-item list saying why there is none."""
    try:
        import threadpoolctl
    except ImportError:
        return [("threadpoolctl not installed: the BLAS core cannot be read", None, None)]
    out = []
    for i in threadpoolctl.threadpool_info():
        if i.get("user_api") != "blas":
            continue
        core = i.get("architecture")
        out.append((f"{i.get('internal_api')} {i.get('version')}", core, i.get("num_threads")))
    return out or [("no BLAS loaded", None, None)]


def onednn_isa():
    """oneDNN's effective ISA in this process (the libdnnl PyTorch mapped), or None."""
    try:
        with open("/proc/self/maps") as f:
            libs = sorted(set(re.findall(r"(/\S*lib(?:dnnl|mkldnn)\S*\.so\S*)", f.read())))
    except OSError:
        return None
    for lib in libs:
        try:
            fn = ctypes.CDLL(lib).dnnl_get_effective_cpu_isa
        except (OSError, AttributeError):
            continue
        fn.restype = ctypes.c_int
        v = fn()
        return ONEDNN_ISA.get(v, f"0x{v:x}")
    return None


def aten_capability(torch):
    """ATen's CPU capability as torch reports it ('AVX2', 'AVX512', 'NO AVX', ...)."""
    f = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", None)
    if f is not None:
        return str(f()).upper()
    m = re.search(r"CPU capability usage: *(.+)", torch.__config__.show())
    return m.group(1).strip() if m else None


def isa_line(name, torch=None):
    """One line: what ISA= asked and what the peer's libraries run."""
    isa, env = asked()
    want = ASKED.get(isa)
    parts = []
    for lib, core, threads in blas():
        if core:
            lib += f" core={core}"
            if want and core.lower() != want["blas"].lower():
                lib += f" NOT as asked ({want['blas']})"
        elif threads is not None:
            lib += " (reports no core)"
        parts.append(lib + (f", {threads} threads" if threads is not None else ""))
    if torch is not None:
        cap = aten_capability(torch)
        if cap is None:
            parts.append("ATen CPU capability not reported")
        else:
            parts.append(f"ATen CPU capability {cap}"
                         + (f" NOT as asked ({want['aten']})" if want and cap != want["aten"] else ""))
        dn = onednn_isa()
        if dn is None:
            parts.append("oneDNN not loaded (yet)")
        else:
            # a ceiling: on a CPU below it oneDNN runs less, which is no error
            parts.append(f"oneDNN {dn}" + (f" (ceiling {want['onednn']})" if want else ""))
    how = f" ({env})" if env else (" (nothing forced)" if isa == "native" else "")
    return f"{name} ISA: asked {isa}{how}; runs: " + "; ".join(parts)


if __name__ == "__main__":
    import numpy as np

    np.dot(np.ones((4, 4)), np.ones((4, 4)))
    print(isa_line("numpy"))
