/* SPDX-License-Identifier: MIT */
/* IDX loader (the MNIST / Fashion-MNIST format), plain or gzip-compressed
 * (inflated here with zlib), from a file, a pipe or a caller's buffer: one
 * reader of bytes, one parser.  Headers are distrusted: the width is
 * checked against the caller's n_cols, and a declared payload is bounded by
 * what the file (or buffer) can hold and by the machine's memory, all before
 * anything is allocated or decompressed past the header, so a tiny file
 * cannot make us allocate what it claims, nor a gzip bomb make us inflate
 * it.  Then the data set's one block is allocated and the payload streamed
 * into it through a fixed chunk: peak memory is the loaded data plus
 * IDX_CHUNK, never a second copy of the file (pipes, which have no size to
 * check a header against, are staged as before).  A file that shrinks or
 * changes while it is read is MLP_ERR_IO "file changed while reading", not
 * a truncated file.  A shard (mlp_load_params.shard_*) reads the inputs'
 * rows it keeps and no others where it can: a plain file seeks to them, a
 * gzip one (or a pipe) is read up to their end, what comes before dropped;
 * its labels are read whole (see idx_load). */
#include "data/shard.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#define ZLIB_CONST /* the input is never written: a caller's buffer is const */
#include <zlib.h>

/*
 * IDX layout: bytes 0-1 zero, byte 2 the element type, byte 3 the number of
 * dimensions d, then d big-endian u32 sizes, then the big-endian payload in
 * C order.  Byte offsets in messages count the decompressed stream.
 */

/* Largest payload (as stored, and after conversion to f32/f64) we accept:
 * 64 GiB is far beyond any IDX set in use and still catches absurd headers
 * before any arithmetic or allocation depends on them. */
#define IDX_MAX_BYTES (1ull << 36)

/* Payloads that need converting (anything but u8 images) are read in chunks
 * of this many bytes (a multiple of every element size) and converted into
 * the data set's block as they arrive. */
#define IDX_CHUNK (1u << 20)

/* Deflate's largest expansion: a 258-byte match coded in 2 bits.  A gzip file
 * of M bytes (one member or several) cannot decompress to more than
 * IDX_GZ_RATIO * M bytes. */
#define IDX_GZ_RATIO 1032u

/* When the payload cannot be loaded (its header promises more than the file
 * can hold, or the block cannot be allocated), it is still read through,
 * checking only, so that a file cut short is named as such with its exact
 * count: but never more than this many payload bytes, so that a gzip bomb
 * is not inflated just to find that out (64 MiB: ~0.1 s of inflate). */
#define IDX_PROBE_MAX (1ull << 26)

/* Pipes and other files without a size: the payload is staged in a buffer
 * that starts small and doubles as data arrives, never adding more than
 * IDX_GROW_MAX in one step, so memory stays within ~2x of what the pipe
 * really delivered whatever its header says. */
#define IDX_GROW_MIN (1u << 20)
#define IDX_GROW_MAX (1u << 30)

/* One read(), or one inflate() call's input or output, never asks for more
 * than this (zlib counts in unsigned ints). */
#define IDX_READ_MAX (1u << 30)

/* Raw bytes of a descriptor are read ahead this many at a time (fewer
 * system calls than zlib's 8 KiB default). */
#define IDX_IN_BUF (1u << 17)

/* No finding (see struct idx_file's bad). */
#define IDX_NONE UINT64_MAX

/* Appended to every "ends early" message. */
#define IDX_CUT(f) ((f)->cut ? " (the gzip stream is cut short)" : "")

enum idx_type {
    IDX_U8 = 0x08,
    IDX_I8 = 0x09,
    IDX_I16 = 0x0B,
    IDX_I32 = 0x0C,
    IDX_F32 = 0x0D,
    IDX_F64 = 0x0E
};

/*
 * The bytes of one IDX file as the parser sees them: read from a descriptor
 * or taken from a caller's buffer, then inflated when they start with
 * gzip's magic, else copied.  As zlib's own gzread does: gzip members may
 * follow one another, bytes after the last member that are not another one
 * are ignored, and a stream that ends inside a member reads as a short file
 * with `cut` set ("cut short" in messages).
 */
enum idx_how { IDX_LOOK, IDX_COPY, IDX_GZIP, IDX_DONE };
struct idx_in {
    int fd;                   /* -1: the bytes are mem */
    const unsigned char *mem, *mem_end;
    unsigned char *buf;       /* a descriptor's read-ahead (IDX_IN_BUF) */
    bool eof;                 /* no raw bytes left to read */
    int read_errno;           /* a failed read(): its errno */
    z_stream zs;              /* next_in/avail_in: raw bytes not yet used */
    bool zs_init;
    enum idx_how how;
    bool direct;              /* plain bytes (decided by the first read) */
};

/* One open IDX file and what its header declared. */
struct idx_file {
    const char *path;  /* for messages: the path, or the buffer's name */
    bool opened;
    struct idx_in in;
    struct stat at_open; /* a file's fstat at open */
    enum idx_type type;
    unsigned ndim;
    uint64_t n_items;  /* dims[0] */
    uint64_t n_cols;   /* product of dims[1..] (1 when ndim == 1) */
    uint32_t dims[4];  /* the first four dimensions as declared (0 beyond ndim) */
    uint64_t payload;  /* n_items * n_cols * element size, in bytes */
    uint64_t offset;   /* bytes consumed so far (header + payload) */
    bool cut;          /* the gzip stream itself ended early */
    bool labels;       /* a labels file: values become int32 labels */
    bool regular;      /* a regular file or a buffer: its size bounds the payload */
    uint64_t file_size; /* that size, when regular */
    unsigned char *buf; /* a pipe's payload, staged (malloc) */
    /* Found while converting, reported once both files are read (so that a
     * file cut short or with trailing bytes is named first): the index of
     * the first out-of-range label or non-finite value, and what it was. */
    uint64_t bad;
    int64_t bad_label;
    double bad_value;
    uint32_t n_classes; /* 1 + the largest label in range */
    /* The payload's elements kept, [keep_lo, keep_hi) (all of them, or a
     * shard's rows), landing at out[0..); the others are read through,
     * labels checked, inputs dropped.  stop: read no further than keep_hi
     * (a shard of inputs), else on to the end of the file. */
    uint64_t keep_lo, keep_hi;
    bool stop;
};

