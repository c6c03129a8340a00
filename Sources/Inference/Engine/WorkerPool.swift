import CKernels

/// A fixed set of threads that run one step together and wait for each other, owned by one session.
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

    /// Runs `body(thread, threadCount)` on every thread, the caller's included, and returns when all are done.
    func run(_ body: (Int, Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            var task = body
            withUnsafeMutablePointer(to: &task) { taskPointer in
                qk_pool_run(
                    pool,
                    { context, thread, count in
                        context!.assumingMemoryBound(to: ((Int, Int) -> Void).self).pointee(Int(thread), Int(count))
                    }, taskPointer)
            }
        }
    }

    /// The part of `0..<count` that `thread` of `threads` handles, in chunks aligned to `alignment` so
    /// threads do not write to the same cache line.
    static func share(of count: Int, thread: Int, threads: Int, alignment: Int = 16) -> Range<Int> {
        let chunk = ((count + threads - 1) / threads + alignment - 1) / alignment * alignment
        let start = min(count, thread * chunk)
        return start..<min(count, start + chunk)
    }
}
