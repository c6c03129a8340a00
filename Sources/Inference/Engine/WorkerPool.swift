import CKernels

/// A fixed set of threads that share each parallel step's chunks, owned by one session.
///
/// Decoding a token takes a few hundred short parallel steps, so the workers spin briefly between steps
/// instead of going back to the kernel (see `quant_pool.c`); `DispatchQueue.concurrentPerform` costs more
/// per step than a small matmul takes.
final class WorkerPool {
    private let pool: OpaquePointer
    let threadCount: Int

    init(threads: Int) {
        pool = qk_pool_create(Int32(max(1, threads)))
        threadCount = Int(qk_pool_threads(pool))
    }

    deinit { qk_pool_destroy(pool) }

    /// Runs `body(chunk, thread)` for every chunk in `0..<chunks` on whichever threads are free (the caller's
    /// included) and returns when all are done. `thread` < `threadCount` identifies per-thread scratch.
    func run(chunks: Int, _ body: (Int, Int) -> Void) {
        guard chunks > 0 else { return }
        withoutActuallyEscaping(body) { body in
            var task = body
            withUnsafeMutablePointer(to: &task) { taskPointer in
                qk_pool_run(
                    pool,
                    { context, chunk, thread in
                        context!.assumingMemoryBound(to: ((Int, Int) -> Void).self).pointee(Int(chunk), Int(thread))
                    }, taskPointer, Int32(chunks))
            }
        }
    }
}
