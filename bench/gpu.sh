#!/bin/sh
# SPDX-License-Identifier: MIT
# The GPU checks and benchmarks (issue 18), in two steps, because the GPU
# machine reaches no package registry and has none of our Debian packages:
#
#   bench/gpu.sh pack [BUNDLE]   here: builds fastmlp with the CUDA plugin
#                                (build-gpu/: Release, no HDF5, no MPI) and
#                                copies into BUNDLE (default .gpu, ignored by
#                                git) the programs, the shared libraries they
#                                need that a bare machine lacks (OpenBLAS, ...),
#                                and the data: Fashion-MNIST's test set (the
#                                training sets are made from it there: the
#                                whole training set does not fit the 64 MiB a
#                                device call carries) and seed 001's galaxies.
#   bench/gpu.sh run [BUNDLE]    there: the GPU against the CPU of the same
#                                machine, from the bundle alone (~3 minutes):
#     0. the GPU, its driver, fastmlp --version
#     1. test_cuda: every pass, update and prediction against the CPU backend,
#        whole runs, determinism (tests/unit/test_cuda.c says the tolerances)
#     2. G1 = W3 (seed 002): 784-10-10, full-batch GD on 41000 images, 2000
#        iterations, f32 (goal <= 0.5 s; seed 002's CuPy: 50 s)
#     3. G2 = W5: 784-256-128-10 relu, Adam, batch 64, 2 epochs of 60000, f32
#        (goal >= 1M samples/s)
#     4. W6: inference of the W5 network on the 10000 test images, batch
#        throughput and batch-1 latency (the data cross PCIe in each call:
#        mlp_model_predict takes host memory)
#     5. W2 (seed 001): galaxies 1024-8-3, CG, 600 iterations, f64
#     each with --device cuda beside --device cpu (all the machine's cores),
#     and PyTorch on the GPU where python3 has torch with CUDA
#     (bench/peers/*_torch.py --device cuda).
#
# The training sets there are Fashion-MNIST's 10000 test images repeated
# (41000 and 60000 rows): the times do not depend on the pixels; the
# accuracies printed are then of little meaning (test_cuda checks the
# results).  On the device tool: carry [".gpu"], run `bench/gpu.sh run .gpu`
# (write $OUT/gpu.txt too when OUT is set).
set -eu

mode=${1:-}
root=$(cd "$(dirname "$0")/.." && pwd)
bundle=${2:-$root/.gpu}

