import Foundation
import GRDB
import Inference
import Ingest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the `sources` table remembers about one file.
struct SourceRecord: Sendable {
    var path: String
    var kind: ScannedFile.Kind
    var size: Int64
    var mtime: Int64
    var contentHash: String?
    var bytesIndexed: Int64
    var linesIndexed: Int
    var tailHash: String?
    var tailLength: Int
    var complete: Bool
}

extension IndexStore {
    /// Brings the index up to date with `paths` (notes folders, single notes, mbox files).
    ///
    /// Files whose size and modification time match the last run are skipped without being opened; files
    /// whose bytes are the same get their new mtime recorded; changed files replace their documents, chunks
    /// and vectors in one transaction. Indexed files below a given folder that no longer exist are removed;
    /// nothing outside the given paths is touched. An mbox that only grew is parsed from where the last run
    /// stopped; one that was rewritten is re-read and diffed message by message (by the raw bytes' hash, so
    /// unchanged messages keep their rows and vectors). Duplicate messages (same Message-ID) are all kept:
    /// their offsets tell them apart, and search drops identical chunk text.
    ///
    /// Every transaction leaves a consistent index, so a crash or `kill -9` at any point loses at most the
    /// file or mbox batch in flight, and the next run finishes the work without duplicates.
    /// Throws `StoreError.indexBusy` at once if another sync holds the lock.
    public func sync(
        _ paths: [String], options: SyncOptions = .init(),
        progress: @escaping @Sendable (SyncProgress) -> Void = { _ in }
    ) throws -> SyncReport {
        let lock = try SyncLock(databasePath: path)
        defer { withExtendedLifetime(lock) {} }
        let clock = ContinuousClock()
        let started = clock.now
        var run = SyncRun(store: self, options: options, progress: progress)
        try run.perform(paths)
        var report = run.report
        let elapsed = clock.now - started
        report.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return report
    }

    func loadSources() throws -> [String: SourceRecord] {
        try read { db in
            var sources: [String: SourceRecord] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM sources")
            while let row = try rows.next() {
                let path: String = row["path"]
                sources[path] = SourceRecord(
                    path: path, kind: ScannedFile.Kind(rawValue: row["kind"]) ?? .note, size: row["size"],
                    mtime: row["mtime"], contentHash: row["content_hash"], bytesIndexed: row["bytes_indexed"],
                    linesIndexed: row["lines_indexed"], tailHash: row["tail_hash"], tailLength: row["tail_length"],
                    complete: row["complete"])
            }
            return sources
        }
    }
}

/// One sync in progress: the counters and the steps, kept out of `IndexStore` so that the store stays a
/// small API.
struct SyncRun {
    let store: IndexStore
    let options: SyncOptions
    let progress: @Sendable (SyncProgress) -> Void
    var report = SyncReport()
    var mailChanged = false
    /// Vectors of chunks deleted in this run, by the hash of their embedding text, for the chunks that
    /// come back unchanged (`embedPending`). Bounded: past the limit, chunks are simply embedded again.
    private var salvagedVectors: [String: Data] = [:]
    static let maxSalvagedVectors = 50_000
    /// Indexed notes and message files that vanished from the scanned folders, by kind and content hash. A
    /// file new to the index with the same bytes is the same file moved (a note filed into another folder, a
    /// Maildir message renamed when its flags changed), and its documents only change their path.
    private var vanishedByContent: [String: [String]] = [:]
    /// Vanished paths whose documents moved to a new path in this run, so they are not removed.
    private var movedAway: Set<String> = []
    /// mbox messages left out because the mail program filed them as spam or trash.
    private var discardedMessages = 0
    private let chunker: Chunker
    private let archives: CompressedArchives

    /// Notes larger than this are almost certainly not notes (a log, a data dump renamed .md).
    static let maxNoteBytes = 64 << 20
    /// Block size for streaming an mbox: large enough for throughput, small enough for bounded memory.
    static let mailBlockBytes = 4 << 20
    /// How many bytes before `bytes_indexed` are fingerprinted to recognise an append-only mbox.
    static let tailBytes = 4096

    init(store: IndexStore, options: SyncOptions, progress: @escaping @Sendable (SyncProgress) -> Void) {
        self.store = store
        self.options = options
        self.progress = progress
        chunker = Chunker(counter: options.tokenCounter, maxTokens: options.maxChunkTokens, overlapTokens: options.overlapTokens)
        archives = CompressedArchives(indexPath: store.path)
    }

    private func checkCancelled() throws {
        if options.cancellation?.isCancelled == true { throw StoreError.interrupted(path: store.path) }
    }

