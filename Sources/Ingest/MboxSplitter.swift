import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One message cut out of an mbox file, not yet parsed.
public struct RawMessage: Sendable, Equatable {
    /// Byte offset of the `From ` line in the file.
    public var offset: Int64
    /// Bytes from the `From ` line up to the next message's `From ` line (or the end of the file), so the
    /// messages of a file tile it exactly.
    public var length: Int64
    /// The `From ` line itself, without its line ending. Empty for text before the first `From ` line
    /// (which `MailParser` rejects as "not an mbox").
    public var fromLine: String
    /// The message after the `From ` line, with one `>` removed from `>From `, `>>From `… lines (mboxrd;
    /// for mboxo this restores the common case), and without the blank separator line at the end.
    public var bytes: Data
    /// 1-based line number of the `From ` line in the file.
    public var lineNumber: Int
    /// True when the message exceeded the splitter's size cap: `bytes` holds only its beginning, while
    /// `length` still covers the whole message in the file.
    public var isTruncated: Bool
    /// Line breaks in the message's byte range (`From ` line and separator included): the next message,
    /// or a resumed split, starts at line `lineNumber + lineCount`.
    public var lineCount: Int

    public init(offset: Int64, length: Int64, fromLine: String, bytes: Data, lineNumber: Int,
                isTruncated: Bool = false, lineCount: Int = 0) {
        self.offset = offset
        self.length = length
        self.fromLine = fromLine
        self.bytes = bytes
        self.lineNumber = lineNumber
        self.isTruncated = isTruncated
        self.lineCount = lineCount
    }
}

/// Cuts an mbox byte stream into messages, fed in blocks of any size.
///
/// Where a message starts: a line beginning with `From ` that is either the first line of the file,
/// or follows a blank line (the classic rule, which mboxrd/mboxo writers guarantee by escaping body
/// lines as `>From `), or — leniently, because real archives are concatenated and hand-edited — follows
/// a non-blank line but has the full shape `From <address> <asctime date>` (a time `hh:mm` and a
/// four-digit year). Text before the first `From ` line is returned as a message with an empty
/// `fromLine` when it is not just blank lines.
///
/// Memory stays bounded by the largest message, and by `maxMessageBytes` for any single message: beyond
/// it, the rest of that message is skipped and the message comes out with `isTruncated`. The scan works on
/// raw bytes line by line (`memchr`), with no per-byte `String` work.
public struct MboxSplitter: Sendable {
    /// Default cap on the bytes kept for one message (64 MiB).
    public static let defaultMaxMessageBytes = 64 << 20
    /// A line longer than this cannot be a `From ` line; it is passed through without being held whole.
    static let maxHeldLineBytes = 64 << 10

    private let maxMessageBytes: Int
    /// An unterminated line carried over from the previous block.
    private var tail: [UInt8] = []
    /// The tail has already been flushed into the message as content (an over-long line).
    private var tailIsContinuation = false
    /// File offset of the next byte to arrive.
    private var nextOffset: Int64
    /// Line number of the line the next byte belongs to.
    private var lineNumber: Int
    private var previousLineBlank = true
    private var atStartOfFile: Bool

    /// The message being collected (nil while in the preamble before the first `From ` line).
    private var current: Pending

    private struct Pending: Sendable {
        var offset: Int64
        var lineNumber: Int
        var fromLine: String
        var isPreamble: Bool
        var bytes = Data()
        var length: Int64 = 0
        var truncated = false
        var sawNonBlank = false
        var newlines = 0
    }

    /// Starts splitting at `startOffset` (the file offset of the first byte you will append, which must be
    /// the start of a line) with that line numbered `startLine`. Resuming inside a file assumes the
    /// previous line was blank, which holds when `startOffset` is the end of a previously split message.
    public init(startOffset: Int64 = 0, startLine: Int = 1, maxMessageBytes: Int = MboxSplitter.defaultMaxMessageBytes) {
        self.maxMessageBytes = max(1024, maxMessageBytes)
        self.nextOffset = startOffset
        self.lineNumber = startLine
        self.atStartOfFile = startOffset == 0
        self.current = Pending(offset: startOffset, lineNumber: startLine, fromLine: "", isPreamble: true)
    }

