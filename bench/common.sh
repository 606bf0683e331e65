# SPDX-License-Identifier: MIT
# Shared by the bench/ scripts (sourced, POSIX sh): argument check, the
# header every script prints (workload, machine, BLAS core, commit), and how
# to find the peers' Python.
#
#   . "$(dirname "$0")/common.sh"
#   bench_init "$@"            # sets root, build, bin, PY, applies ISA=; exits 64/66 on misuse
#   bench_header "W1: ..."     # prints workload, machine, ISA, kernels, BLAS, commit, date
#   have_py numpy scipy        # true when $PY imports every module named
#   ratio A B                  # B / A with two decimals, "n/a" when either is empty
#   require_positive A B ...   # each variable a positive integer, else exit 64 naming them

bench_init() {
    if [ $# -lt 1 ]; then
        echo "usage: $0 BUILD_DIR" >&2
        exit 64
    fi
    root=$(cd "$(dirname "$0")/.." && pwd)
    build=$(cd "$1" && pwd)
    bin="$build/fastmlp"
    if [ ! -x "$bin" ]; then
        echo "$0: no fastmlp in $build (build the fastmlp_cli target)" >&2
        exit 66
    fi
    # Debian's python3 has the Debian peer packages (numpy, scipy, sklearn,
    # torch); a pyenv python3 earlier on PATH usually does not.
    PY=${PY:-/usr/bin/python3}
    [ -x "$PY" ] || PY=python3
    data="$root/tests/data"
    fashion=/usr/share/datasets/fashion-mnist
    bench_isa "$bin"
}

# bench_isa [FASTMLP]: applies ISA=avx2|avx512|native (default native) to
# everything the script runs after it, fastmlp and the peers alike, so that
# a machine with AVX-512 can measure what an AVX2 user sees, peers on equal
# terms (bench_init calls it):
#   avx2    FASTMLP_ISA=avx2 (the CLI's --isa avx2), OPENBLAS_CORETYPE=Haswell
#           (fastmlp's OpenBLAS and the peers': NumPy, SciPy, scikit-learn,
#           and PyTorch's BLAS calls), PyTorch's own dispatch through
#           ATEN_CPU_CAPABILITY=avx2 and ONEDNN_MAX_CPU_ISA=AVX2 (a ceiling),
#           MKL_ENABLE_INSTRUCTIONS=AVX2 for a peer built on MKL
#   avx512  the same with avx512, SkylakeX (plain AVX-512: no VNNI, no bf16),
#           avx512, AVX512_CORE, AVX512
#   native  sets nothing: each library picks for itself (what is already in
#           the environment still counts: the header shows it)
# Each peer prints what its libraries actually run (bench/peers/peer_isa.py,
# threadpoolctl); what a variable cannot reach (a BLAS bundled with its own
# dispatch, FANN's plain C) is not forced, and the peer's line says what ran.
# An unknown ISA, or one this CPU cannot run, exits 64 with one line, before
# anything is forced: an OpenBLAS told to use a core the CPU lacks dies of
# SIGILL.  FASTMLP (a fastmlp binary) decides whether the CPU can run it, as
# `fastmlp --isa` does; without one, /proc/cpuinfo's flags.
bench_isa() {
    isa=${ISA:-native}
    case $isa in
    native) return 0 ;;
    avx2) isa_core=Haswell isa_aten=avx2 isa_dnnl=AVX2 isa_mkl=AVX2 isa_flags="avx2 fma" ;;
    avx512)
        isa_core=SkylakeX isa_aten=avx512 isa_dnnl=AVX512_CORE isa_mkl=AVX512
        isa_flags="avx512f avx512bw avx512dq avx512vl"
        ;;
    *)
        echo "$0: ISA=$isa is not one of avx2, avx512, native" >&2
        exit 64
        ;;
    esac
    if [ -n "${1:-}" ] && [ -x "$1" ]; then
        if ! isa_why=$("$1" --isa "$isa" --version 2>&1 >/dev/null); then
            echo "$0: ISA=$isa: $(printf '%s\n' "$isa_why" | head -n 1)" >&2
            exit 64
        fi
    else
        for isa_f in $isa_flags; do
            if ! grep -qw "$isa_f" /proc/cpuinfo; then
                echo "$0: ISA=$isa: this CPU cannot run it (no $isa_f in /proc/cpuinfo)" >&2
                exit 64
            fi
        done
    fi
    export FASTMLP_ISA="$isa" OPENBLAS_CORETYPE="$isa_core" ATEN_CPU_CAPABILITY="$isa_aten" \
        ONEDNN_MAX_CPU_ISA="$isa_dnnl" MKL_ENABLE_INSTRUCTIONS="$isa_mkl"
}

