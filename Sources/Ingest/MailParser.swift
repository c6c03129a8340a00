import Foundation

/// Parses one mbox message into a `Document`: headers (RFC 5322, RFC 2047), the MIME tree, charsets,
/// attachments and threading ids.
///
/// The MIME tree is walked with an explicit work stack, never by recursion, and refused beyond
/// `maxNestingDepth` levels, so a hostile message cannot exhaust the stack.
///
/// `bodyLineOffset` is the mbox line where the first text part's content starts. For 7bit/8bit bodies
/// body lines map one to one onto mbox lines from there; for quoted-printable and base64 bodies, and for
/// text after the first part, the mapping is approximate (the encoded lines differ from decoded ones).
public enum MailParser {
    /// Deepest MIME nesting (multiparts and attached messages) accepted.
    public static let maxNestingDepth = 64
    /// Most ids kept in `references`: the first (the thread's root) and the last ones (the nearest).
    public static let maxReferences = 1000

    public static func parse(_ raw: RawMessage, mboxPath: String) throws(IngestError) -> Document {
        guard !raw.fromLine.isEmpty else { throw .notMbox(path: mboxPath) }
        let buffer = [UInt8](raw.bytes)
        guard !isBlank(buffer) else {
            throw .truncatedMessage(path: mboxPath, offset: raw.offset, reason: "the message after the From line is empty")
        }
        let (headers, bodyStart) = try readHeaders(buffer, path: mboxPath, offset: raw.offset)
        guard !headers.fields.isEmpty else {
            throw .truncatedMessage(path: mboxPath, offset: raw.offset, reason: "no header fields before the body")
        }
        return try document(
            buffer, headers: headers, bodyStart: bodyStart, path: mboxPath, offset: raw.offset, length: raw.length,
            firstLine: raw.lineNumber + 1, fromLine: raw.fromLine)
    }

    /// Parses a file that holds one message and nothing else: a Maildir entry or an `.eml` file. Its first
    /// line is line 1; `received` (the file's time) stands in for a missing or unreadable Date header.
    public static func parse(messageFile data: Data, path: String, received: Date) throws(IngestError) -> Document {
        let buffer = [UInt8](data)
        guard !isBlank(buffer) else { throw .notAMessage(path: path, reason: "the file is empty") }
        let (headers, bodyStart) = try readHeaders(buffer, path: path, offset: 0)
        guard !headers.fields.isEmpty else { throw .notAMessage(path: path, reason: "it does not start with header fields") }
        return try document(
            buffer, headers: headers, bodyStart: bodyStart, path: path, offset: 0, length: Int64(buffer.count),
            firstLine: 1, fromLine: "", received: received)
    }

    /// The message's header fields (none when it does not start with any) and where its body starts;
    /// a header block beyond `MailHeaders.maxBytes` is refused.
    private static func readHeaders(_ buffer: [UInt8], path: String, offset: Int64) throws(IngestError) -> (MailHeaders, Int) {
        let (headerEnd, bodyStart, _) = buffer.withUnsafeBytes { MailHeaders.split($0, 0..<buffer.count) }
        guard headerEnd <= MailHeaders.maxBytes else {
            throw .headerTooLarge(path: path, offset: offset, bytes: headerEnd, limit: MailHeaders.maxBytes)
        }
        return (buffer.withUnsafeBytes { MailHeaders($0, 0..<headerEnd) }, bodyStart)
    }

