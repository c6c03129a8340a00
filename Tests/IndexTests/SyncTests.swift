import Foundation
import Testing
@testable import Index
import Ingest

@Suite struct NoteSyncTests {
    @Test func addEditDeleteRename() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        try scratch.write("notes/garden.md", note(title: "Garden", body: "Plant the tomatoes in May near the fence."))
        try scratch.write("notes/sub/router.md", note(title: "Router", body: "The router is an RT-AX86U in the hallway."))
        try scratch.write("notes/.obsidian/cache.md", "# hidden\nshould never be indexed")
        try scratch.write("notes/readme.txt", "not a note")
        let notes = scratch.path("notes")

        let first = try store.sync([notes])
        #expect(first.added == 2)
        #expect(first.failed.isEmpty)
        #expect(first.chunks >= 2)
        #expect(try store.status().notes == 2)
        #expect(try store.search(SearchQuery(text: "hidden")).isEmpty)

        try scratch.write("notes/garden.md", note(title: "Garden", body: "Plant the peppers in June near the shed."))
        try scratch.touch("notes/garden.md", seconds: 1_800_000_000)
        let second = try store.sync([notes])
        #expect(second.updated == 1)
        #expect(second.unchanged == 1)
        #expect(try store.search(SearchQuery(text: "tomatoes")).isEmpty)
        #expect(try store.search(SearchQuery(text: "peppers")).first?.title == "Garden")

        try FileManager.default.moveItem(atPath: scratch.path("notes/sub/router.md"), toPath: scratch.path("notes/network.md"))
        let third = try store.sync([notes])
        #expect(third.moved == 1 && third.added == 0 && third.removed == 0)
        #expect(try store.status().notes == 2)
        let hit = try #require(try store.search(SearchQuery(text: "RT-AX86U")).first)
        #expect(hit.path == scratch.path("notes/network.md"))
        #expect(try store.document(path: scratch.path("notes/sub/router.md")) == nil)

