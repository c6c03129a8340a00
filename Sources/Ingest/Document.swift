import Foundation

/// What a document is: a Markdown note or one email message.
public enum DocumentKind: String, Sendable, Codable, CaseIterable {
    case note
    case mail
}

/// One parsed source document, the value that crosses from `Ingest` into `Index`.
///
/// A note is one file. A message is one entry of an mbox file, located by the byte offset of its
/// `From ` line so that an mbox that only grew can be appended to without re-reading it.
public struct Document: Sendable, Equatable {
    public var kind: DocumentKind
    /// The note's file path, or the mbox file's path.
    public var path: String
    /// Byte offset of the message's `From ` line inside the mbox (mail only).
    public var mboxOffset: Int64?
    /// Length in bytes of the message inside the mbox, `From ` line included (mail only).
    public var mboxLength: Int64?
    /// RFC 5322 Message-ID without angle brackets; synthesized stably when the header is missing.
    public var messageID: String?
    /// Message-IDs this message replies to, oldest first (References, then In-Reply-To).
    public var references: [String]
    /// Note title (front matter, first H1, else file name) or mail subject (decoded).
    public var title: String
    /// Sender as `Name <addr>` (mail only).
    public var from: String?
    /// Recipients, To then Cc (mail only).
    public var to: [String]
    /// The document's date: front matter, daily-note file name or mtime for notes; Date header for mail.
    public var date: Date?
    /// `date` is the file's modification time: nothing in the note states a date. It still places the note
    /// in time for "since last week", but says little about when its content was true (a copy, a clone, a
    /// sync or a restore from backup resets it), so search does not rank by it.
    public var dateIsFileTime: Bool
    /// `#tags` and front-matter tags, without the `#`.
    public var tags: [String]
    /// `[[wikilink]]` targets (notes only).
    public var links: [String]
    /// Front-matter aliases (notes only).
    public var aliases: [String]
    /// File names of attachments (mail only); listed, never indexed.
    public var attachments: [String]
    /// The full text: the note's Markdown body, or the message's decoded text including quoted history.
    public var body: String
    /// 1-based line in the source file where `body` starts (after front matter; after the headers for mail).
    public var bodyLineOffset: Int
    /// The mail program filed the message as spam or trash (Gmail's labels in a Takeout mbox). Such mail
    /// is kept out of the index, as a Maildir's Trash and Junk folders are.
    public var isDiscarded: Bool
    /// A machine sent the message: bulk mail, an automatic reply or notice, a no-reply address
    /// (`MailParser.isAutomated`). Nobody waits for an answer to it.
    public var isAutomated: Bool
    /// Problems the parser worked around, for the person to fix at leisure ("front matter is not valid
    /// YAML…"): the document is complete as far as the file allows.
    public var warnings: [String] = []
    /// The markup of a note's body (Markdown or Org), which the chunker reads headings and blocks in.
    public var noteSyntax: NoteSyntax

    public init(
        kind: DocumentKind, path: String, mboxOffset: Int64? = nil, mboxLength: Int64? = nil,
        messageID: String? = nil, references: [String] = [], title: String, from: String? = nil,
        to: [String] = [], date: Date? = nil, dateIsFileTime: Bool = false, tags: [String] = [], links: [String] = [],
        aliases: [String] = [], attachments: [String] = [], body: String, bodyLineOffset: Int = 1,
        isDiscarded: Bool = false, isAutomated: Bool = false, noteSyntax: NoteSyntax = .markdown
    ) {
        self.kind = kind
        self.path = path
        self.mboxOffset = mboxOffset
        self.mboxLength = mboxLength
        self.messageID = messageID
        self.references = references
        self.title = ShortLabel.clipped(title)
        self.from = from
        self.to = to
        self.date = date
        self.dateIsFileTime = dateIsFileTime
        self.tags = tags
        self.links = links
        self.aliases = aliases
        self.attachments = attachments
        self.body = body
        self.bodyLineOffset = bodyLineOffset
        self.isDiscarded = isDiscarded
        self.isAutomated = isAutomated
        self.noteSyntax = noteSyntax
    }
}

/// Titles and headings are labels: they are stored, searched and embedded with every chunk of their
/// document or section. A hostile or broken file can make one megabytes long (a note that is a single
/// `# ` line, a subject header without end), and repeating it per chunk would multiply the index by it,
/// so labels are cut to a length no real title reaches.
enum ShortLabel {
    static let maxCharacters = 200

    /// `text` itself when short enough; else its first `maxCharacters` characters, ended at a space when
    /// one is near, and an ellipsis.
    static func clipped(_ text: String) -> String {
        guard text.count > maxCharacters else { return text }
        var head = text.prefix(maxCharacters)
        if let space = head.lastIndex(where: \.isWhitespace), head.distance(from: space, to: head.endIndex) < 40 {
            head = head[..<space]
        }
        return head.trimmingCharacters(in: .whitespaces) + "…"
    }
}

/// A piece of a document sized for the embedding model, with where it came from.
public struct Chunk: Sendable, Equatable {
    /// Position of the chunk within its document, from 0.
    public var ordinal: Int
    /// The text that is embedded and searched.
    public var text: String
    /// Headings above the chunk, outermost first (notes); empty for mail.
    public var headingPath: [String]
    /// First and last line of the chunk in the source file, 1-based and inclusive.
    public var lineStart: Int
    public var lineEnd: Int

    public init(ordinal: Int, text: String, headingPath: [String], lineStart: Int, lineEnd: Int) {
        self.ordinal = ordinal
        self.text = text
        self.headingPath = headingPath
        self.lineStart = lineStart
        self.lineEnd = lineEnd
    }
}

/// Counts tokens the way the embedding model will, so that no chunk is truncated by the embedder.
///
/// `Ingest` depends on no model; the caller passes the real tokenizer (see `Inference.WordPieceTokenizer`)
/// or, where none is loaded, `ApproximateTokenCounter`.
public protocol TokenCounting: Sendable {
    func countTokens(_ text: String) -> Int
}