    private static func isBlank(_ buffer: [UInt8]) -> Bool {
        !buffer.contains(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 })
    }

    /// The document of a message whose headers are read: `firstLine` is the file line of its first header.
    /// The mbox `From ` line (empty for a message file) and `received` stand in for missing headers.
    private static func document(
        _ buffer: [UInt8], headers: MailHeaders, bodyStart: Int, path: String, offset: Int64, length: Int64,
        firstLine: Int, fromLine: String, received: Date? = nil
    ) throws(IngestError) -> Document {
        var walker = MIMEWalker(path: path, offset: offset)
        try walker.walk(buffer: buffer, headers: headers, body: bodyStart..<buffer.count)

        let subject = HeaderValues.collapseSpaces(EncodedWords.decode(headers.first("subject") ?? ""))
        let from = headers.first("from").map { HeaderValues.unobfuscatedSender(HeaderValues.collapseSpaces(EncodedWords.decode($0))) }
            ?? fromLineAddress(fromLine)
        var recipients: [String] = []
        for field in headers.all("to") + headers.all("cc") {
            for address in HeaderValues.splitAddresses(field) {
                recipients.append(HeaderValues.collapseSpaces(EncodedWords.decode(address)))
            }
        }
        let dateHeader = headers.first("date")
        let date = dateHeader.flatMap(DateParsing.parse) ?? fromLineDate(fromLine) ?? received

        let body = walker.bodyText()
        let messageID = headers.first("message-id").flatMap { HeaderValues.messageIDs($0, limit: 1).first }
            ?? synthesizedID(from: from ?? "", date: dateHeader ?? fromLine, subject: subject, body: body)

        var references: [String] = []
        var seen: Set<String> = [messageID]
        let referenceIDs = headers.first("references").map { HeaderValues.messageIDs($0) } ?? []
        let replyTo = headers.first("in-reply-to").flatMap { HeaderValues.messageIDs($0, limit: 1).first }
        for id in referenceIDs + (replyTo.map { [$0] } ?? []) where seen.insert(id).inserted {
            references.append(id)
        }
        if references.count > maxReferences {
            references = [references[0]] + references.suffix(maxReferences - 1)
        }

        // The first text part's line inside the message, from the message's first line in the file.
        let bodyLine = firstLine + (walker.firstTextByteOffset.map { countNewlines(buffer, upTo: $0) }
            ?? countNewlines(buffer, upTo: bodyStart))

        let labels = GmailLabels(headers.all("x-gmail-labels").map(EncodedWords.decode))
        return Document(
            kind: .mail, path: path, mboxOffset: offset, mboxLength: length, messageID: messageID,
            references: references, title: subject.isEmpty ? "(no subject)" : subject, from: from,
            to: recipients, date: date, tags: labels.userLabels, attachments: walker.attachments, body: body,
            bodyLineOffset: bodyLine, isDiscarded: labels.isSpamOrTrash, isAutomated: isAutomated(headers, from: from))
    }

    /// Whether a machine sent the message, by the headers mail software sets for that: `Auto-Submitted`
    /// other than `no` (RFC 3834: vacation replies, notices), `Precedence: bulk` or `junk` (newsletters,
    /// marketing; a discussion list's `list` is people talking), or a sender address that takes no
    /// replies (`noreply@`, `mailer-daemon@`).
    static func isAutomated(_ headers: MailHeaders, from: String?) -> Bool {
        if let submitted = headers.first("auto-submitted")?.trimmingCharacters(in: .whitespaces).lowercased(),
            !submitted.isEmpty, !submitted.hasPrefix("no")
        {
            return true
        }
        if let precedence = headers.first("precedence")?.trimmingCharacters(in: .whitespaces).lowercased(),
            precedence == "bulk" || precedence == "junk" || precedence == "auto_reply"
        {
            return true
        }
        guard let from else { return false }
        let address = from.split(separator: "<").last.map { $0.split(separator: ">").first ?? $0 } ?? Substring(from)
        let local = address.split(separator: "@").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        let bare = local.filter { $0.isLetter }
        return bare.hasPrefix("noreply") || bare.hasPrefix("donotreply") || bare == "mailerdaemon" || bare == "postmaster"
    }

    private static func countNewlines(_ buffer: [UInt8], upTo end: Int) -> Int {
        buffer.withUnsafeBufferPointer { b in
            var n = 0
            for byte in UnsafeBufferPointer(rebasing: b[0..<max(0, min(end, b.count))]) where byte == 0x0A { n += 1 }
            return n
        }
    }

    /// The address in `From addr date`, or nil.
    static func fromLineAddress(_ line: String) -> String? {
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2 else { return nil }
        return String(parts[1])
    }

    /// The asctime date after the address in a `From ` line.
    static func fromLineDate(_ line: String) -> Date? {
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count == 3 else { return nil }
        return DateParsing.parse(String(parts[2]))
    }

    /// A stable Message-ID for a message without one: `synth-<128-bit hash>@assist.local`.
    static func synthesizedID(from: String, date: String, subject: String, body: String) -> String {
        var input = Array(from.utf8) + [0] + Array(date.utf8) + [0] + Array(subject.utf8) + [0]
        input += Array(body.utf8.prefix(4096))
        var h1: UInt64 = 0xcbf2_9ce4_8422_2325
        var h2: UInt64 = 0x8422_2325_cbf2_9ce4
        for b in input {
            h1 = (h1 ^ UInt64(b)) &* 0x0000_0100_0000_01B3
            h2 = (h2 ^ UInt64(b ^ 0x5A)) &* 0x0000_0100_0000_01B3
        }
        func hex(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return "synth-\(hex(h1))\(hex(h2))@assist.local"
    }
}

