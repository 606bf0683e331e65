/* SPDX-License-Identifier: MIT */
/* The command line's one YAML reader: a file read with libyaml's event
 * parser into entries (the key's path, its value, its line).  Two schemas
 * sit on it: the flat options file of `--config FILE.yaml`, whose keys are
 * long option names (cli_config_read here; cli_parse in cli_common.c looks
 * the keys up in the command's option table), and seed 003's nested
 * benchmark file (bench_config.c).  This file knows no option table and no
 * command: the arrows run from cli_common.c and bench_config.c down to it. */
#ifndef FASTMLP_CONFIG_H
#define FASTMLP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* What stands after a key. */
enum cli_yaml_kind {
    CLI_YAML_VALUE,  /* a plain value */
    CLI_YAML_LIST,   /* a sequence */
    CLI_YAML_MAP,    /* a mapping: its keys follow as entries of their own, "KEY.SUB" */
    CLI_YAML_NULL,   /* nothing: `key:`, `key: ~`, `key: null` */
    CLI_YAML_ALIAS,  /* `*anchor` */
    CLI_YAML_BADKEY  /* the key itself is not a name (empty, a list, a mapping); its value is skipped */
};

struct cli_config_entry {
    const char *key;     /* the key's path: "lr"; in a nested mapping "benchmark.shape.layers" */
    const char *value;   /* VALUE: the text; LIST: the items joined with ',' ("256,128", as
                          * the flag would be written); else NULL */
    unsigned line;       /* 1-based line of the key */
    enum cli_yaml_kind kind;
    bool nul;            /* VALUE: the text holds a NUL byte */
    unsigned first_line; /* the same path was given before, on this line; 0 when it was not */
    /* LIST: the items (plain values only) and their lines */
    size_t n_items;
    const char *const *items;
    const unsigned *item_lines;
    /* LIST: the first item that is not a plain value, on bad_line (0: none):
     * CLI_YAML_NULL (empty), MAP, LIST, ALIAS, or VALUE for a NUL byte */
    unsigned bad_line;
    enum cli_yaml_kind bad_kind;
};

/* A visitor sees each entry as soon as it is read (a mapping's entry before
 * its keys), so that a schema can stop at the first mistake in file order.
 * It returns CLI_YAML_GO, CLI_YAML_SKIP (a mapping: its keys are passed over
 * unread), or an exit code, which ends the reading and is returned. */
enum { CLI_YAML_GO = 0, CLI_YAML_SKIP = -1 };
typedef int (*cli_yaml_visit_fn)(const struct cli_config_entry *e, void *user);

struct cli_yaml_read_params {
    const char *cmd, *path;   /* for messages: "fastmlp CMD: PATH:LINE: ..." */
    const char *expected;     /* what the file must be, for a file that is not a mapping:
                               * "a mapping of option names to values ('lr: 0.01')" */
    cli_yaml_visit_fn visit;  /* may be NULL */
    void *user;
};

/* Read the YAML file p->path into *out (n entries in file order, keys of
 * mappings a visitor skipped left out; the caller frees the array with
 * free()).  Strings live until the process exits (an arena freed by atexit),
 * since OPT_STR options keep pointers to them.  An empty file, or one
 * document that is empty, gives no entries.  The reader itself refuses,
 * with one stderr line "fastmlp CMD: PATH:LINE: ...", YAML syntax errors
 * (with libyaml's line:column), a document that is not a mapping, more than
 * one document and mappings nested deeper than 16; everything else is the
 * schema's to judge.  Returns EXIT_OK, EXIT_NOINPUT (cannot open),
 * EXIT_IOERR (read failed), EXIT_SOFTWARE (out of memory), EXIT_USAGE (bad
 * content) or the code a visitor returned. */
int cli_yaml_read(const struct cli_yaml_read_params *p, struct cli_config_entry **out, size_t *n);

/* The flat options file of `--config`: cli_yaml_read, and also refused
 * here, at the first in file order: a key without a value, nested mappings
 * or sequences, aliases, NUL bytes, a key given twice, keys that are not
 * names, and the keys 'config' and 'help'.  Every entry of *out is a VALUE
 * or a LIST.  Returns as cli_yaml_read. */
int cli_config_read(const char *cmd, const char *path, struct cli_config_entry **out, size_t *n);

/* One stderr line "fastmlp CMD: PATH:LINE: MESSAGE"; returns EXIT_USAGE. */
int cli_config_error(const char *cmd, const char *path, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A flag's value: 1 for true/yes, 0 for false/no (any case), -1 otherwise. */
int cli_config_bool(const char *v);

#endif