static size_t idx_elem_size(enum idx_type t)
{
    switch (t) {
    case IDX_U8:
    case IDX_I8: return 1;
    case IDX_I16: return 2;
    case IDX_I32:
    case IDX_F32: return 4;
    case IDX_F64: return 8;
    }
    return 0;
}

static const char *idx_type_name(enum idx_type t)
{
    switch (t) {
    case IDX_U8: return "u8";
    case IDX_I8: return "i8";
    case IDX_I16: return "i16";
    case IDX_I32: return "i32";
    case IDX_F32: return "f32";
    case IDX_F64: return "f64";
    }
    return "?";
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t be64(const unsigned char *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* Wraps mlp__fail with the file's (shortened) name in front. */
static enum mlp_status idx_failf(const struct idx_file *f, struct mlp_error *err,
                                 enum mlp_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum mlp_status idx_failf(const struct idx_file *f, struct mlp_error *err,
                                 enum mlp_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum mlp_status r = mlp__vfail_file(err, st, f->path, fmt, ap);
    va_end(ap);
    return r;
}

/* MLP_ERR_IO "file changed while reading" when a regular file's size or
 * time moved since it was opened; else MLP_OK, and the caller's own finding
 * (cut short, trailing data, corrupt) is about the file as it is. */
static enum mlp_status idx_changed(const struct idx_file *f, struct mlp_error *err)
{
    return f->regular && f->in.fd >= 0 ? mlp__file_changed(f->in.fd, f->path, &f->at_open, err) : MLP_OK;
}

/* More raw bytes into zs.next_in/avail_in, keeping those not yet used;
 * sets eof when there are none (or read_errno when reading failed). */
static void idx_in_fill(struct idx_in *in)
{
    z_stream *zs = &in->zs;
    if (in->fd < 0) {
        /* The buffer lies whole in memory: just let zlib see more of it. */
        size_t left = (size_t)(in->mem_end - zs->next_in);
        zs->avail_in = left > IDX_READ_MAX ? IDX_READ_MAX : (uInt)left;
        in->eof = left == zs->avail_in;
        return;
    }
    if (zs->avail_in > 0) memmove(in->buf, zs->next_in, zs->avail_in);
    zs->next_in = in->buf;
    while (!in->eof && zs->avail_in < IDX_IN_BUF) {
        ssize_t r = read(in->fd, in->buf + zs->avail_in, IDX_IN_BUF - zs->avail_in);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) in->read_errno = errno;
        if (r <= 0) {
            in->eof = true;
            break;
        }
        zs->avail_in += (uInt)r;
        if (zs->avail_in >= 2) break; /* enough to go on; a pipe may not have more yet */
    }
}

/* After a gzip member or at the start: another member, plain bytes (only at
 * the start), or the end (trailing bytes after gzip data are ignored). */
static enum mlp_status idx_in_look(struct idx_file *f, struct mlp_error *err)
{
    struct idx_in *in = &f->in;
    z_stream *zs = &in->zs;
    if (zs->avail_in < 2 && !in->eof) idx_in_fill(in);
    bool magic = zs->avail_in >= 2 && zs->next_in[0] == 0x1f && zs->next_in[1] == 0x8b;
    if (!magic) {
        in->how = in->zs_init ? IDX_DONE : IDX_COPY;
        in->direct = !in->zs_init;
        if (in->how == IDX_DONE) zs->avail_in = 0;
        return MLP_OK;
    }
    int zr = in->zs_init ? inflateReset(zs) : inflateInit2(zs, 15 + 16); /* gzip wrapper only */
    if (zr != Z_OK)
        return idx_failf(f, err, MLP_ERR_NOMEM, "cannot inflate: out of memory at byte %" PRIu64, f->offset);
    in->zs_init = true;
    in->how = IDX_GZIP;
    return MLP_OK;
}

/* Inflate into [dst, dst + want) as far as the stream goes; *got: how far. */
static enum mlp_status idx_in_inflate(struct idx_file *f, unsigned char *dst, size_t want, size_t *got,
                                      struct mlp_error *err)
{
    struct idx_in *in = &f->in;
    z_stream *zs = &in->zs;
    zs->next_out = dst;
    zs->avail_out = (uInt)want;
    while (zs->avail_out > 0) {
        if (zs->avail_in == 0 && !in->eof) idx_in_fill(in);
        /* inflate runs even with no input left: it may hold output it had no
         * room for when the last input went in (a small `want`, as a shard's
         * first rows are), and only it knows.  Z_BUF_ERROR then says it has
         * nothing more: the input ended inside a member. */
        int zr = inflate(zs, Z_NO_FLUSH);
        if (zr == Z_BUF_ERROR && zs->avail_in == 0) {
            f->cut = in->read_errno == 0;
            in->how = IDX_DONE;
            break;
        }
        if (zr == Z_STREAM_END) {
            in->how = IDX_LOOK;
            break;
        }
        if (zr == Z_MEM_ERROR)
            return idx_failf(f, err, MLP_ERR_NOMEM, "out of memory decompressing at byte %" PRIu64,
                             f->offset + (want - zs->avail_out));
        /* (Z_BUF_ERROR with input and room left would never progress.) */
        if (zr != Z_OK) {
            /* Corrupt gzip data: the content is malformed, not the disk
             * (unless it was being rewritten while we read it). */
            if (idx_changed(f, err) != MLP_OK) return MLP_ERR_IO;
            return idx_failf(f, err, MLP_ERR_FORMAT, "corrupt gzip data near byte %" PRIu64 ": %s",
                             f->offset + (want - zs->avail_out), zs->msg ? zs->msg : "unknown zlib error");
        }
    }
    *got = want - zs->avail_out;
    return MLP_OK;
}

/* Copy plain bytes into [dst, dst + want): what is read ahead, then the rest
 * straight from the descriptor or the buffer. */
static size_t idx_in_copy(struct idx_in *in, unsigned char *dst, size_t want)
{
    z_stream *zs = &in->zs;
    size_t n = 0;
    while (n < want) {
        if (zs->avail_in == 0 && in->fd >= 0 && !in->eof && want - n >= IDX_IN_BUF) {
            ssize_t r = read(in->fd, dst + n, want - n);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) in->read_errno = errno;
            if (r <= 0) {
                in->eof = true;
                break;
            }
            n += (size_t)r;
            continue;
        }
        if (zs->avail_in == 0 && !in->eof) idx_in_fill(in);
        if (zs->avail_in == 0) break;
        size_t k = want - n < zs->avail_in ? want - n : zs->avail_in;
        memcpy(dst + n, zs->next_in, k);
        zs->next_in += k;
        zs->avail_in -= (uInt)k;
        n += k;
    }
    return n;
}

/*
 * Read up to len bytes; *got < len only at the end of the data (f->cut set
 * when a gzip stream ended early), which the callers turn into "truncated".
 */
static enum mlp_status idx_read(struct idx_file *f, void *dst, uint64_t len, uint64_t *got,
                                struct mlp_error *err)
{
    struct idx_in *in = &f->in;
    unsigned char *p = dst;
    uint64_t n = 0;
    enum mlp_status st;
    while (n < len && in->how != IDX_DONE) {
        if (in->how == IDX_LOOK && (st = idx_in_look(f, err)) != MLP_OK) return st;
        size_t want = len - n > IDX_READ_MAX ? IDX_READ_MAX : (size_t)(len - n), k = 0;
        if (in->how == IDX_COPY) {
            k = idx_in_copy(in, p + n, want);
            if (k < want) in->how = IDX_DONE;
        } else if (in->how == IDX_GZIP) {
            if ((st = idx_in_inflate(f, p + n, want, &k, err)) != MLP_OK) return st;
        }
        n += k;
        if (in->read_errno)
            return idx_failf(f, err, MLP_ERR_IO, "read error at byte %" PRIu64 ": %s", f->offset + n,
                             strerror(in->read_errno));
    }
    f->offset += n;
    *got = n;
    return MLP_OK;
}

/* Open path for idx_parse_header: its descriptor, read by idx_in, and its
 * fstat, whose size bounds what a regular file can hold. */
static enum mlp_status idx_open(struct idx_file *f, const char *path, bool want_labels, struct mlp_error *err)
{
    memset(f, 0, sizeof *f);
    f->path = path;
    f->in.fd = -1;
    f->labels = want_labels;
    f->bad = IDX_NONE;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return idx_failf(f, err, MLP_ERR_OPEN, "cannot open: %s", strerror(errno));
    struct stat *sb = &f->at_open;
    if (fstat(fd, sb) == 0) {
        if (S_ISDIR(sb->st_mode)) {
            close(fd);
            return idx_failf(f, err, MLP_ERR_OPEN, "cannot open: is a directory");
        }
        f->regular = S_ISREG(sb->st_mode) && sb->st_size >= 0;
        f->file_size = f->regular ? (uint64_t)sb->st_size : 0;
    }
    f->in.buf = malloc(IDX_IN_BUF);
    if (!f->in.buf) {
        close(fd);
        return idx_failf(f, err, MLP_ERR_NOMEM, "cannot open: out of memory");
    }
    f->in.fd = fd;
    f->opened = true;
    return MLP_OK;
}

/* A caller's buffer for idx_parse_header: its size bounds the payload as a
 * regular file's would. */
static void idx_open_mem(struct idx_file *f, const struct mlp_buffer *b, const char *fallback, bool want_labels)
{
    static const unsigned char none[1];
    memset(f, 0, sizeof *f);
    f->path = b->name ? b->name : fallback;
    f->in.fd = -1;
    f->in.mem = b->size ? b->data : none;
    f->in.mem_end = f->in.mem + b->size;
    f->in.zs.next_in = f->in.mem;
    f->labels = want_labels;
    f->bad = IDX_NONE;
    f->regular = true;
    f->file_size = b->size;
    f->opened = true;
}

/* Parse the header.  want_labels: a labels file (1-D, integers). */
static enum mlp_status idx_parse_header(struct idx_file *f, struct mlp_error *err)
{
    const bool want_labels = f->labels;
    unsigned char h[4];
    uint64_t got;
    enum mlp_status st = idx_read(f, h, 4, &got, err);
    if (st != MLP_OK) return st;
    if (got < 4 && idx_changed(f, err) != MLP_OK) return MLP_ERR_IO;
    if (got == 0 && !f->cut)
        return idx_failf(f, err, MLP_ERR_FORMAT, "empty file (expected an IDX header)");
    if (got < 4)
        return idx_failf(f, err, MLP_ERR_FORMAT,
                         "truncated header: file ends after %" PRIu64
                         " bytes (expected a 4-byte magic)%s",
                         got, IDX_CUT(f));
    if (h[0] != 0 || h[1] != 0)
        return idx_failf(f, err, MLP_ERR_FORMAT,
                         "bad magic 0x%08" PRIX32 " at byte 0 (expected 0x0000TTNN: two zero bytes, "
                         "type TT, NN dimensions): not an IDX file",
                         be32(h));
    f->type = (enum idx_type)h[2];
    if (idx_elem_size(f->type) == 0)
        return idx_failf(f, err, MLP_ERR_FORMAT,
                         "unknown element type 0x%02X at byte 2 (expected 0x08 u8, 0x09 i8, 0x0B i16, "
                         "0x0C i32, 0x0D f32 or 0x0E f64)",
                         h[2]);
    f->ndim = h[3];
    if (f->ndim == 0)
        return idx_failf(f, err, MLP_ERR_FORMAT, "0 dimensions at byte 3 (expected at least 1)");
    if (want_labels && f->ndim != 1)
        return idx_failf(f, err, MLP_ERR_FORMAT,
                         "labels file has %u dimensions at byte 3 (expected 1)", f->ndim);
    if (want_labels && (f->type == IDX_F32 || f->type == IDX_F64))
        return idx_failf(f, err, MLP_ERR_FORMAT,
                         "labels have element type %s at byte 2 (expected an integer type: u8, i8, "
                         "i16 or i32)",
                         idx_type_name(f->type));

    /* Dimensions, one at a time so that a cut header says which one. */
    f->n_cols = 1;
    for (unsigned d = 0; d < f->ndim; d++) {
        unsigned char b[4];
        uint64_t at = f->offset;
        if ((st = idx_read(f, b, 4, &got, err)) != MLP_OK) return st;
        if (got < 4 && idx_changed(f, err) != MLP_OK) return MLP_ERR_IO;
        if (got < 4)
            return idx_failf(f, err, MLP_ERR_FORMAT,
                             "truncated header: file ends at byte %" PRIu64
                             " inside dimension %u of %u (header needs %u bytes)%s",
                             f->offset, d + 1, f->ndim, 4 + 4 * f->ndim, IDX_CUT(f));
        uint32_t v = be32(b);
        if (d < 4) f->dims[d] = v;
        if (v == 0)
            return idx_failf(f, err, MLP_ERR_FORMAT,
                             "dimension %u of %u is 0 at byte %" PRIu64 " (every dimension must be "
                             "at least 1%s)",
                             d + 1, f->ndim, at, d == 0 ? ": a data set needs a row" : "");
        if (d == 0) {
            f->n_items = v;
        } else if (!mlp__mul_ok(f->n_cols, v, MLP_MAX_WIDTH, &f->n_cols)) {
            /* Checked step by step: the product could otherwise wrap 64 bits. */
            return idx_failf(f, err, MLP_ERR_FORMAT,
                             "row too wide: dimensions 2..%u (up to byte %" PRIu64 ") multiply to "
                             "more than %u values (MLP_MAX_WIDTH)",
                             d + 1, at + 3, MLP_MAX_WIDTH);
        }
    }

    /* Sizes: rows <= 2^32 and width <= 2^24 keep these products below 2^59,
     * but the checks state the limit rather than rely on that. */
    size_t out_elem = f->type == IDX_U8 ? 1 : f->type == IDX_F64 ? 8 : 4;
    uint64_t values, out_bytes;
    if (!mlp__mul_ok(f->n_items, f->n_cols, UINT64_MAX, &values) ||
        !mlp__mul_ok(values, idx_elem_size(f->type), IDX_MAX_BYTES, &f->payload) ||
        !mlp__mul_ok(values, want_labels ? sizeof(int32_t) : out_elem, IDX_MAX_BYTES, &out_bytes) ||
        out_bytes > SIZE_MAX)
        return idx_failf(f, err, MLP_ERR_FORMAT,
                         "header declares %" PRIu64 " x %" PRIu64 " values of %s, more than the "
                         "%" PRIu64 "-byte limit on one IDX file",
                         f->n_items, f->n_cols, idx_type_name(f->type), (uint64_t)IDX_MAX_BYTES);
    return MLP_OK;
}

/* The most payload bytes f can deliver after its header: exact for a plain
 * regular file, IDX_GZ_RATIO times its size for a gzip one, unknown
 * (UINT64_MAX) for a pipe. */
static uint64_t idx_payload_bound(const struct idx_file *f)
{
    if (!f->regular) return UINT64_MAX;
    if (f->in.direct) return f->file_size > f->offset ? f->file_size - f->offset : 0;
    return f->file_size > UINT64_MAX / IDX_GZ_RATIO ? UINT64_MAX : f->file_size * IDX_GZ_RATIO;
}

/* The payload started at byte `start` and ended after `have` bytes: the
 * file is truncated, or it shrank while we read it. */
static enum mlp_status idx_truncated(const struct idx_file *f, uint64_t start, uint64_t have,
                                     struct mlp_error *err)
{
    if (idx_changed(f, err) != MLP_OK) return MLP_ERR_IO;
    return idx_failf(f, err, MLP_ERR_FORMAT,
                     "truncated: header promises %" PRIu64 " bytes of payload, file ends after "
                     "%" PRIu64 " of them (at byte %" PRIu64 ")%s",
                     f->payload, have, start + have, IDX_CUT(f));
}

/* After the payload, insist on end of file. */
static enum mlp_status idx_expect_eof(struct idx_file *f, struct mlp_error *err)
{
    unsigned char extra;
    uint64_t got;
    enum mlp_status st = idx_read(f, &extra, 1, &got, err);
    if (st != MLP_OK) return st;
    if (got > 0 && idx_changed(f, err) != MLP_OK) return MLP_ERR_IO;
    if (got > 0)
        return idx_failf(f, err, MLP_ERR_FORMAT,
                         "trailing data at byte %" PRIu64 " after the %" PRIu64 "-byte payload "
                         "(expected end of file)",
                         f->offset - 1, f->payload);
    return MLP_OK;
}

/* A pipe: read the payload into f->buf, growing it only as bytes arrive,
 * then insist on end of file. */
static enum mlp_status idx_stage(struct idx_file *f, struct mlp_error *err)
{
    uint64_t start = f->offset, have = 0, cap = 0;
    while (have < f->payload) {
        if (have == cap) {
            uint64_t step = cap < IDX_GROW_MIN ? IDX_GROW_MIN : cap;
            if (step > IDX_GROW_MAX) step = IDX_GROW_MAX;
            uint64_t ncap = f->payload - cap < step ? f->payload : cap + step;
            unsigned char *nb = realloc(f->buf, (size_t)ncap);
            if (!nb)
                return idx_failf(f, err, MLP_ERR_NOMEM,
                                 "out of memory growing the read buffer to %" PRIu64 " bytes", ncap);
            f->buf = nb;
            cap = ncap;
        }
        uint64_t got;
        enum mlp_status st = idx_read(f, f->buf + have, cap - have, &got, err);
        if (st != MLP_OK) return st;
        have += got;
        if (have < cap) break; /* short read: end of file */
    }
    if (have < f->payload) return idx_truncated(f, start, have, err);
    return idx_expect_eof(f, err);
}

/* Label i of big-endian labels p as a signed integer. */
static int64_t idx_label(enum idx_type t, const unsigned char *p, uint64_t i)
{
    switch (t) {
    case IDX_U8: return p[i];
    case IDX_I8: return (int8_t)p[i];
    case IDX_I16: return (int16_t)(uint16_t)(p[2 * i] << 8 | p[2 * i + 1]);
    case IDX_I32: return (int32_t)be32(p + 4 * i);
    default: break;
    }
    MLP_ASSERT(0 && "labels type checked in idx_parse_header");
    return -1;
}

/* Convert n big-endian values p, elements first.. of the payload, into out
 * from out's element `at` on (native; int32 labels, or x in its output
 * element type), or only check them when out is NULL.  Out-of-range labels
 * and non-finite values are noted in f (the first one), not stored. */
static void idx_convert(struct idx_file *f, void *out, uint64_t at, uint64_t first, const unsigned char *p,
                        uint64_t n)
{
    if (f->labels) {
        int32_t *o = out ? (int32_t *)out + at : NULL;
        for (uint64_t i = 0; i < n; i++) {
            int64_t y = idx_label(f->type, p, i);
            if (y < 0 || y >= (int64_t)MLP_MAX_CLASSES) {
                if (f->bad == IDX_NONE) {
                    f->bad = first + i;
                    f->bad_label = y;
                }
                continue;
            }
            if (o) o[i] = (int32_t)y;
            if ((uint32_t)y + 1 > f->n_classes) f->n_classes = (uint32_t)y + 1;
        }
        return;
    }
    float *o32 = out ? (float *)out + at : NULL;
    switch (f->type) {
    case IDX_U8:
        if (out) memcpy((unsigned char *)out + at, p, (size_t)n);
        break;
    case IDX_I8:
        for (uint64_t i = 0; o32 && i < n; i++) o32[i] = (float)(int8_t)p[i];
        break;
    case IDX_I16:
        for (uint64_t i = 0; o32 && i < n; i++)
            o32[i] = (float)(int16_t)(uint16_t)(p[2 * i] << 8 | p[2 * i + 1]);
        break;
    case IDX_I32: /* exact up to |v| <= 2^24; larger values round */
        for (uint64_t i = 0; o32 && i < n; i++) o32[i] = (float)(int32_t)be32(p + 4 * i);
        break;
    /* NaN or Inf inputs would be hidden by relu (NaN > 0 is false) or blow
     * up the loss far from their cause: note them here, where we know where. */
    case IDX_F32:
        for (uint64_t i = 0; i < n; i++) {
            uint32_t u = be32(p + 4 * i);
            float v;
            memcpy(&v, &u, 4);
            if (!isfinite(v) && f->bad == IDX_NONE) {
                f->bad = first + i;
                f->bad_value = v;
            }
            if (o32) o32[i] = v;
        }
        break;
    case IDX_F64: {
        double *o64 = out ? (double *)out + at : NULL;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t u = be64(p + 8 * i);
            double v;
            memcpy(&v, &u, 8);
            if (!isfinite(v) && f->bad == IDX_NONE) {
                f->bad = first + i;
                f->bad_value = v;
            }
            if (o64) o64[i] = v;
        }
        break;
    }
    }
}

