import Foundation
import GRDB
import Inference
import Ingest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The index: one SQLite file (WAL mode) holding parsed documents, their chunks, a full-text index over the
/// chunks, the chunks' embedding vectors, and the Assistant's summary cache.
///
/// All SQL of the project lives in this module. Reads run concurrently with a sync thanks to WAL; only one
/// sync runs at a time (see `SyncLock`). The type is `Sendable`: it holds a `DatabasePool` and immutable
/// settings, plus a lock-protected cache of the vector matrix.
public final class IndexStore: Retriever, Sendable {
    /// The database file.
    public let path: String
    /// Computes chunk vectors during `sync` and query vectors during `search`; nil means BM25 only.
    public let embedder: (any Embedder)?
    let pool: DatabasePool
    let vectorCache = VectorCache()

    /// Opens (and by default creates) the index at `path`.
    ///
    /// The folder is created with mode 0700 and the database files with 0600: the index holds the user's
    /// mail. A file that is not a SQLite database, or one SQLite reports as damaged, raises
    /// `StoreError.corrupt` (fix: `IndexStore.rebuild(path:)`). With `create == false` a missing file
    /// raises `StoreError.missingIndex`.
    public init(path: String, embedder: (any Embedder)? = nil, create: Bool = true) throws {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        self.path = absolute
        self.embedder = embedder
        let fileManager = FileManager.default
        let folder = (absolute as NSString).deletingLastPathComponent
        if !fileManager.fileExists(atPath: absolute) {
            guard create else { throw StoreError.missingIndex(path: absolute) }
            do {
                if !fileManager.fileExists(atPath: folder) {
                    try fileManager.createDirectory(
                        atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                }
            } catch {
                throw StoreError.notWritable(path: folder, detail: "cannot create the folder: \(error.localizedDescription)")
            }
            // Create the empty file ourselves so that it never exists with a wider mode, whatever the umask.
            let fd = open(absolute, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd < 0 && errno != EEXIST {
                throw StoreError.notWritable(path: absolute, detail: String(cString: strerror(errno)))
            }
            if fd >= 0 { close(fd) }
        }
        try Self.checkHeader(absolute)

        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.foreignKeysEnabled = true
        configuration.label = "assist-index"
        configuration.prepareDatabase { db in
            // WAL + NORMAL: a commit survives a process crash (kill -9) and the file is never corrupted by
            // a power cut; at worst the last commits before the cut are lost, and the next sync redoes them.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try DatabasePool(path: absolute, configuration: configuration)
            let migrator = Schema.migrator
            try pool.read { db in
                if try migrator.hasBeenSuperseded(db) {
                    throw StoreError.newerSchema(path: absolute, version: try migrator.appliedIdentifiers(db).sorted().last ?? "?")
                }
            }
            try migrator.migrate(pool)
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.storeError(error, path: absolute)
        }
        for suffix in ["", "-wal", "-shm"] where fileManager.fileExists(atPath: absolute + suffix) {
            chmod(absolute + suffix, 0o600)
        }
    }

    /// Moves a damaged index aside (to `<path>.corrupt-<timestamp>`, with its -wal/-shm files) and creates
    /// a fresh, empty one in its place. Returns where the old file went, or nil if there was none.
    @discardableResult
    public static func rebuild(path: String) throws -> String? {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let fileManager = FileManager.default
        var movedTo: String?
        if fileManager.fileExists(atPath: absolute) {
            let stamp = Int(Date().timeIntervalSince1970)
            let target = "\(absolute).corrupt-\(stamp)"
            for suffix in ["", "-wal", "-shm"] where fileManager.fileExists(atPath: absolute + suffix) {
                do {
                    try fileManager.moveItem(atPath: absolute + suffix, toPath: target + suffix)
                } catch {
                    throw StoreError.notWritable(path: absolute + suffix, detail: "cannot move it aside: \(error.localizedDescription)")
                }
            }
            movedTo = target
        }
        _ = try IndexStore(path: absolute, create: true)
        return movedTo
    }

    /// A non-empty file must start with the SQLite magic; checking before opening gives a clear error
    /// instead of SQLite's "file is not a database" halfway through a migration.
    private static func checkHeader(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError.notWritable(path: path, detail: "cannot open it for reading")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        if header.isEmpty { return }
        if header != Data("SQLite format 3\u{0}".utf8) {
            throw StoreError.corrupt(path: path, detail: "not a SQLite database")
        }
    }

    /// Translates GRDB/SQLite failures into the module's typed errors.
    static func storeError(_ error: any Error, path: String) -> StoreError {
        if let storeError = error as? StoreError { return storeError }
        guard let databaseError = error as? DatabaseError else {
            return .sqlite(path: path, detail: "\(error)")
        }
        let detail = databaseError.message ?? "\(databaseError.resultCode)"
        switch databaseError.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: return .busy(path: path)
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: return .corrupt(path: path, detail: detail)
        case .SQLITE_FULL: return .diskFull(path: path)
        case .SQLITE_IOERR: return .ioFailure(path: path, detail: detail)
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH: return .notWritable(path: path, detail: detail)
        default: return .sqlite(path: path, detail: detail)
        }
    }

    /// Runs a read, mapping errors.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch { throw Self.storeError(error, path: path) }
    }

