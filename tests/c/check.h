/*
 * check.h: the few assertions the C tests share. Each failed check prints where it failed,
 * with the library's detail message for a result code, and the program exits non-zero at the
 * end; a run ends with a "N passed, N failed" line. The counters are atomic: threads check too.
 */
#ifndef SLUICEGATE_TEST_CHECK_H
#define SLUICEGATE_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluicegate.h"

static _Atomic int checks_passed;
static _Atomic int checks_failed;

/* The result codes the program has seen returned, to prove every one is reached. */
static _Atomic int results_seen[32];

static void check_failed(const char *file, int line, const char *what)
{
    char detail[512];
    size_t len = 0;
    checks_failed++;
    if (sg_last_error(detail, sizeof detail, &len) != SG_OK) {
        strcpy(detail, "(sg_last_error failed)");
    }
    fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", file, line, what, detail);
}

#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (cond) {                                                                           \
            checks_passed++;                                                                  \
        } else {                                                                              \
            check_failed(__FILE__, __LINE__, #cond);                                          \
        }                                                                                     \
    } while (0)

/* Runs `call` and checks that it returned `expected`. */
#define EXPECT(expected, call)                                                                \
    do {                                                                                      \
        sg_result got_ = (call);                                                              \
        if (got_ < sizeof results_seen / sizeof results_seen[0]) {                            \
            results_seen[got_] = 1;                                                           \
        }                                                                                     \
        if (got_ == (sg_result)(expected)) {                                                  \
            checks_passed++;                                                                  \
        } else {                                                                              \
            char what_[256];                                                                  \
            snprintf(what_, sizeof what_, "%s returned %u (%s), not %s", #call,              \
                     (unsigned)got_, sg_result_message(got_), #expected);                     \
            check_failed(__FILE__, __LINE__, what_);                                          \
        }                                                                                     \
    } while (0)

#define EXPECT_OK(call) EXPECT(SG_OK, call)

/* Prints the summary line and returns the process's exit status. */
static int finish(const char *program)
{
    printf("%s: %d passed, %d failed\n", program, checks_passed, checks_failed);
    return checks_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* SLUICEGATE_TEST_CHECK_H */
