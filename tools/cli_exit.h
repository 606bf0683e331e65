/* SPDX-License-Identifier: MIT */
/* The command line's exit codes, on their own so that the lowest pieces of
 * the CLI (the YAML reader in config.c) can return them without seeing the
 * rest of cli.h. */
#ifndef FASTMLP_CLI_EXIT_H
#define FASTMLP_CLI_EXIT_H

/* Exit codes (README "Exit codes"; sysexits.h values where one fits). */
enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,      /* anything not listed below */
    EXIT_DIVERGED = 3,  /* training produced NaN/Inf */
    EXIT_GRADIENT = 4,  /* gradcheck: a gradient is off by more than the tolerance */
    EXIT_USAGE = 64,    /* bad command line */
    EXIT_DATAERR = 65,  /* malformed or inconsistent input data or model */
    EXIT_NOINPUT = 66,  /* an input file cannot be opened */
    EXIT_SOFTWARE = 70, /* internal error, out of memory */
    EXIT_CANTCREAT = 73,/* an output file cannot be created */
    EXIT_IOERR = 74,    /* a read or write failed mid-way */
    EXIT_INTERRUPTED = 130 /* stopped by SIGINT/SIGTERM; a checkpoint was written */
};

#endif