/* Convert n values p, elements first.. of the payload: those f keeps into
 * out at their place in it, the others only checked when they are labels
 * (the whole file's n_classes and range errors) or when nothing is kept
 * (out NULL: a check-only pass), else dropped. */
static void idx_take(struct idx_file *f, void *out, uint64_t first, const unsigned char *p, uint64_t n)
{
    size_t es = idx_elem_size(f->type);
    uint64_t end = first + n;
    uint64_t a = first > f->keep_lo ? first : f->keep_lo, b = end < f->keep_hi ? end : f->keep_hi;
    bool check = f->labels || !out;
    if (a >= b) {
        if (check) idx_convert(f, NULL, 0, first, p, n);
        return;
    }
    if (first < a && check) idx_convert(f, NULL, 0, first, p, a - first);
    idx_convert(f, out, a - f->keep_lo, a, p + (a - first) * es, b - a);
    if (b < end && check) idx_convert(f, NULL, 0, b, p + (b - first) * es, end - b);
}

/* Skip n payload bytes of a plain regular file or buffer without reading
 * them: what is read ahead, else a seek (the descriptor's offset is
 * f->offset plus what is read ahead, plain bytes being copied as they are). */
static enum mlp_status idx_skip(struct idx_file *f, uint64_t n, struct mlp_error *err)
{
    struct idx_in *in = &f->in;
    z_stream *zs = &in->zs;
    uint64_t to = f->offset + n;
    if (n <= zs->avail_in) {
        zs->next_in += n;
        zs->avail_in -= (uInt)n;
    } else if (in->fd < 0) {
        zs->next_in = in->mem + to;
        zs->avail_in = 0;
        in->eof = false;
    } else {
        if (to > (uint64_t)INT64_MAX || lseek(in->fd, (off_t)to, SEEK_SET) < 0)
            return idx_failf(f, err, MLP_ERR_IO, "cannot seek to byte %" PRIu64 ": %s", to, strerror(errno));
        zs->next_in = in->buf;
        zs->avail_in = 0;
        in->eof = false;
    }
    f->offset = to;
    return MLP_OK;
}

