import Foundation
import Index
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `assist index` interrupted, raced, starved of disk and denied writes, through the real binary: the index
/// always passes `PRAGMA integrity_check`, and the next run ends with every message exactly once.
@Suite(.serialized) struct CrashAndConcurrencyTests {
    static let messageCount = 6000

    /// An mbox big enough that indexing it takes a while (several MB, thousands of messages).
    static func makeCorpus(in scratch: Scratch) throws -> (notes: String, mbox: String) {
        var mbox = ""
        mbox.reserveCapacity(messageCount * 900)
        let words = ["harbour", "invoice", "projector", "budget", "ferry", "garden", "server", "meeting", "draft", "review"]
        for i in 0..<messageCount {
            let a = words[i % words.count], b = words[(i / 10) % words.count]
            mbox += "From user\(i % 37)@example.org Tue Mar  5 10:30:00 2024\n"
            mbox += "From: user\(i % 37)@example.org\nTo: team@example.org\nSubject: \(a) \(b) number \(i)\n"
            mbox += "Message-ID: <m\(i)@example.org>\n"
            if i > 0 { mbox += "In-Reply-To: <m\(i / 2)@example.org>\nReferences: <m0@example.org> <m\(i / 2)@example.org>\n" }
            mbox += "Date: Tue, 5 Mar 2024 10:\(String(format: "%02d", i % 60)):00 +0000\n\n"
            for line in 0..<8 { mbox += "Line \(line) of message \(i) talks about the \(a) and the \(b) at length, uniqueword\(i).\n" }
            mbox += "\n"
        }
        let path = try scratch.write("mail/big.mbox", text: mbox)
        for i in 0..<20 { try scratch.write("notes/n\(i).md", text: "# Note \(i)\n\nThe lighthouse keeper note \(i).\n") }
        return (scratch.path("notes"), path)
    }

