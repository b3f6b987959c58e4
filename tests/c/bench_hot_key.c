/*
 * bench_hot_key.c: nanoseconds per sg_limiter_check in the hot-key scenario of
 * benches/limiter.rs: one 16-byte key, 100 requests per 60 s window, the library's clock. After
 * the first 100 checks every check is a rejection, as with a client hammering one route.
 *
 * Usage: bench_hot_key [checks per run] [runs]. Prints the best run, the figure least
 * disturbed by other work on the machine.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sluicegate.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long checks = argc > 1 ? atol(argv[1]) : 5000000;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (checks <= 0 || runs <= 0) {
        fprintf(stderr, "usage: %s [checks per run > 0] [runs > 0]\n", argv[0]);
        return EXIT_FAILURE;
    }
    const sg_window window = {100, 60000000};
    sg_limiter_config config = {0};
    config.struct_size = sizeof config;
    config.windows = &window;
    config.windows_len = 1;
    sg_limiter *limiter = NULL;
    if (sg_limiter_new(&config, &limiter) != SG_OK) {
        fprintf(stderr, "sg_limiter_new failed\n");
        return EXIT_FAILURE;
    }
    static const uint8_t key[16] = "client-000000000";
    double best = 0;
    uint64_t allowed = 0;
    for (int run = 0; run < runs; run++) {
        double start = now_ns();
        for (long i = 0; i < checks; i++) {
            sg_decision d;
            if (sg_limiter_check(limiter, key, sizeof key, 1, &d) != SG_OK) {
                fprintf(stderr, "sg_limiter_check failed\n");
                return EXIT_FAILURE;
            }
            allowed += d.allowed;
        }
        double per_check = (now_ns() - start) / (double)checks;
        if (run == 0 || per_check < best) {
            best = per_check;
        }
    }
    sg_limiter_free(limiter);
    /* 100 admitted over all the runs: the window outlasts the benchmark. */
    printf("hot_key C: %.2f ns per check (best of %d runs of %ld; %llu admitted)\n", best, runs,
           checks, (unsigned long long)allowed);
    return allowed == 100 ? EXIT_SUCCESS : EXIT_FAILURE;
}
