#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/data/tabular holds what its make_tabular.py writes: every file of
# SHA256SUMS matches its checksum and is a rectangular CSV of the rows and
# columns its README states, with `target` the last header name (always);
# and, where /usr/bin/python3 imports scikit-learn, NumPy and pandas,
# running make_tabular.py into a fresh directory writes the same bytes, file
# for file, and no file SHA256SUMS does not list (scikit-learn is not a test
# dependency: without it the first checks still run, and the test says which
# part it left out).
set -u
D=${FASTMLP_DATA_DIR:-$(dirname "$0")/../data}/tabular
PY=${PY:-/usr/bin/python3}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"

if [ ! -r "$D/SHA256SUMS" ]; then
    echo "FAIL: cannot read $D/SHA256SUMS"
    exit 1
fi

# Checksums, each file on its own so a failure names it.
n=0
while read -r sum file; do
    n=$((n + 1))
    got=$(sha256sum "$D/$file" 2>/dev/null | cut -d' ' -f1)
    [ "$got" = "$sum" ] && ok || bad "$file: sha256 ${got:-unreadable}, SHA256SUMS says $sum"
done <"$D/SHA256SUMS"
[ "$n" -eq 13 ] && ok || bad "SHA256SUMS lists $n files, expected 13"

# shape FILE ROWS COLS: data rows (header excluded), the same field count on
# every line, `target` last in the header.  No field of these files is
# quoted, so splitting on commas is exact.
shape() {
    awk -F, -v rows="$2" -v cols="$3" -v f="$1" '
        NR == 1 { if ($NF != "target" && f != "unnamed_header.csv") { print f ": last header name " $NF ", expected target"; bad = 1 } }
        NF != cols { print f ":" NR ": " NF " fields, expected " cols; bad = 1; exit }
        END { if (!bad && NR - 1 != rows) { print f ": " NR - 1 " data rows, expected " rows; bad = 1 } exit bad }
    ' "$D/$1" >"$T/shape" 2>&1 && ok || bad "$(cat "$T/shape")"
}
shape iris_train.csv 112 5
shape iris_test.csv 38 5
shape wine_train.csv 133 14
shape wine_test.csv 45 14
shape breast_cancer_train.csv 426 31
shape breast_cancer_test.csv 143 31
shape digits_train.csv 1347 65
shape digits_test.csv 450 65
shape diabetes_train.csv 331 11
shape diabetes_test.csv 111 11
shape penguins_like_train.csv 225 8
shape penguins_like_test.csv 75 8
shape unnamed_header.csv 178 14
head -n 1 "$D/unnamed_header.csv" | grep -qx '0,1,2,3,4,5,6,7,8,9,10,11,12,13' && ok ||
    bad "unnamed_header.csv: header is not 0,1,...,13"
# the label spellings the README promises, and penguins_like's 12 missing values
[ "$(cut -d, -f5 "$D/iris_train.csv" "$D/iris_test.csv" | grep -v target | sort -u | tr '\n' ' ')" = "setosa versicolor virginica " ] &&
    ok || bad "iris: labels are not the three species names"
[ "$(awk -F, 'FNR > 1 { print $NF }' "$D/breast_cancer_train.csv" "$D/breast_cancer_test.csv" | sort -u | tr '\n' ' ')" = "-1 1 " ] &&
    ok || bad "breast_cancer: labels are not -1 and 1"
[ "$(awk -F, 'FNR > 1 { print $NF }' "$D/wine_train.csv" "$D/wine_test.csv" | sort -u | tr '\n' ' ')" = "1 2 3 " ] &&
    ok || bad "wine: labels are not 1, 2, 3"
miss=$(awk -F, 'FNR > 1 { for (i = 1; i <= NF; i++) if ($i == "" || $i == "NA") m++ } END { print m + 0 }' \
    "$D/penguins_like_train.csv" "$D/penguins_like_test.csv")
[ "$miss" -eq 12 ] && ok || bad "penguins_like: $miss missing values, expected 12"

# The generator, where it can run.
if "$PY" -c 'import sklearn, numpy, pandas' 2>/dev/null; then
    if "$PY" "$D/make_tabular.py" "$T/gen" >"$T/gen.out" 2>&1; then
        ok
        for f in "$T"/gen/*; do
            b=$(basename "$f")
            grep -q " $b\$" "$D/SHA256SUMS" && ok || bad "make_tabular.py writes $b, which SHA256SUMS does not list"
        done
        while read -r sum file; do
            cmp -s "$T/gen/$file" "$D/$file" && ok ||
                bad "$file differs from what make_tabular.py writes now ($("$PY" -c 'import sklearn, numpy, pandas; print("scikit-learn", sklearn.__version__, "numpy", numpy.__version__, "pandas", pandas.__version__)'); README.md names the versions that wrote it)"
        done <"$D/SHA256SUMS"
    else
        bad "make_tabular.py failed: $(tail -n 1 "$T/gen.out")"
    fi
else
    echo "note: $PY has no scikit-learn/NumPy/pandas: checksums and shapes checked, make_tabular.py not rerun"
fi

echo "tabular_data: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