    /// Runs one write transaction, mapping errors. A `StoreError` or any error thrown by `body` rolls back.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch let error as StoreError { throw error } catch let error as DatabaseError {
            throw Self.storeError(error, path: path)
        }
    }

    // MARK: - Meta

    static func meta(_ db: Database, _ key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key])
    }

    static func setMeta(_ db: Database, _ key: String, _ value: String) throws {
        try db.execute(
            sql: "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            arguments: [key, value])
    }

    /// Bumped in every transaction that changes chunks or vectors; the vector cache compares it to know
    /// whether its in-memory matrix is still current.
    static func bumpGeneration(_ db: Database) throws {
        try db.execute(sql: "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
    }

    static func generation(_ db: Database) throws -> Int64 {
        Int64(try meta(db, "generation") ?? "0") ?? 0
    }

    // MARK: - Status

    /// Counts and state for `assist status`.
    public func status() throws -> IndexStatus {
        try read { db in
            let notes = try Int.fetchOne(db, sql: "SELECT count(*) FROM documents WHERE kind = 'note'") ?? 0
            let mail = try Int.fetchOne(db, sql: "SELECT count(*) FROM documents WHERE kind = 'mail'") ?? 0
            let chunks = try Int.fetchOne(db, sql: "SELECT count(*) FROM chunks") ?? 0
            let model = try Self.meta(db, "embedding_model")
            let embedded = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM vectors WHERE model = ?", arguments: [model ?? ""]) ?? 0
            let lastIndex = try Self.meta(db, "last_index").flatMap(Double.init).map { Date(timeIntervalSince1970: $0) }
            var status = IndexStatus(
                db: path, notes: notes, mail: mail, chunks: chunks, embedded: embedded,
                embeddingModel: model, lastIndex: lastIndex)
            status.archiveCopies = CompressedArchives(indexPath: path).copies()
            status.warnings = try Row.fetchAll(
                db, sql: "SELECT path, warnings FROM documents WHERE warnings IS NOT NULL ORDER BY path"
            ).flatMap { row in JSONList.decode(row["warnings"]).map { IndexStatus.Warning(path: row["path"], warning: $0) } }
            return status
        }
    }

    /// The model the index's vectors were made with; nil when it holds none (built with `--no-embed`).
    public func embeddingModel() throws -> String? {
        try read { db in try Self.meta(db, "embedding_model") }
    }

    // MARK: - Access for the Assistant and the CLI

    /// The document with this row id.
    public func document(id: Int64) throws -> StoredDocument? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM documents WHERE id = ?", arguments: [id]).map(StoredDocument.init(row:))
        }
    }

    /// The note stored for this file path (absolute, as indexed); for an mbox path, its first message.
    public func document(path: String) throws -> StoredDocument? {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        return try read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM documents WHERE path = ? ORDER BY mbox_offset LIMIT 1", arguments: [absolute]
            ).map(StoredDocument.init(row:))
        }
    }

    /// The message with this Message-ID (angle brackets optional). With duplicates, the earliest stored.
    public func document(messageID: String) throws -> StoredDocument? {
        let bare = messageID.trimmingCharacters(in: CharacterSet(charactersIn: "<> \t"))
        return try read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM documents WHERE message_id = ? ORDER BY id LIMIT 1", arguments: [bare]
            ).map(StoredDocument.init(row:))
        }
    }

    /// The chunks of a document in order.
    public func chunks(documentID: Int64) throws -> [StoredChunk] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM chunks WHERE document_id = ? ORDER BY ordinal", arguments: [documentID]
            ).map(StoredChunk.init(row:))
        }
    }

    /// All messages of a thread, oldest first (undated last, then by position in the mbox).
    public func mailDocuments(threadID: String) throws -> [StoredDocument] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM documents WHERE kind = 'mail' AND thread_id = ?
                    ORDER BY date IS NULL, date, path, mbox_offset
                    """,
                arguments: [threadID]
            ).map(StoredDocument.init(row:))
        }
    }

    /// Thread ids of all mail, optionally only threads with a message on or after `since`.
    public func mailThreadIDs(since: Date? = nil) throws -> [String] {
        try read { db in
            if let since {
                return try String.fetchAll(
                    db,
                    sql: "SELECT DISTINCT thread_id FROM documents WHERE kind = 'mail' AND thread_id IS NOT NULL AND date >= ? ORDER BY thread_id",
                    arguments: [since.timeIntervalSince1970])
            }
            return try String.fetchAll(
                db, sql: "SELECT DISTINCT thread_id FROM documents WHERE kind = 'mail' AND thread_id IS NOT NULL ORDER BY thread_id")
        }
    }

    /// The cached summary (JSON text) of a thread, if one was stored for exactly this content and model.
    public func cachedSummary(threadID: String, contentHash: String, model: String) throws -> String? {
        try read { db in
            try String.fetchOne(
                db, sql: "SELECT summary FROM summaries WHERE thread_id = ? AND content_hash = ? AND model = ?",
                arguments: [threadID, contentHash, model])
        }
    }

    /// Stores (or replaces) a thread summary for this content and model.
    public func storeSummary(threadID: String, contentHash: String, model: String, json: String) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO summaries(thread_id, content_hash, model, summary, created) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(thread_id, content_hash, model) DO UPDATE SET summary = excluded.summary, created = excluded.created
                    """,
                arguments: [threadID, contentHash, model, json, Date().timeIntervalSince1970])
        }
    }

    /// Runs SQLite's full consistency check (tables, indexes and the FTS index against its content);
    /// returns the problems found, empty when all is well. (FTS5's check is an INSERT command, hence the
    /// write connection; it changes nothing.)
    public func integrityCheck() throws -> [String] {
        try write { db in
            var problems = try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
            do {
                try db.execute(sql: "INSERT INTO chunk_fts(chunk_fts, rank) VALUES ('integrity-check', 1)")
            } catch {
                problems.append("full-text index: \(error)")
            }
            return problems
        }
    }
}

