import Foundation
import Ingest

/// What to look for, and where.
public struct SearchQuery: Sendable, Equatable {
    public var text: String
    public var limit: Int
    /// Only notes or only mail; nil for both.
    public var kind: DocumentKind?
    /// Inclusive date bounds on the document's date.
    public var since: Date?
    public var until: Date?
    /// Substring of the sender (mail).
    public var from: String?
    /// Substring of the path (notes folder, mbox file).
    public var pathContains: String?
    /// A tag the document must carry, without `#`: a note's tag, or a Gmail label of a message.
    public var tag: String?

    public init(
        text: String, limit: Int = 10, kind: DocumentKind? = nil, since: Date? = nil, until: Date? = nil,
        from: String? = nil, pathContains: String? = nil, tag: String? = nil
    ) {
        self.text = text
        self.limit = limit
        self.kind = kind
        self.since = since
        self.until = until
        self.from = from
        self.pathContains = pathContains
        self.tag = tag
    }
}

/// One retrieved chunk with everything needed to show and cite it.
public struct SearchHit: Sendable, Equatable {
    public var chunkID: Int64
    public var documentID: Int64
    public var score: Double
    public var kind: DocumentKind
    public var path: String
    public var lineStart: Int
    public var lineEnd: Int
    public var messageID: String?
    /// Note title or mail subject.
    public var title: String
    public var from: String?
    public var date: Date?
    /// `date` is only the note file's modification time (`Document.dateIsFileTime`).
    public var dateIsFileTime: Bool = false
    /// Heading path joined with " > " (notes).
    public var heading: String?
    public var text: String
    /// Cosine similarity between the query and this chunk's stored vector, when the search used vectors:
    /// an absolute measure of closeness (unlike `score`, which is relative to the query's other candidates)
    /// that a caller can threshold without embedding the text again.
    public var similarity: Double?
    /// Whether this hit's document is the first document of every retriever the search fused (BM25 and
    /// vectors): the words and the meaning of the query point at the same place. False for single-mode
    /// searches and for every other document.
    public var firstForEveryRetriever: Bool = false

    /// The date the chunk speaks for: its section's dated heading in a dated log ("Decision log >
    /// 2026-09-09 — Drop CouchDB"), else its document's stated date. A log kept in one note carries a single
    /// date, and its newest entry should count as new; a file time says when the file was last written,
    /// not when what it says was true.
    public var contentDate: Date? {
        Self.contentDate(heading: heading, date: date, dateIsFileTime: dateIsFileTime)
    }

    /// `contentDate` of a chunk under `heading` in a document of `date`.
    static func contentDate(heading: String?, date: Date?, dateIsFileTime: Bool) -> Date? {
        SectionDate.from(heading: heading) ?? (dateIsFileTime ? nil : date)
    }

    public init(
        chunkID: Int64, documentID: Int64, score: Double, kind: DocumentKind, path: String, lineStart: Int,
        lineEnd: Int, messageID: String?, title: String, from: String?, date: Date?, heading: String?, text: String,
        similarity: Double? = nil, dateIsFileTime: Bool = false
    ) {
        self.chunkID = chunkID
        self.documentID = documentID
        self.score = score
        self.kind = kind
        self.path = path
        self.lineStart = lineStart
        self.lineEnd = lineEnd
        self.messageID = messageID
        self.title = title
        self.from = from
        self.date = date
        self.dateIsFileTime = dateIsFileTime
        self.heading = heading
        self.text = text
        self.similarity = similarity
    }
}

/// Finds chunks for a query. `IndexStore` is the real one; the seam keeps `Assistant` independent of SQL.
public protocol Retriever: Sendable {
    func search(_ query: SearchQuery) throws -> [SearchHit]
}