/* Keep every element of f and read it to its end (a whole load, or a
 * check of the whole file). */
static void idx_keep_all(struct idx_file *f)
{
    size_t es = idx_elem_size(f->type);
    f->keep_lo = 0;
    f->keep_hi = es ? f->payload / es : 0;
    f->stop = false;
}

/* Read f's payload into out (its kept elements, converted; NULL: read and
 * check only) and insist on end of file, unless f stops at a shard's end.
 * A regular file is read in IDX_CHUNK pieces through `chunk`, or straight
 * into out for u8 images, never across the kept range's bounds; a plain
 * one skips what comes before a shard of inputs.  A pipe read whole is
 * staged first.  A check-only pass stops after IDX_PROBE_MAX bytes and sets
 * *cut_off (NULL: never stops).  Label and value findings are left in f
 * for idx_findings. */
static enum mlp_status idx_pass(struct idx_file *f, void *out, unsigned char *chunk, bool *cut_off,
                                struct mlp_error *err)
{
    size_t es = idx_elem_size(f->type);
    enum mlp_status st;
    if (cut_off) *cut_off = false;
    uint64_t lo_b = f->keep_lo * es, hi_b = f->keep_hi * es;
    if (!f->regular && lo_b == 0 && hi_b == f->payload) {
        if ((st = idx_stage(f, err)) != MLP_OK) return st;
        idx_take(f, out, 0, f->buf, f->payload / es);
        free(f->buf);
        f->buf = NULL;
        return MLP_OK;
    }
    /* A shard of inputs ends at its last row (an empty one reads nothing);
     * labels, and whole loads, go on to the end. */
    uint64_t end = f->stop ? hi_b : f->payload;
    if (f->stop && lo_b == hi_b) return MLP_OK;
    bool direct = out && f->type == IDX_U8 && !f->labels;
    uint64_t start = f->offset, done = 0;
    if (f->stop && lo_b > 0 && f->in.direct && f->regular) {
        if ((st = idx_skip(f, lo_b, err)) != MLP_OK) return st;
        done = lo_b;
    }
    while (done < end) {
        if (cut_off && done >= IDX_PROBE_MAX) {
            *cut_off = true;
            return MLP_OK;
        }
        /* Each piece lies wholly before, inside or after the kept range. */
        uint64_t to = done < lo_b ? lo_b : done < hi_b ? hi_b : end;
        bool straight = direct && done >= lo_b && done < hi_b;
        uint64_t want = to - done;
        if (!straight && want > IDX_CHUNK) want = IDX_CHUNK;
        unsigned char *dst = straight ? (unsigned char *)out + (done - lo_b) : chunk;
        uint64_t got;
        if ((st = idx_read(f, dst, want, &got, err)) != MLP_OK) return st;
        if (got < want) return idx_truncated(f, start, done + got, err);
        /* Pieces hold whole elements: IDX_CHUNK and the bounds are multiples of es. */
        if (!straight) idx_take(f, out, done / es, dst, want / es);
        done += want;
    }
    return end == f->payload ? idx_expect_eof(f, err) : MLP_OK;
}