pack() {
    build="$root/build-gpu"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFASTMLP_CUDA=ON -DFASTMLP_HDF5=OFF \
        -DFASTMLP_MPI=OFF >/dev/null
    cmake --build "$build" -j "$(getconf _NPROCESSORS_ONLN)" --target fastmlp_cli fastmlp_cuda test_cuda >/dev/null
    rm -rf "$bundle"
    mkdir -p "$bundle/bin" "$bundle/lib" "$bundle/data"
    # the plugin beside the programs: the library looks for it there
    cp "$build/fastmlp" "$build/libfastmlp_cuda.so" "$build/tests/test_cuda" "$bundle/bin/"
    # what the programs link that a bare machine may lack: all but the C
    # library's own parts and the CUDA libraries (the GPU machine has those)
    for f in "$bundle"/bin/*; do ldd "$f"; done | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u |
        grep -v -E '/(libc|libm|libmvec|libpthread|libdl|librt|ld-linux[^/]*|libgcc_s|libstdc\+\+)\.so|/libcu|/libnv' |
        while read -r lib; do cp -L "$lib" "$bundle/lib/"; done
    fm=/usr/share/datasets/fashion-mnist
    cp "$fm/t10k-images-idx3-ubyte.gz" "$fm/t10k-labels-idx1-ubyte.gz" "$bundle/data/"
    cp "$root/tests/data/galaxy_test.csv" "$bundle/data/"
    cp -r "$root/bench/peers" "$bundle/peers"
    git -C "$root" rev-parse --short HEAD >"$bundle/COMMIT" 2>/dev/null || echo unknown >"$bundle/COMMIT"
    du -sh "$bundle"
    echo "packed $bundle: carry it and run: bench/gpu.sh run $(basename "$bundle")"
}

# secs CMD...: wall seconds of a command (its output kept in $tmp/out)
secs() {
    s=$(date +%s.%N)
    "$@" >"$tmp/out" 2>&1 || { cat "$tmp/out"; return 1; }
    e=$(date +%s.%N)
    awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f\n", e - s }'
}

# train_s LOG: the training seconds a --log-json file sums (no loading, no evaluation)
train_s() { sed -n 's/.*"seconds": *\([0-9.eE+-]*\).*/\1/p' "$1" | awk '{ s += $1 } END { printf "%.3f\n", s }'; }

run() {
    B=$(cd "$bundle" && pwd)
    export LD_LIBRARY_PATH="$B/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    # cuBLAS 13 (the plugin's one dependency beyond the driver), where a
    # CUDA image keeps it off the loader's path: the toolkit's directory,
    # or the pip wheel PyTorch brings
    cublas_pip=$(python3 -c 'import nvidia.cublas as c; print(list(c.__path__)[0] + "/lib")' 2>/dev/null || true)
    for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib "$cublas_pip"; do
        if [ -n "$d" ] && [ -e "$d/libcublas.so.13" ]; then LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"; fi
    done
    bin="$B/bin/fastmlp"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    cores=$(getconf _NPROCESSORS_ONLN)
    echo "== 0. machine (fastmlp $(cat "$B/COMMIT"))"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1 || true
    echo "CPU: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), $cores cores"
    if ! "$bin" --device cuda --version >"$tmp/version" 2>&1; then
        cat "$tmp/version"
        echo "$0: no GPU to run on here: nothing measured" >&2
        exit 69
    fi
    grep -E '^(BLAS|kernels|CUDA|device)' "$tmp/version"

    echo
    echo "== 1. test_cuda (the CUDA backend against the CPU)"
    "$B/bin/test_cuda" || echo "test_cuda FAILED (exit $?)"

    # the training sets: the test images repeated
    python3 - "$B/data" "$tmp" <<'EOF'
import gzip, sys
src, dst = sys.argv[1], sys.argv[2]
img = gzip.open(src + "/t10k-images-idx3-ubyte.gz").read()
lab = gzip.open(src + "/t10k-labels-idx1-ubyte.gz").read()
for n in (41000, 60000):
    rows, labs = b"", b""
    while len(labs) < n:
        rows += img[16:]
        labs += lab[8:]
    hi = (0x803).to_bytes(4, "big") + n.to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    hl = (0x801).to_bytes(4, "big") + n.to_bytes(4, "big")
    open(f"{dst}/x{n}.idx", "wb").write(hi + rows[: n * 784])
    open(f"{dst}/y{n}.idx", "wb").write(hl + labs[:n])
    if n == 60000:  # the peers read a Fashion-MNIST directory
        gzip.open(f"{dst}/train-images-idx3-ubyte.gz", "wb", 1).write(hi + rows[: n * 784])
        gzip.open(f"{dst}/train-labels-idx1-ubyte.gz", "wb", 1).write(hl + labs[:n])
        open(f"{dst}/t10k-images-idx3-ubyte.gz", "wb").write(open(src + "/t10k-images-idx3-ubyte.gz", "rb").read())
        open(f"{dst}/t10k-labels-idx1-ubyte.gz", "wb").write(open(src + "/t10k-labels-idx1-ubyte.gz", "rb").read())
EOF
    te="--test $B/data/t10k-images-idx3-ubyte.gz --test-labels $B/data/t10k-labels-idx1-ubyte.gz"
    have_torch=no
    if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then have_torch=yes; fi

    for dev in cuda cpu; do
        echo
        echo "== 2. G1 = W3 on $dev: 784-10-10 relu, softmax, full-batch GD lr 0.1, 2000 iterations, 41000 rows, f32"
        it=2000
        [ "$dev" = cpu ] && it=200 # the CPU's time per iteration is steady: 200 say it
        "$bin" --device "$dev" train --train "$tmp/x41000.idx" --train-labels "$tmp/y41000.idx" --layers 10 \
            --activation relu --head softmax-ce --init uniform --init-range -0.5,0.5 --optimizer gd --lr 0.1 \
            --epochs "$it" --dtype f32 --threads "$cores" -q --log-json "$tmp/g1_$dev.json" >"$tmp/out" 2>&1 ||
            cat "$tmp/out"
        t=$(train_s "$tmp/g1_$dev.json")
        echo "G1 $dev: $it iterations in $t s training ($(awk -v t="$t" -v i="$it" 'BEGIN { printf "%.3f", t / i * 2000 }') s per 2000)"
    done
    if [ "$have_torch" = yes ]; then
        echo "PyTorch CUDA (seed 002's formulation; TIME is for 2000 iterations):"
        python3 "$B/peers/w3_torch.py" "$tmp" --device cuda --limit 41000 --iters 2000 --repeats 2 2>&1 | tail -n 6 || true
    fi

    for dev in cuda cpu; do
        echo
        echo "== 3. G2 = W5 on $dev: 784-256-128-10 relu, Adam lr 1e-3, batch 64, 2 epochs of 60000 rows, f32"
        "$bin" --device "$dev" train --train "$tmp/x60000.idx" --train-labels "$tmp/y60000.idx" $te --layers 256,128 \
            --activation relu --head softmax-ce --dtype f32 --init he --optimizer adam --lr 1e-3 --batch 64 \
            --epochs 2 --seed 42 --threads "$cores" -q --log-json "$tmp/g2_$dev.json" -o "$tmp/w5_$dev.mlp" \
            >"$tmp/out" 2>&1 || cat "$tmp/out"
        t=$(train_s "$tmp/g2_$dev.json")
        echo "G2 $dev: 120000 samples in $t s: $(awk -v t="$t" 'BEGIN { printf "%.0f", 120000 / t }') samples/s"
    done

    for dev in cuda cpu; do
        echo
        echo "== 4. W6 on $dev: the W5 network on the 10000 test images, batch and batch 1"
        "$bin" --device "$dev" bench infer --model "$tmp/w5_cpu.mlp" --data "$B/data/t10k-images-idx3-ubyte.gz" \
            --labels "$B/data/t10k-labels-idx1-ubyte.gz" --runs 20 --latency-rows 1000 --threads "$cores" 2>&1 |
            grep -E '^RESULT' || true
    done

    for i in 1 2 3 4; do cat "$B/data/galaxy_test.csv"; done >"$tmp/galaxy_x4.csv"
    for dev in cuda cpu; do
        echo
        echo "== 5. W2 on $dev: galaxies x4, 1024-8-3 sigmoid, BCE + L2 1, CG 600 iterations, f64"
        "$bin" --device "$dev" train --train "$tmp/galaxy_x4.csv" --layers 8 --activation sigmoid --head sigmoid-bce \
            --l2 1 --init uniform --init-range -0.2,0.2 --optimizer cg --max-iter 600 --dtype f64 \
            --threads "$cores" -q --log-json "$tmp/w2_$dev.json" >"$tmp/out" 2>&1 || cat "$tmp/out"
        echo "W2 $dev: $(grep -c '"epoch"' "$tmp/w2_$dev.json") iterations in $(train_s "$tmp/w2_$dev.json") s training," \
            "final train loss $(tail -n 1 "$tmp/w2_$dev.json" | sed -n 's/.*"train_loss": *\([^,}]*\).*/\1/p')"
    done
    if [ "$have_torch" = yes ]; then
        echo
        echo "== PyTorch CUDA peers of W5 (G2) and W6 (its data resident on the GPU, unlike fastmlp's predict)"
        python3 "$B/peers/w5_torch.py" "$tmp" --device cuda --rows 60000 --epochs 2 --repeat 1 2>&1 | tail -n 6 || true
        python3 "$B/peers/w6_torch.py" "$tmp" --device cuda --runs 20 --latency-rows 1000 2>&1 | tail -n 6 || true
    fi
}

case "$mode" in
pack) pack ;;
run)
    if [ -n "${OUT:-}" ]; then
        run 2>&1 | tee "$OUT/gpu.txt"
    else
        run
    fi
    ;;
*)
    echo "usage: $0 pack|run [BUNDLE]   (see the comment at its top)" >&2
    exit 64
    ;;
esac
