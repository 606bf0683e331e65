#!/bin/sh
# SPDX-License-Identifier: MIT
# Issue 16: what fastmlp's Python face (python/, fastmlp.MLPClassifier over
# ctypes) costs against the command line, and how it stands beside
# scikit-learn's MLPClassifier.  Two parts, each run in this invocation:
#
# w5: W5 (bench/w5_fashion_adam.sh: Fashion-MNIST 784-256-128-10 relu,
#   softmax-ce, adam lr 1e-3, batch 64, EPOCHS epochs, f32, he init, seed
#   42, THREADS threads) three ways:
#     cli      `fastmlp train` with W5's flags, plus --profile (which only
#              prints: the trainer keeps its profile either way)
#     python   bench/peers/python_w5.py: fastmlp.MLPClassifier with the same
#              settings on the uint8 pixels (no copy), fit() timed
#     sklearn  bench/peers/w5_sklearn.py: scikit-learn's MLPClassifier, adam,
#              batch 64, alpha 0, f64 (PEERS)
#   The cli and python runs alternate (cli, python, cli, python, ...), so
#   that a busy spell of the shared machine hits both; the best of REPEAT
#   runs counts for each, and each pair's ratio is kept too.  What is
#   compared (the ratios are python / cli):
#     ratio       python's fit() (validation, network creation and init, the
#                 training loop, the history) against the CLI's training
#                 loop (its summary's samples/s: no loading, no set-up, no
#                 evaluation): fit() is charged for more than the CLI is.
#     paired_ratio  the same, the median over the pairs of each pair's ratio.
#     loop_ratio  the training loop inside fit() (the library's per-epoch
#                 seconds, read by a callback) against the CLI's: the same C
#                 code on the same data, so it shows how far two processes
#                 differ on this machine for no reason of their own: its
#                 noise floor (paired_loop_ratio: its median over the pairs).
#     work_ratio  fit() against the CLI process's wall time less its data
#                 loading and its per-epoch test evaluation (both from
#                 --profile): the whole CLI run minus what fit() does not do
#                 (process start, argument parsing, model creation and exit
#                 stay in).
#     face        in one process, the share of fit() spent outside the
#                 library's training loop: what the face adds, measured
#                 without a second process and so without the machine's noise.
#   The issue's target, the face costs <= 5%, is judged (met) on face <= 5%
#   with loop_ratio >= 0.90: the ratios between processes cannot resolve 5%
#   here (on 2 shared vCPUs loop_ratio, the same C code on both sides, read
#   0.93x to 1.05x over five runs of 7 to 25 pairs, and the best-of ratio
#   0.92x to 1.03x with it), while the face share is one process's own
#   clock; the loop_ratio guard catches a face that slows the library's
#   loop itself (a copy, a busy Python thread), which the share cannot see.
#
# tabular: bench/peers/python_tabular.py: fastmlp.MLPClassifier beside
#   scikit-learn's (make_pipeline(StandardScaler(), MLPClassifier), as
#   fastmlp standardises inside the model), both with scikit-learn's
#   defaults (hidden (100,), relu, adam, max_iter 200, alpha 1e-4, batch
#   auto, tol 1e-4), on scikit-learn's bundled digits, breast_cancer and
#   wine: one stratified 75/25 split (random_state 0), random_state
#   0..SEEDS-1, median fit time, mean test accuracy, mean epochs run.
#   ratio = sklearn fit s / fastmlp fit s (above 1: fastmlp is faster).
#
# Python: VENV's interpreter (numpy, scikit-learn and fastmlp's package,
# whose libfastmlp.so is built from this tree by scripts/python-env.sh);
# when VENV has no python that imports fastmlp, the script makes it with
# `sh scripts/python-env.sh $PY $VENV` first (pip: needs the network or a
# wheel cache).  Data loading and imports are never timed.
# Usage: bench/python.sh BUILD_DIR
# Environment: THREADS (fastmlp --threads and n_threads, OMP/OPENBLAS/
# MKL_NUM_THREADS for scikit-learn's BLAS) [2]; EPOCHS [2]; ROWS W5
# training rows [60000]; REPEAT runs of each W5 fit, the fastest counts
# [1]; SKLEARN_REPEAT scikit-learn's W5 fits, the fastest counts [REPEAT;
# one takes ~30 s here]; PEERS [sklearn] ("" leaves scikit-learn out of
# both parts); PARTS [w5 tabular]; SETS [digits breast_cancer wine];
# SEEDS [5]; VENV [BUILD_DIR/venv]; PY the interpreter that makes VENV
# [/usr/bin/python3];
# FASTMLP_FMNIST_DIR [/usr/share/datasets/fashion-mnist];
# ISA=avx2|avx512|native [native] (bench/common.sh bench_isa: the CLI and
# the BLAS libraries follow it; the Python package's kernels are its own
# choice, printed on its ISA line).
# Ends with RESULT lines: two for w5 (python against cli, python against
# sklearn), one per data set for tabular (n/a where a figure is missing).
set -eu
. "$(dirname "$0")/common.sh"
bench_init "$@"
fashion=${FASTMLP_FMNIST_DIR:-$fashion}
THREADS=${THREADS:-2}
EPOCHS=${EPOCHS:-2}
ROWS=${ROWS:-60000}
REPEAT=${REPEAT:-1}
SKLEARN_REPEAT=${SKLEARN_REPEAT:-$REPEAT}
SEEDS=${SEEDS:-5}
PEERS=${PEERS-sklearn}
PARTS=${PARTS:-w5 tabular}
SETS=${SETS:-digits breast_cancer wine}
VENV=${VENV:-$build/venv}
require_positive THREADS EPOCHS ROWS REPEAT SKLEARN_REPEAT SEEDS
for p in $PARTS; do
    case $p in
    w5 | tabular) ;;
    *) echo "$0: PARTS: '$p' is not w5 or tabular" >&2; exit 64 ;;
    esac