/// Walks a message's MIME tree depth-first with an explicit stack, collecting text and attachment names.
struct MIMEWalker {
    let path: String
    let offset: Int64
    private(set) var texts: [String] = []
    private(set) var attachments: [String] = []
    /// Byte offset in the top-level buffer where the first text part's content starts.
    private(set) var firstTextByteOffset: Int?

    init(path: String, offset: Int64) {
        self.path = path
        self.offset = offset
    }

    private struct Part {
        var buffer: Int  // index into buffers
        var headers: MailHeaders
        var body: Range<Int>
        var depth: Int
        var defaultType: String
    }

    private enum Work {
        case part(Part)
        case text(String)
    }

    /// Body types read as the message's words; other text/* subtypes that are data (calendar, vcard)
    /// are treated like attachments.
    private static let dataTextTypes: Set<String> = ["text/calendar", "text/x-vcard", "text/vcard", "text/directory", "text/csv"]

    mutating func walk(buffer: [UInt8], headers: MailHeaders, body: Range<Int>) throws(IngestError) {
        var buffers: [[UInt8]] = [buffer]
        var stack: [Work] = [.part(Part(buffer: 0, headers: headers, body: body, depth: 0, defaultType: "text/plain"))]
        while let work = stack.popLast() {
            let part: Part
            switch work {
            case .text(let s): texts.append(s); continue
            case .part(let p): part = p
            }
            if part.depth > MailParser.maxNestingDepth {
                throw .nestingTooDeep(path: path, offset: offset, limit: MailParser.maxNestingDepth)
            }
            let contentType = HeaderValues.parameterized(part.headers.first("content-type") ?? part.defaultType)
            var type = contentType.value
            if !type.utf8.contains(0x2F) { type = part.defaultType }
            let disposition = HeaderValues.parameterized(part.headers.first("content-disposition") ?? "")
            let fileName = (disposition.params["filename"] ?? contentType.params["name"])
                .map { HeaderValues.collapseSpaces($0) }.flatMap { $0.isEmpty ? nil : $0 }
            let encoding = (part.headers.first("content-transfer-encoding") ?? "").trimmingSpaces.lowercased()

            if type.hasPrefix("multipart/") {
                guard let boundary = contentType.params["boundary"], !boundary.isEmpty else {
                    // A multipart without a boundary cannot be split; read it as plain text.
                    try appendText(part, type: "text/plain", charset: contentType.params["charset"],
                                   encoding: encoding, buffers: buffers)
                    continue
                }
                let childDefault = type == "multipart/digest" ? "message/rfc822" : "text/plain"
                let children: [Part] = buffers[part.buffer].withUnsafeBytes { raw in
                    Self.splitMultipart(raw, part.body, boundary: boundary).map { range in
                        let (headerEnd, bodyStart, _) = MailHeaders.split(raw, range)
                        let headers = MailHeaders(raw, range.lowerBound..<min(headerEnd, range.lowerBound + MailHeaders.maxBytes))
                        return Part(buffer: part.buffer, headers: headers, body: bodyStart..<range.upperBound,
                                    depth: part.depth + 1, defaultType: childDefault)
                    }
                }
                if children.isEmpty {
                    // No boundary line matched: better some text than none.
                    try appendText(part, type: "text/plain", charset: contentType.params["charset"],
                                   encoding: encoding, buffers: buffers)
                } else if type == "multipart/alternative" {
                    if let chosen = Self.chooseAlternative(children) { stack.append(.part(chosen)) }
                } else {
                    for child in children.reversed() { stack.append(.part(child)) }
                }
                continue
            }

            if type == "message/rfc822" || type == "message/global" {
                var bytes = Array(buffers[part.buffer][part.body])
                if encoding == "base64" { bytes = TransferEncoding.base64(bytes) }
                else if encoding == "quoted-printable" { bytes = TransferEncoding.quotedPrintable(bytes) }
                buffers.append(bytes)
                let index = buffers.count - 1
                let (headerEnd, bodyStart, _) = bytes.withUnsafeBytes { MailHeaders.split($0, 0..<bytes.count) }
                let nested = bytes.withUnsafeBytes { MailHeaders($0, 0..<min(headerEnd, MailHeaders.maxBytes)) }
                stack.append(.part(Part(buffer: index, headers: nested, body: bodyStart..<bytes.count,
                                        depth: part.depth + 1, defaultType: "text/plain")))
                stack.append(.text(Self.summary(of: nested)))
                continue
            }

            // A text part with a file name is an attached file unless the sender marked it `inline`, which
            // mail clients show as part of the message.
            let isAttachment = disposition.value == "attachment"
                || !type.hasPrefix("text/") || Self.dataTextTypes.contains(type)
                || (fileName != nil && part.depth > 0 && disposition.value != "inline")
            if isAttachment {
                if let fileName { attachments.append(fileName) }
                else if disposition.value == "attachment" { attachments.append("attachment.\(type.split(separator: "/").last ?? "bin")") }
                continue
            }
            try appendText(part, type: type, charset: contentType.params["charset"], encoding: encoding, buffers: buffers)
        }
    }