        try FileManager.default.removeItem(atPath: scratch.path("notes/garden.md"))
        let fourth = try store.sync([notes])
        #expect(fourth.removed == 1)
        #expect(try store.status().notes == 1)
        #expect(try store.count("SELECT count(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)") == 0)
        #expect(try store.integrityCheck().isEmpty)
    }

    @Test func orgNotesIndexWithTheirHeadings() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        try scratch.write("org/house.org", "#+TITLE: House\n#+FILETAGS: :home:\n\n* Boiler :heating:\nThe boiler is serviced every October.\n")
        try scratch.write("org/house.org~", "an editor backup, not a note")
        let report = try store.sync([scratch.path("org")])
        #expect(report.added == 1 && report.failed.isEmpty)
        let hit = try #require(try store.search(SearchQuery(text: "boiler serviced", tag: "heating")).first)
        #expect(hit.title == "House" && hit.heading == "Boiler" && hit.lineStart == 4)
    }

    @Test func logseqBlockBookkeepingIsNotEmbedded() {
        let block = "- Call the plumber\n  id:: 6501a3f2-1c2d-4e5f-8a9b-0c1d2e3f4a5b\n\t- about the boiler\n\t  collapsed:: true\n- rating:: 5"
        #expect(SyncRun.embeddingText(title: "Home", heading: nil, text: block)
            == "Home\n- Call the plumber\n\t- about the boiler\n- rating:: 5")
        #expect(SyncRun.embeddingText(title: "Home", heading: "Home", text: "Plain text.") == "Home\nPlain text.")
        let roam = ":PROPERTIES:\n:ID:       8f3c2a10-5b1e-4c2d-9e7f-0a1b2c3d4e5f\n:END:\n#+title: Boiler\nServiced in October."
        #expect(SyncRun.embeddingText(title: "Boiler", heading: nil, text: roam) == "Boiler\n#+title: Boiler\nServiced in October.")
    }

    @Test func unchangedRerunReadsNothing() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        for index in 0..<20 {
            try scratch.write("notes/n\(index).md", note(title: "Note \(index)", body: "Body of note number \(index)."))
        }
        _ = try store.sync([scratch.path("notes")])
        let again = try store.sync([scratch.path("notes")])
        #expect(again.unchanged == 20)
        #expect(again.added + again.updated + again.removed == 0)
        #expect(again.bytesParsed == 0)

        // Same bytes, new mtime: read and hashed once, recorded, then skipped again.
        try scratch.touch("notes/n3.md", seconds: 1_700_000_000)
        let touched = try store.sync([scratch.path("notes")])
        #expect(touched.unchanged == 20)
        #expect(touched.bytesParsed > 0)
        #expect(try store.sync([scratch.path("notes")]).bytesParsed == 0)
    }

    @Test func removalIsScopedToTheRootsOfThisRun() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        try scratch.write("a/one.md", note(title: "One", body: "alpha"))
        try scratch.write("b/two.md", note(title: "Two", body: "beta"))
        _ = try store.sync([scratch.path("a"), scratch.path("b")])
        let onlyA = try store.sync([scratch.path("a")])
        #expect(onlyA.removed == 0)
        #expect(try store.status().notes == 2)
        // A root that vanished entirely (unmounted drive?) is a failure, not a reason to delete.
        try FileManager.default.removeItem(atPath: scratch.path("b"))
        let missing = try store.sync([scratch.path("b")])
        #expect(missing.failed.count == 1)
        #expect(try store.status().notes == 2)
    }

    @Test func badFilesFailWhileGoodOnesIndex() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        try scratch.write("notes/good.md", note(title: "Good", body: "A perfectly fine note."))
        try scratch.write("notes/bad.md", "---\ntitle: [unclosed\n---\nbody")
        try scratch.write("mail/notmbox.txt", "Hello, this is just text.\nNo mbox here.\n")
        mkfifo(scratch.path("notes/pipe.md"), 0o600)
        mkfifo(scratch.path("pipe.mbox"), 0o600)
        try FileManager.default.createSymbolicLink(atPath: scratch.path("notes/loop"), withDestinationPath: scratch.path("notes"))
        let report = try store.sync([
            scratch.path("notes"), scratch.path("mail/notmbox.txt"), scratch.path("pipe.mbox"), scratch.path("nowhere.mbox"),
        ])
        #expect(try store.document(path: scratch.path("notes/good.md"))?.document.title == "Good")
        let failed = Dictionary(report.failed.map { ($0.path, $0.error) }, uniquingKeysWith: { a, _ in a })
        #expect(failed[scratch.path("mail/notmbox.txt")]?.contains("From ") == true)
        #expect(failed[scratch.path("pipe.mbox")]?.contains("not a regular file") == true)
        #expect(failed[scratch.path("nowhere.mbox")] != nil)
        #expect(failed[scratch.path("notes/pipe.md")]?.contains("named pipe") == true, "a FIFO named like a note is reported, never opened")
        // The symlink loop is entered at most once: good.md is indexed exactly once.
        #expect(try store.count("SELECT count(*) FROM documents WHERE title = 'Good'") == 1)
        let encoded = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        for key in ["added", "updated", "removed", "unchanged", "failed", "chunks", "seconds"] {
            #expect(encoded.contains("\"\(key)\""))
        }
    }
}

@Suite struct TakeoutSyncTests {
    @Test func spamAndTrashOfATakeoutMboxStayOut() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        func labelled(_ message: String, _ labels: String) -> String {
            message.replacingOccurrences(of: "Content-Type:", with: "X-Gmail-Labels: \(labels)\nContent-Type:")
        }
        let mbox = labelled(mboxMessage(id: "k1@x.org", subject: "Kiln", body: "The kiln arrives Friday."), "Inbox,Pottery,Opened")
            + labelled(mboxMessage(id: "s1@x.org", subject: "Prize", body: "You won a kiln prize, click here."), "Spam,Unread")
            + labelled(mboxMessage(id: "t1@x.org", subject: "Old kiln quote", body: "Deleted kiln quote."), "Trash")
        let path = try scratch.write("All mail Including Spam and Trash.mbox", mbox)
        let report = try store.sync([path])
        #expect(report.added == 1)
        #expect(report.notices == ["left out 2 messages labelled Spam or Trash"])
        #expect(try store.search(SearchQuery(text: "kiln")).map(\.messageID) == ["k1@x.org"])
        #expect(try store.search(SearchQuery(text: "kiln", tag: "pottery")).map(\.messageID) == ["k1@x.org"])
        // A grown Takeout is read from where it stopped; a rewritten one is diffed, and keeps them out too.
        let grown = mbox + mboxMessage(id: "k2@x.org", subject: "Kiln", body: "Delivered.")
        try scratch.write("All mail Including Spam and Trash.mbox", grown)
        try scratch.touch("All mail Including Spam and Trash.mbox", seconds: 1_800_000_000)
        let appended = try store.sync([path])
        #expect(appended.added == 1 && appended.removed == 0 && appended.notices.isEmpty)
        try scratch.write("All mail Including Spam and Trash.mbox", grown.replacingOccurrences(of: "Deleted kiln quote.", with: "Deleted."))
        try scratch.touch("All mail Including Spam and Trash.mbox", seconds: 1_800_000_100)
        let rewritten = try store.sync([path])
        #expect(rewritten.unchanged == 2 && rewritten.added == 0 && rewritten.removed == 0)
        #expect(rewritten.notices == ["left out 2 messages labelled Spam or Trash"])
        #expect(try store.status().mail == 2)
    }
}

