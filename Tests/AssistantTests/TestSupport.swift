import Foundation
import Index
import Inference
import Ingest
@testable import Assistant

/// The packaged Prompts/ folder of this checkout, found from this source file's location.
let packagedPrompts: String = {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Prompts").path
}()

/// A library that reads only the packaged templates (no user overrides from the test machine).
let packagedLibrary = PromptLibrary(folders: [packagedPrompts])

/// Counts whitespace-separated words: a stand-in tokenizer for pure packing/segmentation logic.
func wordCount(_ text: String) -> Int {
    text.split(whereSeparator: { $0.isWhitespace }).count
}

func day(_ text: String) -> Date {
    let parts = text.split(separator: "-").compactMap { Int($0) }
    var components = DateComponents()
    components.year = parts[0]
    components.month = parts[1]
    components.day = parts[2]
    components.hour = 12
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    return calendar.date(from: components)!
}

func noteHit(_ id: Int64, path: String, text: String, date: String? = nil, score: Double = 1, title: String = "Note")
    -> SearchHit
{
    SearchHit(
        chunkID: id, documentID: id, score: score, kind: .note, path: path, lineStart: 1,
        lineEnd: max(1, text.split(separator: "\n").count), messageID: nil, title: title, from: nil,
        date: date.map(day), heading: nil, text: text)
}

func mailHit(_ id: Int64, subject: String, from: String, text: String, date: String, messageID: String, score: Double = 1)
    -> SearchHit
{
    SearchHit(
        chunkID: id, documentID: id, score: score, kind: .mail, path: "/mail/inbox.mbox", lineStart: 10,
        lineEnd: 20, messageID: messageID, title: subject, from: from, date: day(date), heading: nil, text: text)
}

/// A test double for pipeline logic only (never for answer quality): replays a fixed reply in small pieces,
/// counts tokens as words, and records the messages it was sent.
final class ScriptedGenerator: TextGenerator, @unchecked Sendable {
    let modelID = "scripted"
    let contextLength: Int
    /// One reply per call, in order; the last one repeats.
    let replies: [String]
    private let lock = NSLock()
    private var received: [[ChatMessage]] = []

    convenience init(reply: String, contextLength: Int = 4096) {
        self.init(replies: [reply], contextLength: contextLength)
    }

    init(replies: [String], contextLength: Int = 4096) {
        self.replies = replies
        self.contextLength = contextLength
    }

    var prompts: [[ChatMessage]] { lock.withLock { received } }

    func countTokens(_ text: String) throws -> Int { wordCount(text) }

    func generate(_ messages: [ChatMessage], options: SamplingOptions) -> AsyncThrowingStream<GeneratedPiece, Error> {
        let reply = lock.withLock {
            received.append(messages)
            return replies[min(received.count, replies.count) - 1]
        }
        let pieces = reply.split(separator: " ", omittingEmptySubsequences: false).enumerated()
            .map { $0.offset == 0 ? String($0.element) : " " + $0.element }
        return AsyncThrowingStream { continuation in
            for piece in pieces { continuation.yield(GeneratedPiece(text: piece)) }
            continuation.finish()
        }
    }
}

/// Returns the same hits for every query and remembers the queries.
final class FixedRetriever: Retriever, @unchecked Sendable {
    let hits: [SearchHit]
    private let lock = NSLock()
    private var seen: [SearchQuery] = []
    init(_ hits: [SearchHit]) { self.hits = hits }
    var queries: [SearchQuery] { lock.withLock { seen } }
    func search(_ query: SearchQuery) throws -> [SearchHit] {
        lock.withLock { seen.append(query) }
        return Array(hits.prefix(query.limit))
    }
}
