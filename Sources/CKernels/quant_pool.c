// A persistent thread pool for the engine's many small parallel steps (hundreds per generated token).
//
// A step is a number of chunks; every thread, the caller's included, claims chunks from one shared word
// until none are left. Claiming (rather than a fixed split) keeps a step from waiting on a thread the
// operating system has not scheduled yet: whoever runs does the work, and a late worker finds nothing left.
// Workers spin briefly on that word before sleeping, so a step that follows quickly starts without a
// kernel round trip.
#include "quant_kernels.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define QK_PAUSE() _mm_pause()
#else
#define QK_PAUSE() ((void)0)
#endif

enum { QK_SPINS_BEFORE_SLEEP = 1 << 14, QK_SPINS_BEFORE_YIELD = 1 << 10 };

// The work word: step generation (24 bits) | chunk count (20 bits) | next unclaimed chunk (20 bits).
// Holding all three in one word lets a claim fail cleanly when it belongs to an earlier step.
#define QK_GEN(w) ((w) >> 40)
#define QK_TOTAL(w) (((w) >> 20) & 0xFFFFF)
#define QK_NEXT(w) ((w) & 0xFFFFF)
#define QK_MAX_CHUNKS 0xFFFFF

struct qk_pool {
    int nthreads;
    pthread_t *threads;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    _Atomic uint64_t work;
    _Atomic int remaining;  // chunks of the current step not yet finished
    _Atomic int sleepers;   // workers blocked (or about to block) on `wake`
    _Atomic int stop;
    uint64_t generation;    // written by the caller's thread only
    qk_task_fn fn;
    void *ctx;
};

typedef struct {
    qk_pool *pool;
    int index;
} worker_arg;

/// Claims the next chunk of step `gen`; returns -1 when the step has none left (or is over).
static int claim(qk_pool *pool, uint64_t gen) {
    uint64_t w = atomic_load_explicit(&pool->work, memory_order_acquire);
    for (;;) {
        if (QK_GEN(w) != gen || QK_NEXT(w) >= QK_TOTAL(w)) return -1;
        if (atomic_compare_exchange_weak_explicit(&pool->work, &w, w + 1, memory_order_acq_rel, memory_order_acquire))
            return (int)QK_NEXT(w);
    }
}

static void run_chunks(qk_pool *pool, uint64_t gen, int thread) {
    int chunk;
    while ((chunk = claim(pool, gen)) >= 0) {
        pool->fn(pool->ctx, chunk, thread);
        atomic_fetch_sub_explicit(&pool->remaining, 1, memory_order_release);
    }
}

static void *worker_main(void *raw) {
    worker_arg arg = *(worker_arg *)raw;
    free(raw);
    qk_pool *pool = arg.pool;
    uint64_t seen = 0;
    for (;;) {
        uint64_t gen;
        int spins = 0;
        while ((gen = QK_GEN(atomic_load_explicit(&pool->work, memory_order_acquire))) == seen &&
               spins < QK_SPINS_BEFORE_SLEEP) {
            QK_PAUSE();
            spins++;
        }
        if (gen == seen) {
            pthread_mutex_lock(&pool->mutex);
            atomic_fetch_add(&pool->sleepers, 1);
            while ((gen = QK_GEN(atomic_load(&pool->work))) == seen && !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->wake, &pool->mutex);
            atomic_fetch_sub(&pool->sleepers, 1);
            pthread_mutex_unlock(&pool->mutex);
        }
        if (atomic_load_explicit(&pool->stop, memory_order_acquire)) break;
        seen = gen;
        run_chunks(pool, gen, arg.index);
    }
    return NULL;
}

qk_pool *qk_pool_create(int nthreads) {
    if (nthreads < 1) nthreads = 1;
    qk_pool *pool = calloc(1, sizeof(qk_pool));
    if (!pool) return NULL;
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pool->threads = calloc((size_t)nthreads, sizeof(pthread_t));
    pool->nthreads = 1;
    for (int i = 1; i < nthreads && pool->threads; i++) {
        worker_arg *arg = malloc(sizeof(worker_arg));
        if (!arg) break;
        arg->pool = pool;
        arg->index = i;
        if (pthread_create(&pool->threads[i], NULL, worker_main, arg) != 0) {
            free(arg);
            break;  // run with the workers that did start
        }
        pool->nthreads = i + 1;
    }
    return pool;
}

static void wake_workers(qk_pool *pool) {
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->mutex);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->mutex);
    }
}

void qk_pool_destroy(qk_pool *pool) {
    if (!pool) return;
    atomic_store(&pool->stop, 1);
    pthread_mutex_lock(&pool->mutex);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    for (int i = 1; i < pool->nthreads; i++) pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->mutex);
    pthread_cond_destroy(&pool->wake);
    free(pool->threads);
    free(pool);
}

int qk_pool_threads(const qk_pool *pool) { return pool->nthreads; }

void qk_pool_run(qk_pool *pool, qk_task_fn fn, void *ctx, int nchunks) {
    if (nchunks <= 0) return;
    if (pool->nthreads == 1 || nchunks == 1 || nchunks > QK_MAX_CHUNKS) {
        for (int i = 0; i < nchunks; i++) fn(ctx, i, 0);
        return;
    }
    pool->fn = fn;
    pool->ctx = ctx;
    atomic_store_explicit(&pool->remaining, nchunks, memory_order_relaxed);
    pool->generation = (pool->generation + 1) & 0xFFFFFF;
    if (pool->generation == 0) pool->generation = 1;  // workers start having "seen" generation 0
    uint64_t gen = pool->generation;
    // seq_cst store: pairs with the sleepers count in worker_main so no wake-up is lost.
    atomic_store(&pool->work, (gen << 40) | ((uint64_t)nchunks << 20));
    wake_workers(pool);
    run_chunks(pool, gen, 0);
    int spins = 0;
    while (atomic_load_explicit(&pool->remaining, memory_order_acquire) > 0) {
        QK_PAUSE();
        if (++spins > QK_SPINS_BEFORE_YIELD) sched_yield();
    }
}