/// `assist status` as data; encodes to the CLI.md JSON shape.
public struct IndexStatus: Sendable, Equatable, Encodable {
    public var db: String
    public var notes: Int
    public var mail: Int
    public var chunks: Int
    public var embedded: Int
    public var embeddingModel: String?
    public var lastIndex: Date?
    /// Decompressed copies of gzip mail archives kept next to the index (`CompressedArchives`): plain
    /// text of the user's mail outside the index file, so status names where they are.
    public var archiveCopies = ArchiveCopies()
    /// Documents indexed with a problem worked around (front matter read line by line, a note read as
    /// Windows-1252): what to fix, still there after the run that printed it.
    public var warnings: [Warning] = []

    public struct Warning: Sendable, Equatable, Encodable {
        public var path: String
        public var warning: String
    }

    public struct ArchiveCopies: Sendable, Equatable, Encodable {
        public var folder = ""
        public var count = 0
        public var bytes: Int64 = 0
    }

    public init(db: String, notes: Int, mail: Int, chunks: Int, embedded: Int, embeddingModel: String?, lastIndex: Date?) {
        self.db = db
        self.notes = notes
        self.mail = mail
        self.chunks = chunks
        self.embedded = embedded
        self.embeddingModel = embeddingModel
        self.lastIndex = lastIndex
    }

    private enum CodingKeys: String, CodingKey {
        case db, documents, chunks, embedded, embeddingModel = "embedding_model", lastIndex = "last_index"
        case archiveCopies = "archive_copies", warnings
    }
    private struct Counts: Encodable { var notes: Int; var mail: Int }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(db, forKey: .db)
        try container.encode(Counts(notes: notes, mail: mail), forKey: .documents)
        try container.encode(chunks, forKey: .chunks)
        try container.encode(embedded, forKey: .embedded)
        try container.encode(embeddingModel, forKey: .embeddingModel)
        try container.encode(lastIndex.map { ISO8601DateFormatter().string(from: $0) }, forKey: .lastIndex)
        if archiveCopies.count > 0 { try container.encode(archiveCopies, forKey: .archiveCopies) }
        if !warnings.isEmpty { try container.encode(warnings, forKey: .warnings) }
    }
}

/// A document as stored, with its row id and thread.
public struct StoredDocument: Sendable, Equatable {
    public var id: Int64
    public var threadID: String?
    public var contentHash: String
    public var document: Document