/* What idx_pass noted, in the order a reader would want it: a bad label,
 * then a non-finite input. */
static enum mlp_status idx_findings(const struct idx_file *xf, const struct idx_file *yf,
                                    bool with_labels, struct mlp_error *err)
{
    if (with_labels && yf->bad != IDX_NONE)
        return idx_failf(yf, err, MLP_ERR_RANGE,
                         "label %" PRId64 " at row %" PRIu64 " (byte %" PRIu64 ") is outside [0, %u)",
                         yf->bad_label, yf->bad, 8 + yf->bad * idx_elem_size(yf->type),
                         MLP_MAX_CLASSES);
    if (xf->bad != IDX_NONE)
        return idx_failf(xf, err, MLP_ERR_FORMAT,
                         "value %g at row %" PRIu64 ", column %" PRIu64 " (byte %" PRIu64
                         ") is not finite",
                         xf->bad_value, xf->bad / xf->n_cols, xf->bad % xf->n_cols,
                         4 + 4 * (uint64_t)xf->ndim + xf->bad * idx_elem_size(xf->type));
    return MLP_OK;
}

static void idx_close(struct idx_file *f)
{
    if (f->in.zs_init) inflateEnd(&f->in.zs);
    if (f->in.fd >= 0) close(f->in.fd);
    free(f->in.buf);
    free(f->buf);
    memset(f, 0, sizeof *f);
    f->in.fd = -1;
}

