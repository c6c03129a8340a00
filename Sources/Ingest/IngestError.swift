import Foundation

/// Everything that can make a note or a message unusable, each case naming the file and the problem.
///
/// Parsers throw these instead of guessing; the caller (the index) records the failure for that one file
/// or message and carries on with the rest.
public enum IngestError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file contains NUL bytes or mostly control characters: it is not text.
    case binaryContent(path: String)
    /// Too much of the file is not valid UTF-8 to decode it without inventing text.
    case invalidUTF8(path: String, invalidBytes: Int, totalBytes: Int)
    /// The YAML front matter does not parse, or is unsafe to expand (anchors/aliases, nesting).
    case badFrontMatter(path: String, line: Int?, reason: String)
    /// The front matter block is larger than `limit` bytes.
    case frontMatterTooLarge(path: String, bytes: Int, limit: Int)
    /// The file does not start with an mbox `From ` line, so it is not an mbox.
    case notMbox(path: String)
    /// A file meant to hold one message (a Maildir entry, an `.eml` file) does not start with mail headers.
    case notAMessage(path: String, reason: String)
    /// A message ends before its headers do, or is empty.
    case truncatedMessage(path: String, offset: Int64, reason: String)
    /// The header block of a message exceeds `limit` bytes.
    case headerTooLarge(path: String, offset: Int64, bytes: Int, limit: Int)
    /// MIME parts nest deeper than `limit` levels.
    case nestingTooDeep(path: String, offset: Int64, limit: Int)

    public var description: String {
        switch self {
        case .binaryContent(let path):
            return "\(path): binary content (NUL bytes or control characters); not a text file, skipped"
        case .invalidUTF8(let path, let invalid, let total):
            return "\(path): \(invalid) of \(total) bytes are not valid UTF-8; convert the file to UTF-8 (e.g. iconv -f LATIN1 -t UTF-8)"
        case .badFrontMatter(let path, let line, let reason):
            let at = line.map { " (line \($0))" } ?? ""
            return "\(path): bad YAML front matter\(at): \(reason); fix or remove the block between the '---' lines"
        case .frontMatterTooLarge(let path, let bytes, let limit):
            return "\(path): YAML front matter is \(bytes) bytes, more than the \(limit)-byte limit; shorten it"
        case .notMbox(let path):
            return "\(path): not an mbox file (no line starting with 'From ' begins a message)"
        case .notAMessage(let path, let reason):
            return "\(path): not a mail message: \(reason); skipped"
        case .truncatedMessage(let path, let offset, let reason):
            return "\(path) at byte \(offset): truncated message: \(reason)"
        case .headerTooLarge(let path, let offset, let bytes, let limit):
            return "\(path) at byte \(offset): message header block is \(bytes) bytes, more than the \(limit)-byte limit"
        case .nestingTooDeep(let path, let offset, let limit):
            return "\(path) at byte \(offset): MIME parts nest more than \(limit) levels deep; message skipped"
        }
    }
}
