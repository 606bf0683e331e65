#!/bin/sh
# SPDX-License-Identifier: MIT
# Issue 20, the seeds' own pictures:
#  - train --sweep: each run's model is byte-identical to a separate run
#    with the same flags (crossed flags, and seeds with a hold-out split),
#    each run's log carries a header naming its values, the table's figures
#    are the logs', the best is the lowest test loss; bad sweeps are refused
#    with one line and write nothing;
#  - the overlay page, rendered in headless Chromium: one curve per run
#    (paths counted in the DOM Chromium built, colours counted in its
#    screenshot of the standalone loss chart, a run removed must be missed);
#  - report --runs: logs with and without the header line load, the legend
#    comes from the hyperparameters that differ (a headerless log: its name);
#  - --profile: memory samples monotone in time and bounded by the peak,
#    phase bands, the phases' bars adding up to the total, the text profile
#    as before; --plots writes standalone SVG files.
set -u
BUILD=$1
FASTMLP=$BUILD/fastmlp
FM=${FASTMLP_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
SUPPORT=$(cd "$(dirname "$0")/../support" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$SUPPORT/lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
    echo "FAIL: python3 is needed to check the sweeps"
    exit 1
fi

TR="--train $FM/train-images-idx3-ubyte.gz --train-labels $FM/train-labels-idx1-ubyte.gz
    --test $FM/t10k-images-idx3-ubyte.gz --test-labels $FM/t10k-labels-idx1-ubyte.gz
    --limit 1500 --layers 16 --epochs 3 --threads 1 --seed 5"

# ------------------------------------------------------------ sweeps equal separate runs

mkdir "$T/sw"
"$FASTMLP" train $TR --sweep lr=0.01,2e-3 --sweep batch=32,100 -o "$T/sw/m.mlp" --report "$T/sw.html" \
    --plots "$T/plots" >"$T/sw.out" 2>"$T/sw.err"
rc=$?
[ $rc -eq 0 ] && ok || bad "sweep exited $rc: $(cat "$T/sw.err")"
for lr in 0.01 2e-3; do
    for b in 32 100; do
        f="$T/sw/m-lr$lr-batch$b.mlp"
        "$FASTMLP" train $TR --lr $lr --batch $b -o "$T/sep.mlp" -q >/dev/null 2>&1 || bad "separate run lr $lr batch $b"
        cmp -s "$T/sep.mlp" "$f" && ok || bad "the sweep's model $f differs from a separate run with --lr $lr --batch $b"
        [ -s "$T/sw/m-lr$lr-batch$b.jsonl" ] && ok || bad "no log beside $f"
    done
done

# The logs: a header with the run's values, then one line per epoch; the
# table's figures are the logs' (the final test figures are those of the
# last epoch's weights: no early stopping here).
cat >"$T/check_sweep.py" <<'EOF'
import json, math, re, sys
out, d = open(sys.argv[1]).read().splitlines(), sys.argv[2]
err = []
rows = [l.split() for l in out if re.match(r"^\s+(0\.01|2e-3)\s", l)]
if len(rows) != 4: err.append("table rows %s" % rows)
best = [r for r in rows if r[-1] == "best"]
if len(best) != 1: err.append("%d rows marked best" % len(best))
head = [l for l in out if l.startswith("sweep: 4 runs, best lr=")]
if len(head) != 1: err.append("no 'sweep: 4 runs, best ...' line")
losses = []
for r in rows:
    lr, b = r[0], r[1]
    lines = open("%s/m-lr%s-batch%s.jsonl" % (d, lr, b)).read().splitlines()
    h = json.loads(lines[0])
    if h.get("fastmlp_log") != 1: err.append("%s: first line is not a header" % lr)
    if h.get("sweep") != {"lr": float(lr), "batch": int(b)}: err.append("header's sweep %s" % h.get("sweep"))
    hp = h.get("hyperparameters", {})
    if hp.get("lr") != float(lr) or hp.get("batch") != int(b) or hp.get("epochs") != 3 or hp.get("layers") != "16":
        err.append("header's hyperparameters %s" % hp)
    ep = [json.loads(l) for l in lines[1:]]
    if [e["epoch"] for e in ep] != [1, 2, 3]: err.append("epochs %s" % [e["epoch"] for e in ep])
    last = ep[-1]
    # epochs train_loss train_acc test_loss test_acc seconds
    got = [float(x) for x in r[3:7]]
    want = [last["train_loss"], last["train_acc"], last["test_loss"], last["test_acc"]]
    if any(abs(g - w) > 1e-4 * max(1, abs(w)) for g, w in zip(got, want)):
        err.append("row %s %s: %s, the log says %s" % (lr, b, got, want))
    losses.append((float(r[5]), r))
if best and min(losses)[1] is not best[0]: err.append("best %s is not the lowest test loss" % best)
for e in err[:10]: print("  " + e)
sys.exit(1 if err else 0)
EOF
python3 "$T/check_sweep.py" "$T/sw.out" "$T/sw" && ok || bad "the sweep's table or logs are wrong: $(cat "$T/sw.out")"

# Seeds with a hold-out: each seed splits the rows as its own run would.
mkdir "$T/sd"
"$FASTMLP" train $TR --valid-fraction 0.2 --sweep seed=1,2 -o "$T/sd/m" -q >/dev/null 2>"$T/err" ||
    bad "seed sweep: $(cat "$T/err")"
for s in 1 2; do
    "$FASTMLP" train $TR --valid-fraction 0.2 --seed $s -o "$T/sep" -q >/dev/null 2>&1
    cmp -s "$T/sep" "$T/sd/m-seed$s" && ok || bad "seed sweep: run seed=$s differs from a separate run"
done
[ -s "$T/sd/m-seed1.jsonl" ] && grep -q '"valid_loss"' "$T/sd/m-seed1.jsonl" && ok ||
    bad "seed sweep: no log with validation figures beside -o m"

# With a validation set and a test set, the best is picked on the
# validation loss (the test set stays unseen): the row marked best has the
# lowest valid_loss, which the table shows beside the test figures.
"$FASTMLP" train $TR --valid-fraction 0.2 --sweep lr=0.05,0.01,1e-3 -q >"$T/out" 2>"$T/err" || bad "valid sweep: $(cat "$T/err")"
python3 - "$T/out" <<'EOF' && ok || bad "valid sweep: the best is not the lowest valid loss: $(cat "$T/out")"
import sys
lines = open(sys.argv[1]).read().splitlines()
head = [l.split() for l in lines if l.startswith("  lr ")][0]
rows = [l.split() for l in lines if l.startswith("  0.05 ") or l.startswith("  0.01 ") or l.startswith("  1e-3 ")]
col = head.index("valid_loss")
best = [r for r in rows if r[-1] == "best"]
ok = any("(lowest valid loss)" in l for l in lines) and len(rows) == 3 and len(best) == 1 and \
    float(best[0][col]) == min(float(r[col]) for r in rows)
sys.exit(0 if ok else 1)
EOF

# ------------------------------------------------------------ refused sweeps

mkdir "$T/none"
expect 64 "'foo' cannot be swept" -- "$FASTMLP" train $TR --sweep foo=1,2 -o "$T/none/m"
expect 64 "expected FLAG=V1,V2" -- "$FASTMLP" train $TR --sweep lr= -o "$T/none/m"
expect 64 "'abc' is not a number" -- "$FASTMLP" train $TR --sweep lr=0.1,abc -o "$T/none/m"
expect 64 "is given twice" -- "$FASTMLP" train $TR --sweep lr=0.1,0.10 -o "$T/none/m"
expect 64 "is swept twice" -- "$FASTMLP" train $TR --sweep lr=0.1 --sweep lr=0.2 -o "$T/none/m"
expect 64 "at least 1" -- "$FASTMLP" train $TR --sweep batch=0,32 -o "$T/none/m"
expect 64 "learning rate -1 must be positive" -- "$FASTMLP" train $TR --sweep lr=0.1,-1 -o "$T/none/m"
expect 64 "must name a file" -- "$FASTMLP" train $TR --sweep lr=0.1,0.2 -o -
expect 64 "exclude each other" -- "$FASTMLP" train $TR --sweep lr=0.1,0.2 --resume "$T/none/x.ckpt"
expect 64 "at most 256" -- "$FASTMLP" train $TR --sweep "lr=1,2,3,4,5,6,7,8,9 batch=1,2,3,4,5,6,7,8,9 epochs=1,2,3,4"
printf 'sweep: [lr=0.1, batch=32]\n' >"$T/seq.yaml"
expect 64 "not a sequence" -- "$FASTMLP" train $TR --config "$T/seq.yaml" -o "$T/none/m"
[ -z "$(ls -A "$T/none")" ] && ok || bad "a refused sweep wrote $(ls "$T/none")"
# In a --config file: one string, several flags separated by spaces; a
# --sweep flag replaces the file's.
printf 'sweep: lr=0.01,2e-3 batch=32,100\n' >"$T/sw.yaml"
"$FASTMLP" train $TR --config "$T/sw.yaml" --epochs 1 -q >"$T/out" 2>"$T/err" &&
    [ "$(grep -c '^  0.01 \|^  2e-3 ' "$T/out")" -eq 4 ] && ok || bad "--config's sweep: $(cat "$T/out" "$T/err")"
"$FASTMLP" train $TR --config "$T/sw.yaml" --sweep l2=0,1e-4 --epochs 1 -q >"$T/out" 2>"$T/err" &&
    grep -q '^  l2  ' "$T/out" && [ "$(grep -c '^  0  \|^  1e-4  ' "$T/out")" -eq 2 ] && ok ||
    bad "--sweep over --config's: $(cat "$T/out" "$T/err")"

# ------------------------------------------------------------ the overlay, rendered

# check_dom.py DOM N: the loss and accuracy charts hold N train and N test
# curves (one <path> each per run), the legend N runs with one marked best.
cat >"$T/check_dom.py" <<'EOF'
import sys
from html.parser import HTMLParser

class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.chart, self.paths, self.best, self.runs = None, {}, 0, 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg": self.chart = a.get("aria-label")
        cls = (a.get("class") or "").split()
        if tag == "path" and "curve" in cls:
            k = (self.chart, "eval" if "eval" in cls else "train")
            self.paths.setdefault(k, set()).add(a.get("data-run"))
            self.paths.setdefault(k + ("n",), []).append(1)
        if tag == "text" and "run" in cls and self.chart == "Loss per epoch":
            self.runs += 1
            self.best += "best" in cls
    def handle_startendtag(self, tag, attrs): self.handle_starttag(tag, attrs)
    def handle_endtag(self, tag):
        if tag == "svg": self.chart = None

n = int(sys.argv[2])
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
err = []
for chart in ("Loss per epoch", "Accuracy per epoch"):
    for s in ("train", "eval"):
        runs, count = p.paths.get((chart, s), set()), len(p.paths.get((chart, s, "n"), []))
        if len(runs) != n or count != n: err.append("%s, %s: %d paths of %d runs, expected %d" % (chart, s, count, len(runs), n))
if p.runs != n or p.best != 1: err.append("legend: %d runs, %d marked best" % (p.runs, p.best))
for e in err: print("  " + e)
sys.exit(1 if err else 0)
EOF
# check_runs_png.py PNG N: each of the first N run colours covers a
# curve's worth of pixels (a legend line alone is under 150)
cat >"$T/check_runs_png.py" <<'EOF'
import sys
from pngread import pixels
cols = [(0x1f, 0x77, 0xb4), (0xff, 0x7f, 0x0e), (0x2c, 0xa0, 0x2c), (0xd6, 0x27, 0x28), (0x94, 0x67, 0xbd)]
n = int(sys.argv[2])
count = [0] * n
for px in pixels(sys.argv[1]):
    for i in range(n):
        if max(abs(px[k] - cols[i][k]) for k in range(3)) <= 24:
            count[i] += 1
print("  run colour pixels: %s" % count)
sys.exit(0 if min(count) >= 400 else 1)
EOF

need_chromium
if [ -z "$CHROME" ]; then
    bad "chromium not found and not installable here (not root?): run scripts/setup.sh"
else
    if dump_dom "$T/sw.html" "$T/sw.dom"; then
        python3 "$T/check_dom.py" "$T/sw.dom" 4 && ok || bad "the rendered overlay does not hold one curve per run"
    else
        bad "chromium dumped no DOM: $(tail -3 "$T/chrome.log")"
    fi
    if shoot "$T/plots/loss.svg" "$T/loss.png" 800,400; then
        PYTHONPATH="$SUPPORT" python3 "$T/check_runs_png.py" "$T/loss.png" 4 && ok ||
            bad "the rendered loss chart does not show four runs"
    else
        bad "chromium wrote no screenshot of loss.svg: $(tail -3 "$T/chrome.log")"
    fi
    # Negative controls: a run's curves removed must be missed by both checks.
    python3 - "$T/plots/loss.svg" "$T/cut.svg" <<'EOF'
import re, sys
s = open(sys.argv[1], encoding="utf-8").read()
open(sys.argv[2], "w", encoding="utf-8").write(re.sub(r'<path class="curve [a-z]+" data-run="2"[^>]*/>\n', "", s))
EOF
    if shoot "$T/cut.svg" "$T/cut.png" 800,400; then
        PYTHONPATH="$SUPPORT" python3 "$T/check_runs_png.py" "$T/cut.png" 4 >/dev/null &&
            bad "the colour check passed a chart without run 3" || ok
    fi
    sed 's#<path class="curve train" data-run="1"[^>]*/>##' "$T/sw.html" >"$T/cut.html"
    python3 "$T/check_dom.py" "$T/cut.html" 4 >/dev/null && bad "the DOM check passed a page without a curve" || ok
fi

# ------------------------------------------------------------ report --runs

# The sweep's logs, and one of them without its header line (as logs
# written before the header existed): all load, the legend names the
# hyperparameters that differ, the headerless log by its file's name.
tail -n +2 "$T/sw/m-lr0.01-batch32.jsonl" >"$T/old-log.jsonl"
"$FASTMLP" report --runs "$T"/sw/m-lr*.jsonl "$T/old-log.jsonl" -o "$T/cmp.html" >"$T/cmp.out" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] && ok || bad "report --runs exited $rc: $(cat "$T/err")"
python3 - "$T/cmp.html" <<'EOF' && ok || bad "report --runs: legend or curves wrong"
import re, sys
s = open(sys.argv[1], encoding="utf-8").read()
loss = s[s.index('aria-label="Loss per epoch"'):]
loss = loss[:loss.index("</svg>")]
labels = re.findall(r'<text class="run[^"]*"[^>]*>([^<]*)<', loss)
# the header's numbers in their shortest form: 2e-3 is 0.002 there
want = {"lr=0.01 batch=32", "lr=0.01 batch=100", "lr=0.002 batch=32", "lr=0.002 batch=100", "old-log.jsonl"}
got = {l.replace("\u2605 best", "").strip() for l in labels}
paths = len(re.findall(r'<path class="curve train"', loss))
ok = got == want and paths == 5
if not ok: print("  legend %s, %d train curves" % (sorted(got), paths))
sys.exit(0 if ok else 1)
EOF
[ "$(grep -c 'jsonl\|lr=' "$T/cmp.out")" -ge 5 ] && ok || bad "report --runs printed no table: $(cat "$T/cmp.out")"

# ------------------------------------------------------------ --profile

# check_mem.py HTML: the memory path's times strictly increase, none of its
# values is above the peak line, the bands name phases, the bars add up to
# the total.
cat >"$T/check_mem.py" <<'EOF'
import re, sys
s = open(sys.argv[1], encoding="utf-8").read()
err = []
m = re.search(r'<path class="mem"[^>]* d="([^"]*)"', s)
peak = re.search(r'<line class="peak"[^>]* y1="([0-9.]+)"', s)
if not m or not peak:
    print("  no memory path or no peak line")
    sys.exit(1)
pts = [(float(x), float(y)) for x, y in re.findall(r"[ML]([0-9.]+) ([0-9.]+)", m.group(1))]
if len(pts) < 20: err.append("%d samples" % len(pts))
xs = [x for x, _ in pts]
if any(b <= a for a, b in zip(xs, xs[1:])): err.append("times not increasing")
# SVG y grows downwards: no sample above the peak means y >= the peak's y
py = float(peak.group(1))
above = [y for _, y in pts if y < py - 1.0]  # a pixel: statm and ru_maxrss round differently (~180 KiB)
if above: err.append("%d samples above the peak line (y %s < %s)" % (len(above), above[:3], py))
bands = re.findall(r'<rect class="band"[^>]*><title>([^<:,]*)', s)
for want in ("data loading and parsing", "training", "evaluation"):
    if want not in bands: err.append("no %r band (bands: %s)" % (want, sorted(set(bands))))
secs = [float(x) for x in re.findall(r'<rect class="phase"[^>]*><title>[^<]*: ([0-9.]+) s', s)]
total = re.search(r"seconds \(total ([0-9.]+)\)", s)
if not total or abs(sum(secs) - float(total.group(1))) > 0.01 + 0.002 * len(secs):
    err.append("bars sum %s, total %s" % (sum(secs), total and total.group(1)))
for e in err: print("  " + e)
sys.exit(1 if err else 0)
EOF
"$FASTMLP" train $TR --limit 20000 --layers 128 --epochs 3 --profile --report "$T/prof.html" --plots "$T/pplots" -o "$T/p.mlp" \
    >"$T/prof.out" 2>"$T/err" || bad "train --profile --report: $(cat "$T/err")"
python3 "$T/check_mem.py" "$T/prof.html" && ok || bad "the memory plot is wrong"
python3 "$T/check_mem.py" "$T/pplots/memory.svg" >/dev/null 2>&1 # (the bars are another file)
grep -q "^profile  *seconds  *calls  *share" "$T/prof.out" && grep -q "^memory: peak resident" "$T/prof.out" && ok ||
    bad "the text profile changed: $(cat "$T/prof.out")"
# A corrupted plot must be caught: a sample moved back in time.
sed 's#\(<path class="mem"[^>]* d="M[0-9.]* [0-9.]*\) L[0-9.]*#\1 L0.00#' "$T/prof.html" >"$T/prof_bad.html"
python3 "$T/check_mem.py" "$T/prof_bad.html" >/dev/null && bad "check_mem.py missed a sample back in time" || ok

# --plots: every chart a standalone SVG document
python3 - "$T/pplots" "$T/plots" <<'EOF' && ok || bad "--plots did not write standalone SVG files"
import os, sys
import xml.etree.ElementTree as ET
want = {sys.argv[1]: {"loss", "accuracy", "confusion", "phases", "memory"},
        sys.argv[2]: {"loss", "accuracy", "confusion"}}
bad = []
for d, names in want.items():
    have = {f[:-4] for f in os.listdir(d) if f.endswith(".svg")}
    if not names <= have: bad.append("%s: %s" % (d, sorted(have)))
    for n in have:
        root = ET.parse(os.path.join(d, n + ".svg")).getroot()
        if root.tag != "{http://www.w3.org/2000/svg}svg": bad.append("%s.svg root %s" % (n, root.tag))
for b in bad: print("  " + b)
sys.exit(1 if bad else 0)
EOF
# eval --plots: its confusion matrix
"$FASTMLP" eval "$T/p.mlp" "$FM/t10k-images-idx3-ubyte.gz" --labels "$FM/t10k-labels-idx1-ubyte.gz" --plots "$T/ev" \
    >/dev/null 2>"$T/err" && [ -s "$T/ev/confusion.svg" ] && ok || bad "eval --plots: $(cat "$T/err")"
# --plots alone (no --report): the charts without the page
"$FASTMLP" train $TR --epochs 1 --plots "$T/only" -q >/dev/null 2>"$T/err" && [ -s "$T/only/loss.svg" ] && ok ||
    bad "--plots without --report: $(cat "$T/err")"
expect 73 "not a directory" -- "$FASTMLP" train $TR --epochs 1 --plots "$T/p.mlp"

echo "sweep: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