    /// Whether a file prefix looks like an mbox: its first non-blank line starts with `From `.
    public static func looksLikeMbox(prefix: Data) -> Bool {
        var i = prefix.startIndex
        while i < prefix.endIndex, prefix[i] == 0x0A || prefix[i] == 0x0D || prefix[i] == 0x20 || prefix[i] == 0x09 {
            i += 1
        }
        return prefix[i...].starts(with: "From ".utf8)
    }

    /// Whether a file prefix starts with a full mbox `From ` line (`hasFromLineShape`: an address, then a
    /// date with a time and a year), not just the word: for telling a mailbox without a file extension
    /// from a text that begins "From the river…".
    public static func startsWithFromLine(prefix: Data) -> Bool {
        let line = prefix.prefix { $0 != 0x0A }
        return line.starts(with: "From ".utf8) && line.withUnsafeBytes { hasFromLineShape($0) }
    }

    /// Why a file whose prefix is not an mbox's is not one, in words a user can act on: compressed
    /// archives (as mailing lists publish them) must be unpacked first, and a single saved message is not
    /// a mailbox.
    public static func notMboxReason(prefix: Data) -> String {
        let compressed: [(name: String, magic: [UInt8], unpack: String)] = [
            ("bzip2", Array("BZh".utf8), "bunzip2"),
            ("xz", [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], "unxz"), ("zstd", [0x28, 0xB5, 0x2F, 0xFD], "unzstd"),
            ("zip", [0x50, 0x4B, 0x03, 0x04], "unzip"),
        ]
        if Gzip.isGzip(prefix) {
            return "not an mbox file: it is gzip-compressed; name it *.gz to index it as a compressed archive, "
                + "or unpack it first (`gunzip`)"
        }
        if let format = compressed.first(where: { prefix.starts(with: $0.magic) }) {
            return "not an mbox file: it is \(format.name)-compressed; unpack it first (`\(format.unpack)`) and index the result"
        }
        let head = String(decoding: prefix.prefix(512), as: UTF8.self).lowercased()
        if ["return-path:", "received:", "from:", "message-id:", "delivered-to:", "mime-version:"].contains(where: head.hasPrefix) {
            return "not an mbox file: it holds a single message (it starts with a header, not a `From ` line); "
                + "collect messages into an mbox to index them"
        }
        return "not an mbox file: it does not start with a `From ` line (notes need a .md or .markdown extension)"
    }

    /// Splits a whole file held in memory (convenience for small files and tests).
    public static func split(_ data: Data, maxMessageBytes: Int = MboxSplitter.defaultMaxMessageBytes) -> [RawMessage] {
        var splitter = MboxSplitter(maxMessageBytes: maxMessageBytes)
        return splitter.append(data) + splitter.finish()
    }

    /// Feeds the next block of the file; returns the messages completed by it.
    public mutating func append(_ data: Data) -> [RawMessage] {
        var out: [RawMessage] = []
        data.withUnsafeBytes { raw in process(raw, isFinal: false, into: &out) }
        return out
    }

    /// Ends the input; returns the last message (and any pending unterminated line).
    public mutating func finish() -> [RawMessage] {
        var out: [RawMessage] = []
        process(UnsafeRawBufferPointer(start: nil, count: 0), isFinal: true, into: &out)
        emit(into: &out)
        current = Pending(offset: nextOffset, lineNumber: lineNumber, fromLine: "", isPreamble: true)
        return out
    }