    private mutating func appendText(_ part: Part, type: String, charset: String?, encoding: String,
                                     buffers: [[UInt8]]) throws(IngestError) {
        let slice = buffers[part.buffer][part.body]
        let decoded: [UInt8]
        switch encoding {
        case "base64": decoded = TransferEncoding.base64(slice)
        case "quoted-printable": decoded = TransferEncoding.quotedPrintable(Array(slice))
        default: decoded = Array(slice)
        }
        var text = TextDecoding.decode(decoded, charset: charset)
        text = TextScan.normalizeNewlines(text)
        if type == "text/html" || type == "text/enriched" {
            text = HTMLText.text(fromHTML: text)
        } else {
            let stripped = UUEncodedBlocks.strip(text)
            text = stripped.text
            attachments += stripped.names
        }
        guard TextScan.hasContent(text) else { return }
        if firstTextByteOffset == nil, part.buffer == 0 { firstTextByteOffset = part.body.lowerBound }
        // Keep leading indentation of the first line (code, quotes); drop only surrounding blank lines.
        texts.append(TextScan.trimBlankLinesAndTrailingSpaces(text))
    }

    /// The decoded text parts, separated by blank lines.
    func bodyText() -> String { texts.joined(separator: "\n\n") }

    /// Prefers text/plain; else the last (richest) HTML or multipart alternative; else the first part.
    private static func chooseAlternative(_ children: [Part]) -> Part? {
        func type(_ p: Part) -> String {
            HeaderValues.parameterized(p.headers.first("content-type") ?? p.defaultType).value
        }
        if let plain = children.first(where: { type($0) == "text/plain" && !$0.body.isEmpty }) { return plain }
        if let rich = children.last(where: { type($0) == "text/html" || type($0).hasPrefix("multipart/") }) {
            return rich
        }
        return children.first
    }

