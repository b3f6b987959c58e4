/*
 * threads.c: each handle used from several threads at once. The counts must come out exact
 * (a limit is never exceeded, every permit ends exactly once), listeners must see every
 * transition once and in order, and permits must be recordable on another thread than the one
 * that acquired them. Runs under AddressSanitizer, whose leak check closes the run.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "check.h"

#define THREADS 4

/* Every hammering thread waits here, so they all run at once rather than one after another. */
static pthread_barrier_t start;
#define CHECKS_PER_THREAD 20000
#define SHARED_LIMIT 1000

struct limiter_work {
    sg_limiter *limiter;
    int id;
    uint64_t allowed_shared;
    uint64_t allowed_own;
};

/* Half the checks on one key every thread shares, half on a key of the thread's own. */
static void *hammer_limiter(void *arg)
{
    struct limiter_work *w = arg;
    pthread_barrier_wait(&start);
    uint8_t own[16];
    memset(own, 'a' + w->id, sizeof own);
    for (int i = 0; i < CHECKS_PER_THREAD; i++) {
        sg_decision d;
        bool shared = i % 2 == 0;
        const uint8_t *key = shared ? (const uint8_t *)"shared-key" : own;
        size_t len = shared ? 10 : sizeof own;
        EXPECT_OK(sg_limiter_check(w->limiter, key, len, 1, &d));
        if (d.allowed) {
            if (shared) {
                w->allowed_shared++;
            } else {
                w->allowed_own++;
            }
        }
    }
    return NULL;
}

static void test_limiter(void)
{
    const sg_window windows[] = {{SHARED_LIMIT, 600000000}};
    sg_limiter_config config;
    memset(&config, 0, sizeof config);
    config.struct_size = sizeof config;
    config.windows = windows;
    config.windows_len = 1;
    sg_limiter *limiter = NULL;
    EXPECT_OK(sg_limiter_new(&config, &limiter));

    pthread_t threads[THREADS];
    struct limiter_work work[THREADS];
    for (int t = 0; t < THREADS; t++) {
        work[t] = (struct limiter_work){limiter, t, 0, 0};
        CHECK(pthread_create(&threads[t], NULL, hammer_limiter, &work[t]) == 0);
    }
    uint64_t shared = 0;
    for (int t = 0; t < THREADS; t++) {
        CHECK(pthread_join(threads[t], NULL) == 0);
        shared += work[t].allowed_shared;
        CHECK(work[t].allowed_own == SHARED_LIMIT);
    }
    /* However the threads interleave, the shared key admits exactly its limit. */
    CHECK(shared == SHARED_LIMIT);
    sg_limiter_stats stats;
    EXPECT_OK(sg_limiter_get_stats(limiter, &stats));
    CHECK(stats.keys == THREADS + 1);
    CHECK(stats.allowed == (THREADS + 1) * SHARED_LIMIT);
    CHECK(stats.allowed + stats.rejected == (uint64_t)THREADS * CHECKS_PER_THREAD);
    sg_limiter_free(limiter);
}

/* A listener that checks transitions arrive one at a time, in generation order. */
struct order {
    atomic_int calls;
    atomic_int inside;
    atomic_int overlapped;
    atomic_uint_fast64_t last_generation;
    atomic_int out_of_order;
};

static void on_transition(void *userdata, const sg_transition *t)
{
    struct order *o = userdata;
    if (atomic_fetch_add(&o->inside, 1) != 0) {
        atomic_fetch_add(&o->overlapped, 1);
    }
    if (t->generation != atomic_load(&o->last_generation) + 1) {
        atomic_fetch_add(&o->out_of_order, 1);
    }
    atomic_store(&o->last_generation, t->generation);
    atomic_fetch_add(&o->calls, 1);
    atomic_fetch_sub(&o->inside, 1);
}

static void on_keyed_transition(void *userdata, const uint8_t *key, size_t key_len,
                                const sg_transition *t)
{
    (void)key;
    (void)key_len;
    struct order *o = userdata;
    (void)t;
    atomic_fetch_add(&o->calls, 1);
}

struct breaker_work {
    sg_breaker *breaker;
    sg_breakers *breakers;
    int id;
};

#define CALLS_PER_THREAD 5000

/* Calls through the breaker, failing every seventh; one thread also flips it by hand. */
static void *hammer_breaker(void *arg)
{
    struct breaker_work *w = arg;
    pthread_barrier_wait(&start);
    for (int i = 0; i < CALLS_PER_THREAD; i++) {
        if (w->id == 0 && i % 500 == 250) {
            bool changed;
            EXPECT_OK(sg_breaker_force_open(w->breaker, &changed));
            EXPECT_OK(sg_breaker_reset(w->breaker));
        }
        sg_admission a;
        EXPECT_OK(sg_breaker_acquire(w->breaker, &a));
        if (a.permit != NULL) {
            sg_result r = sg_permit_record(a.permit, i % 7 == 0 ? SG_OUTCOME_FAILURE : SG_OUTCOME_SUCCESS, 10);
            CHECK(r == SG_OK || r == SG_STALE_OUTCOME);
        }
    }
    return NULL;
}