@Suite struct MailSyncTests {
    func threeMessages() -> String {
        mboxMessage(id: "m1@example.org", subject: "Budget for Q3", body: "The budget for the kiln is 4000 euros.")
            + mboxMessage(
                id: "m2@example.org", from: "Bo Chen <bo@example.org>", subject: "Re: Budget for Q3",
                date: "Wed, 04 Mar 2026 09:00:00 +0000", inReplyTo: "m1@example.org",
                body: "Agreed, but the glaze order comes first.")
            + mboxMessage(id: "m3@example.org", subject: "Parking", date: "Thu, 05 Mar 2026 09:00:00 +0000", body: "Parking spot 17 is ours from April.")
    }

    @Test func appendOnlyGrowthParsesOnlyTheNewBytes() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        let mbox = try scratch.write("inbox.mbox", threeMessages())
        let first = try store.sync([mbox])
        #expect(first.added == 3)
        #expect(first.failed.isEmpty)
        let firstThread = try #require(try store.document(messageID: "m1@example.org")?.threadID)
        #expect(try store.document(messageID: "m2@example.org")?.threadID == firstThread)
        #expect(try store.mailDocuments(threadID: firstThread).count == 2)

        let addition = mboxMessage(
            id: "m4@example.org", subject: "Re: Parking", date: "Fri, 06 Mar 2026 09:00:00 +0000", inReplyTo: "m3@example.org",
            body: "Then spot 18 goes to the bikes.")
        try scratch.append("inbox.mbox", addition)
        let second = try store.sync([mbox])
        #expect(second.added == 1)
        #expect(second.removed == 0)
        #expect(second.bytesParsed == Int64(addition.utf8.count))
        let reply = try #require(try store.document(messageID: "m4@example.org"))
        #expect(reply.threadID != nil)
        #expect(reply.threadID == (try store.document(messageID: "m3@example.org")?.threadID))
        #expect(try store.status().mail == 4)
        let unchanged = try store.sync([mbox])
        #expect(unchanged.unchanged == 4)
        #expect(unchanged.bytesParsed == 0)
    }

    @Test func gzipArchivesAreIndexedThroughADecompressedCopy() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        /// Writes `text` as the gzip archive `list/2026-March.txt.gz`, compressed by the system's gzip.
        func writeArchive(_ text: String) throws -> String {
            let plain = try scratch.write("list/2026-March.txt", text)
            let gzip = Process()
            gzip.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
            gzip.arguments = ["-f", "-n", plain]
            try gzip.run()
            gzip.waitUntilExit()
            #expect(gzip.terminationStatus == 0)
            return plain + ".gz"
        }
        let firstMessage = mboxMessage(id: "a1@example.org", subject: "Kiln firing", body: "The bisque firing is on Monday.")
        let archive = try writeArchive(firstMessage)
        let first = try store.sync([archive])
        #expect(first.failed.isEmpty, "\(first.failed)")
        #expect(first.added == 1)
        let hit = try #require(try store.search(SearchQuery(text: "bisque")).first)
        #expect(hit.path == archive)
        #expect(hit.messageID == "a1@example.org")
        let copy = CompressedArchives(indexPath: store.path).copyPath(for: archive)
        #expect(try FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int == 0o600)
        let copies = try store.status().archiveCopies
        #expect(copies.count == 1 && copies.bytes == Int64(firstMessage.utf8.count))

        let unchanged = try store.sync([archive])
        #expect(unchanged.unchanged == 1 && unchanged.bytesParsed == 0)

        // The list's current month grows: only the new message is parsed.
        let reply = mboxMessage(
            id: "a2@example.org", subject: "Re: Kiln firing", date: "Wed, 04 Mar 2026 10:00:00 +0000",
            inReplyTo: "a1@example.org", body: "Celadon glaze for the glaze firing arrives Tuesday.")
        _ = try writeArchive(firstMessage + reply)
        let grown = try store.sync([archive])
        #expect(grown.added == 1 && grown.removed == 0)
        #expect(grown.bytesParsed == Int64(reply.utf8.count))

        // A damaged archive is named, and what was indexed from it stays searchable.
        try Data([0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x4B]).write(to: URL(fileURLWithPath: archive))
        let damaged = try store.sync([archive])
        #expect(damaged.failed.map(\.path) == [archive])
        #expect(damaged.failed.first?.error.contains("cut off") == true, "\(damaged.failed)")
        #expect(try store.search(SearchQuery(text: "celadon")).first?.messageID == "a2@example.org")

        // Deleted from a folder that is indexed, the archive leaves the index and its copy goes too.
        try FileManager.default.removeItem(atPath: archive)
        #expect(try store.sync([scratch.path("list")]).removed == 2)
        #expect(!FileManager.default.fileExists(atPath: copy))
        #expect(try store.status().archiveCopies.count == 0)
    }

    @Test func aMailmanMonthlyArchiveIndexesAsItsMessages() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        // Pipermail's text archive: "at" in addresses, Mailman's footer, and notices of scrubbed attachments.
        let footer = "_______________________________________________\ndev mailing list\ndev at lists.example.org\nhttps://lists.example.org/mailman/listinfo/dev\n"
        let archive = """
            From alice at example.org  Mon Jan  1 10:00:00 2024
            From: alice at example.org (Alice Smith)
            Date: Mon, 01 Jan 2024 10:00:00 +0000
            Subject: [dev] Release 2.3 schedule
            Message-ID: <rel23@example.org>

            We tag release 2.3 on January 15th once the flaky linker test is fixed.
            -------------- next part --------------
            An HTML attachment was scrubbed...
            URL: <http://lists.example.org/pipermail/dev/attachments/20240101/ab12/attachment.html>
            \(footer)
            From bob at example.org  Tue Jan  2 09:00:00 2024
            From: bob at example.org (Bob Jones)
            Date: Tue, 02 Jan 2024 09:00:00 +0000
            Subject: [dev] Release 2.3 schedule
            In-Reply-To: <rel23@example.org>
            References: <rel23@example.org>
            Message-ID: <rel23-re@example.org>

            The linker test is fixed on main; January 15th works.
            \(footer)
            """
        let plain = try scratch.write("list/2024-January.txt", archive)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
        gzip.arguments = ["-n", plain]
        try gzip.run()
        gzip.waitUntilExit()
        let report = try store.sync([plain + ".gz"])
        #expect(report.failed.isEmpty, "\(report.failed)")
        #expect(report.added == 2)
        let first = try #require(try store.document(messageID: "rel23@example.org"))
        let reply = try #require(try store.document(messageID: "rel23-re@example.org"))
        #expect(first.document.from == "Alice Smith <alice@example.org>")
        #expect(reply.threadID != nil && reply.threadID == first.threadID)
        let searched = try store.chunks(documentID: first.id).map(\.text).joined(separator: "\n")
        #expect(searched.contains("flaky linker test"))
        #expect(!searched.contains("scrubbed") && !searched.contains("listinfo"), "\(searched)")
        #expect(try store.search(SearchQuery(text: "when is release 2.3 tagged")).first?.path == plain + ".gz")
    }

    @Test func rewrittenMboxDropsDeletedMessageAndKeepsTheRest() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        let mbox = try scratch.write("inbox.mbox", threeMessages())
        _ = try store.sync([mbox])
        let keptID = try #require(try store.document(messageID: "m3@example.org")?.id)
        let without = threeMessages().components(separatedBy: "From ana@example.org").filter { !$0.isEmpty && !$0.contains("m2@example.org") }
            .map { "From ana@example.org" + $0 }.joined()
        try scratch.write("inbox.mbox", without)
        let report = try store.sync([mbox])
        #expect(report.removed == 1)
        #expect(report.unchanged == 2)
        #expect(report.added == 0)
        #expect(try store.document(messageID: "m2@example.org") == nil)
        let moved = try #require(try store.document(messageID: "m3@example.org"))
        #expect(moved.id == keptID, "unchanged messages keep their rows (and vectors)")
        #expect(moved.document.mboxOffset == Int64(without.utf8.count - mboxMessage(id: "m3@example.org", subject: "Parking", date: "Thu, 05 Mar 2026 09:00:00 +0000", body: "Parking spot 17 is ours from April.").utf8.count))
        #expect(try store.search(SearchQuery(text: "glaze")).isEmpty)
        #expect(try store.integrityCheck().isEmpty)
    }

    @Test func duplicateMessageIDsAreBothKeptButSearchShowsOne() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        let message = mboxMessage(id: "dup@example.org", subject: "Offsite", body: "The offsite is in Porto on the ninth.")
        let mbox = try scratch.write("inbox.mbox", message + message)
        let report = try store.sync([mbox])
        #expect(report.added == 2)
        let hits = try store.search(SearchQuery(text: "offsite Porto"))
        #expect(hits.count == 1)
    }

    @Test func interruptedMailBatchesResumeWithoutDuplicates() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        var text = ""
        for index in 0..<40 {
            text += mboxMessage(id: "bulk\(index)@example.org", subject: "Bulk \(index)", body: "Message number \(index) about topic \(index % 7).")
        }
        let mbox = try scratch.write("bulk.mbox", text)
        let cancellation = SyncCancellation()
        let options = SyncOptions(mailBatchSize: 10, cancellation: cancellation)
        // Cancel as soon as the first mbox progress report arrives: the transaction in flight rolls back.
        #expect(throws: StoreError.interrupted(path: store.path)) {
            try store.sync([mbox], options: options) { progress in
                if progress.phase == .mail { cancellation.cancel() }
            }
        }
        #expect(try store.integrityCheck().isEmpty)
        let partial = try store.status().mail
        #expect(partial < 40)
        let resumed = try store.sync([mbox])
        #expect(resumed.added == 40 - partial)
        #expect(try store.status().mail == 40)
        #expect(try store.count("SELECT count(DISTINCT message_id) FROM documents") == 40)
    }
}