done
wants() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }
wants w5 "$PARTS" && fashion_files
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

VPY=$VENV/bin/python
if ! "$VPY" -c 'import fastmlp' >/dev/null 2>&1; then
    echo "python: no fastmlp in $VENV: making it (sh scripts/python-env.sh $PY $VENV)"
    if ! sh "$root/scripts/python-env.sh" "$PY" "$VENV" >"$tmp/venv.out" 2>&1 ||
        ! "$VPY" -c 'import fastmlp' >/dev/null 2>&1; then
        echo "$0: could not make $VENV with fastmlp's package: $(tail -n 3 "$tmp/venv.out")" >&2
        exit 69
    fi
fi
peer_threads "$THREADS"

bench_header "Python face (issue 16): parts $PARTS; w5: W5 (784-256-128-10 relu, softmax-ce, adam lr 1e-3, batch 64, $EPOCHS epoch(s), f32, $ROWS training rows) by the CLI, fastmlp.MLPClassifier and scikit-learn; tabular: $SETS, $SEEDS seeds"
bench_threads
# shellcheck disable=SC2016
echo "python:   $VPY: $("$VPY" -c 'import os, sys, time, numpy, fastmlp
try:
    import sklearn
    sk = "scikit-learn " + sklearn.__version__
except ImportError:
    sk = "no scikit-learn"
lib = fastmlp._lib.LIB_PATH
built = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(lib)))
print(f"Python {sys.version.split()[0]}, numpy {numpy.__version__}, {sk}, fastmlp {fastmlp.__version__} ({lib}, built {built})")')"
bench_load