static void test_breaker(void)
{
    sg_breaker_config config;
    memset(&config, 0, sizeof config);
    config.struct_size = sizeof config;
    config.consecutive_failures = 2;
    config.open_for_us = 100;
    struct order order = {0};
    sg_breaker *breaker = NULL;
    EXPECT_OK(sg_breaker_new(&config, on_transition, &order, &breaker));

    pthread_t threads[THREADS];
    struct breaker_work work[THREADS];
    for (int t = 0; t < THREADS; t++) {
        work[t] = (struct breaker_work){breaker, NULL, t};
        CHECK(pthread_create(&threads[t], NULL, hammer_breaker, &work[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        CHECK(pthread_join(threads[t], NULL) == 0);
    }
    sg_breaker_counters c;
    EXPECT_OK(sg_breaker_get_counters(breaker, &c));
    CHECK(c.permitted + c.rejected == (uint64_t)THREADS * CALLS_PER_THREAD);
    CHECK(c.permitted == c.successes + c.failures + c.ignored + c.stale);
    /* The manual flips alone make twenty transitions. */
    CHECK(atomic_load(&order.calls) >= 20);
    CHECK(atomic_load(&order.overlapped) == 0);
    CHECK(atomic_load(&order.out_of_order) == 0);
    sg_breaker_free(breaker);
}

/* Permits acquired on this thread, recorded on others. */
#define HANDED_OVER 64

struct handover {
    sg_admission *admissions;
    int from;
    int to;
};

static void *record_elsewhere(void *arg)
{
    struct handover *h = arg;
    pthread_barrier_wait(&start);
    for (int i = h->from; i < h->to; i++) {
        EXPECT_OK(sg_permit_record(h->admissions[i].permit, SG_OUTCOME_SUCCESS, 5));
    }
    return NULL;
}

static void test_permits_cross_threads(void)
{
    sg_breaker_config config;
    memset(&config, 0, sizeof config);
    config.struct_size = sizeof config;
    config.consecutive_failures = 1;
    sg_breaker *breaker = NULL;
    EXPECT_OK(sg_breaker_new(&config, NULL, NULL, &breaker));
    sg_admission admissions[HANDED_OVER];
    for (int i = 0; i < HANDED_OVER; i++) {
        EXPECT_OK(sg_breaker_acquire(breaker, &admissions[i]));
        CHECK(admissions[i].permit != NULL);
    }
    /* The breaker goes before its permits do. */
    sg_breaker_counters before;
    EXPECT_OK(sg_breaker_get_counters(breaker, &before));
    CHECK(before.permitted == HANDED_OVER);
    sg_breaker_free(breaker);

    pthread_t threads[THREADS];
    struct handover handovers[THREADS];
    for (int t = 0; t < THREADS; t++) {
        handovers[t] = (struct handover){admissions, t * HANDED_OVER / THREADS,
                                         (t + 1) * HANDED_OVER / THREADS};
        CHECK(pthread_create(&threads[t], NULL, record_elsewhere, &handovers[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        CHECK(pthread_join(threads[t], NULL) == 0);
    }
}

/* Registry: threads spread over a few hosts, creating and removing breakers as they go. */
static void *hammer_registry(void *arg)
{
    struct breaker_work *w = arg;
    pthread_barrier_wait(&start);
    for (int i = 0; i < CALLS_PER_THREAD; i++) {
        char host[16];
        int n = snprintf(host, sizeof host, "host-%d", (i + w->id) % 8);
        sg_admission a;
        EXPECT_OK(sg_breakers_acquire(w->breakers, (const uint8_t *)host, (size_t)n, &a));
        if (a.permit != NULL) {
            sg_result r = sg_permit_record(a.permit, i % 3 == 0 ? SG_OUTCOME_FAILURE : SG_OUTCOME_SUCCESS, 1);
            CHECK(r == SG_OK || r == SG_STALE_OUTCOME);
        }
        if (i % 1000 == 999) {
            bool held;
            EXPECT_OK(sg_breakers_remove(w->breakers, (const uint8_t *)host, (size_t)n, &held));
        }
    }
    return NULL;
}

static void test_registry(void)
{
    sg_breaker_config shared;
    memset(&shared, 0, sizeof shared);
    shared.struct_size = sizeof shared;
    shared.failure_rate_percent = 50;
    shared.count_window = 20;
    shared.open_for_us = 200;
    sg_breakers_config config;
    memset(&config, 0, sizeof config);
    config.struct_size = sizeof config;
    config.breaker = &shared;
    struct order order = {0};
    sg_breakers *breakers = NULL;
    EXPECT_OK(sg_breakers_new(&config, on_keyed_transition, &order, &breakers));

    pthread_t threads[THREADS];
    struct breaker_work work[THREADS];
    for (int t = 0; t < THREADS; t++) {
        work[t] = (struct breaker_work){NULL, breakers, t};
        CHECK(pthread_create(&threads[t], NULL, hammer_registry, &work[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        CHECK(pthread_join(threads[t], NULL) == 0);
    }
    size_t len = 0;
    EXPECT_OK(sg_breakers_len(breakers, &len));
    CHECK(len >= 1 && len <= 8);
    sg_breakers_stats stats;
    EXPECT_OK(sg_breakers_get_stats(breakers, &stats));
    CHECK(stats.keys == len && stats.refused == 0);
    sg_breakers_free(breakers);
}

int main(void)
{
    CHECK(pthread_barrier_init(&start, NULL, THREADS) == 0);
    test_limiter();
    test_breaker();
    test_permits_cross_threads();
    test_registry();
    pthread_barrier_destroy(&start);
    return finish("threads");
}