@Suite struct MixedRootTests {
    @Test func anMboxInsideANotesFolderSurvivesAFolderScan() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        try scratch.write("home/todo.md", note(title: "Todo", body: "Call the plumber."))
        let mbox = try scratch.write("home/inbox.mbox", mboxMessage(id: "x1@example.org", subject: "Plumber", body: "The plumber comes at nine."))
        _ = try store.sync([mbox])
        let report = try store.sync([scratch.path("home")])
        #expect(report.removed == 0)
        #expect(try store.status().mail == 1)
        try FileManager.default.removeItem(atPath: mbox)
        #expect(try store.sync([scratch.path("home")]).removed == 1)
        #expect(try store.status().mail == 0)
    }
}

@Suite struct MailboxFilesInFoldersTests {
    @Test func mailboxesInAFolderAreFoundByNameOrFirstLine() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        try scratch.write("mail/Takeout/All mail.mbox", mboxMessage(id: "t1@x.org", subject: "Lease", body: "The lease runs to June."))
        // Thunderbird keeps each folder as an mbox without an extension, next to its .msf summary.
        try scratch.write("mail/Thunderbird/Inbox", mboxMessage(id: "b1@x.org", subject: "Boiler", body: "The boiler service is on Friday."))
        try scratch.write("mail/Thunderbird/Inbox.msf", "// <!-- <mdb:mork:z v=\"1.4\"/> -->")
        try scratch.write("mail/Thunderbird/Sent", "From - Tue Jan 05 10:00:00 2021\n" + maildirMessage(
            id: "b2@x.org", subject: "Re: Boiler", inReplyTo: "b1@x.org", body: "Friday works for me."))
        // Apple Mail exports a folder `Name.mbox` holding a file `mbox`.
        try scratch.write("mail/Export/Receipts.mbox/mbox", mboxMessage(id: "a1@x.org", subject: "Receipt", body: "Paid for the kayak."))
        try scratch.write("mail/Export/Receipts.mbox/Info.plist", "<plist></plist>")
        // A list archive as pipermail serves it.
        let archive = try Data(contentsOf: URL(fileURLWithPath: Self.resources + "/HeldOutList/2026-September.txt.gz"))
        try FileManager.default.createDirectory(atPath: scratch.path("mail/lists"), withIntermediateDirectories: true)
        try archive.write(to: URL(fileURLWithPath: scratch.path("mail/lists/2026-September.txt.gz")))
        // Files that are neither: a poem without an extension, a text file, a README.
        try scratch.write("mail/poem", "From the river to the hills we walked at dawn.\n")
        try scratch.write("mail/lists/README.txt", "From list@example.org Mon Sep  1 09:14:00 2026\nnot an archive by its name")