/* The payload cannot be loaded: `over` promises more than its file can
 * hold, or else the block of `total` bytes could not be had.  Read through
 * (checking only, at most IDX_PROBE_MAX bytes of each file) so that a file
 * cut short is reported as such, with its exact count, before the reason
 * the load cannot go on. */
static enum mlp_status idx_cannot_load(struct idx_file *xf, struct idx_file *yf, struct idx_file *over,
                                       size_t total, unsigned char *chunk, struct mlp_error *err)
{
    enum mlp_status st;
    bool cut_off = false;
    /* What is checked is the whole of each file, a shard's load or not. */
    idx_keep_all(xf);
    if (yf->opened) idx_keep_all(yf);
    if (over && over->in.direct)
        /* Plain: what the file holds is known without reading it. */
        return idx_truncated(over, over->offset, over->file_size - over->offset, err);
    if (over) {
        if ((st = idx_pass(over, NULL, chunk, &cut_off, err)) != MLP_OK) return st;
        if (!cut_off && idx_changed(over, err) != MLP_OK) return MLP_ERR_IO;
        return idx_failf(over, err, MLP_ERR_FORMAT,
                         "header promises %" PRIu64 " bytes of payload, more than a gzip file of %" PRIu64
                         " bytes can hold (%" PRIu64 ")%s",
                         over->payload, over->file_size, idx_payload_bound(over),
                         cut_off ? "" : ", yet all were read");
    }
    /* A pipe would have to be staged whole to be checked: not without memory. */
    bool check = xf->regular && (!yf->opened || yf->regular);
    if (check && (st = idx_pass(xf, NULL, chunk, &cut_off, err)) != MLP_OK) return st;
    if (check && !cut_off && yf->opened && (st = idx_pass(yf, NULL, chunk, &cut_off, err)) != MLP_OK) return st;
    if (check && !cut_off && (st = idx_findings(xf, yf, yf->opened, err)) != MLP_OK) return st;
    return idx_failf(xf, err, MLP_ERR_NOMEM, "out of memory: %zu bytes for the data set", total);
}

