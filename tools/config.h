/* SPDX-License-Identifier: MIT */
/* `--config FILE.yaml`: options read from a YAML mapping whose keys are the
 * long option names without their dashes.  This file only reads YAML into
 * (key, value, line) entries; cli_parse looks the keys up in the command's
 * option table and parses the values exactly as it parses flags. */
#ifndef FASTMLP_CONFIG_H
#define FASTMLP_CONFIG_H

#include "cli.h"

#include <stddef.h>

struct cli_config_entry {
    const char *key;   /* "lr" */
    const char *value; /* "0.01"; a sequence of scalars joined with ',' ("256,128") */
    unsigned line;     /* 1-based line of the key */
    bool list;         /* the value was a sequence */
};

/* Find --config FILE (or --config=FILE) in argv[first..argc), skipping the
 * values of the table's options exactly as cli_parse does and stopping at
 * "--".  *path is NULL when there is none, or when -h/--help was given (help
 * never reads the file).  Returns EXIT_OK, or EXIT_USAGE after one stderr
 * line (no FILE, or --config given twice). */
int cli_config_find(const char *cmd, int argc, char **argv, int first, const struct opt *opts,
                    const char **path);

/* Read the YAML file `path` into *out (n entries, in file order; the caller
 * frees the array with free()).  The key and value strings live until the
 * process exits (an arena freed by atexit), since OPT_STR options keep
 * pointers to them.  An empty file gives no entries.  Rejected with one
 * stderr line "fastmlp CMD: PATH:LINE: ...": syntax errors (with libyaml's
 * line:column), a document that is not a mapping, nested mappings or
 * sequences, keys without a value, duplicate keys, aliases, more than one
 * document, and the keys 'config' and 'help'.  Returns EXIT_OK,
 * EXIT_NOINPUT (cannot open), EXIT_IOERR (read failed), EXIT_SOFTWARE (out
 * of memory) or EXIT_USAGE (bad content). */
int cli_config_read(const char *cmd, const char *path, struct cli_config_entry **out, size_t *n);

/* A flag's value: 1 for true/yes, 0 for false/no (any case), -1 otherwise. */
int cli_config_bool(const char *v);

#endif