        let report = try store.sync([scratch.path("mail")])
        #expect(report.failed.isEmpty)
        let paths = Set(try store.strings("SELECT DISTINCT path FROM documents WHERE kind = 'mail'"))
        #expect(paths == [
            scratch.path("mail/Takeout/All mail.mbox"), scratch.path("mail/Thunderbird/Inbox"),
            scratch.path("mail/Thunderbird/Sent"), scratch.path("mail/Export/Receipts.mbox/mbox"),
            scratch.path("mail/lists/2026-September.txt.gz"),
        ])
        #expect(try store.search(SearchQuery(text: "kayak")).first?.messageID == "a1@x.org")
        #expect(try store.count("SELECT count(DISTINCT thread_id) FROM documents WHERE message_id IN ('b1@x.org', 'b2@x.org')") == 1)
        #expect(try store.count("SELECT count(*) FROM documents WHERE path LIKE '%2026-September.txt.gz'") > 10)
        #expect(try store.count("SELECT count(*) FROM documents WHERE kind = 'note'") == 0)

        try FileManager.default.removeItem(atPath: scratch.path("mail/Thunderbird/Inbox"))
        #expect(try store.sync([scratch.path("mail")]).removed == 1)
    }

    static let resources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources").path
}

/// A Maildir message file: `mboxMessage` without its `From ` line.
private func maildirMessage(id: String, subject: String, inReplyTo: String? = nil, body: String) -> String {
    let mbox = mboxMessage(id: id, subject: subject, inReplyTo: inReplyTo, body: body)
    return String(mbox[mbox.index(after: mbox.firstIndex(of: "\n")!)...])
}

