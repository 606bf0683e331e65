#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus_*/): small
valid files of each format plus a few near-misses.  Standard library only, so
the seeds can be remade anywhere: python3 tests/fuzz/make_seeds.py

corpus_checkpoint/ is not written here: its seed is a checkpoint of the
fuzz target's own trainer, which the target writes itself
(FASTMLP_FUZZ_WRITE_SEED=tests/fuzz/corpus_checkpoint/adam_mid_epoch
build/tests/fuzz_replay_checkpoint tests/fuzz/corpus_checkpoint), and
cut_header_model is its first 100 bytes."""
import gzip
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def put(kind, name, data):
    d = os.path.join(HERE, "corpus_" + kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# CSV: the shapes the loader must handle.
put("csv", "plain", b"0,1,2,3\n1,4,5,6\n2,7,8,9\n")
put("csv", "header", b"label,a,b\n0,0.5,1e-3\n1,-2,3.25\n")
put("csv", "crlf_bom", b"\xef\xbb\xbf0;1;2\r\n1;3;4\r\n")
put("csv", "tsv_cr", b"0\t1.5\t2\r1\t3\t4")
put("csv", "quoted", b'"y","x,1","x""2"\n"1","2","3"\n')
put("csv", "ragged", b"0,1,2\n1,2\n")
put("csv", "bad_token", b"0,1,abc\n")
put("csv", "floats", b"1,.5,5.,-0,1e308,2.2250738585072011e-308\n0,1,2,3,4,5\n")
# Tables as users bring them (issue 15): text labels and categories, missing
# values, pandas' numeric header.
put("csv", "table", b"island,mass,sex,species\nDream,3000,f,Adelie\nBiscoe,,m,Gentoo\n\"Tor,gersen\",NA,?,Adelie\n")
put("csv", "labels_pm", b"0,1,2,3,y\n1,2,3,4,-1\n5,6,7,8,+1\n")
put("csv", "regress", b"a,b,target\n1,2,151.5\n3,4,75.25\n5,6,-1e3\n")


def idx(type_code, dims, payload):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


put("idx", "u8_images", idx(0x08, [2, 2, 2], bytes(range(8))))
put("idx", "u8_labels", idx(0x08, [3], bytes([0, 1, 2])))
put("idx", "f32", idx(0x0D, [2, 2], struct.pack(">4f", 1.5, -2, 0, 3)))
put("idx", "f64", idx(0x0E, [1, 2], struct.pack(">2d", 1e-300, 7)))
put("idx", "i16", idx(0x0B, [2, 1], struct.pack(">2h", -5, 300)))
put("idx", "gz", gzip.compress(idx(0x08, [1, 3], b"\x01\x02\x03"), mtime=0))
put("idx", "truncated", idx(0x08, [4, 4], b"\x00" * 5))
put("idx", "huge_claim", idx(0x08, [0xFFFFFFFF, 0xFFFF], b"\x00" * 16))
# gzip whose header promises more than the file can hold (the capped read-through),
# and a stream that goes on past its payload (trailing data, not inflated further)
put("idx", "gz_over", gzip.compress(idx(0x08, [64, 1 << 20], b"\x00" * (1 << 20)), mtime=0))
put("idx", "gz_trailing", gzip.compress(idx(0x08, [1, 3], b"\x01\x02\x03") + b"\x00" * 65536, mtime=0))


def npy(descr, shape, payload, fortran=False, version=1):
    h = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
        descr, "True" if fortran else "False", "".join("%d, " % s for s in shape) if len(shape) != 1 else "%d," % shape[0])
    pre = 10 if version == 1 else 12
    h += " " * ((64 - (pre + len(h) + 1) % 64) % 64) + "\n"
    hb = h.encode("latin1")
    ln = struct.pack("<H", len(hb)) if version == 1 else struct.pack("<I", len(hb))
    return b"\x93NUMPY" + bytes([version, 0]) + ln + hb + payload


put("npy", "u8", npy("|u1", [2, 3], bytes(range(6))))
put("npy", "f4", npy("<f4", [2, 2], struct.pack("<4f", 1, 2, 3, 4)))
put("npy", "f8_fortran", npy("<f8", [2, 2], struct.pack("<4d", 1, 2, 3, 4), fortran=True))
put("npy", "i8_be_v2", npy(">i8", [3], struct.pack(">3q", 1, 2, 3), version=2))
put("npy", "i4_v3", npy("<i4", [1, 2, 2], struct.pack("<4i", -1, 0, 1, 2), version=3))
put("npy", "truncated", npy("<f8", [100, 100], b"\x00" * 8))


def model_v2(dtype, head, n_in, layers, params, std=None):
    """layers: [(width, act)]; params: flat list (W row-major then b, per layer)."""
    flags = 1 if std else 0
    h = b"FASTMLP\n" + struct.pack("<IIIIII", 2, 0x01020304, dtype, head, len(layers), n_in)
    h += struct.pack("<dd", 0.01, 1 / 255)
    h += struct.pack("<IIQIIdddQQ", flags, 2, 42, 3, 64, 1e-3, 0.0, 0.0, 100, len(params))
    for w, a in layers:
        h += struct.pack("<II", w, a)
    if std:
        h += struct.pack("<%dd" % n_in, *std[0]) + struct.pack("<%dd" % n_in, *std[1])
    h += b"\x00" * ((64 - len(h) % 64) % 64)
    h += struct.pack("<%d%s" % (len(params), "f" if dtype == 0 else "d"), *params)
    return h + struct.pack("<I", zlib.crc32(h) & 0xFFFFFFFF)


def names(lst):
    """A schema's name list: its count, then per name its number (NaN for text) and bytes."""
    out = struct.pack("<I", len(lst))
    for num, name in lst:
        b = name.encode()
        out += struct.pack("<dI", num, len(b)) + b
    return out


