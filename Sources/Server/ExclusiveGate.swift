import Foundation

/// Lets one task at a time through, in arrival order, with a bounded waiting line.
///
/// A model can only run one generation at a time (it owns one KV cache and saturates the CPU), while an
/// HTTP server receives requests concurrently. Each model gets a gate; a request holds it for the whole
/// generation and releases it when the stream ends for any reason, so a client that disconnects mid-answer
/// frees the model for the next one. Waiting tasks that are cancelled leave the line.
actor ExclusiveGate {
    /// Thrown when `limit` tasks are already waiting: the caller answers 503 instead of piling up work.
    struct Full: Error, CustomStringConvertible {
        let limit: Int
        var description: String { "the model is busy: \(limit) requests are already waiting; try again later" }
    }

    private let limit: Int
    private var busy = false
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, Error>)] = []
    private var nextID: UInt64 = 0

    /// - Parameter limit: how many tasks may wait while one holds the gate.
    init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// How many tasks are waiting now.
    var waiting: Int { waiters.count }

    /// Runs `body` once the gate is free, holding it until `body` returns or throws.
    nonisolated func withExclusiveAccess<T>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        do {
            let value = try await body()
            await release()
            return value
        } catch {
            await release()
            throw error
        }
    }

    /// Waits for the gate. Throws `Full` when the line is full and `CancellationError` if cancelled while waiting.
    func acquire() async throws {
        try Task.checkCancellation()
        if !busy {
            busy = true
            return
        }
        guard waiters.count < limit else { throw Full(limit: limit) }
        nextID &+= 1
        let id = nextID
        try await withTaskCancellationHandler {
            // The body runs on this actor before it suspends, so the waiter is queued before
            // `cancelWaiter` (which needs the actor) can look for it.
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                waiters.append((id, continuation))
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    /// Hands the gate to the next waiter, or marks it free.
    func release() {
        if waiters.isEmpty {
            busy = false
        } else {
            // Ownership passes directly, so `busy` stays true and no newcomer can slip in between.
            waiters.removeFirst().continuation.resume()
        }
    }

    /// Removes a cancelled waiter; one that already holds the gate keeps it until its body ends.
    private func cancelWaiter(_ id: UInt64) {
        if let index = waiters.firstIndex(where: { $0.id == id }) {
            waiters.remove(at: index).continuation.resume(throwing: CancellationError())
        }
    }
}