    init(row: Row) {
        id = row["id"]
        threadID = row["thread_id"]
        contentHash = row["content_hash"]
        let kind = DocumentKind(rawValue: row["kind"] as String) ?? .note
        let date: Double? = row["date"]
        document = Document(
            kind: kind, path: row["path"], mboxOffset: row["mbox_offset"], mboxLength: row["mbox_length"],
            messageID: row["message_id"], references: JSONList.decode(row["references"]), title: row["title"],
            from: row["from_addr"], to: JSONList.decode(row["to_addrs"]),
            date: date.map { Date(timeIntervalSince1970: $0) }, tags: JSONList.decode(row["tags"]),
            links: JSONList.decode(row["links"]), aliases: JSONList.decode(row["aliases"]),
            attachments: JSONList.decode(row["attachments"]), body: row["body"], bodyLineOffset: row["line_offset"])
    }
}

/// A chunk as stored.
public struct StoredChunk: Sendable, Equatable {
    public var id: Int64
    public var documentID: Int64
    public var ordinal: Int
    public var text: String
    /// Heading path joined with " > ", nil when the chunk sits under no heading.
    public var heading: String?
    public var lineStart: Int
    public var lineEnd: Int
    public var textHash: String

    init(row: Row) {
        id = row["id"]
        documentID = row["document_id"]
        ordinal = row["ordinal"]
        text = row["text"]
        heading = row["heading"]
        lineStart = row["line_start"]
        lineEnd = row["line_end"]
        textHash = row["text_hash"]
    }
}

/// Lists are stored as JSON arrays of strings.
enum JSONList {
    static func encode(_ list: [String]) -> String {
        guard let data = try? JSONEncoder().encode(list) else { return "[]" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Decodes a JSON array of strings. A direct scan rather than `JSONDecoder`: rethreading reads the
    /// references of every message in the index, and a decoder per row would dominate that.
    /// Anything that is not such an array decodes as empty.
    static func decode(_ text: String?) -> [String] {
        guard var text, text.utf8.count > 2 else { return [] }
        return text.withUTF8 { bytes -> [String] in
            var result: [String] = []
            var index = 0
            func skipSpace() {
                while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x09 || bytes[index] == 0x0D {
                    index += 1
                }
            }
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else { return [] }
            index += 1
            while true {
                skipSpace()
                guard index < bytes.count else { return [] }
                if bytes[index] == UInt8(ascii: "]") { return result }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "\"") else { return [] }
                index += 1
                var value: [UInt8] = []
                var scalars = ""
                var hasEscapes = false
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    if bytes[index] == UInt8(ascii: "\\") {
                        hasEscapes = true
                        scalars += String(decoding: value, as: UTF8.self)
                        value.removeAll()
                        index += 1
                        guard index < bytes.count else { return [] }
                        switch bytes[index] {
                        case UInt8(ascii: "n"): scalars += "\n"
                        case UInt8(ascii: "t"): scalars += "\t"
                        case UInt8(ascii: "r"): scalars += "\r"
                        case UInt8(ascii: "b"): scalars += "\u{08}"
                        case UInt8(ascii: "f"): scalars += "\u{0C}"
                        case UInt8(ascii: "u"):
                            guard index + 4 < bytes.count,
                                let code = UInt32(String(decoding: bytes[(index + 1)...(index + 4)], as: UTF8.self), radix: 16)
                            else { return [] }
                            index += 4
                            var scalar = Unicode.Scalar(code)
                            // A surrogate pair spells one scalar above U+FFFF.
                            if (0xD800..<0xDC00).contains(code), index + 6 < bytes.count, bytes[index + 1] == UInt8(ascii: "\\"),
                                bytes[index + 2] == UInt8(ascii: "u"),
                                let low = UInt32(String(decoding: bytes[(index + 3)...(index + 6)], as: UTF8.self), radix: 16),
                                (0xDC00..<0xE000).contains(low)
                            {
                                scalar = Unicode.Scalar(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
                                index += 6
                            }
                            scalars.unicodeScalars.append(scalar ?? "\u{FFFD}")
                        default: value.append(bytes[index])
                        }
                        index += 1
                    } else {
                        value.append(bytes[index])
                        index += 1
                    }
                }
                guard index < bytes.count else { return [] }
                index += 1
                result.append(hasEscapes ? scalars + String(decoding: value, as: UTF8.self) : String(decoding: value, as: UTF8.self))
            }
        }
    }
}