    /// Waits until a running `assist index` holds the sync lock (its pid is in `<db>.lock`).
    static func waitForLock(_ run: RunningCLI, db: String) -> Bool {
        for _ in 0..<3000 where run.isRunning {
            if let text = try? String(contentsOfFile: db + ".lock", encoding: .utf8),
                Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) == run.pid {
                return true
            }
            usleep(10_000)
        }
        return false
    }

    /// The index after a complete run: every message and note exactly once.
    static func expectComplete(_ cli: AssistCLI, _ scratch: Scratch, _ corpus: (notes: String, mbox: String)) throws {
        let final = try cli.run(["index", "--json", "--no-embed", "--db", scratch.db, corpus.notes, corpus.mbox])
        #expect(final.status == 0, "\(final.summary)")
        let store = try IndexStore(path: scratch.db, create: false)
        #expect(try store.integrityCheck().isEmpty)
        let status = try store.status()
        #expect(status.mail == messageCount, "lost or duplicated messages")
        #expect(status.notes == 20)
    }

    @Test func killNineAtAnyMomentLeavesAConsistentIndexThatTheNextRunCompletes() throws {
        let scratch = try Scratch()
        let cli = try AssistCLI(scratch)
        let corpus = try Self.makeCorpus(in: scratch)
        var killedMidRun = 0
        for delay in [0.0, 0.05, 0.2, 0.5, 1.0, 2.0] {
            let run = try cli.start(["index", "--json", "--no-embed", "--db", scratch.db, corpus.notes, corpus.mbox])
            _ = Self.waitForLock(run, db: scratch.db)
            usleep(useconds_t(delay * 1_000_000))
            if run.isRunning {
                kill(run.pid, SIGKILL)
                killedMidRun += 1
            }
            let result = try run.wait(timeout: 300)
            #expect(result.signal == SIGKILL || result.status == 0, "\(result.summary)")
            if FileManager.default.fileExists(atPath: scratch.db) {
                let problems = try IndexStore(path: scratch.db, create: false).integrityCheck()
                #expect(problems.isEmpty, "integrity after kill -9 at \(delay) s: \(problems)")
            }
        }
        #expect(killedMidRun > 0, "every run finished before it could be killed; the corpus is too small")
        try Self.expectComplete(cli, scratch, corpus)
    }

    @Test func searchAndAskRunWhileIndexWrites() throws {
        let scratch = try Scratch()
        let cli = try AssistCLI(scratch)
        let corpus = try Self.makeCorpus(in: scratch)
        let first = try cli.run(["index", "--json", "--no-embed", "--db", scratch.db, corpus.notes])
        #expect(first.status == 0, "\(first.summary)")
        let writer = try cli.start(["index", "--json", "--no-embed", "--db", scratch.db, corpus.mbox])
        var searches = 0
        var asked = false
        while writer.isRunning || searches == 0 {
            let search = try cli.run(["search", "--json", "--mode", "bm25", "--db", scratch.db, "lighthouse keeper"])
            #expect(search.status == 0, "search during index: \(search.summary)")
            searches += 1
            if !asked, AssistCLI.modelsFolder != nil {
                let ask = try cli.run(["ask", "--json", "--model", "smollm2-135m", "--db", scratch.db, "What does the lighthouse keeper note say?"])
                #expect(ask.status == 0, "ask during index: \(ask.summary)")
                asked = true
            }
        }
        let result = try writer.wait()
        #expect(result.status == 0, "\(result.summary)")
        try Self.expectComplete(cli, scratch, corpus)
    }

    @Test func aSecondIndexRunExitsOneWhileTheFirstHoldsTheLock() throws {
        let scratch = try Scratch()
        let cli = try AssistCLI(scratch)
        let corpus = try Self.makeCorpus(in: scratch)
        // Deterministic: this test holds the lock exactly as a running `assist index` would.
        try FileManager.default.createDirectory(atPath: scratch.path("home"), withIntermediateDirectories: true)
        let fd = open(scratch.db + ".lock", O_RDWR | O_CREAT, 0o600)
        #expect(fd >= 0)
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        _ = "4242\n".withCString { pwrite(fd, $0, 5, 0) }
        let blocked = try cli.run(["index", "--json", "--no-embed", "--db", scratch.db, corpus.notes])
        #expect(blocked.status == 1, "\(blocked.summary)")
        #expect(blocked.stderr.contains("another `assist index` is running (pid 4242)"), "\(blocked.summary)")
        flock(fd, LOCK_UN)
        close(fd)

        // And for real: two runs started together; the loser says so, the winner's work is whole.
        let a = try cli.start(["index", "--json", "--no-embed", "--db", scratch.db, corpus.notes, corpus.mbox])
        _ = Self.waitForLock(a, db: scratch.db)
        let b = try cli.run(["index", "--json", "--no-embed", "--db", scratch.db, corpus.notes, corpus.mbox])
        let aResult = try a.wait()
        #expect(aResult.status == 0, "\(aResult.summary)")
        #expect(b.status == 0 || (b.status == 1 && b.stderr.contains("another `assist index` is running")), "\(b.summary)")
        try Self.expectComplete(cli, scratch, corpus)
    }

    /// A full disk, simulated with a file-size limit (`ulimit -f`, RLIMIT_FSIZE) on the indexing process:
    /// writes past the limit fail with EFBIG exactly where ENOSPC would hit on a full disk.
    @Test func aFullDiskGivesAClearErrorAndNoPartialState() throws {
        let scratch = try Scratch()
        let cli = try AssistCLI(scratch)
        let corpus = try Self.makeCorpus(in: scratch)
        let limited = try cli.run(
            ["index", "--json", "--no-embed", "--db", scratch.db, corpus.notes, corpus.mbox],
            wrapper: ["/bin/sh", "-c", "ulimit -f 4096 && exec \"$@\"", "sh"])
        #expect(limited.signal == nil, "killed instead of reporting the error: \(limited.summary)")
        #expect(limited.status == 1, "\(limited.summary)")
        #expect(limited.stderr.contains(scratch.db) && limited.stderr.contains("full"), "\(limited.summary)")
        let problems = try IndexStore(path: scratch.db, create: false).integrityCheck()
        #expect(problems.isEmpty, "\(problems)")
        try Self.expectComplete(cli, scratch, corpus)
    }

    /// A read-only index folder: a real read-only bind mount in a user+mount namespace where `unshare` is
    /// allowed (root ignores chmod), else chmod 0500 for a normal user.
    @Test func aReadOnlyIndexFolderGivesAClearErrorAndLeavesTheIndexAlone() throws {
        let scratch = try Scratch()
        let cli = try AssistCLI(scratch)
        let corpus = try Self.makeCorpus(in: scratch)
        let built = try cli.run(["index", "--json", "--no-embed", "--db", scratch.db, corpus.notes])
        #expect(built.status == 0, "\(built.summary)")
        let before = try IndexStore(path: scratch.db, create: false).status()
        try scratch.write("notes/new.md", text: "# New\n\nA note added while the folder is read-only.\n")
        let home = scratch.path("home")
        let wrapper: [String]
        if let unshare = Namespaces.wrapper("-rm") {
            wrapper = unshare + ["/bin/sh", "-c", "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\" && exec \"$@\"", home]
        } else if geteuid() != 0 {
            chmod(home, 0o500)
            for file in (try? FileManager.default.contentsOfDirectory(atPath: home)) ?? [] { chmod(home + "/" + file, 0o400) }
            wrapper = []
        } else {
            Issue.record("running as root without permission to unshare: a read-only folder cannot be simulated here")
            return
        }
        let result = try cli.run(["index", "--json", "--no-embed", "--db", scratch.db, corpus.notes], wrapper: wrapper)
        chmod(home, 0o700)
        #expect(result.signal == nil, "\(result.summary)")
        #expect(result.status == 1, "\(result.summary)")
        #expect(result.stderr.contains("cannot write the index"), "\(result.summary)")
        let store = try IndexStore(path: scratch.db, create: false)
        #expect(try store.integrityCheck().isEmpty)
        #expect(try store.status().notes == before.notes, "a failed run changed the index")
    }

    @Test func aCorruptIndexIsDetectedAndRebuildRecovers() throws {
        let scratch = try Scratch()
        let cli = try AssistCLI(scratch)
        let corpus = try Self.makeCorpus(in: scratch)
        #expect(try cli.run(["index", "--json", "--no-embed", "--db", scratch.db, corpus.notes]).status == 0)
        // Scribble over every page after the first: the header still says SQLite, the b-trees are garbage.
        let handle = try #require(FileHandle(forUpdatingAtPath: scratch.db))
        let size = try handle.seekToEnd()
        var random = SeededBytes(state: 3)
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data(random.bytes(Int(size) - 4096)))
        try handle.close()
        // Committed pages still in the write-ahead log would mask the damage: drop the log as a crash might.
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: scratch.db + suffix) }
        let search = try cli.run(["search", "--json", "--mode", "bm25", "--db", scratch.db, "lighthouse"])
        #expect(search.status == 1 && search.signal == nil, "\(search.summary)")
        #expect(search.stderr.contains("--rebuild"), "\(search.summary)")
        let reindex = try cli.run(["index", "--json", "--no-embed", "--db", scratch.db, corpus.notes])
        #expect(reindex.status == 1 && reindex.stderr.contains("--rebuild"), "\(reindex.summary)")
        let rebuilt = try cli.run(["index", "--rebuild", "--json", "--no-embed", "--db", scratch.db, corpus.notes])
        #expect(rebuilt.status == 0, "\(rebuilt.summary)")
        #expect(rebuilt.stderr.contains("moved the old index to"), "\(rebuilt.summary)")
        let after = try cli.run(["search", "--json", "--mode", "bm25", "--db", scratch.db, "lighthouse"])
        #expect(((try after.json())["results"] as? [Any])?.isEmpty == false, "\(after.summary)")
        #expect(try IndexStore(path: scratch.db, create: false).integrityCheck().isEmpty)
    }
}