# bench_isa_header: the header's isa, kernels and BLAS lines: what ISA= set,
# the kernels fastmlp chose under it and the BLAS core it reports ($bin's
# --version, run in the environment the benchmark runs in)
bench_isa_header() {
    isa_env=""
    for v in FASTMLP_ISA OPENBLAS_CORETYPE ATEN_CPU_CAPABILITY ONEDNN_MAX_CPU_ISA MKL_ENABLE_INSTRUCTIONS; do
        eval "isa_val=\${$v:-}"
        [ -n "$isa_val" ] && isa_env="$isa_env${isa_env:+, }$v=$isa_val"
    done
    if [ "${ISA:-native}" = native ]; then
        echo "isa:      native (nothing forced${isa_env:+; already in the environment: $isa_env})"
    else
        echo "isa:      $ISA ($isa_env)"
    fi
    if [ -x "$bin" ]; then
        isa_ver=$("$bin" --version 2>&1 || true)
        echo "kernels:  $(printf '%s\n' "$isa_ver" | sed -n 's/^kernels: //p');" \
            "inference $(printf '%s\n' "$isa_ver" | sed -n 's/^inference kernels: //p')"
        echo "BLAS:     $(printf '%s\n' "$isa_ver" | sed -n 's/^BLAS: //p')"
    fi
}

bench_header() {
    echo "workload: $1"
    echo "machine:  $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(getconf _NPROCESSORS_ONLN) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
    bench_isa_header
    echo "commit:   $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "date:     $(date -u +%Y-%m-%d)"
}

have_py() {
    for mod in "$@"; do
        "$PY" -c "import $mod" 2>/dev/null || return 1
    done
    return 0
}

# require_positive NAME...: every named variable holds a positive integer,
# or the script exits 64 with one line naming them all ("A, B and C must be
# positive integers"; one: "A must be a positive integer").
require_positive() {
    for rp_name in "$@"; do
        eval "rp_v=\${$rp_name-}"
        case $rp_v in
        '' | *[!0-9]* | 0)
            if [ $# -eq 1 ]; then
                echo "$0: $1 must be a positive integer" >&2
            else
                rp_list=""
                rp_i=0
                for rp_n in "$@"; do
                    rp_i=$((rp_i + 1))
                    if [ $rp_i -eq 1 ]; then rp_list=$rp_n
                    elif [ $rp_i -eq $# ]; then rp_list="$rp_list and $rp_n"
                    else rp_list="$rp_list, $rp_n"
                    fi
                done
                echo "$0: $rp_list must be positive integers" >&2
            fi
            exit 64
            ;;
        esac
    done
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a + 0 <= 0) print "n/a"; else printf "%.2fx\n", b / a }'
}

# --- helpers of the W1-W3 scripts (bench/w1_neuron.sh, w2_galaxy.sh, w3_fashion_gd.sh)
#   bench_threads              threads=THREADS or all cores; prints the line
#   bench_load                 prints the load average (the machine is shared)
#   peer_py SCRIPT ARGS...     runs a peer with $PY, its BLAS/OpenMP pinned to $threads
#   log_train_s LOG            sum of the per-epoch "seconds" of a --log-json file:
#                              the summary's "(X s training)", unrounded
#   log_last KEY LOG           KEY's value in the last line of a --log-json file
#   min_of X...                the smallest number given
#   median_of X...             their median (the middle two's mean for an even count)
#   reldiff A B                |A - B| / |B| as %.2e ("n/a" when either is empty)

bench_threads() {
    threads=${THREADS:-$(getconf _NPROCESSORS_ONLN)}
    echo "threads:  $threads (fastmlp --threads, peers OMP/OPENBLAS/MKL_NUM_THREADS and torch.set_num_threads)"
}

bench_load() {
    echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15-minute load average before the runs)"
}

peer_py() {
    OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads MKL_NUM_THREADS=$threads "$PY" "$@"
}

log_train_s() {
    sed -n 's/.*"seconds": *\([0-9.eE+-]*\).*/\1/p' "$1" | awk '{ s += $1 } END { printf "%.6f\n", s }'
}

log_last() {
    tail -n 1 "$2" | sed -n "s/.*\"$1\": *\\([^,}]*\\).*/\\1/p"
}

min_of() {
    printf '%s\n' "$@" | awk 'NR == 1 || $1 + 0 < m { m = $1 + 0 } END { printf "%.6f\n", m }'
}

median_of() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.6f\n", m }'
}

reldiff() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "" || b == "") { print "n/a"; exit }
        d = a - b; if (d < 0) d = -d; s = b < 0 ? -b : b
        if (s == 0) printf "%.2e\n", d; else printf "%.2e\n", d / s }'
}

# fashion_files: the four Fashion-MNIST files of $fashion into trimg, trlab,
# teimg, telab; exits 66 when one cannot be read.
fashion_files() {
    trimg=$fashion/train-images-idx3-ubyte.gz
    trlab=$fashion/train-labels-idx1-ubyte.gz
    teimg=$fashion/t10k-images-idx3-ubyte.gz
    telab=$fashion/t10k-labels-idx1-ubyte.gz
    for f in "$trimg" "$trlab" "$teimg" "$telab"; do
        if [ ! -r "$f" ]; then
            echo "$0: cannot read $f (Debian package dataset-fashion-mnist, or set FASTMLP_FMNIST_DIR)" >&2
            exit 66
        fi
    done
}

# peer_threads T: every peer library's thread count to T.  PyTorch's OpenMP
# workers spin between parallel regions; on a machine shared with other jobs
# that made 2 threads ~30x slower than 1 (measured here), so they sleep
# instead unless the caller chose otherwise.  Only PyTorch uses OpenMP here
# (fastmlp and OpenBLAS have their own pthreads).
peer_threads() {
    export OMP_NUM_THREADS="$1" OPENBLAS_NUM_THREADS="$1" MKL_NUM_THREADS="$1"
    export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
}
