import Foundation

/// Runs blocking work — the synchronous embedder, SQLite searches — on threads of its own.
///
/// Swift's cooperative pool has about one thread per core, and every request's async code needs one to make
/// progress. A handler that embeds or searches synchronously holds its thread for the whole call, so on a
/// small machine two such requests stall every other connection (health checks, token streams, timeouts).
/// Handing the call to a dispatch queue and suspending keeps the cooperative threads free.
enum BlockingWork {
    /// Concurrent: independent searches may overlap (SQLite WAL readers); the embedder has its own gate.
    private static let queue = DispatchQueue(label: "assist.server.blocking", qos: .userInitiated, attributes: .concurrent)

    /// The result of `body`, computed off the cooperative pool.
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
