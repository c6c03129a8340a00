import Foundation
import Index
import Ingest
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A messy notes folder and a hostile mbox, indexed by the real `assist index`: every bad file or message
/// lands in `failed` with a reason a person can act on, every good one beside it is indexed, nothing hangs
/// (a FIFO, a link loop) and nothing traps (deep MIME, huge headers, alias bombs).
@Suite struct HostileSourcesTests {
    /// Builds the hostile notes folder beside one good note; returns the folder.
    static func makeNotes(in scratch: Scratch) throws -> String {
        let notes = scratch.path("notes")
        var random = SeededBytes(state: 11)
        try scratch.write("notes/good.md", text: "# Good\n\nThe zebracorn grazes behind the shed.\n")
        try scratch.write("notes/binary.md", [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00] + random.bytes(8192))
        // Latin-1 bytes: far more than the tolerated 5% are not UTF-8.
        try scratch.write("notes/latin1.md", Array(repeating: Array("# Caf\u{E9}\nna\u{EF}ve r\u{E9}sum\u{E9} ".unicodeScalars.map { UInt8($0.value) }), count: 20).flatMap { $0 })
        try scratch.write("notes/empty.md", [UInt8]())
        // One 3 MB line without a single newline.
        var line = "longlinetoken "
        line += String(repeating: "lorem ipsum dolor sit amet ", count: 3 * 1024 * 1024 / 27)
        try scratch.write("notes/oneline.md", text: line)
        try scratch.write("notes/broken-yaml.md", text: "---\ntitle: [unclosed\ntags: : :\n---\nbody after broken yaml: brokenyamlbody\n")
        // Billion laughs: nine levels of nine aliases each would expand to 9^9 values.
        var bomb = "---\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            bomb += "l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ", ") + "]\n"
        }
        bomb += "---\nbody of the bomb note\n"
        try scratch.write("notes/alias-bomb.md", text: bomb)
        // 120 nested folders with a note at the bottom.
        let deep = (0..<120).map { "d\($0)" }.joined(separator: "/")
        try scratch.write("notes/\(deep)/deep.md", text: "# Deep\n\nThe quokkadeep note sits 120 folders down.\n")
        // A symlink loop back to the top, and a link to itself.
        try FileManager.default.createSymbolicLink(atPath: notes + "/loop", withDestinationPath: notes)
        try FileManager.default.createSymbolicLink(atPath: notes + "/self.md", withDestinationPath: notes + "/self.md")
        // A FIFO named like a note: opening it for reading would block forever.
        guard mkfifo(notes + "/x.md", 0o644) == 0 else { throw CLITestError("mkfifo failed: \(errno)") }
        // An unreadable note.
        try scratch.write("notes/locked.md", text: "# Locked\n\nThe lockednote text.\n")
        chmod(notes + "/locked.md", 0)
        return notes
    }

    /// An mbox of hostile messages between good ones, plus two files that are not mboxes at all.
    static func makeMail(in scratch: Scratch) throws -> [String] {
        var mbox: [UInt8] = []
        func message(_ id: String, headers: String = "", body: String) {
            mbox += Array("From \(id)@example.org Tue Mar  5 10:30:00 2024\nFrom: \(id)@example.org\nSubject: \(id) subject\nMessage-ID: <\(id)@example.org>\n\(headers)\n\(body)\n\n".utf8)
        }
        message("good", body: "The okapimail arrives on time.")
        // MIME nested 5,000 levels deep.
        let nested = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b0\"\n"
        var nestedBody = ""
        for level in 0..<5000 { nestedBody += "--b\(level)\nContent-Type: multipart/mixed; boundary=\"b\(level + 1)\"\n\n" }
        nestedBody += "--b5000\nContent-Type: text/plain\n\nburieddeep text\n"
        for level in stride(from: 5000, through: 0, by: -1) { nestedBody += "--b\(level)--\n" }
        message("nested", headers: nested, body: nestedBody)
        // One 4 MB header line.
        message("bighead", headers: "X-Huge: " + String(repeating: "h", count: 4 << 20) + "\n", body: "bigheaderbody")
        message("base64", headers: "Content-Transfer-Encoding: base64\n", body: "a2VzdHJlbGJhc2U2NCBpcyBoZXJl!!!@@@ not base64 ====\n=A=")
        message("qp", headers: "Content-Transfer-Encoding: quoted-printable\n", body: "quokkaqp broken =ZZ =4 = soft=\n=")
        message("charset", headers: "Content-Type: text/plain; charset=x-klingon-7\n",
                body: "wombatcharset body =?utf-8?B?!!!?= =?x-unknown?Q?caf=E9?= =?utf-8?Q?unterminated")
        mbox += Array("From rfc2047@example.org Tue Mar  5 10:30:00 2024\nFrom: =?utf-8?B?####?= <rfc@example.org>\nSubject: =?koi8-zz?Q?=FF=FE?= =?utf-8?X?bad?= =?=?\nMessage-ID: <rfc2047@example.org>\n\nbandicootrfc body\n\n".utf8)
        mbox += Array("From nul@example.org Tue Mar  5 10:30:00 2024\nFrom: nul@example.org\nSubject: nul\u{0}subject\nMessage-ID: <nul@example.org>\n\nnumbatnul\u{0}in\u{0}the body\n\n".utf8)
        let references = (0..<50_000).map { "<ref\($0)@example.org>" }.joined(separator: " ")
        message("refs", headers: "References: \(references)\nIn-Reply-To: <ref49999@example.org>\n", body: "platypusrefs body")
        message("after", body: "The echidnaafter message follows the hostile ones.")
        // The last message is cut off in the middle of a MIME part.
        mbox += Array("From trunc@example.org Tue Mar  5 10:30:00 2024\nFrom: trunc@example.org\nSubject: trunc\nMessage-ID: <trunc@example.org>\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\n\ndingotrunc partial bo".utf8)
        var random = SeededBytes(state: 5)
        return [
            try scratch.write("mail/hostile.mbox", mbox),
            try scratch.write("mail/no-from-line.mbox", text: "Subject: hello\n\nThis file has no From line.\n"),
            try scratch.write("mail/random.bin", random.bytes(200_000)),
            // A gzip member header (magic, deflate, no flags) before garbage, named as mailing lists name
            // their monthly archives.
            try scratch.write("mail/2026-March.txt.gz", [0x1F, 0x8B, 0x08, 0x00] + random.bytes(4_000)),
        ]
    }

    static let indexedMessages = ["good", "base64", "qp", "charset", "rfc2047", "nul", "refs", "after", "trunc"]

    @Test func hostileNotesAndMailFailOneByOneWhileTheRestIsIndexed() throws {
        let scratch = try Scratch()
        let cli = try AssistCLI(scratch)
        let notes = try Self.makeNotes(in: scratch)
        let mail = try Self.makeMail(in: scratch)
        let result = try cli.run(["index", "--json", "--no-embed", "--db", scratch.db, notes] + mail, timeout: 600)
        #expect(!result.timedOut, "a hostile file made indexing hang")
        #expect(result.signal == nil, "assist index died: \(result.summary)")
        #expect(result.status == 0, "\(result.summary)")
        let report = try result.json()
        let failed = (report["failed"] as? [[String: String]] ?? []).map { ($0["path"] ?? "", $0["error"] ?? "") }
        func failure(_ pathSuffix: String) -> String? { failed.first { $0.0.hasSuffix(pathSuffix) || $0.0.contains(pathSuffix + " (") }?.1 }

        // Notes: each bad one names itself and says what to do.
        #expect(failure("notes/binary.md")?.contains("binary") == true, "\(failed)")
        // Front matter that is not YAML costs the note nothing but its properties, and says so.
        let notices = report["notices"] as? [String] ?? []
        #expect(failure("notes/broken-yaml.md") == nil && failure("notes/alias-bomb.md") == nil, "\(failed)")
        // An 8-bit note is read as Windows-1252, and the notice says how to convert it.
        #expect(failure("notes/latin1.md") == nil, "\(failed)")
        #expect(notices.contains { $0.contains("notes/latin1.md") && $0.contains("Windows-1252") && $0.contains("iconv") }, "\(notices)")
        #expect(notices.contains { $0.contains("notes/broken-yaml.md: front matter is not valid YAML (line 3)") }, "\(notices)")
        #expect(notices.contains { $0.contains("notes/alias-bomb.md") && $0.contains("aliases expand to more than") }, "\(notices)")
        #expect(failure("notes/x.md")?.contains("named pipe") == true, "\(failed)")
        for (path, error) in failed where path.hasPrefix(notes) {
            #expect(error.contains(path) || error.contains("named pipe") || error.contains("cannot open"), "\(path): \(error)")
        }
        if geteuid() == 0 {
            // Root reads a chmod 000 file anyway: the note is indexed, which is what the permissions allow.
            #expect(failure("notes/locked.md") == nil)
        } else {
            #expect(failure("notes/locked.md")?.contains("Permission denied") == true, "\(failed)")
        }
        // Mail: the limits are named in the messages.
        func messageFailure(_ says: String) -> Bool {
            failed.contains { $0.0.contains("hostile.mbox (message at byte") && $0.1.contains(says) }
        }
        #expect(messageFailure("nest more than 64 levels"), "\(failed)")
        #expect(messageFailure("header block is") && messageFailure("4194304-byte limit"), "\(failed)")
        #expect(failure("mail/no-from-line.mbox")?.contains("not an mbox") == true, "\(failed)")
        #expect(failure("mail/random.bin")?.contains("not an mbox") == true, "\(failed)")
        #expect(failure("mail/2026-March.txt.gz")?.contains("the gzip data is") == true, "\(failed)")
        #expect(failed.count == (geteuid() == 0 ? 7 : 8), "\(failed)")

        // Every good note and message is searchable.
        let store = try IndexStore(path: scratch.db, create: false)
        #expect(try store.integrityCheck().isEmpty)
        let status = try store.status()
        #expect(status.mail == Self.indexedMessages.count)
        #expect(status.notes == (geteuid() == 0 ? 8 : 7), "good, empty, oneline, deep, broken YAML, alias bomb, Latin-1 (+ locked as root)")
        for word in ["zebracorn", "quokkadeep", "longlinetoken", "brokenyamlbody", "résumé", "okapimail", "quokkaqp", "wombatcharset",
                     "bandicootrfc", "numbatnul", "platypusrefs", "echidnaafter", "dingotrunc"] {
            let search = try cli.run(["search", "--json", "--mode", "bm25", "--db", scratch.db, word])
            let results = try search.json()["results"] as? [[String: Any]] ?? []
            #expect(!results.isEmpty, "\(word) was not indexed: \(search.summary)")
        }
        let refs = try #require(try store.document(messageID: "refs@example.org")).document
        #expect(refs.references.count == 1000, "references are capped at MailParser.maxReferences")

        // A second run reads nothing new and duplicates nothing. Bad files are reported again; the two bad
        // messages were reported when their (unchanged, hence skipped) mbox was read.
        let again = try cli.run(["index", "--json", "--no-embed", "--db", scratch.db, notes] + mail, timeout: 600)
        let second = try again.json()
        #expect(second["added"] as? Int == 0 && second["updated"] as? Int == 0, "\(again.summary)")
        #expect((second["failed"] as? [Any])?.count == failed.count - 2, "\(again.summary)")
        #expect(try store.status().mail == Self.indexedMessages.count)
    }
}
