import Foundation
import Ingest

/// How `IndexStore.sync` chunks and embeds.
public struct SyncOptions: Sendable {
    /// Counts tokens the way the embedding model does, so chunks fit it.
    public var tokenCounter: any TokenCounting
    public var maxChunkTokens: Int
    public var overlapTokens: Int
    /// Chunks per call to the embedder.
    public var embedBatchSize: Int
    /// Messages per transaction while parsing an mbox (each commit also records how far the file was read).
    public var mailBatchSize: Int
    /// Lets another thread (a Ctrl-C handler, a test) stop the sync at the next safe point.
    public var cancellation: SyncCancellation?

    public init(
        tokenCounter: any TokenCounting = ApproximateTokenCounter(), maxChunkTokens: Int = 256,
        overlapTokens: Int = 32, embedBatchSize: Int = 32, mailBatchSize: Int = 500,
        cancellation: SyncCancellation? = nil
    ) {
        self.tokenCounter = tokenCounter
        self.maxChunkTokens = maxChunkTokens
        self.overlapTokens = overlapTokens
        self.embedBatchSize = embedBatchSize
        self.mailBatchSize = mailBatchSize
        self.cancellation = cancellation
    }
}

/// A flag to stop a running sync. Checked inside each write transaction just before it commits, so a
/// cancel rolls back the transaction in flight and leaves everything committed earlier in place.
public final class SyncCancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false

    public init() {}

    public func cancel() {
        lock.lock()
        cancelled = true
        lock.unlock()
    }

    public var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }
}

/// Where a sync is, for a progress bar. `done`/`total` count files while scanning and indexing, bytes
/// while parsing one mbox, and chunks while embedding.
public struct SyncProgress: Sendable, Equatable {
    public enum Phase: String, Sendable, Equatable {
        case scanning, indexing, mail, removing, threading, embedding
    }
    public var phase: Phase
    public var done: Int
    public var total: Int
    public var currentPath: String?

    public init(phase: Phase, done: Int, total: Int, currentPath: String? = nil) {
        self.phase = phase
        self.done = done
        self.total = total
        self.currentPath = currentPath
    }
}

/// A source that could not be indexed, and why.
public struct FailedSource: Sendable, Equatable, Encodable {
    public var path: String
    public var error: String

    public init(path: String, error: String) {
        self.path = path
        self.error = error
    }
}

/// What a sync did. Counts are documents: one per note, one per mail message.
///
/// Encodes to the CLI.md shape `{"added","updated","removed","unchanged","failed":[{"path","error"}],
/// "chunks","seconds"}` plus `moved`, `embedded`, `vectors_reused`, `bytes_parsed` and `notices`.
public struct SyncReport: Sendable, Equatable, Encodable {
    public var added = 0
    public var updated = 0
    public var removed = 0
    /// Notes and message files found at a new path with the same bytes (filed elsewhere, a Maildir message
    /// renamed by its flags): their documents only changed path.
    public var moved = 0
    public var unchanged = 0
    public var failed: [FailedSource] = []
    /// Chunks written in this run.
    public var chunks = 0
    /// Chunks embedded in this run.
    public var embedded = 0
    /// Chunks that got the vector of an identical chunk removed in this run (a note edited elsewhere, moved
    /// or renamed; a Maildir message whose flags changed its file name) instead of being embedded again.
    public var vectorsReused = 0
    public var seconds: Double = 0
    /// Bytes of source files read and parsed (files skipped as unchanged read nothing).
    public var bytesParsed: Int64 = 0
    /// Things the user should know, such as "embedding model changed: re-embedding all chunks".
    public var notices: [String] = []

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case added, updated, removed, moved, unchanged, failed, chunks, embedded, seconds
        case bytesParsed = "bytes_parsed"
        case vectorsReused = "vectors_reused"
        case notices
    }
}