# field KEY FILE: KEY's value on the PEER line of FILE
field() { awk -v k="$1=" '$1 == "PEER" { for (i = 2; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit } }' "$2"; }
# smaller A B / larger A B: whether A is below / above B (both numbers)
smaller() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }
larger() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }
# profile_s PHASE FILE: the seconds of PHASE in fastmlp train --profile's table
profile_s() { sed -n "s/^  $1  *\([0-9.]*\) .*/\1/p" "$2" | head -n 1; }
now() { date +%s.%N; }
# paired_median COL: the median over the w5 pairs of column COL of
# $tmp/pairs (python fit samples/s, python loop samples/s) / column 3 (cli)
paired_median() {
    awk -v c="$1" '{ print $c / $3 }' "$tmp/pairs" | sort -g |
        awk '{ a[NR] = $1 } END { printf "%.2fx\n", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

if wants w5 "$PARTS"; then
    echo
    echo "== w5: the CLI and fastmlp.MLPClassifier, alternating, $REPEAT run(s) each"
    cli_sps="" cli_acc="" cli_work=""
    py_fit=""
    r=0
    while [ "$r" -lt "$REPEAT" ]; do
        r=$((r + 1))
        t0=$(now)
        "$bin" train --train "$trimg" --train-labels "$trlab" --test "$teimg" --test-labels "$telab" \
            --limit "$ROWS" --layers 256,128 --activation relu --head softmax-ce --dtype f32 --init he \
            --optimizer adam --lr 1e-3 --batch 64 --epochs "$EPOCHS" --seed 42 --threads "$THREADS" \
            --profile >"$tmp/cli.out"
        t1=$(now)
        # "test accuracy 0.8567  test loss 0.3987  123456 samples/s  (1.02 s training)"
        line=$(grep '^test accuracy ' "$tmp/cli.out")
        sps=$(echo "$line" | sed -n 's/.*  \([0-9.]*\) samples\/s .*/\1/p')
        acc=$(echo "$line" | sed -n 's/^test accuracy \([0-9.]*\) .*/\1/p')
        load_s=$(profile_s "data loading and parsing" "$tmp/cli.out")
        eval_s=$(profile_s evaluation "$tmp/cli.out")
        if [ -z "$sps" ] || [ -z "$acc" ] || [ -z "$load_s" ] || [ -z "$eval_s" ]; then
            echo "$0: no summary line or profile in fastmlp's output: $(tail -n 3 "$tmp/cli.out")" >&2
            exit 70
        fi
        wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
        work=$(awk -v w="$wall" -v l="$load_s" -v e="$eval_s" 'BEGIN { printf "%.4f", w - l - e }')
        echo "cli run $r: $line; process wall $wall s = loading $load_s s + test evaluation $eval_s s + the rest $work s"
        if [ -z "$cli_sps" ] || larger "$sps" "$cli_sps"; then cli_sps=$sps cli_acc=$acc; fi
        if [ -z "$cli_work" ] || smaller "$work" "$cli_work"; then cli_work=$work; fi

        if ! "$VPY" "$root/bench/peers/python_w5.py" "$fashion" --rows "$ROWS" --epochs "$EPOCHS" \
            --threads "$THREADS" --repeat 1 >"$tmp/py.out" 2>"$tmp/py.err"; then
            echo "$0: bench/peers/python_w5.py failed: $(tail -n 3 "$tmp/py.err")" >&2
            exit 70
        fi
        fit=$(field fit_s "$tmp/py.out")
        echo "python run $r: fit $fit s, $(field sps "$tmp/py.out") samples/s, training loop $(field loop_s "$tmp/py.out") s, test accuracy $(field acc "$tmp/py.out")"
        # this pair's ratios (python fit / cli loop, python loop / cli loop)
        echo "$(field sps "$tmp/py.out") $(field loop_sps "$tmp/py.out") $sps" >>"$tmp/pairs"
        if [ -z "$py_fit" ] || smaller "$fit" "$py_fit"; then
            py_fit=$fit
            cp "$tmp/py.out" "$tmp/py.best"
        fi
    done
    echo
    sed -n '/^profile /,/^memory:/p' "$tmp/cli.out" | sed 's/^/cli (last run) /'
    echo
    grep -v '^PEER ' "$tmp/py.best"
    py_sps=$(field sps "$tmp/py.best")
    py_acc=$(field acc "$tmp/py.best")
    py_loop_sps=$(field loop_sps "$tmp/py.best")
    py_copy=$(field copy "$tmp/py.best")
    work_sps=$(awk -v n="$ROWS" -v e="$EPOCHS" -v w="$cli_work" 'BEGIN { if (w > 0) printf "%.0f", n * e / w }')
    echo
    echo "cli:    $cli_sps samples/s in the training loop (best of $REPEAT), $work_sps samples/s over the process less loading and evaluation; test accuracy $cli_acc"
    echo "python: $py_sps samples/s over fit() (best of $REPEAT), $py_loop_sps samples/s in its training loop; test accuracy $py_acc"
    # the median of each pair's ratio, beside the best of each (see the header)
    paired=$(paired_median 1)
    paired_loop=$(paired_median 2)
    face=$(awk -v f="$py_fit" -v s="$(field setup_s "$tmp/py.best")" 'BEGIN { printf "%.1f%%", 100 * s / f }')
    echo "pairs:  median over the $REPEAT pairs of python fit() / cli loop samples/s $paired, python loop / cli loop $paired_loop"
    echo "face:   fit() outside the library's training loop: $(field setup_s "$tmp/py.best") s of $py_fit s = $face (in-process, immune to the machine's spells)"

    echo
    echo "== w5: scikit-learn"
    sk_sps="" sk_acc=""
    if [ -z "$PEERS" ] || ! wants sklearn "$PEERS"; then
        echo "sklearn: not run (PEERS)"
    elif ! "$VPY" -c 'import sklearn' 2>/dev/null; then
        echo "sklearn: not installed for $VPY"
    elif "$VPY" "$root/bench/peers/w5_sklearn.py" "$fashion" --rows "$ROWS" --epochs "$EPOCHS" \
        --repeat "$SKLEARN_REPEAT" >"$tmp/sk.out" 2>"$tmp/sk.err"; then
        grep -v '^PEER ' "$tmp/sk.out"
        sk_sps=$(field sps "$tmp/sk.out")
        sk_acc=$(field acc "$tmp/sk.out")
    else
        echo "sklearn: failed: $(tail -n 3 "$tmp/sk.err")"
    fi
fi

if wants tabular "$PARTS"; then
    echo
    echo "== tabular: fastmlp.MLPClassifier and scikit-learn, scikit-learn's defaults"
    no_sk=""
    if [ -z "$PEERS" ] || ! wants sklearn "$PEERS"; then no_sk=--no-sklearn; fi
    : >"$tmp/tab.out"
    if ! "$VPY" -c 'import sklearn' 2>/dev/null; then
        # the data sets are scikit-learn's own
        echo "tabular: not run: scikit-learn (its data sets) not installed for $VPY"
    else
        # $SETS and $no_sk unquoted: one argument each
        # shellcheck disable=SC2086
        if ! "$VPY" "$root/bench/peers/python_tabular.py" $SETS --seeds "$SEEDS" --threads "$THREADS" $no_sk \
            >"$tmp/tab.out" 2>"$tmp/tab.err"; then
            echo "$0: bench/peers/python_tabular.py failed: $(tail -n 3 "$tmp/tab.err")" >&2
            exit 70
        fi
        grep -v '^PEER ' "$tmp/tab.out"
    fi
    echo
    printf '%-14s %6s %9s %9s %7s %8s %8s %7s %7s\n' "data set" rows "fastmlp s" "sklearn s" ratio "fastmlp" sklearn "epochs" "epochs"
    printf '%-14s %6s %9s %9s %7s %8s %8s %7s %7s\n' "" train "fit med" "fit med" "" "acc" "acc" fastmlp sklearn
    for s in $SETS; do
        grep "^PEER name=$s " "$tmp/tab.out" >"$tmp/tab.$s" || true
        fs=$(field fastmlp_fit_s "$tmp/tab.$s")
        ss=$(field sklearn_fit_s "$tmp/tab.$s")
        [ "$ss" = n/a ] && ss=""
        printf '%-14s %6s %9s %9s %7s %8s %8s %7s %7s\n' "$s" "$(field rows "$tmp/tab.$s")" "${fs:-n/a}" "${ss:-n/a}" \
            "$(ratio "$fs" "$ss")" "$(field fastmlp_acc "$tmp/tab.$s")" "$(field sklearn_acc "$tmp/tab.$s")" \
            "$(field fastmlp_iter "$tmp/tab.$s")" "$(field sklearn_iter "$tmp/tab.$s")"
    done
fi

echo
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15-minute load average after the runs)"
echo
echo "== summary (THREADS=$THREADS; w5 ratios = python samples/s / cli samples/s, met = face <= 5% and loop_ratio >= 0.90; tabular ratio = sklearn fit s / fastmlp fit s)"
if wants w5 "$PARTS"; then
    met=$(awk -v f="${face%\%}" -v l="$(ratio "$cli_sps" "$py_loop_sps")" \
        'BEGIN { l += 0; print (f != "" && f + 0 <= 5 && l >= 0.90) ? "yes" : "no" }')
    echo "RESULT python-W5 cli_sps=$cli_sps python_sps=$py_sps ratio=$(ratio "$cli_sps" "$py_sps")" \
        "loop_ratio=$(ratio "$cli_sps" "$py_loop_sps") cli_work_sps=$work_sps work_ratio=$(ratio "$work_sps" "$py_sps")" \
        "paired_ratio=$paired paired_loop_ratio=$paired_loop face=$face met=$met cli_acc=$cli_acc python_acc=$py_acc" \
        "copy=$py_copy"
    echo "RESULT python-W5 python_sps=$py_sps sklearn_sps=${sk_sps:-n/a} ratio=$(ratio "$sk_sps" "$py_sps")" \
        "python_acc=$py_acc sklearn_acc=${sk_acc:-n/a}"
fi
if wants tabular "$PARTS"; then
    for s in $SETS; do
        fs=$(field fastmlp_fit_s "$tmp/tab.$s")
        ss=$(field sklearn_fit_s "$tmp/tab.$s")
        [ "$ss" = n/a ] && ss=""
        fa=$(field fastmlp_acc "$tmp/tab.$s") sa=$(field sklearn_acc "$tmp/tab.$s")
        fe=$(field fastmlp_iter "$tmp/tab.$s") se=$(field sklearn_iter "$tmp/tab.$s")
        echo "RESULT python-tabular $s fastmlp_fit_s=${fs:-n/a} sklearn_fit_s=${ss:-n/a} ratio=$(ratio "$fs" "$ss")" \
            "fastmlp_acc=${fa:-n/a} sklearn_acc=${sa:-n/a} fastmlp_epochs=${fe:-n/a} sklearn_epochs=${se:-n/a}"
    done
fi
