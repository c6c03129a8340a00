import Foundation

/// Everything that can go wrong with the index database, phrased for the person at the terminal:
/// each message names the file, the problem and the command that fixes it.
public enum StoreError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Another process holds a write lock on the database longer than the busy timeout.
    case busy(path: String)
    /// The file exists but is not a SQLite database, or SQLite found it damaged.
    case corrupt(path: String, detail: String)
    /// The folder or the file cannot be written (permissions, read-only file system).
    case notWritable(path: String, detail: String)
    /// The disk (or quota) is full.
    case diskFull(path: String)
    /// A read or write of the file failed below SQLite (a file-size limit, a failing disk, a vanished mount).
    case ioFailure(path: String, detail: String)
    /// There is no index at `path` and the caller asked not to create one.
    case missingIndex(path: String)
    /// Another `assist index` run holds the sync lock.
    case indexBusy(path: String, pid: Int32?)
    /// The database was written by a newer `assist` with a schema this build does not know.
    case newerSchema(path: String, version: String)
    /// The embedder returned something unusable (wrong count or dimension).
    case embedding(detail: String)
    /// A qa.jsonl line or a sample root could not be read by `RetrievalEvaluation`.
    case evaluation(path: String, detail: String)
    /// The sync was cancelled (Ctrl-C); what was committed stays, a re-run continues.
    case interrupted(path: String)
    /// Any other SQLite failure, with SQLite's own message.
    case sqlite(path: String, detail: String)

    public var description: String {
        switch self {
        case .busy(let path):
            return "the index \(path) is locked by another process; wait for it to finish and try again"
        case .corrupt(let path, let detail):
            return "the index \(path) is damaged or not an assist index (\(detail)); run `assist index --rebuild PATH…` to move it aside and build a fresh one"
        case .notWritable(let path, let detail):
            return "cannot write the index \(path) (\(detail)); check the folder's permissions or pass another location with --db"
        case .diskFull(let path):
            return "the disk holding \(path) is full; free some space and run `assist index` again (the index is still consistent)"
        case .ioFailure(let path, let detail):
            return "a disk read or write on the index \(path) failed (\(detail)); the disk may be full, over a quota or file-size limit, or failing. Fix that and run `assist index` again (what was committed is kept)"
        case .missingIndex(let path):
            return "there is no index at \(path) yet; build one with `assist index PATH` (a notes folder or an mbox file)"
        case .indexBusy(let path, let pid):
            let who = pid.map { " (pid \($0))" } ?? ""
            return "another `assist index` is running\(who) on \(path); wait for it to finish"
        case .newerSchema(let path, let version):
            return "the index \(path) was written by a newer assist (schema \(version)); upgrade assist or run `assist index --rebuild PATH…`"
        case .embedding(let detail):
            return "the embedding model failed: \(detail)"
        case .evaluation(let path, let detail):
            return "cannot evaluate retrieval with \(path): \(detail)"
        case .interrupted(let path):
            return "indexing into \(path) was interrupted; the index is consistent, run `assist index` again to finish"
        case .sqlite(let path, let detail):
            return "SQLite failed on \(path): \(detail)"
        }
    }
}