@Suite struct MessageFileSyncTests {
    @Test func maildirFoldersAndEmlFilesIndexAsMail() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        try scratch.write("home/Mail/cur/1700000001.M1P1.host:2,S", maildirMessage(id: "m1@x.org", subject: "Boiler", body: "The boiler service is on Friday."))
        try scratch.write("home/Mail/new/1700000002.M1P1.host", maildirMessage(id: "m2@x.org", subject: "Dentist", body: "Dentist moved to Tuesday."))
        try scratch.write("home/Mail/tmp/1700000003.M1P1.host", maildirMessage(id: "m3@x.org", subject: "Half", body: "still being delivered"))
        try scratch.write("home/Mail/cur/1700000004.M1P1.host:2,ST", maildirMessage(id: "m4@x.org", subject: "Trashed", body: "thrown away in the mail reader"))
        try scratch.write("home/Mail/.Sent/cur/1700000005.M1P1.host:2,S",
                          maildirMessage(id: "m5@x.org", subject: "Re: Boiler", inReplyTo: "m1@x.org", body: "Friday works for me."))
        try FileManager.default.createDirectory(atPath: scratch.path("home/Mail/.Sent/new"), withIntermediateDirectories: true)
        try scratch.write("home/Mail/.Trash/cur/1700000006.M1P1.host:2,S", maildirMessage(id: "m6@x.org", subject: "Spam", body: "deleted mail"))
        try FileManager.default.createDirectory(atPath: scratch.path("home/Mail/.Trash/new"), withIntermediateDirectories: true)
        // Gmail through mbsync (`[Gmail]/Bin`) and a nested Maildir++ trash are thrown-away mail too.
        try scratch.write("home/Gmail/[Gmail]/Bin/cur/1700000010.M1P1.host:2,S", maildirMessage(id: "g1@x.org", subject: "Binned", body: "binned gmail"))
        try FileManager.default.createDirectory(atPath: scratch.path("home/Gmail/[Gmail]/Bin/new"), withIntermediateDirectories: true)
        try scratch.write("home/Mail/.INBOX.Trash/cur/1700000011.M1P1.host:2,S", maildirMessage(id: "t1@x.org", subject: "Old", body: "nested trash"))
        try FileManager.default.createDirectory(atPath: scratch.path("home/Mail/.INBOX.Trash/new"), withIntermediateDirectories: true)
        try scratch.write("home/notes/bin/tools.md", note(title: "Tools", body: "The drill lives in the shed."))
        try scratch.write("home/notes/saved.eml", maildirMessage(id: "m7@x.org", subject: "Lease", body: "The lease runs to June."))
        try scratch.write("home/notes/broken.eml", "\u{1}\u{2}binary junk with no headers")
        try scratch.write("home/notes/todo.md", note(title: "Todo", body: "Book the boiler service."))
        let home = scratch.path("home")