/* Where one file's bytes come from: a path, or a caller's buffer. */
struct idx_src {
    const char *path;
    const struct mlp_buffer *mem;
};

/* Open f from s and parse its header. */
static enum mlp_status idx_begin(struct idx_file *f, const struct idx_src *s, bool labels, struct mlp_error *err)
{
    enum mlp_status st = MLP_OK;
    if (s->mem)
        idx_open_mem(f, s->mem, labels ? "<memory labels>" : "<memory>", labels);
    else
        st = idx_open(f, s->path, labels, err);
    if (st == MLP_OK) st = idx_parse_header(f, err);
    if (st == MLP_OK) idx_keep_all(f);
    return st;
}

/* The load proper, from files or buffers alike (y NULL: no labels). */
static enum mlp_status idx_load(struct mlp_dataset *ds, const struct idx_src *x, const struct idx_src *y,
                                const struct mlp_load_params *p, struct mlp_error *err)
{
    /* *ds is output only: whatever it held before is overwritten, not freed. */
    memset(ds, 0, sizeof *ds);
    struct idx_file xf, yf;
    memset(&xf, 0, sizeof xf);
    memset(&yf, 0, sizeof yf);
    xf.in.fd = yf.in.fd = -1;
    unsigned char *chunk = NULL, *block = NULL;
    enum mlp_status st;
    uint32_t want_cols = p ? p->n_cols : 0;

    if ((st = mlp__shard_check(p, x->path ? x->path : x->mem->name ? x->mem->name : "<memory>", err)) != MLP_OK)
        return st;
    /* Both headers first: a width or count mismatch is found before
     * megabytes are read (at most IDX_IN_BUF bytes are read ahead of a
     * header, and zlib inflates only what is asked for). */
    if ((st = idx_begin(&xf, x, false, err)) != MLP_OK) goto fail;
    if (want_cols && xf.n_cols != want_cols) {
        st = mlp__fail_width(err, xf.path, xf.n_cols, want_cols, "");
        goto fail;
    }
    if (y) {
        if ((st = idx_begin(&yf, y, true, err)) != MLP_OK) goto fail;
        if (yf.n_items != xf.n_items) {
            st = mlp__fail_count(err, xf.path, xf.n_items, "images", yf.path, yf.n_items);
            goto fail;
        }
    }

    /* A shard: the inputs' rows [lo, hi) are all that is read (a plain file
     * seeks to them, a gzip one is inflated up to their end); the labels
     * are read whole, the shard's kept, because n_classes must be the whole
     * file's for every process loading a shard of it to agree on it (and a
     * bad label anywhere fails them all alike): a labels file is small,
     * 1 to 4 bytes a row. */
    uint64_t lo, hi;
    mlp__shard_rows(p, xf.n_items, &lo, &hi);
    xf.keep_lo = lo * xf.n_cols;
    xf.keep_hi = hi * xf.n_cols;
    xf.stop = mlp__sharded(p);
    yf.keep_lo = lo;
    yf.keep_hi = hi;
    /* A plain file stopped short of its end is not read to its end to find
     * trailing bytes: its size says whether it has them. */
    if (xf.stop && xf.in.direct && xf.regular && xf.file_size > xf.offset + xf.payload) {
        st = idx_failf(&xf, err, MLP_ERR_FORMAT,
                       "trailing data at byte %" PRIu64 " after the %" PRIu64 "-byte payload (expected end of file)",
                       xf.offset + xf.payload, xf.payload);
        goto fail;
    }

    /* One block for x and labels: the `owned` contract of dataset.c.  All
     * sizes were bounded by IDX_MAX_BYTES in idx_parse_header; a shard's
     * are its rows'. */
    size_t out_elem = xf.type == IDX_U8 ? 1 : xf.type == IDX_F64 ? 8 : 4;
    uint64_t n_values = (hi - lo) * xf.n_cols;
    size_t x_bytes = (size_t)(n_values * out_elem);
    size_t y_bytes = y ? (size_t)(hi - lo) * sizeof(int32_t) : 0;
    size_t y_off = (x_bytes + 63) & ~(size_t)63;
    size_t total = y_off + y_bytes;

    chunk = malloc(IDX_CHUNK);
    if (!chunk) {
        st = idx_failf(&xf, err, MLP_ERR_NOMEM, "out of memory: %u bytes for the read buffer",
                       IDX_CHUNK);
        goto fail;
    }
    /* A header that promises more than its file can hold is not trusted with
     * an allocation; nor one that promises more than the machine's memory,
     * which is refused before a byte of it is inflated. */
    struct idx_file *over = xf.payload > idx_payload_bound(&xf)      ? &xf
                            : y && yf.payload > idx_payload_bound(&yf) ? &yf
                                                                       : NULL;
    uint64_t mem = mlp__mem_bound();
    if (!over && (uint64_t)total > mem) {
        if (xf.stop)
            st = idx_failf(&xf, err, MLP_ERR_NOMEM,
                           "out of memory: shard %" PRIu32 " of %" PRIu32 " (rows %" PRIu64 "..%" PRIu64
                           " of the %" PRIu64 " declared) of %" PRIu64 " values of %s each, %zu bytes once loaded, "
                           "more than this machine's %" PRIu64 " bytes of memory",
                           p->shard_index, p->shard_count, lo, hi, xf.n_items, xf.n_cols, idx_type_name(xf.type),
                           total, mem);
        else
            st = idx_failf(&xf, err, MLP_ERR_NOMEM,
                           "out of memory: the header declares %" PRIu64 " x %" PRIu64 " values of %s, %zu bytes "
                           "once loaded, more than this machine's %" PRIu64 " bytes of memory",
                           xf.n_items, xf.n_cols, idx_type_name(xf.type), total, mem);
        goto fail;
    }
    /* Only a 32-bit size_t can wrap here; say so rather than under-allocate. */
    if (!over && x_bytes <= SIZE_MAX - 64 - y_bytes) block = mlp__amalloc(total);
    if (!block) {
        st = idx_cannot_load(&xf, &yf, over, total, chunk, err);
        goto fail;
    }

    int32_t *labels = y ? (int32_t *)(void *)(block + y_off) : NULL;
    if ((st = idx_pass(&xf, block, chunk, NULL, err)) != MLP_OK) goto fail;
    if (labels && (st = idx_pass(&yf, labels, chunk, NULL, err)) != MLP_OK) goto fail;
    if ((st = idx_findings(&xf, &yf, y != NULL, err)) != MLP_OK) goto fail;

    if (labels) {
        ds->labels = labels;
        ds->n_classes = yf.n_classes;
    }
    ds->n_rows = hi - lo;
    ds->n_cols = (uint32_t)xf.n_cols;
    ds->x_type = xf.type == IDX_U8 ? MLP_ELEM_U8 : xf.type == IDX_F64 ? MLP_ELEM_F64 : MLP_ELEM_F32;
    ds->x = block;
    ds->owned = block;
    /* (n, h, w) is a grey image, (n, h, w, c) one with 1, 3 or 4 channels. */
    if (xf.ndim == 3 || (xf.ndim == 4 && (xf.dims[3] == 1 || xf.dims[3] == 3 || xf.dims[3] == 4))) {
        ds->sample_shape[0] = xf.dims[1];
        ds->sample_shape[1] = xf.dims[2];
        ds->sample_shape[2] = xf.ndim == 4 ? xf.dims[3] : 1;
    }
    free(chunk);
    idx_close(&xf);
    idx_close(&yf);
    return MLP_OK;

fail:
    mlp__afree(block);
    free(chunk);
    idx_close(&xf);
    idx_close(&yf);
    memset(ds, 0, sizeof *ds);
    return st;
}

enum mlp_status mlp__load_idx(struct mlp_dataset *ds, const char *images_path, const char *labels_path,
                              const struct mlp_load_params *p, struct mlp_error *err)
{
    MLP_ASSERT(ds && images_path);
    struct idx_src x = {images_path, NULL}, y = {labels_path, NULL};
    return idx_load(ds, &x, labels_path ? &y : NULL, p, err);
}

enum mlp_status mlp_dataset_load_idx(struct mlp_dataset *ds, const char *images_path, const char *labels_path,
                                     struct mlp_error *err)
{
    return mlp__load_idx(ds, images_path, labels_path, NULL, err);
}

enum mlp_status mlp_dataset_load_idx_mem(struct mlp_dataset *ds, const struct mlp_buffer *images,
                                         const struct mlp_buffer *labels, const struct mlp_load_params *p,
                                         struct mlp_error *err)
{
    MLP_ASSERT(ds && images && (images->data || images->size == 0));
    MLP_ASSERT(!labels || labels->data || labels->size == 0);
    struct idx_src x = {NULL, images}, y = {NULL, labels};
    return idx_load(ds, &x, labels ? &y : NULL, p, err);
}