    mutating func perform(_ paths: [String]) throws {
        progress(SyncProgress(phase: .scanning, done: 0, total: paths.count))
        let scan = SourceScanner.scan(paths)
        report.failed.append(contentsOf: scan.failed)
        let known = try store.loadSources()
        var files: [ScannedFile] = []
        for file in scan.files {
            guard file.kind == .mbox, CompressedArchives.isCompressed(file.path) else {
                files.append(file)
                continue
            }
            try checkCancelled()
            do {
                files.append(try archives.unpacked(file))
            } catch {
                // What was indexed from it stays: the archive is still there, only unreadable now.
                report.failed.append(FailedSource(path: file.path, error: "\(error)"))
            }
        }

        // Cheap first pass: size + mtime decide which files need opening at all.
        var work: [(ScannedFile, SourceRecord?)] = []
        for file in files {
            let record = known[file.path]
            if let record, record.complete, record.kind == file.kind, record.size == file.size, record.mtime == file.mtime {
                report.unchanged += file.kind == .mbox ? try store.documentCount(path: file.path) : 1
            } else {
                work.append((file, record))
            }
        }
        let vanished = vanishedPaths(scan: scan, known: known)
        for path in vanished {
            guard let record = known[path], record.kind != .mbox, let hash = record.contentHash else { continue }
            vanishedByContent[Self.movableKey(record.kind, hash), default: []].append(path)
        }
        progress(SyncProgress(phase: .indexing, done: 0, total: work.count))
        for (index, (file, record)) in work.enumerated() {
            try checkCancelled()
            progress(SyncProgress(phase: .indexing, done: index, total: work.count, currentPath: file.path))
            switch file.kind {
            case .note: try syncNote(file, record: record)
            case .mbox: try syncMbox(file, record: record)
            case .message: try syncMessage(file, record: record)
            }
        }
        progress(SyncProgress(phase: .indexing, done: work.count, total: work.count))
        if discardedMessages > 0 {
            report.notices.append("left out \(discardedMessages) message\(discardedMessages == 1 ? "" : "s") labelled Spam or Trash")
        }

        try removeVanished(vanished.filter { !movedAway.contains($0) }, known: known)
        if try mailChanged || store.read({ db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM documents WHERE kind = 'mail' AND thread_id IS NULL)") ?? false
        }) {
            try rethread()
        }
        try embedPending()
        try store.write { db in
            try IndexStore.setMeta(db, "last_index", String(Date().timeIntervalSince1970))
        }
    }

    // MARK: - Notes

    private mutating func syncNote(_ file: ScannedFile, record: SourceRecord?) throws {
        try syncSingleDocument(file, record: record, limit: Self.maxNoteBytes) { data, modified throws(IngestError) in
            try NoteParser.parse(data, path: file.path, modified: modified)
        }
    }

    /// A file holding one mail message (Maildir, `.eml`): one document, like a note.
    private mutating func syncMessage(_ file: ScannedFile, record: SourceRecord?) throws {
        try syncSingleDocument(file, record: record, limit: MboxSplitter.defaultMaxMessageBytes) { data, received throws(IngestError) in
            try MailParser.parse(messageFile: data, path: file.path, received: received)
        }
        mailChanged = true
    }

    /// Reads a file that is one document, and replaces what was indexed from it unless its bytes are
    /// unchanged (a touched file is read, hashed and left alone).
    private mutating func syncSingleDocument(
        _ file: ScannedFile, record: SourceRecord?, limit: Int,
        parse: (Data, Date) throws(IngestError) -> Document
    ) throws {
        let data: Data
        do {
            data = try SafeFile.readAll(file.path, limit: limit, purpose: file.kind == .note ? "a note" : "a mail message")
        } catch {
            report.failed.append(FailedSource(path: file.path, error: "\(error)"))
            return
        }
        report.bytesParsed += Int64(data.count)
        let hash = ContentHasher.hash(data)
        if let record, record.kind == file.kind, record.contentHash == hash {
            try store.write { db in
                try Self.saveSource(db, file, kind: file.kind, hash: hash, bytesIndexed: Int64(data.count), lines: 1, tail: nil, tailLength: 0, complete: true)
            }
            report.unchanged += 1
            return
        }
        let document: Document
        do {
            document = try parse(data, Date(timeIntervalSince1970: Double(file.mtime) / 1e9))
        } catch {
            report.failed.append(FailedSource(path: file.path, error: "\(error)"))
            return
        }
        report.notices += document.warnings.map { "\(file.path): \($0)" }
        if record == nil, try moveIfVanished(file, hash: hash, bytes: Int64(data.count), document: document) { return }
        let chunks = chunker.chunks(for: document)
        let salvageModel = salvageModel
        let (existed, salvaged) = try store.write { db -> (Bool, [(String, Data)]) in
            let (deleted, salvaged) = try Self.deleteDocuments(db, path: file.path, keepingVectorsOf: salvageModel)
            let existed = deleted > 0
            try Self.insert(db, document, contentHash: hash, mtime: file.mtime, size: file.size, chunks: chunks)
            try Self.saveSource(db, file, kind: file.kind, hash: hash, bytesIndexed: Int64(data.count), lines: 1, tail: nil, tailLength: 0, complete: true)
            try IndexStore.bumpGeneration(db)
            try checkCancelled()
            return (existed, salvaged)
        }
        salvage(salvaged)
        if existed { report.updated += 1 } else { report.added += 1 }
        report.chunks += chunks.count
    }

    private static func movableKey(_ kind: ScannedFile.Kind, _ hash: String) -> String { "\(kind.rawValue):\(hash)" }

    /// Gives the documents of a vanished file with the same bytes the path of `file`, when they are what
    /// parsing `file` gives (a note's title can come from its file name, a message's date from its file's
    /// time; then the document differs and is replaced as usual). Keeps ids, chunks, vectors and threads,
    /// and counts as moved rather than removed and added.
    private mutating func moveIfVanished(_ file: ScannedFile, hash: String, bytes: Int64, document: Document) throws -> Bool {
        let key = Self.movableKey(file.kind, hash)
        guard let old = vanishedByContent[key]?.popLast() else { return false }
        let moved = try store.write { db -> Bool in
            let rows = try Row.fetchAll(db, sql: "SELECT id, title, date FROM documents WHERE path = ?", arguments: [old])
            guard rows.count == 1, let row = rows.first, (row["title"] as String) == document.title,
                (row["date"] as Double?) == document.date?.timeIntervalSince1970
            else { return false }
            try db.execute(
                sql: "UPDATE documents SET path = ?, mtime = ?, size = ? WHERE id = ?",
                arguments: [file.path, file.mtime, file.size, row["id"] as Int64])
            try db.execute(sql: "DELETE FROM sources WHERE path = ?", arguments: [old])
            try Self.saveSource(db, file, kind: file.kind, hash: hash, bytesIndexed: bytes, lines: 1, tail: nil, tailLength: 0, complete: true)
            try IndexStore.bumpGeneration(db)
            try checkCancelled()
            return true
        }
        if moved {
            movedAway.insert(old)
            report.moved += 1
        }
        return moved
    }

    // MARK: - Mail

    private mutating func syncMbox(_ file: ScannedFile, record: SourceRecord?) throws {
        let handle: FileHandle
        do {
            handle = try SafeFile.openRegular(file.contentPath ?? file.path)
        } catch {
            report.failed.append(FailedSource(path: file.path, error: "\(error)"))
            return
        }
        defer { try? handle.close() }
        do {
            if let record, record.kind == .mbox, record.bytesIndexed > 0 {
                if file.size >= record.bytesIndexed, try tailMatches(handle, record),
                    file.size > record.bytesIndexed || !record.complete
                {
                    try appendMbox(file, handle: handle, from: record.bytesIndexed, line: record.linesIndexed, isNew: false)
                } else {
                    try rereadMbox(file, handle: handle)
                }
            } else {
                let prefix = try mboxPrefix(handle)
                if !MboxSplitter.looksLikeMbox(prefix: prefix) {
                    report.failed.append(FailedSource(path: file.path, error: MboxSplitter.notMboxReason(prefix: prefix)))
                    return
                }
                if record != nil {
                    try rereadMbox(file, handle: handle)
                } else {
                    try appendMbox(file, handle: handle, from: 0, line: 1, isNew: true)
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            report.failed.append(FailedSource(path: file.path, error: "cannot read it: \(error)"))
        }
    }

    /// The first bytes of a file, enough to tell an mbox (and what else it is).
    private func mboxPrefix(_ handle: FileHandle) throws -> Data {
        try handle.seek(toOffset: 0)
        return try handle.read(upToCount: 4096) ?? Data()
    }

    /// True when the bytes just before `bytesIndexed` are the ones fingerprinted last time: the file was
    /// not rewritten up to there (the classic mbox delivery appends).
    private func tailMatches(_ handle: FileHandle, _ record: SourceRecord) throws -> Bool {
        guard let expected = record.tailHash, record.tailLength > 0, record.bytesIndexed >= Int64(record.tailLength) else {
            return false
        }
        try handle.seek(toOffset: UInt64(record.bytesIndexed - Int64(record.tailLength)))
        let tail = try handle.read(upToCount: record.tailLength) ?? Data()
        return tail.count == record.tailLength && ContentHasher.hash(tail) == expected
    }

    /// Fingerprint of the bytes just before `offset`. Uses `pread`, so a stream in progress on the same
    /// handle keeps its position.
    private func tail(of handle: FileHandle, endingAt offset: Int64) throws -> (String?, Int) {
        let length = Int(min(Int64(Self.tailBytes), offset))
        guard length > 0 else { return (nil, 0) }
        var bytes = Data(count: length)
        let count = bytes.withUnsafeMutableBytes { raw in
            pread(handle.fileDescriptor, raw.baseAddress, length, off_t(offset - Int64(length)))
        }
        guard count == length else { return (nil, 0) }
        return (ContentHasher.hash(bytes), length)
    }

    /// A parsed message ready to store.
    private struct ParsedMessage {
        var document: Document
        var hash: String
        var chunks: [Chunk]
    }

    /// Streams `file` from `from` to the size seen by `stat`, splitting messages and committing them in
    /// batches; each batch's transaction also advances `bytes_indexed`, so a crash resumes after the last
    /// committed batch.
    private mutating func appendMbox(_ file: ScannedFile, handle: FileHandle, from: Int64, line: Int, isNew: Bool) throws {
        try handle.seek(toOffset: UInt64(from))
        var splitter = MboxSplitter(startOffset: from, startLine: line)
        var batch: [ParsedMessage] = []
        var remaining = file.size - from
        var consumed = from
        let total = Int(file.size - from)
        var sawMessage = false

        func flush(_ run: inout SyncRun, final: Bool, resumeLine: Int, resumeOffset: Int64) throws {
            let pending = batch
            batch.removeAll(keepingCapacity: true)
            let (tailHash, tailLength) = try run.tail(of: handle, endingAt: resumeOffset)
            let options = run.options
            let path = run.store.path
            try run.store.write { db in
                for message in pending {
                    try Self.insert(db, message.document, contentHash: message.hash, mtime: nil, size: nil, chunks: message.chunks)
                }
                try Self.saveSource(
                    db, file, kind: .mbox, hash: nil, bytesIndexed: resumeOffset, lines: resumeLine, tail: tailHash,
                    tailLength: tailLength, complete: final)
                if !pending.isEmpty { try IndexStore.bumpGeneration(db) }
                if options.cancellation?.isCancelled == true { throw StoreError.interrupted(path: path) }
            }
            run.report.added += pending.count
            run.report.chunks += pending.reduce(0) { $0 + $1.chunks.count }
            if !pending.isEmpty { run.mailChanged = true }
        }

        // A batch is committed when the first message of the next batch arrives: that message's offset and
        // line number are exactly where a resumed run must start. At the end, the whole read range is done.
        var linesRead = line
        func take(_ raw: RawMessage, _ run: inout SyncRun) throws {
            sawMessage = true
            if batch.count >= run.options.mailBatchSize {
                try flush(&run, final: false, resumeLine: raw.lineNumber, resumeOffset: raw.offset)
            }
            if let parsed = run.parse(raw, file: file) { batch.append(parsed) }
        }
        while remaining > 0 {
            try checkCancelled()
            let want = Int(min(Int64(Self.mailBlockBytes), remaining))
            guard let block = try handle.read(upToCount: want), !block.isEmpty else { break }
            remaining -= Int64(block.count)
            consumed += Int64(block.count)
            linesRead += Self.newlineCount(block)
            report.bytesParsed += Int64(block.count)
            for raw in splitter.append(block) { try take(raw, &self) }
            progress(SyncProgress(phase: .mail, done: Int(consumed - from), total: total, currentPath: file.path))
        }
        for raw in splitter.finish() { try take(raw, &self) }
        if isNew && !sawMessage {
            report.failed.append(FailedSource(path: file.path, error: "no `From ` line found: not an mbox file"))
            return
        }
        try flush(&self, final: true, resumeLine: linesRead, resumeOffset: consumed)
    }

    /// Re-reads a rewritten mbox completely and diffs it against what is stored: a message whose raw bytes
    /// hash the same is kept (its offset updated if it moved), new ones are added, vanished ones removed.
    private mutating func rereadMbox(_ file: ScannedFile, handle: FileHandle) throws {
        let path = file.path
        var existing: [String: [Int64]] = [:]
        var positions: [Int64: (Int64?, Int64?)] = [:]
        try store.read { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT id, content_hash, mbox_offset, mbox_length FROM documents WHERE path = ? ORDER BY id", arguments: [path])
            while let row = try rows.next() {
                let id: Int64 = row["id"]
                existing[row["content_hash"], default: []].append(id)
                positions[id] = (row["mbox_offset"], row["mbox_length"])
            }
        }
        var kept = Set<Int64>()
        var moves: [(Int64, Int64, Int64)] = []
        var batch: [ParsedMessage] = []
        var unchangedCount = 0
        let options = self.options
        let storePath = store.path

        func flush(_ run: inout SyncRun) throws {
            let pending = batch
            let pendingMoves = moves
            batch.removeAll(keepingCapacity: true)
            moves.removeAll(keepingCapacity: true)
            guard !pending.isEmpty || !pendingMoves.isEmpty else { return }
            try run.store.write { db in
                for (id, offset, length) in pendingMoves {
                    try db.execute(
                        sql: "UPDATE documents SET mbox_offset = ?, mbox_length = ? WHERE id = ?", arguments: [offset, length, id])
                }
                for message in pending {
                    try Self.insert(db, message.document, contentHash: message.hash, mtime: nil, size: nil, chunks: message.chunks)
                }
                if !pending.isEmpty { try IndexStore.bumpGeneration(db) }
                if options.cancellation?.isCancelled == true { throw StoreError.interrupted(path: storePath) }
            }
            run.report.chunks += pending.reduce(0) { $0 + $1.chunks.count }
            if !pending.isEmpty { run.mailChanged = true }
        }

        var added = 0
        func consider(_ raw: RawMessage, _ run: inout SyncRun) throws {
            let hash = ContentHasher.hash(raw.bytes)
            if var ids = existing[hash], !ids.isEmpty {
                let id = ids.removeFirst()
                existing[hash] = ids
                kept.insert(id)
                unchangedCount += 1
                if let (offset, length) = positions[id], offset != raw.offset || length != raw.length {
                    moves.append((id, raw.offset, raw.length))
                }
            } else if let parsed = run.parse(raw, file: file) {
                batch.append(parsed)
                added += 1
            }
            if batch.count + moves.count >= run.options.mailBatchSize { try flush(&run) }
        }

        try handle.seek(toOffset: 0)
        var splitter = MboxSplitter()
        var remaining = file.size
        var resumeLine = 1
        while remaining > 0 {
            try checkCancelled()
            let want = Int(min(Int64(Self.mailBlockBytes), remaining))
            guard let block = try handle.read(upToCount: want), !block.isEmpty else { break }
            remaining -= Int64(block.count)
            resumeLine += Self.newlineCount(block)
            report.bytesParsed += Int64(block.count)
            for raw in splitter.append(block) { try consider(raw, &self) }
            progress(SyncProgress(phase: .mail, done: Int(file.size - remaining), total: Int(file.size), currentPath: path))
        }
        for raw in splitter.finish() { try consider(raw, &self) }
        try flush(&self)
        let vanished = positions.keys.filter { !kept.contains($0) }
        let finalOffset = file.size - remaining
        let (tailHash, tailLength) = try tail(of: handle, endingAt: finalOffset)
        try store.write { db in
            for id in vanished {
                try db.execute(sql: "DELETE FROM documents WHERE id = ?", arguments: [id])
            }
            try Self.saveSource(
                db, file, kind: .mbox, hash: nil, bytesIndexed: finalOffset, lines: resumeLine, tail: tailHash,
                tailLength: tailLength, complete: true)
            if !vanished.isEmpty { try IndexStore.bumpGeneration(db) }
            try checkCancelled()
        }
        if !vanished.isEmpty { mailChanged = true }
        // A rewrite that kept every message is "unchanged" message by message.
        let replaced = min(added, vanished.count)
        report.updated += replaced
        report.added += added - replaced
        report.removed += vanished.count - replaced
        report.unchanged += unchangedCount
    }

    /// An mbox message to store, or nil when it cannot be parsed (reported) or is spam or trash (counted).
    private mutating func parse(_ raw: RawMessage, file: ScannedFile) -> ParsedMessage? {
        do {
            let document = try MailParser.parse(raw, mboxPath: file.path)
            if document.isDiscarded {
                discardedMessages += 1
                return nil
            }
            return ParsedMessage(document: document, hash: ContentHasher.hash(raw.bytes), chunks: chunker.chunks(for: document))
        } catch {
            report.failed.append(FailedSource(path: "\(file.path) (message at byte \(raw.offset), line \(raw.lineNumber))", error: "\(error)"))
            return nil
        }
    }

    static func newlineCount(_ data: Data) -> Int {
        data.withUnsafeBytes { raw -> Int in
            guard var cursor = raw.baseAddress else { return 0 }
            var left = raw.count
            var count = 0
            while left > 0, let found = memchr(cursor, 0x0A, left) {
                count += 1
                let step = UnsafeRawPointer(found) - cursor + 1
                cursor += step
                left -= step
            }
            return count
        }
    }

    // MARK: - Removal

    /// What was indexed below the scanned folders but no longer exists there, sorted. Only folders given in
    /// this run are considered; folders that could not be listed keep their documents.
    private func vanishedPaths(scan: SourceScanner.Result, known: [String: SourceRecord]) -> [String] {
        guard !scan.scannedFolders.isEmpty else { return [] }
        let present = Set(scan.files.map(\.path))
        return known.values.filter { record in
            let path = record.path
            guard !present.contains(path) else { return false }
            guard scan.scannedFolders.contains(where: { path.hasPrefix($0 == "/" ? "/" : $0 + "/") }) else { return false }
            guard !scan.unreadable.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) else { return false }
            // A folder scan collects notes and message files, not mbox files: an mbox indexed on its own
            // that sits inside the folder is gone only if the file is.
            return record.kind != .mbox || !FileManager.default.fileExists(atPath: path)
        }.map(\.path).sorted()
    }

    /// Deletes the documents of `vanished` paths, keeping their vectors for chunks that come back.
    private mutating func removeVanished(_ vanished: [String], known: [String: SourceRecord]) throws {
        for (index, path) in vanished.enumerated() {
            try checkCancelled()
            progress(SyncProgress(phase: .removing, done: index, total: vanished.count, currentPath: path))
            let salvageModel = salvageModel
            let (count, salvaged) = try store.write { db -> (Int, [(String, Data)]) in
                let (count, salvaged) = try Self.deleteDocuments(db, path: path, keepingVectorsOf: salvageModel)
                try db.execute(sql: "DELETE FROM sources WHERE path = ?", arguments: [path])
                try IndexStore.bumpGeneration(db)
                return (count, salvaged)
            }
            salvage(salvaged)
            report.removed += count
            if known[path]?.kind != .note { mailChanged = true }
            if CompressedArchives.isCompressed(path) { archives.removeCopy(of: path) }
        }
    }

    // MARK: - Threads

    /// Recomputes thread ids over all mail (threads span mbox files: a reply in Sent to a message in the
    /// inbox). Only rows whose thread changed are written.
    private mutating func rethread() throws {
        progress(SyncProgress(phase: .threading, done: 0, total: 1))
        var messages: [ThreadableMessage] = []
        var current: [String: String] = [:]
        try store.read { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT message_id, \"references\", title, date, thread_id FROM documents WHERE kind = 'mail' AND message_id IS NOT NULL")
            while let row = try rows.next() {
                let messageID: String = row["message_id"]
                let date: Double? = row["date"]
                messages.append(ThreadableMessage(
                    messageID: messageID, references: JSONList.decode(row["references"]), subject: row["title"],
                    date: date.map { Date(timeIntervalSince1970: $0) }))
                current[messageID] = (row["thread_id"] as String?) ?? ""
            }
        }
        var assignments: [(String, String)] = []
        for thread in MailThreader.thread(messages) {
            for messageID in thread.messageIDs {
                guard let existing = current[messageID], existing != thread.id else { continue }
                assignments.append((messageID, thread.id))
            }
        }
        guard !assignments.isEmpty else { return }
        try store.write { db in
            let statement = try db.cachedStatement(sql: "UPDATE documents SET thread_id = ? WHERE kind = 'mail' AND message_id = ?")
            for (messageID, threadID) in assignments {
                try statement.execute(arguments: [threadID, messageID])
            }
        }
        progress(SyncProgress(phase: .threading, done: 1, total: 1))
    }

    // MARK: - Embedding

    /// The model whose vectors are worth keeping when chunks are deleted: the embedder's, while the
    /// salvage has room; nil without an embedder.
    private var salvageModel: String? {
        guard let model = store.embedder?.modelID, salvagedVectors.count < Self.maxSalvagedVectors else { return nil }
        return model
    }

    /// Deletes the documents at `path` and returns how many there were, with their chunks' vectors of
    /// `model` (nil: none) keyed by embedding text, for chunks that come back unchanged.
    static func deleteDocuments(
        _ db: Database, path: String, keepingVectorsOf model: String?
    ) throws -> (count: Int, vectors: [(String, Data)]) {
        let vectors = try Self.vectors(db, ofDocumentsAt: path, model: model)
        try db.execute(sql: "DELETE FROM documents WHERE path = ?", arguments: [path])
        return (db.changesCount, vectors)
    }

    /// The vectors (of `model`) of the chunks of the documents at `path`, keyed by their embedding text.
    /// `+v.model` keeps SQLite from starting at the `vectors_model` index, which would read every vector
    /// of the model for each file (20,000 renamed Maildir messages took 9 minutes that way).
    private static func vectors(_ db: Database, ofDocumentsAt path: String, model: String?) throws -> [(String, Data)] {
        guard let model else { return [] }
        return try Row.fetchAll(
            db,
            sql: """
                SELECT d.title, c.heading, c.text, v.vector FROM documents d JOIN chunks c ON c.document_id = d.id
                JOIN vectors v ON v.chunk_id = c.id WHERE d.path = ? AND +v.model = ?
                """,
            arguments: [path, model]
        ).map { row in
            (ContentHasher.hash(Self.embeddingText(title: row["title"], heading: row["heading"], text: row["text"])), row["vector"])
        }
    }

    private mutating func salvage(_ vectors: [(String, Data)]) {
        for (key, vector) in vectors where salvagedVectors.count < Self.maxSalvagedVectors {
            salvagedVectors[key] = vector
        }
    }

    /// Embeds every chunk without a vector for the current model, in batches, each batch its own
    /// transaction. A different model than last time drops the old vectors first (reported as a notice).
    private mutating func embedPending() throws {
        guard let embedder = store.embedder else { return }
        let model = embedder.modelID
        let dimensions = embedder.dimensions
        let previous = try store.write { db -> String? in
            let previous = try IndexStore.meta(db, "embedding_model")
            if previous != model {
                try db.execute(sql: "DELETE FROM vectors WHERE model <> ?", arguments: [model])
                try IndexStore.setMeta(db, "embedding_model", model)
                try IndexStore.setMeta(db, "embedding_dimensions", String(dimensions))
                try db.execute(
                    sql: "INSERT OR IGNORE INTO embedding_models(model, dims, first_used) VALUES (?, ?, ?)",
                    arguments: [model, dimensions, Date().timeIntervalSince1970])
                try IndexStore.bumpGeneration(db)
            }
            return previous
        }
        if let previous, previous != model {
            report.notices.append("embedding model changed from \(previous) to \(model): re-embedding all chunks")
        }
        let pending = try store.read { db in
            try Int64.fetchAll(
                db, sql: "SELECT id FROM chunks WHERE NOT EXISTS (SELECT 1 FROM vectors WHERE vectors.chunk_id = chunks.id) ORDER BY id")
        }
        guard !pending.isEmpty else { return }
        let batchSize = max(1, options.embedBatchSize)
        var done = 0
        progress(SyncProgress(phase: .embedding, done: 0, total: pending.count))
        for start in stride(from: 0, to: pending.count, by: batchSize) {
            try checkCancelled()
            let ids = Array(pending[start..<min(pending.count, start + batchSize)])
            let batch: [(Int64, String)] = try store.read { db in
                let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
                return try Row.fetchAll(
                    db,
                    sql: """
                        SELECT chunks.id, chunks.text, chunks.heading, documents.title FROM chunks
                        JOIN documents ON documents.id = chunks.document_id WHERE chunks.id IN (\(marks)) ORDER BY chunks.id
                        """,
                    arguments: StatementArguments(ids)
                ).map { row in
                    (row["id"], Self.embeddingText(title: row["title"], heading: row["heading"], text: row["text"]))
                }
            }
            // A chunk whose embedding text was deleted earlier in this run takes that vector back.
            var rows: [(Int64, Data)] = []
            var texts: [(Int64, String)] = []
            for (id, text) in batch {
                if let vector = salvagedVectors[ContentHasher.hash(text)] { rows.append((id, vector)) } else { texts.append((id, text)) }
            }
            let reused = rows.count
            if !texts.isEmpty {
                let vectors: [[Float]]
                do {
                    vectors = try embedder.embed(texts.map(\.1))
                } catch {
                    throw StoreError.embedding(detail: "\(error)")
                }
                guard vectors.count == texts.count, vectors.allSatisfy({ $0.count == dimensions }) else {
                    throw StoreError.embedding(detail: "\(model) returned \(vectors.count) vectors for \(texts.count) texts, or not \(dimensions) numbers each")
                }
                rows += zip(texts, vectors).map { ($0.0, VectorBlob.encode($1)) }
            }
            let options = self.options
            let path = store.path
            try store.write { db in
                let statement = try db.cachedStatement(
                    sql: "INSERT OR REPLACE INTO vectors(chunk_id, model, dims, vector) VALUES (?, ?, ?, ?)")
                for (id, vector) in rows {
                    try statement.execute(arguments: [id, model, dimensions, vector])
                }
                try IndexStore.bumpGeneration(db)
                if options.cancellation?.isCancelled == true { throw StoreError.interrupted(path: path) }
            }
            done += rows.count
            report.embedded += texts.count
            report.vectorsReused += reused
            progress(SyncProgress(phase: .embedding, done: done, total: pending.count))
        }
    }

    /// The text given to the embedder: the chunk with its document title and heading path on top, so a
    /// chunk that says "we picked the second option" still carries what it is about.
    static func embeddingText(title: String, heading: String?, text: String) -> String {
        var parts: [String] = []
        if !title.isEmpty { parts.append(title) }
        if let heading, !heading.isEmpty, heading != title { parts.append(heading) }
        parts.append(text.contains(":: ") || text.contains(":ID:") ? withoutOutlinerBookkeeping(text) : text)
        return parts.joined(separator: "\n")
    }

    /// `text` without the lines outliners write for themselves: Logseq's `id:: 6501a3f2-…` and
    /// `collapsed:: true` under a block, org-roam's `:PROPERTIES:` drawer with an `:ID:`. They say nothing
    /// about the text, and a UUID's pieces would take a good share of a short block's vector. The stored
    /// chunk keeps them, so its lines still match the file.
    static func withoutOutlinerBookkeeping(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            let content = line.drop { $0 == " " || $0 == "\t" }
            if content.hasPrefix("id:: ") || content.hasPrefix("collapsed:: ") || content.hasPrefix(":ID:") { return false }
            let bare = content.trimmingCharacters(in: .whitespaces)
            return bare != ":PROPERTIES:" && bare != ":END:"
        }.joined(separator: "\n")
    }

    // MARK: - Rows

    static func insert(_ db: Database, _ document: Document, contentHash: String, mtime: Int64?, size: Int64?, chunks: [Chunk]) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO documents(kind, path, mbox_offset, mbox_length, message_id, title, from_addr, to_addrs,
                    date, date_is_file_time, tags, links, aliases, attachments, "references", body, content_hash, mtime,
                    size, line_offset, warnings)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let arguments: [(any DatabaseValueConvertible)?] = [
            document.kind.rawValue, document.path, document.mboxOffset, document.mboxLength, document.messageID,
            document.title, document.from, JSONList.encode(document.to), document.date?.timeIntervalSince1970,
            document.dateIsFileTime,
            JSONList.encode(document.tags), JSONList.encode(document.links), JSONList.encode(document.aliases),
            JSONList.encode(document.attachments), JSONList.encode(document.references), document.body, contentHash,
            mtime, size, document.bodyLineOffset, document.warnings.isEmpty ? nil : JSONList.encode(document.warnings),
        ]
        try statement.execute(arguments: StatementArguments(arguments))
        let documentID = db.lastInsertedRowID
        let chunkStatement = try db.cachedStatement(
            sql: """
                INSERT INTO chunks(document_id, ordinal, text, heading, line_start, line_end, text_hash)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
        for chunk in chunks {
            let heading = chunk.headingPath.isEmpty ? nil : chunk.headingPath.joined(separator: " > ")
            try chunkStatement.execute(arguments: [
                documentID, chunk.ordinal, chunk.text, heading, chunk.lineStart, chunk.lineEnd,
                ContentHasher.hash(TextNormalizer.comparable(chunk.text)),
            ])
        }
    }

    static func saveSource(
        _ db: Database, _ file: ScannedFile, kind: ScannedFile.Kind, hash: String?, bytesIndexed: Int64, lines: Int,
        tail: String?, tailLength: Int, complete: Bool
    ) throws {
        // An mbox parsed only partly records size -1 so that the next run never takes it for unchanged.
        try db.execute(
            sql: """
                INSERT INTO sources(path, kind, size, mtime, content_hash, bytes_indexed, lines_indexed, tail_hash, tail_length, complete)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(path) DO UPDATE SET kind = excluded.kind, size = excluded.size, mtime = excluded.mtime,
                    content_hash = excluded.content_hash, bytes_indexed = excluded.bytes_indexed,
                    lines_indexed = excluded.lines_indexed, tail_hash = excluded.tail_hash,
                    tail_length = excluded.tail_length, complete = excluded.complete
                """,
            arguments: [
                file.path, kind.rawValue, complete ? file.size : -1, file.mtime, hash, bytesIndexed, lines, tail,
                tailLength, complete,
            ])
    }
}

extension IndexStore {
    func documentCount(path: String) throws -> Int {
        try read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM documents WHERE path = ?", arguments: [path]) ?? 0
        }
    }
}

/// Vectors are stored as Float32 little-endian blobs.
enum VectorBlob {
    static func encode(_ vector: [Float]) -> Data {
        var data = Data(count: vector.count * 4)
        data.withUnsafeMutableBytes { raw in
            for (index, value) in vector.enumerated() {
                raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: index * 4, as: UInt32.self)
            }
        }
        return data
    }

    static func decode(_ data: Data) -> [Float] {
        data.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map { index in
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
            }
        }
    }
}

/// Text compared for near-duplicates: quote markers (`>`) at line starts dropped, runs of whitespace
/// collapsed to one space, ASCII letters lowercased. Works on UTF-8 bytes in one pass: it runs for every
/// chunk stored.
enum TextNormalizer {
    static func comparable(_ text: String) -> String {
        var output: [UInt8] = []
        var copy = text
        copy.withUTF8 { bytes in
            output.reserveCapacity(bytes.count)
            var atLineStart = true
            var pendingSpace = false
            for byte in bytes {
                switch byte {
                case 0x0A:
                    atLineStart = true
                    pendingSpace = !output.isEmpty
                case 0x20, 0x09, 0x0D:
                    if !atLineStart { pendingSpace = !output.isEmpty }
                case UInt8(ascii: ">") where atLineStart:
                    continue
                default:
                    atLineStart = false
                    if pendingSpace {
                        output.append(0x20)
                        pendingSpace = false
                    }
                    output.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
                }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