        let first = try store.sync([home])
        #expect(first.added == 6, "cur, new, .Sent, saved.eml and the two notes")
        #expect(first.failed.map(\.path) == [scratch.path("home/notes/broken.eml")])
        #expect(first.failed.first?.error.contains("not a mail message") == true)
        #expect(try store.status().mail == 4)
        #expect(try store.search(SearchQuery(text: "delivered")).isEmpty)
        #expect(try store.search(SearchQuery(text: "thrown away")).isEmpty)
        #expect(try store.search(SearchQuery(text: "deleted mail")).isEmpty)
        #expect(try store.search(SearchQuery(text: "binned gmail")).isEmpty)
        #expect(try store.search(SearchQuery(text: "nested trash")).isEmpty)
        let hit = try #require(try store.search(SearchQuery(text: "boiler service Friday", kind: .mail)).first { $0.messageID == "m1@x.org" })
        #expect(hit.path == scratch.path("home/Mail/cur/1700000001.M1P1.host:2,S"))
        #expect(hit.lineStart == 8, "the body's line in the message file, which has no From line")
        // The reply in .Sent joins the thread of the message in the inbox.
        #expect(try store.count("SELECT count(DISTINCT thread_id) FROM documents WHERE message_id IN ('m1@x.org', 'm5@x.org')") == 1)

        #expect(try store.sync([home]).unchanged == 6)

        // Reading a message renames its file; moving it to Trash removes it from the index.
        try FileManager.default.moveItem(
            atPath: scratch.path("home/Mail/new/1700000002.M1P1.host"), toPath: scratch.path("home/Mail/cur/1700000002.M1P1.host:2,S"))
        let threads = try store.count("SELECT count(DISTINCT thread_id) FROM documents WHERE kind = 'mail'")
        let read = try store.sync([home])
        #expect(read.moved == 1 && read.added == 0 && read.removed == 0 && read.chunks == 0)
        #expect(try store.status().mail == 4)
        let moved = try #require(try store.search(SearchQuery(text: "Dentist moved")).first)
        #expect(moved.path == scratch.path("home/Mail/cur/1700000002.M1P1.host:2,S"))
        #expect(try store.count("SELECT count(DISTINCT thread_id) FROM documents WHERE kind = 'mail'") == threads)
        #expect(try store.sync([home]).unchanged == 6)
        try FileManager.default.moveItem(
            atPath: scratch.path("home/Mail/cur/1700000001.M1P1.host:2,S"),
            toPath: scratch.path("home/Mail/.Trash/cur/1700000001.M1P1.host:2,S"))
        #expect(try store.sync([home]).removed == 1)
        #expect(try store.status().mail == 3)
        #expect(try store.integrityCheck().isEmpty)
    }

    @Test func aMessageFileGivenByPathIsMail() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        let eml = try scratch.write("Downloads/invoice.eml", maildirMessage(id: "inv@x.org", subject: "Invoice", body: "Invoice 4471 is due."))
        let entry = try scratch.write("Maildir/cur/1700000009.M1P1.host:2,", maildirMessage(id: "md@x.org", subject: "Keys", body: "Keys are with the neighbour."))
        try FileManager.default.createDirectory(atPath: scratch.path("Maildir/new"), withIntermediateDirectories: true)
        let report = try store.sync([eml, entry])
        #expect(report.added == 2 && report.failed.isEmpty)
        #expect(try store.status().mail == 2)
    }
}