    /// A forwarded message's headers as a short block of text before its body.
    private static func summary(of headers: MailHeaders) -> String {
        var lines: [String] = []
        for name in ["from", "to", "date", "subject"] {
            if let v = headers.first(name) {
                let label = name.prefix(1).uppercased() + name.dropFirst()
                lines.append("\(label): \(HeaderValues.collapseSpaces(EncodedWords.decode(v)))")
            }
        }
        return lines.isEmpty ? "(attached message)" : lines.joined(separator: "\n")
    }

    /// The byte ranges of the parts of a multipart body: between `--boundary` lines, up to `--boundary--`
    /// (or the end when the closing line is missing). The line break before a boundary line belongs to
    /// the boundary, not to the part.
    static func splitMultipart(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, boundary: String) -> [Range<Int>] {
        let delimiter = Array(("--" + boundary).utf8)
        var parts: [Range<Int>] = []
        var partStart: Int?
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            var lineEnd = i
            if let base = raw.baseAddress, let nl = memchr(base + i, 0x0A, end - i) {
                lineEnd = base.distance(to: UnsafeRawPointer(nl))
            } else {
                lineEnd = end
            }
            if lineEnd - i >= delimiter.count, raw[i] == 0x2D, raw[i + 1] == 0x2D,
               UnsafeRawBufferPointer(rebasing: raw[i..<(i + delimiter.count)]).elementsEqual(delimiter) {
                var k = i + delimiter.count
                var closing = false
                if k + 1 < lineEnd, raw[k] == 0x2D, raw[k + 1] == 0x2D {
                    closing = true
                    k += 2
                }
                var rest = k
                while rest < lineEnd, raw[rest] == 0x20 || raw[rest] == 0x09 || raw[rest] == 0x0D { rest += 1 }
                if rest == lineEnd {
                    if let start = partStart {
                        // Drop the line break that precedes the delimiter line.
                        var partEnd = i
                        if partEnd > start, raw[partEnd - 1] == 0x0A { partEnd -= 1 }
                        if partEnd > start, raw[partEnd - 1] == 0x0D { partEnd -= 1 }
                        parts.append(start..<max(start, partEnd))
                    }
                    if closing { return parts }
                    partStart = min(lineEnd + 1, end)
                }
            }
            i = lineEnd + 1
        }
        if let start = partStart, start < end { parts.append(start..<end) }
        return parts
    }
}

/// The labels Gmail writes into each message of a Takeout mbox (`X-Gmail-Labels: Inbox,Travel,Opened`).
/// The person's own labels become the message's tags (`assist search --tag Travel`); the ones Gmail sets
/// by itself say nothing about the content and are left out.
struct GmailLabels {
    var userLabels: [String] = []
    var isSpamOrTrash = false

    static let systemLabels: Set<String> = [
        "inbox", "sent", "important", "opened", "unread", "starred", "archived", "draft", "drafts", "chat", "chats",
        "spam", "trash", "all mail",
    ]

    init(_ fields: [String]) {
        var seen = Set<String>()
        for field in fields {
            for item in field.split(separator: ",") {
                let label = HeaderValues.collapseSpaces(item.trimmingCharacters(in: .whitespaces))
                    .trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                let key = label.lowercased()
                guard !label.isEmpty else { continue }
                if key == "spam" || key == "trash" { isSpamOrTrash = true }
                if Self.systemLabels.contains(key) || key.hasPrefix("category ") || key.hasPrefix("[") { continue }
                if seen.insert(key).inserted { userLabels.append(label) }
            }
        }
    }
}
