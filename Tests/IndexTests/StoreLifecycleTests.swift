import Foundation
import GRDB
import Testing
@testable import Index

@Suite struct StoreLifecycleTests {
    @Test func createsPrivateFolderAndFiles() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        _ = try store.status()
        let fileManager = FileManager.default
        let folderMode = try fileManager.attributesOfItem(atPath: scratch.path("db"))[.posixPermissions] as? Int
        #expect(folderMode == 0o700)
        for suffix in ["", "-wal", "-shm"] where fileManager.fileExists(atPath: scratch.dbPath + suffix) {
            let mode = try fileManager.attributesOfItem(atPath: scratch.dbPath + suffix)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(suffix) has mode \(String(mode ?? 0, radix: 8))")
        }
        #expect(fileManager.fileExists(atPath: scratch.dbPath + "-wal"))
        let journal = try store.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
    }

    @Test func migrationsAreIdempotent() throws {
        let scratch = try Scratch()
        _ = try IndexStore(path: scratch.dbPath)
        let again = try IndexStore(path: scratch.dbPath)
        let applied = try again.count("SELECT count(*) FROM grdb_migrations")
        #expect(applied == 4)
        #expect(try again.status().chunks == 0)
        #expect(try again.integrityCheck().isEmpty)
    }

    @Test func anIndexFromBeforeMessageFilesUpgradesInPlace() throws {
        let scratch = try Scratch()
        let old = try databaseMigrated(upTo: "v1: documents, sources, chunks, fts, vectors, summaries, meta", in: scratch)
        try old.write { db in
            try db.execute(sql: "INSERT INTO sources(path, kind, size, mtime) VALUES ('/notes/a.md', 'note', 10, 1)")
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "INSERT INTO sources(path, kind, size, mtime) VALUES ('/m/cur/1', 'message', 10, 1)")
            }
        }
        try old.close()

        let store = try IndexStore(path: scratch.dbPath)
        #expect(try store.count("SELECT count(*) FROM grdb_migrations") == 4)
        #expect(try store.count("SELECT count(*) FROM sources WHERE path = '/notes/a.md' AND kind = 'note'") == 1)
        try store.pool.write { db in
            try db.execute(sql: "INSERT INTO sources(path, kind, size, mtime) VALUES ('/m/cur/1', 'message', 10, 1)")
        }
        #expect(try store.integrityCheck().isEmpty)
    }

    @Test func anIndexFromBeforeFileTimeDatesLearnsWhichNotesHaveThem() throws {
        let scratch = try Scratch()
        let old = try databaseMigrated(upTo: "v2: sources of kind 'message' (Maildir entries, .eml files)", in: scratch)
        try old.write { db in
            // A note dated by its file (date = mtime), one with a stated date, and a message.
            for (kind, date, mtime) in [("note", 1_790_000_000.25, 1_790_000_000_250_000_000), ("note", 1_780_000_000.0, 1_790_000_000_000_000_000), ("mail", 1_790_000_000.0, nil)] as [(String, Double, Int64?)] {
                try db.execute(
                    sql: "INSERT INTO documents(kind, path, title, date, body, content_hash, mtime) VALUES (?, '/x', 't', ?, 'b', 'h', ?)",
                    arguments: [kind, date, mtime])
            }
        }
        try old.close()

        let store = try IndexStore(path: scratch.dbPath)
        #expect(try store.count("SELECT count(*) FROM documents WHERE date_is_file_time = 1") == 1)
        #expect(try store.count("SELECT count(*) FROM documents WHERE date_is_file_time = 1 AND date = 1790000000.25") == 1)
    }

    @Test func missingIndexWithoutCreateSaysHowToBuildOne() throws {
        let scratch = try Scratch()
        #expect(throws: StoreError.missingIndex(path: scratch.dbPath)) {
            try IndexStore(path: scratch.dbPath, create: false)
        }
        #expect(StoreError.missingIndex(path: "x").description.contains("assist index PATH"))
    }

    @Test func corruptFileIsDetectedAndRebuildMovesItAside() throws {
        let scratch = try Scratch()
        try scratch.write("db/index.sqlite", String(repeating: "this is not a database\n", count: 200))
        do {
            _ = try IndexStore(path: scratch.dbPath)
            Issue.record("opening garbage succeeded")
        } catch let error as StoreError {
            guard case .corrupt = error else { Issue.record("wrong error \(error)"); return }
            #expect(error.description.contains("--rebuild"))
        }
        let movedTo = try IndexStore.rebuild(path: scratch.dbPath)
        let moved = try #require(movedTo)
        #expect(FileManager.default.fileExists(atPath: moved))
        let fresh = try IndexStore(path: scratch.dbPath)
        #expect(try fresh.status().notes == 0)
    }

    @Test func damagedPagesAreReportedAsCorrupt() throws {
        let scratch = try Scratch()
        do {
            let store = try IndexStore(path: scratch.dbPath)
            let folder = try scratch.write("notes/a.md", note(title: "A", body: String(repeating: "words and more words. ", count: 2000)))
            _ = try store.sync([(folder as NSString).deletingLastPathComponent])
            try store.pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        }
        // Overwrite everything after the header page with junk.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: scratch.dbPath))
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 64 * 1024))
        try handle.close()
        try? FileManager.default.removeItem(atPath: scratch.dbPath + "-wal")
        try? FileManager.default.removeItem(atPath: scratch.dbPath + "-shm")
        var sawCorrupt = false
        do {
            let store = try IndexStore(path: scratch.dbPath)
            _ = try store.search(SearchQuery(text: "words"))
            let problems = try store.integrityCheck()
            sawCorrupt = !problems.isEmpty
        } catch let error as StoreError {
            if case .corrupt = error { sawCorrupt = true } else { Issue.record("unexpected \(error)") }
        }
        #expect(sawCorrupt)
    }

    @Test func summaryCacheRoundTrips() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        #expect(try store.cachedSummary(threadID: "t1", contentHash: "h", model: "m") == nil)
        try store.storeSummary(threadID: "t1", contentHash: "h", model: "m", json: #"{"summary":"one"}"#)
        try store.storeSummary(threadID: "t1", contentHash: "h", model: "m", json: #"{"summary":"two"}"#)
        #expect(try store.cachedSummary(threadID: "t1", contentHash: "h", model: "m") == #"{"summary":"two"}"#)
        #expect(try store.cachedSummary(threadID: "t1", contentHash: "other", model: "m") == nil)
    }

    @Test func statusEncodesToTheCLIShape() throws {
        let status = IndexStatus(db: "/x/index.sqlite", notes: 2, mail: 3, chunks: 9, embedded: 0, embeddingModel: nil, lastIndex: Date(timeIntervalSince1970: 0))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(status), as: UTF8.self)
        #expect(json == #"{"chunks":9,"db":"\/x\/index.sqlite","documents":{"mail":3,"notes":2},"embedded":0,"embedding_model":null,"last_index":"1970-01-01T00:00:00Z"}"#)
    }

    /// An index file in `scratch` as an earlier version left it: migrated up to `migration` and no further.
    private func databaseMigrated(upTo migration: String, in scratch: Scratch) throws -> DatabaseQueue {
        try FileManager.default.createDirectory(atPath: scratch.path("db"), withIntermediateDirectories: true)
        let database = try DatabaseQueue(path: scratch.dbPath)
        try Schema.migrator.migrate(database, upTo: migration)
        return database
    }
}
