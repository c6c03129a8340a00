import Foundation
import Testing
@testable import Index
import Ingest

/// A scratch folder for one test, removed when the test ends.
final class Scratch {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("index-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    var dbPath: String { root.appendingPathComponent("db/index.sqlite").path }

    func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func append(_ relative: String, _ text: String) throws {
        let handle = try FileHandle(forWritingTo: root.appendingPathComponent(relative))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    /// Sets a file's modification time (seconds since 1970), as an editor saving later would.
    func touch(_ relative: String, seconds: Double) throws {
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSince1970: seconds)], ofItemAtPath: path(relative))
    }
}

/// One RFC 5322 message in mbox form, ending with the blank separator line.
func mboxMessage(
    id: String, from: String = "Ana Silva <ana@example.org>", to: String = "dana@example.org", subject: String,
    date: String = "Tue, 03 Mar 2026 10:00:00 +0000", inReplyTo: String? = nil, body: String
) -> String {
    var headers = [
        "From: \(from)", "To: \(to)", "Subject: \(subject)", "Date: \(date)", "Message-ID: <\(id)>",
    ]
    if let inReplyTo {
        headers.append("In-Reply-To: <\(inReplyTo)>")
        headers.append("References: <\(inReplyTo)>")
    }
    headers.append("Content-Type: text/plain; charset=utf-8")
    return "From ana@example.org Tue Mar  3 10:00:00 2026\n" + headers.joined(separator: "\n") + "\n\n" + body + "\n\n"
}

func note(title: String, tags: [String] = [], date: String? = nil, body: String) -> String {
    var front = ["title: \(title)"]
    if !tags.isEmpty { front.append("tags: [\(tags.joined(separator: ", "))]") }
    if let date { front.append("date: \(date)") }
    return "---\n" + front.joined(separator: "\n") + "\n---\n\n" + body + "\n"
}

extension IndexStore {
    func count(_ sql: String) throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
    }

    func strings(_ sql: String) throws -> [String] {
        try pool.read { db in try String.fetchAll(db, sql: sql) }
    }
}