    private mutating func process(_ raw: UnsafeRawBufferPointer, isFinal: Bool, into out: inout [RawMessage]) {
        var position = 0
        let count = raw.count
        // Complete the line carried over from the previous block.
        if !tail.isEmpty || tailIsContinuation {
            let newline = count > 0 ? memchr(raw.baseAddress!, 0x0A, count) : nil
            let take = newline.map { raw.baseAddress!.distance(to: UnsafeRawPointer($0)) + 1 }
            if let take {
                tail.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<take]))
                position = take
                finishTailLine(into: &out)
            } else {
                if count > 0 { tail.append(contentsOf: raw) }
                position = count
                if isFinal { finishTailLine(into: &out) } else { flushLongTail() }
                return
            }
        }
        guard let base = raw.baseAddress, position < count else { return }
        var runStart = position  // start of bytes not yet copied into the current message
        while position < count {
            let remaining = count - position
            guard let nl = memchr(base + position, 0x0A, remaining) else { break }
            let lineEnd = base.distance(to: UnsafeRawPointer(nl)) + 1
            let first = raw[position]
            let lineLength = lineEnd - position
            let isBlank = lineLength == 1 || (lineLength == 2 && first == 0x0D)
            if first == 0x46, isBoundary(UnsafeRawBufferPointer(rebasing: raw[position..<lineEnd])) {
                copy(UnsafeRawBufferPointer(rebasing: raw[runStart..<position]))
                emit(into: &out)
                startMessage(UnsafeRawBufferPointer(rebasing: raw[position..<lineEnd]))
                runStart = lineEnd
            } else {
                if first == 0x3E, isEscapedFrom(UnsafeRawBufferPointer(rebasing: raw[position..<lineEnd])) {
                    copy(UnsafeRawBufferPointer(rebasing: raw[runStart..<position]))
                    runStart = position + 1
                }
                current.length += Int64(lineLength)
                current.newlines += 1
                if !isBlank { current.sawNonBlank = true }
            }
            previousLineBlank = isBlank
            atStartOfFile = false
            lineNumber += 1
            nextOffset += Int64(lineLength)
            position = lineEnd
        }
        copy(UnsafeRawBufferPointer(rebasing: raw[runStart..<position]))
        if position < count {
            tail.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[position..<count]))
            if isFinal { finishTailLine(into: &out) } else { flushLongTail() }
        }
    }

    /// Handles the held line once it is complete (or the input ended).
    private mutating func finishTailLine(into out: inout [RawMessage]) {
        let line = tail
        tail = []
        let continuation = tailIsContinuation
        tailIsContinuation = false
        line.withUnsafeBytes { raw in
            let n = raw.count
            let isBlank = !continuation && (n == 0 || (n == 1 && (raw[0] == 0x0A || raw[0] == 0x0D)) || (n == 2 && raw[0] == 0x0D && raw[1] == 0x0A))
            if n == 0 { return }
            if !continuation, raw[0] == 0x46, isBoundary(raw) {
                emit(into: &out)
                startMessage(raw)
            } else {
                if !continuation, raw[0] == 0x3E, isEscapedFrom(raw) {
                    copy(UnsafeRawBufferPointer(rebasing: raw[1...]))
                } else {
                    copy(raw)
                }
                current.length += Int64(n)
                if raw[n - 1] == 0x0A { current.newlines += 1 }
                if !isBlank { current.sawNonBlank = true }
            }
            previousLineBlank = isBlank
            atStartOfFile = false
            if raw[n - 1] == 0x0A { lineNumber += 1 }
            nextOffset += Int64(n)
        }
    }

    /// An over-long unterminated line cannot be a `From ` line: pass what we hold into the message so that
    /// the held tail stays small.
    private mutating func flushLongTail() {
        guard tail.count > Self.maxHeldLineBytes else { return }
        let held = tail
        tail = []
        held.withUnsafeBytes { raw in
            if !tailIsContinuation, raw[0] == 0x3E, isEscapedFrom(raw) {
                copy(UnsafeRawBufferPointer(rebasing: raw[1...]))
            } else {
                copy(raw)
            }
        }
        current.length += Int64(held.count)
        current.sawNonBlank = true
        nextOffset += Int64(held.count)
        tailIsContinuation = true
    }

    private func isBoundary(_ line: UnsafeRawBufferPointer) -> Bool {
        guard line.count >= 6, line[0] == 0x46, line[1] == 0x72, line[2] == 0x6F, line[3] == 0x6D, line[4] == 0x20
        else { return false }
        if atStartOfFile || previousLineBlank {
            // "From " followed by something that is not blank.
            let c = line[5]
            return c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09
        }
        return Self.hasFromLineShape(line)
    }

    /// `From <address> <date>` where the date contains `hh:mm` and a 4-digit year 19xx/20xx.
    static func hasFromLineShape(_ line: UnsafeRawBufferPointer) -> Bool {
        var i = 5
        let n = min(line.count, 512)
        guard i < n, line[i] != 0x20 else { return false }
        while i < n, line[i] != 0x20, line[i] != 0x0A, line[i] != 0x0D { i += 1 }
        guard i < n, line[i] == 0x20 else { return false }
        var sawTime = false
        var sawYear = false
        func digit(_ k: Int) -> Bool { k < n && line[k] >= 0x30 && line[k] <= 0x39 }
        while i < n {
            if line[i] == 0x3A, i >= 2, digit(i - 1), digit(i + 1), digit(i + 2) { sawTime = true }
            if line[i] == 0x20 || i == 5,
               i + 4 < n + 1, digit(i + 1), digit(i + 2), digit(i + 3), digit(i + 4), !digit(i + 5),
               (line[i + 1] == 0x31 && line[i + 2] == 0x39) || (line[i + 1] == 0x32 && line[i + 2] == 0x30) {
                sawYear = true
            }
            i += 1
        }
        return sawTime && sawYear
    }

    /// `>From `, `>>From `, …: a body line escaped by the mbox writer.
    private func isEscapedFrom(_ line: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i < line.count, line[i] == 0x3E { i += 1 }
        guard i > 0, line.count - i >= 5 else { return false }
        return line[i] == 0x46 && line[i + 1] == 0x72 && line[i + 2] == 0x6F && line[i + 3] == 0x6D && line[i + 4] == 0x20
    }

    private mutating func copy(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, !current.truncated else { return }
        let room = maxMessageBytes - current.bytes.count
        if bytes.count <= room {
            current.bytes.append(bytes.bindMemory(to: UInt8.self))
        } else {
            if room > 0 { current.bytes.append(UnsafeRawBufferPointer(rebasing: bytes[0..<room]).bindMemory(to: UInt8.self)) }
            current.truncated = true
        }
    }

    private mutating func startMessage(_ line: UnsafeRawBufferPointer) {
        var end = line.count
        while end > 0, line[end - 1] == 0x0A || line[end - 1] == 0x0D { end -= 1 }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: line[0..<end]).bindMemory(to: UInt8.self), as: UTF8.self)
        current = Pending(offset: nextOffset, lineNumber: lineNumber, fromLine: text, isPreamble: false)
        current.length = Int64(line.count)
        current.newlines = line.last == 0x0A ? 1 : 0
    }

    private mutating func emit(into out: inout [RawMessage]) {
        var pending = current
        current = Pending(offset: nextOffset, lineNumber: lineNumber, fromLine: "", isPreamble: true)
        if pending.isPreamble && !pending.sawNonBlank { return }
        if pending.length == 0 { return }
        // Take the only reference to the bytes so that trimming below does not copy the message.
        var bytes = pending.bytes
        pending.bytes = Data()
        // The blank line before the next `From ` line separates messages; it is not message content.
        if !pending.truncated {
            if bytes.count >= 4, bytes.suffix(4).elementsEqual([0x0D, 0x0A, 0x0D, 0x0A]) {
                bytes.removeLast(2)
            } else if bytes.count >= 2, bytes.suffix(2).elementsEqual([0x0A, 0x0A]) {
                bytes.removeLast(1)
            } else if bytes.count == 1, bytes.first == 0x0A {
                bytes.removeAll()
            }
        }
        out.append(RawMessage(offset: pending.offset, length: pending.length, fromLine: pending.fromLine,
                              bytes: bytes, lineNumber: pending.lineNumber, isTruncated: pending.truncated,
                              lineCount: pending.newlines))
    }
}