def schema_v3():
    """island (categorical, 3), mass (numeric, fill 4000), label species (3 classes)."""
    nan = float("nan")
    s = struct.pack("<IqIIIII", 3, 2, ord(","), 2, 1, 2, 4)  # fields, label, delim, header, task, missing, inputs
    s += names([(nan, "Adelie"), (nan, "Chinstrap"), (nan, "Gentoo")])
    for name, kind, first, fill, fill_cat, cats in (
            ("island", 1, 0, nan, 0, [(nan, "Biscoe"), (nan, "Dream"), (nan, "Torgersen")]),
            ("mass", 0, 3, 4000.0, -1, []),
            ("species", 2, 0, nan, -1, [])):
        b = name.encode()
        s += struct.pack("<I", len(b)) + b + struct.pack("<IIdq", kind, first, fill, fill_cat) + names(cats)
    return s


def model_v3(n_in, layers, params, schema):
    """Version 3: version 2's header, the kept epoch, the stop reason and the
    schema section's size; the schema after the layer table."""
    h = b"FASTMLP\n" + struct.pack("<IIIIII", 3, 0x01020304, 0, 0, len(layers), n_in)
    h += struct.pack("<dd", 0.01, 1.0)
    h += struct.pack("<IIQIIdddQQ", 0, 2, 42, 3, 64, 1e-3, 0.0, 0.0, 100, len(params))
    h += struct.pack("<IIQ", 3, 1, len(schema))
    for w, a in layers:
        h += struct.pack("<II", w, a)
    h += schema
    h += b"\x00" * ((64 - len(h) % 64) % 64)
    h += struct.pack("<%df" % len(params), *params)
    return h + struct.pack("<I", zlib.crc32(h) & 0xFFFFFFFF)


put("model", "v3_schema", model_v3(4, [(2, 3), (3, 0)], [0.1 * i for i in range(8 + 2 + 6 + 3)], schema_v3()))
put("model", "v2_f32", model_v2(0, 0, 2, [(3, 3), (2, 0)], [0.1 * i for i in range(9 + 8)]))
put("model", "v2_f64_std", model_v2(1, 1, 2, [(1, 0)], [0.5, -0.5, 0.25], std=([0.0, 1.0], [1.0, 2.0])))
v1 = b"FASTMLP\n" + struct.pack("<IIIIII", 1, 0x01020304, 1, 2, 1, 1) + struct.pack("<dd", 0.0, 1.0)
v1 += struct.pack("<IIQ", 1, 0, 2) + struct.pack("<2d", 2.0, 0.5)
put("model", "v1_f64", v1)
put("model", "bad_crc", model_v2(0, 2, 1, [(1, 0)], [1.0, 2.0])[:-1] + b"\x00")
