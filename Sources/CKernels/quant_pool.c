// A persistent thread pool for the engine's many small parallel steps (hundreds per generated token).
// Workers spin for a while on a generation counter before sleeping on a condition variable, so a step
// that follows quickly on the previous one starts without a kernel round trip.
#include "quant_kernels.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define QK_PAUSE() _mm_pause()
#else
#define QK_PAUSE() ((void)0)
#endif

enum { QK_SPINS_BEFORE_SLEEP = 1 << 17 };

struct qk_pool {
    int nthreads;
    pthread_t *threads;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    _Atomic unsigned long generation;  // bumped once per qk_pool_run
    _Atomic int pending;               // workers still running the current task
    _Atomic int sleepers;              // workers blocked (or about to block) on `wake`
    _Atomic int stop;
    qk_task_fn fn;
    void *ctx;
};

typedef struct {
    qk_pool *pool;
    int index;
} worker_arg;

static void *worker_main(void *raw) {
    worker_arg arg = *(worker_arg *)raw;
    free(raw);
    qk_pool *pool = arg.pool;
    unsigned long seen = 0;
    for (;;) {
        unsigned long gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen &&
               spins < QK_SPINS_BEFORE_SLEEP) {
            QK_PAUSE();
            spins++;
        }
        if (gen == seen) {
            pthread_mutex_lock(&pool->mutex);
            atomic_fetch_add(&pool->sleepers, 1);
            while ((gen = atomic_load(&pool->generation)) == seen) pthread_cond_wait(&pool->wake, &pool->mutex);
            atomic_fetch_sub(&pool->sleepers, 1);
            pthread_mutex_unlock(&pool->mutex);
        }
        seen = gen;
        if (atomic_load_explicit(&pool->stop, memory_order_acquire)) break;
        pool->fn(pool->ctx, arg.index, pool->nthreads);
        atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_release);
    }
    return NULL;
}

qk_pool *qk_pool_create(int nthreads) {
    if (nthreads < 1) nthreads = 1;
    qk_pool *pool = calloc(1, sizeof(qk_pool));
    if (!pool) return NULL;
    pool->nthreads = nthreads;
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pool->threads = calloc((size_t)nthreads, sizeof(pthread_t));
    for (int i = 1; i < nthreads; i++) {
        worker_arg *arg = malloc(sizeof(worker_arg));
        arg->pool = pool;
        arg->index = i;
        if (pthread_create(&pool->threads[i], NULL, worker_main, arg) != 0) {
            free(arg);
            pool->nthreads = i;  // run with the workers that did start
            break;
        }
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
    atomic_fetch_add(&pool->generation, 1);
    wake_workers(pool);
    for (int i = 1; i < pool->nthreads; i++) pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->mutex);
    pthread_cond_destroy(&pool->wake);
    free(pool->threads);
    free(pool);
}

int qk_pool_threads(const qk_pool *pool) { return pool->nthreads; }

void qk_pool_run(qk_pool *pool, qk_task_fn fn, void *ctx) {
    if (pool->nthreads == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->ctx = ctx;
    atomic_store_explicit(&pool->pending, pool->nthreads - 1, memory_order_relaxed);
    atomic_fetch_add(&pool->generation, 1);  // seq_cst: pairs with the sleepers check in worker_main
    wake_workers(pool);
    fn(ctx, 0, pool->nthreads);
    int spins = 0;
    while (atomic_load_explicit(&pool->pending, memory_order_acquire) > 0) {
        QK_PAUSE();
        if (++spins > 4096) {
            sched_yield();
            spins = 0;
        }
    }
}
