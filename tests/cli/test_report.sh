#!/bin/sh
# SPDX-License-Identifier: MIT
# The HTML report: `fastmlp eval --report` on Fashion-MNIST (and on image
# data in HDF5, NPY and 4-D IDX files) is validated structurally (balanced
# tags, one <html>, SVG present, nothing fetched from the network, every
# image an embedded PNG that decodes, heat map and captions equal to what
# eval and predict say), then rendered in headless Chromium and the
# screenshot checked to show the plots (and a blank page checked to fail).
# CSV tables: class names from the table (escaped, long ones cut) on the
# heat map and in the per-class table; real targets: predicted-vs-true and
# residual plots, subsampled, and MSE / R^2 equal to what eval says.
set -u
BUILD=$1
FASTMLP=$BUILD/fastmlp
FM=${FASTMLP_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
D=${FASTMLP_DATA_DIR:-$(dirname "$0")/../data}
SUPPORT=$(cd "$(dirname "$0")/../support" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$SUPPORT/lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
    echo "FAIL: python3 is needed to check the report"
    echo "report: 0 passed, 1 failed"
    exit 1
fi

# ------------------------------------------------------------ checkers

# validate.py HTML N_IMAGES W H COLOUR_TYPE [EVAL_JSON PRED_CSV TEXT]
# Structure, no network references, embedded PNGs; with the optional
# arguments also: heat map cells = eval's matrix, captions and red marks =
# predict's first rows, TEXT (unescaped) in the subtitle.
cat >"$T/validate.py" <<'EOF'
import base64, csv, json, re, struct, sys, zlib
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
        "track", "wbr"}
NS_OK = ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink")

def png_info(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature"
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        assert zlib.crc32(typ + body) == struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0], "PNG CRC"
        if typ == b"IHDR": hdr = struct.unpack(">IIBBBBB", body)
        if typ == b"IDAT": idat += body
        pos += 12 + n
        if typ == b"IEND": break
    assert pos == len(data), "bytes after IEND"
    w, h, depth, ctype = hdr[:4]
    ch = {0: 1, 2: 3, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    assert depth == 8 and len(raw) == h * (w * ch + 1), "PNG scanlines"
    return w, h, ctype

class V(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.count = [], [], {}
        self.pngs, self.cells, self.captions, self.bad_figs = [], [], [], 0
        self.sub = ""
        self.cur = None

    def tag(self, tag, attrs):
        # SVG has its own <title> (tooltips): counted apart from the page's
        key = "svg:" + tag if any(t == "svg" for t, _ in self.stack) else tag
        self.count[key] = self.count.get(key, 0) + 1
        a = dict(attrs)
        if tag in ("script", "iframe", "object", "embed", "link", "img"):
            self.errors.append("<%s> at %s" % (tag, self.getpos()))
        for k in ("href", "src", "xlink:href"):
            v = a.get(k)
            if v is not None and not (v.startswith("data:") or v.startswith("#")):
                self.errors.append("%s=%r at %s is not a data: URI" % (k, v[:60], self.getpos()))
        if "url(" in (a.get("style") or ""):
            self.errors.append("url() in a style at %s" % (self.getpos(),))
        if tag == "image":
            href = a.get("href") or a.get("xlink:href") or ""
            if not href.startswith("data:image/png;base64,"):
                self.errors.append("<image> without a PNG data: URI at %s" % (self.getpos(),))
            else:
                try:
                    self.pngs.append(png_info(base64.b64decode(href[22:], validate=True)))
                except Exception as e:
                    self.errors.append("<image> at %s: %s" % (self.getpos(), e))
        if tag == "figure" and a.get("class") == "bad":
            self.bad_figs += 1
        self.cur = ("cell" if tag == "text" and a.get("class") == "cell" else
                    "cap" if tag == "figcaption" else "sub" if tag == "p" and a.get("class") == "sub" else None)

    def handle_starttag(self, tag, attrs):
        self.tag(tag, attrs)
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        self.tag(tag, attrs)
        self.cur = None

    def handle_endtag(self, tag):
        self.cur = None
        if tag in VOID:
            self.errors.append("</%s> closes a void element at %s" % (tag, self.getpos()))
        elif not self.stack or self.stack[-1][0] != tag:
            self.errors.append("</%s> at %s does not close %s" % (tag, self.getpos(), self.stack[-1:] or "anything"))
        else:
            self.stack.pop()

    def handle_data(self, d):
        if self.cur == "cell": self.cells.append(int(d))
        elif self.cur == "cap": self.captions.append(d)
        elif self.cur == "sub": self.sub += d

html_path, n_img, w, h, ctype = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
doc = open(html_path, encoding="utf-8").read()
v = V()
v.feed(doc)
v.close()
err = list(v.errors)
if v.stack: err.append("unclosed: %s" % v.stack[:5])
for t in ("html", "head", "body", "title"):
    if v.count.get(t) != 1: err.append("%d <%s> elements" % (v.count.get(t, 0), t))
if v.count.get("svg", 0) < (2 if n_img else 1): err.append("%d <svg> elements" % v.count.get("svg", 0))
low = doc.lower()
for m in re.finditer(r"https?://", low):
    if not any(low.startswith(ns, m.start()) for ns in NS_OK):
        err.append("network reference at offset %d: %r" % (m.start(), doc[m.start():m.start() + 50]))
for bad in ("<script", "@import", "@font-face"):
    if bad in low: err.append("found " + bad)
if len(v.pngs) != n_img: err.append("%d images, expected %d" % (len(v.pngs), n_img))
if any(p != (w, h, ctype) for p in v.pngs): err.append("image shapes %s, expected %s" % (set(v.pngs), (w, h, ctype)))
if len(sys.argv) > 6:
    e = json.load(open(sys.argv[6]))
    flat = [c for row in e["confusion"] for c in row]
    if v.cells != flat: err.append("heat map cells %s differ from eval's matrix %s" % (v.cells[:12], flat[:12]))
    rows = list(csv.DictReader(open(sys.argv[7])))[:n_img]
    want = ["pred %s / true %s" % (r["class"], r["label"]) for r in rows]
    if v.captions != want: err.append("captions %s, predict says %s" % (v.captions[:4], want[:4]))
    wrong = sum(r["class"] != r["label"] for r in rows)
    if v.bad_figs != wrong or not 0 < wrong < n_img:
        err.append("%d samples marked wrong, predict has %d wrong" % (v.bad_figs, wrong))
    if sys.argv[8] not in v.sub: err.append("subtitle %r lacks %r" % (v.sub, sys.argv[8]))
for x in err[:10]: print("  " + x)
sys.exit(1 if err else 0)
EOF

# check_png.py SHOT: the screenshot shows drawn plots: enough non-white
# pixels, a range of colours, blue (right) and red (confused) heat map cells.
cat >"$T/check_png.py" <<'EOF'
import sys
from pngread import read_png

w, h, ch, rows = read_png(sys.argv[1])
non_white = blue = red = 0
buckets = {}
for row in rows:
    for x in range(0, len(row), ch):
        r, g, b = (row[x], row[x + 1], row[x + 2]) if ch >= 3 else (row[x],) * 3
        if min(r, g, b) < 235:
            non_white += 1
            k = (r >> 4, g >> 4, b >> 4)
            buckets[k] = buckets.get(k, 0) + 1
        if b - r > 80 and b > 100: blue += 1
        if r - b > 80 and r > 120: red += 1
frac = non_white / (w * h)
colours = sum(1 for n in buckets.values() if n >= 30)
print("  %dx%d: %.1f%% non-white, %d colours, %d blue and %d red pixels" % (w, h, 100 * frac, colours, blue, red))
problems = []
if frac < 0.02: problems.append("almost blank")
if colours < 12: problems.append("only %d colours" % colours)
if blue < 500: problems.append("no blue heat map cells")
if red < 300: problems.append("no red cells or marks")
if problems:
    print("  not drawn: " + "; ".join(problems))
    sys.exit(1)
EOF

# ------------------------------------------------------------ Fashion-MNIST

TX=$FM/t10k-images-idx3-ubyte.gz
TY=$FM/t10k-labels-idx1-ubyte.gz
"$FASTMLP" train --train "$FM/train-images-idx3-ubyte.gz" --train-labels "$FM/train-labels-idx1-ubyte.gz" \
    --test "$TX" --test-labels "$TY" --limit 2000 --epochs 2 --layers 32 --seed 7 --threads 1 \
    -o "$T/m.mlp" >"$T/train.out" 2>"$T/train.err"
rc=$?
[ $rc -eq 0 ] && ok || bad "train exited $rc: $(cat "$T/train.err")"

# The data under a name HTML must escape: it appears in the subtitle.
ODD="t10k <b>&amp; 'q\"-images-idx3-ubyte.gz"
ln -s "$TX" "$T/$ODD"
"$FASTMLP" eval "$T/m.mlp" "$T/$ODD" --labels "$TY" --report "$T/report.html" >"$T/eval.out" 2>"$T/eval.err"
rc=$?
[ $rc -eq 0 ] && [ -s "$T/report.html" ] && ok || bad "eval --report exited $rc: $(cat "$T/eval.err")"
grep -q "^accuracy" "$T/eval.out" && ok || bad "eval --report printed no table: $(cat "$T/eval.out")"
"$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$TY" --json >"$T/eval.json" 2>&1 || bad "eval --json failed"
"$FASTMLP" predict "$T/m.mlp" "$TX" --labels "$TY" -o "$T/pred.csv" 2>&1 || bad "predict failed"
python3 "$T/validate.py" "$T/report.html" 48 28 28 0 "$T/eval.json" "$T/pred.csv" "$ODD" && ok ||
    bad "report.html is not a valid self-contained report"
# The same report on stdout ('-'), and nothing else there.
"$FASTMLP" eval "$T/m.mlp" "$T/$ODD" --labels "$TY" --report - >"$T/stdout.html" 2>/dev/null
head -1 "$T/stdout.html" | grep -q '^<!DOCTYPE html>' && [ "$(tail -1 "$T/stdout.html")" = '</html>' ] && ok ||
    bad "--report - did not write the report to stdout"

# The validator itself must catch what it is there to catch.
sed 's#</figure>##' "$T/report.html" >"$T/broken1.html"
python3 "$T/validate.py" "$T/broken1.html" 48 28 28 0 >/dev/null && bad "validator missed unbalanced tags" || ok
sed 's#<style>#<link rel="stylesheet" href="https://example.com/a.css"><style>#' "$T/report.html" >"$T/broken2.html"
python3 "$T/validate.py" "$T/broken2.html" 48 28 28 0 >/dev/null && bad "validator missed a network reference" || ok

# ------------------------------------------------------------ other image formats

# Seed 000's cats in HDF5: (n, 64, 64, 3) u8 -> RGB samples (the test set has 50 rows).
"$FASTMLP" train --train "$D/train_catvnoncat.h5" --layers none --head sigmoid-bce --init zeros \
    --optimizer gd --lr 0.005 --epochs 20 --dtype f64 -q -o "$T/cat.mlp" >/dev/null 2>"$T/err" || bad "cat train: $(cat "$T/err")"
"$FASTMLP" eval "$T/cat.mlp" "$D/test_catvnoncat.h5" --report "$T/cat.html" >/dev/null 2>"$T/err" || bad "cat eval: $(cat "$T/err")"
python3 "$T/validate.py" "$T/cat.html" 48 64 64 2 && ok || bad "cat report (HDF5, RGB)"

# NPY (n, h, w) u8 -> grey samples 5 wide, 6 high; a rank-2 NPY has no image shape.
python3 - "$T" <<'EOF'
import struct, sys
def npy(path, descr, shape, payload):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, "".join("%d, " % d for d in shape))
    h += " " * (63 - (10 + len(h)) % 64) + "\n"
    open(path, "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + payload)
n = 60
labels = [r % 3 for r in range(n)]
pix = bytes((40 + 80 * labels[r] + 7 * i) % 256 for r in range(n) for i in range(30))
npy(sys.argv[1] + "/x3.npy", "|u1", (n, 6, 5), pix)
npy(sys.argv[1] + "/x2.npy", "|u1", (n, 30), pix)
npy(sys.argv[1] + "/y.npy", "<i4", (n,), b"".join(struct.pack("<i", y) for y in labels))
# IDX (n, h, w, 3): RGB samples 6 wide, 4 high.
def idx(path, typ, dims, payload):
    open(path, "wb").write(bytes([0, 0, typ, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload)
idx(sys.argv[1] + "/x4.idx", 8, (n, 4, 6, 3), bytes((r * 31 + i * 5) % 256 for r in range(n) for i in range(72)))
idx(sys.argv[1] + "/y.idx", 8, (n,), bytes(labels))
EOF
for f in x3.npy:y.npy x2.npy:y.npy x4.idx:y.idx; do
    x=${f%%:*} y=${f##*:}
    "$FASTMLP" train --train "$T/$x" --train-labels "$T/$y" --layers none --epochs 3 -q -o "$T/$x.mlp" >/dev/null 2>"$T/err" &&
        "$FASTMLP" eval "$T/$x.mlp" "$T/$x" --labels "$T/$y" --report "$T/$x.html" >/dev/null 2>>"$T/err" ||
        bad "$x: $(cat "$T/err")"
done
python3 "$T/validate.py" "$T/x3.npy.html" 48 5 6 0 && ok || bad "NPY (n, h, w) report"
python3 "$T/validate.py" "$T/x2.npy.html" 0 0 0 0 && ok || bad "NPY (n, d) report should have no samples"
python3 "$T/validate.py" "$T/x4.idx.html" 48 6 4 2 && ok || bad "IDX (n, h, w, 3) report"

# ------------------------------------------------------------ CSV tables

# check_tab.py classify HTML NAME...: the heat map's row and column labels
# and the per-class table's first column are the NAMEs (sorted by bytes, as
# the loader orders classes), each cut to the report's bound with an
# ellipsis; no name's markup leaked into the page; no regression plots.
# check_tab.py regress HTML EVAL_JSON N_POINTS N_ROWS: the predicted-vs-true
# plot (with its y = x line) and the residual plot (with its zero line) each
# have N_POINTS points, the note says N_POINTS of N_ROWS when they differ,
# and the table's MSE and R^2 are eval's; no confusion matrix.
cat >"$T/check_tab.py" <<'EOF'
import json, sys
from html.parser import HTMLParser

class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.svg, self.svgs, self.tags = None, {}, {}
        self.texts, self.tds, self.ths, self.notes = [], [], [], []
        self.cur, self.buf, self.in_regress = None, "", False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "svg":
            self.svg = a.get("aria-label")
            self.svgs[self.svg] = {"circles": 0, "diag": 0, "zero": 0}
        if tag == "circle" and self.svg: self.svgs[self.svg]["circles"] += 1
        if tag == "line" and self.svg and a.get("class") in ("diag", "zero"): self.svgs[self.svg][a["class"]] += 1
        if tag == "table" and "regress" in (a.get("class") or ""): self.in_regress = True
        if (tag == "text" and a.get("class") in ("row", "col")) or tag in ("td", "th") or \
                (tag == "p" and a.get("class") == "note"):
            self.cur, self.buf = (tag, a.get("class")), ""

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "svg": self.svg = None
        if self.cur and tag == self.cur[0]:
            t, c = self.cur
            if t == "text": self.texts.append((c, self.buf))
            elif t == "td": self.tds.append((self.in_regress, self.buf))
            elif t == "th": self.ths.append((self.in_regress, self.buf))
            else: self.notes.append(self.buf)
            self.cur = None
        if tag == "table": self.in_regress = False

    def handle_data(self, d):
        if self.cur: self.buf += d

mode, html = sys.argv[1], sys.argv[2]
p = P()
p.feed(open(html, encoding="utf-8").read())
err = []
if mode == "classify":
    names = sorted(sys.argv[3:], key=lambda s: s.encode())
    cut = lambda s, n: s if len(s) <= n else s[:n] + "\u2026"
    for cls in ("row", "col"):
        got = [t for c, t in p.texts if c == cls]
        if got != [cut(n, 16) for n in names]: err.append("heat map %s labels %s, expected %s" % (cls, got, names))
    # the table's rows: class, support, predicted, precision, recall, F1
    first = [t for r, t in p.tds if not r][0:6 * len(names):6]
    if first != [cut(n, 32) for n in names]: err.append("table's classes %s, expected %s" % (first, names))
    for t in ("b", "i", "u"):
        if p.tags.get(t): err.append("<%s> in the page: a class name was not escaped" % t)
    if "confusion matrix" not in p.svgs: err.append("no confusion matrix")
    if "predicted vs true" in p.svgs: err.append("a regression plot in a classification report")
else:
    e = json.load(open(sys.argv[3]))
    n_points, n_rows = int(sys.argv[4]), int(sys.argv[5])
    sc, rs = p.svgs.get("predicted vs true"), p.svgs.get("residuals")
    if not sc or sc["circles"] != n_points or sc["diag"] != 1:
        err.append("predicted-vs-true plot: %s, expected %d points and the y = x line" % (sc, n_points))
    if not rs or rs["circles"] != n_points or rs["zero"] != 1:
        err.append("residual plot: %s, expected %d points and the zero line" % (rs, n_points))
    heads = [t for r, t in p.ths if r]
    cells = [t for r, t in p.tds if r]
    if heads != ["target", "MSE", "MAE", "R\u00b2"] or len(cells) != 4:
        err.append("regression table %s / %s" % (heads, cells))
    else:
        for name, got in (("mse", cells[1]), ("r2", cells[3])):
            if abs(float(got) - e[name]) > 1e-5 * max(1, abs(e[name])):
                err.append("table's %s %s, eval says %r" % (name, got, e[name]))
    said = "%d of the %d rows" % (n_points, n_rows)
    if (n_points < n_rows) != any(said in n for n in p.notes): err.append("note on the sample: %s" % p.notes)
    if "confusion matrix" in p.svgs: err.append("a confusion matrix in a regression report")
for x in err[:10]: print("  " + x)
sys.exit(1 if err else 0)
EOF

# Classes named by strings, one with markup and one too long to show whole.
LONG="an_unusually_long_class_name_that_needs_cutting"
NAMES="cat dog <i>&y'z $LONG"
python3 - "$T" $NAMES <<'EOF'
import random, sys
r = random.Random(5)
names = sys.argv[2:]
with open(sys.argv[1] + "/animals.csv", "w") as f:
    f.write("a,b,target\n")
    for i in range(200):
        k = i % 4
        f.write("%.3f,%.3f,%s\n" % (r.gauss(2 * k, 0.4), r.gauss(-k, 0.4), names[k]))
EOF
"$FASTMLP" train --train "$T/animals.csv" --label-name target --epochs 3 --seed 1 --threads 1 -q \
    -o "$T/animals.mlp" --report "$T/animals.html" >/dev/null 2>"$T/err" || bad "train on named classes: $(cat "$T/err")"
python3 "$T/validate.py" "$T/animals.html" 0 0 0 0 && ok || bad "named-class train report is not valid"
python3 "$T/check_tab.py" classify "$T/animals.html" $NAMES && ok || bad "train report does not show the class names"
"$FASTMLP" eval "$T/animals.mlp" "$T/animals.csv" --label-name target --report "$T/animals_eval.html" \
    >/dev/null 2>"$T/err" || bad "eval on named classes: $(cat "$T/err")"
python3 "$T/check_tab.py" classify "$T/animals_eval.html" $NAMES && ok || bad "eval report does not show the class names"
# The checker must see a class shown by its index.
sed -e 's#>cat<#>2<#g' "$T/animals.html" >"$T/animals_idx.html"
python3 "$T/check_tab.py" classify "$T/animals_idx.html" $NAMES >/dev/null &&
    bad "check_tab.py missed a class shown by its index" || ok

# Real targets: 3000 rows, more than the plots take (2000, evenly spaced).
python3 - "$T" <<'EOF'
import random, sys
r = random.Random(9)
with open(sys.argv[1] + "/houses.csv", "w") as f:
    f.write("rooms,age,price\n")
    for i in range(3000):
        a, b = r.uniform(-2, 2), r.uniform(-2, 2)
        f.write("%.4f,%.4f,%.5f\n" % (a, b, 1.5 * a - 0.7 * b + 0.3 + r.gauss(0, 0.2)))
EOF
REG="--label-name price --targets"
"$FASTMLP" train --train "$T/houses.csv" $REG --head identity-mse --epochs 4 --valid-fraction 0 --seed 1 --threads 1 -q \
    -o "$T/houses.mlp" --report "$T/houses.html" >/dev/null 2>"$T/err" || bad "train on real targets: $(cat "$T/err")"
"$FASTMLP" eval "$T/houses.mlp" "$T/houses.csv" $REG --json >"$T/houses.json" 2>"$T/err" ||
    bad "eval --json on real targets: $(cat "$T/err")"
python3 "$T/validate.py" "$T/houses.html" 0 0 0 0 && ok || bad "regression train report is not valid"
python3 "$T/check_tab.py" regress "$T/houses.html" "$T/houses.json" 2000 3000 && ok ||
    bad "regression train report lacks its plots or figures"
for i in 1 2; do
    "$FASTMLP" eval "$T/houses.mlp" "$T/houses.csv" $REG --report "$T/houses_eval$i.html" >/dev/null 2>"$T/err" ||
        bad "eval --report on real targets: $(cat "$T/err")"
done
python3 "$T/check_tab.py" regress "$T/houses_eval1.html" "$T/houses.json" 2000 3000 && ok ||
    bad "regression eval report lacks its plots or figures"
cmp -s "$T/houses_eval1.html" "$T/houses_eval2.html" && ok || bad "two regression reports of one model differ"
# A small set is plotted whole.
head -301 "$T/houses.csv" >"$T/houses300.csv"
"$FASTMLP" eval "$T/houses.mlp" "$T/houses300.csv" $REG --json >"$T/h300.json" 2>"$T/err" &&
    "$FASTMLP" eval "$T/houses.mlp" "$T/houses300.csv" $REG --report "$T/h300.html" >/dev/null 2>>"$T/err" ||
    bad "eval on 300 rows: $(cat "$T/err")"
python3 "$T/check_tab.py" regress "$T/h300.html" "$T/h300.json" 300 300 && ok || bad "300-row regression report"
# The checker must see a wrong R^2.
python3 -c "import json, sys; e = json.load(open(sys.argv[1])); e['r2'] -= 0.01; json.dump(e, open(sys.argv[2], 'w'))" \
    "$T/houses.json" "$T/houses_wrong.json"
python3 "$T/check_tab.py" regress "$T/houses_eval1.html" "$T/houses_wrong.json" 2000 3000 >/dev/null &&
    bad "check_tab.py missed a wrong R^2" || ok

# ------------------------------------------------------------ rendering

need_chromium
if [ -z "$CHROME" ]; then
    bad "chromium not found and not installable here (not root?): run 'sudo apt-get install chromium' or scripts/setup.sh"
else
    mkdir -p "$T/home"
    if shoot "$T/report.html" "$T/report.png"; then
        ok
        PYTHONPATH="$SUPPORT" python3 "$T/check_png.py" "$T/report.png" && ok || bad "the rendered report shows no plots"
    else
        bad "chromium wrote no screenshot: $(tail -3 "$T/chrome.log")"
    fi
    # Negative controls: a blank page and a page of text only must fail the check.
    printf '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>blank</title></head><body></body></html>\n' >"$T/blank.html"
    python3 -c 'print("<!DOCTYPE html><html><head><title>t</title></head><body>" + "".join(
        "<p>accuracy 0.8 loss 0.4, a confusion matrix described in words, line %d</p>" % i for i in range(100)) +
        "</body></html>")' >"$T/text.html"
    for page in blank text; do
        if shoot "$T/$page.html" "$T/$page.png"; then
            PYTHONPATH="$SUPPORT" python3 "$T/check_png.py" "$T/$page.png" >/dev/null && bad "the checker passed a $page page" || ok
        else
            bad "chromium wrote no screenshot of the $page page: $(tail -3 "$T/chrome.log")"
        fi
    done
fi

echo "report: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
