import Foundation

/// An RFC 5322 header block: unfolded fields in order, looked up case-insensitively.
struct MailHeaders: Sendable {
    /// Field names lowercased, values unfolded (CRLF + whitespace → the whitespace) and raw (not decoded).
    private(set) var fields: [(name: String, value: String)] = []

    /// Largest header block accepted for one message or MIME part.
    static let maxBytes = 4 << 20
    /// Longest single field kept (longer ones are cut; a References header of 50,000 ids still fits).
    static let maxFieldBytes = 2 << 20

    /// The first value of a field, or nil.
    func first(_ name: String) -> String? {
        fields.first(where: { $0.name == name })?.value
    }

    /// All values of a field, in order.
    func all(_ name: String) -> [String] {
        fields.filter { $0.name == name }.map(\.value)
    }

    /// Where the header block of `bytes[range]` ends: the index after the empty line, plus the index of
    /// the empty line itself and how many lines the headers took. A block without an empty line runs to
    /// the end.
    ///
    /// Some mailers and scripts leave out the empty line. As in other mail readers, the first line that is
    /// neither a field (`Name:`) nor a continuation then starts the body, so its text is not lost to the
    /// headers; a leading `From ` line (an mbox separator inside an attached message) is skipped.
    static func split(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> (headerEnd: Int, bodyStart: Int, lines: Int) {
        var i = range.lowerBound
        var lines = 0
        // A part that starts with an empty line has no headers.
        while i < range.upperBound {
            let lineEnd = lineEndIndex(bytes, from: i, to: range.upperBound)
            let contentEnd = lineEnd > i && bytes[lineEnd - 1] == 0x0D ? lineEnd - 1 : lineEnd
            if contentEnd == i {
                return (i, min(lineEnd + 1, range.upperBound), lines)
            }
            let isContinuation = bytes[i] == 0x20 || bytes[i] == 0x09
            let isFromLine = lines == 0 && contentEnd - i >= 5 && bytes[i] == 0x46 && bytes[i + 1] == 0x72
                && bytes[i + 2] == 0x6F && bytes[i + 3] == 0x6D && bytes[i + 4] == 0x20
            if !isContinuation, !isFromLine, !looksLikeField(bytes, i, contentEnd) {
                return (i, i, lines)
            }
            lines += 1
            i = lineEnd + 1
        }
        return (range.upperBound, range.upperBound, lines)
    }

    /// Whether the line `bytes[start..<end]` opens a field: a name of printable ASCII, then a colon, with
    /// spaces allowed before the colon (an obsolete form parsers still meet).
    private static func looksLikeField(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        var k = start
        while k < end, bytes[k] > 0x20, bytes[k] < 0x7F, bytes[k] != 0x3A { k += 1 }
        guard k > start else { return false }
        while k < end, bytes[k] == 0x20 || bytes[k] == 0x09 { k += 1 }
        return k < end && bytes[k] == 0x3A
    }

    /// The index of the `:` ending a field name that starts at `start`: the first colon on the line, with
    /// only printable ASCII other than space before it; nil when the line is no field.
    @inline(__always)
    static func fieldNameEnd(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        var k = start
        while k < end {
            let b = bytes[k]
            if b == 0x3A { return k }
            // A space or non-ASCII byte before the first colon: whatever follows, the line is no field.
            guard b > 0x20, b < 0x7F else { return nil }
            k += 1
        }
        return nil
    }

    /// The index of the next LF in `bytes[from..<to]`, or `to`.
    @inline(__always)
    static func lineEndIndex(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int {
        guard let base = bytes.baseAddress, from < to, let nl = memchr(base + from, 0x0A, to - from) else { return to }
        return base.distance(to: UnsafeRawPointer(nl))
    }

    /// Parses the header lines in `bytes[range]`. Lines that are neither `Name: value` nor continuations
    /// (garbage from broken mailers) are skipped. Raw 8-bit header bytes are read as UTF-8, or as
    /// Windows-1252 when they are not valid UTF-8.
    init(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) {
        var name: [UInt8] = []
        var value: [UInt8] = []
        var inField = false
        func finishField() {
            guard inField else { return }
            // Names are printable ASCII (checked when the line was read): lowercase the bytes.
            for k in name.indices where name[k] >= 0x41 && name[k] <= 0x5A { name[k] |= 0x20 }
            let n = String(decoding: name, as: UTF8.self)
            // Trim spaces, tabs and CRs on the bytes: they are ASCII in UTF-8 and Windows-1252 alike.
            var start = 0
            var end = value.count
            while start < end, value[start] == 0x20 || value[start] == 0x09 || value[start] == 0x0D { start += 1 }
            while end > start, value[end - 1] == 0x20 || value[end - 1] == 0x09 || value[end - 1] == 0x0D { end -= 1 }
            let trimmed = value[start..<end]
            let v: String
            if let valid = String(validating: trimmed, as: UTF8.self) { v = valid }
            else { v = Charset.iconvDecode(Array(trimmed), from: "WINDOWS-1252") ?? String(decoding: trimmed, as: UTF8.self) }
            fields.append((n, v))
            name.removeAll(keepingCapacity: true)
            value.removeAll(keepingCapacity: true)
            inField = false
        }
        var i = range.lowerBound
        while i < range.upperBound {
            let lineEnd = Self.lineEndIndex(bytes, from: i, to: range.upperBound)
            var contentEnd = lineEnd
            if contentEnd > i, bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            let first = bytes[i]
            if (first == 0x20 || first == 0x09), inField {
                if value.count < Self.maxFieldBytes {
                    value.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<contentEnd]))
                }
            } else if let colon = Self.fieldNameEnd(bytes, i, contentEnd), colon > i {
                finishField()
                inField = true
                name.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<colon]))
                value.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[(colon + 1)..<min(contentEnd, colon + 1 + Self.maxFieldBytes)]))
            } else {
                finishField()
            }
            i = lineEnd + 1
        }
        finishField()
    }
}

/// RFC 2047 encoded words (`=?charset?B|Q?text?=`) in header values.
enum EncodedWords {
    /// Decodes every well-formed encoded word; whitespace between two adjacent encoded words is dropped;
    /// malformed words are left as they are. Adjacent words in one charset are decoded together so that a
    /// multi-byte character split across words survives.
    static func decode(_ value: String) -> String {
        guard value.containsBytes("=?") else { return value }
        let u = Array(value.utf8)
        var out = ""
        var i = 0
        var literalStart = 0
        var pending: (charset: String, bytes: [UInt8])?
        var gapStart = -1  // start of whitespace after the last decoded word
        func flushPending() {
            if let p = pending {
                out += TextDecoding.decode(p.bytes, charset: p.charset)
                pending = nil
            }
        }
        while i < u.count {
            if u[i] == 0x3D, i + 1 < u.count, u[i + 1] == 0x3F, let word = parseWord(u, at: i) {
                // Text between words: dropped if only whitespace and a word precedes it.
                let between = u[literalStart..<i]
                let onlySpace = between.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
                if !(gapStart >= 0 && onlySpace) {
                    flushPending()
                    out += String(decoding: between, as: UTF8.self)
                }
                if let p = pending, p.charset.lowercased() == word.charset.lowercased() {
                    pending = (p.charset, p.bytes + word.bytes)
                } else {
                    flushPending()
                    pending = (word.charset, word.bytes)
                }
                i = word.end
                literalStart = i
                gapStart = i
                continue
            }
            if gapStart >= 0, !(u[i] == 0x20 || u[i] == 0x09 || u[i] == 0x0D || u[i] == 0x0A) { gapStart = -1 }
            i += 1
        }
        flushPending()
        out += String(decoding: u[literalStart...], as: UTF8.self)
        return out
    }

    private static func parseWord(_ u: [UInt8], at start: Int) -> (charset: String, bytes: [UInt8], end: Int)? {
        var i = start + 2
        let charsetStart = i
        while i < u.count, u[i] != 0x3F, u[i] > 0x20, i - charsetStart < 64 { i += 1 }
        guard i < u.count, u[i] == 0x3F, i > charsetStart else { return nil }
        var charset = String(decoding: u[charsetStart..<i], as: UTF8.self)
        if let star = charset.firstIndex(of: "*") { charset = String(charset[..<star]) }  // RFC 2231 language
        i += 1
        guard i + 1 < u.count, u[i + 1] == 0x3F else { return nil }
        let encoding = u[i] | 0x20
        guard encoding == 0x62 || encoding == 0x71 else { return nil }
        i += 2
        let textStart = i
        while i + 1 < u.count, !(u[i] == 0x3F && u[i + 1] == 0x3D) {
            if u[i] == 0x20 || u[i] == 0x09 || u[i] == 0x0A { return nil }
            i += 1
        }
        guard i + 1 < u.count else { return nil }
        let text = u[textStart..<i]
        let bytes = encoding == 0x62 ? TransferEncoding.base64(text) : TransferEncoding.qEncoding(text)
        return (charset, bytes, i + 2)
    }
}

/// Helpers for the structured parts of header values.
enum HeaderValues {
    /// Collapses runs of whitespace (left by unfolding) into single spaces and trims.
    /// Works on the UTF-8 bytes (the whitespace is ASCII) and returns the string itself when it is
    /// already collapsed, which most header values are.
    static func collapseSpaces(_ s: String) -> String {
        var s = s
        return s.withUTF8 { u -> String? in
            func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }
            var clean = true
            var lastSpace = true
            for b in u {
                if b == 0x20 ? lastSpace : isSpace(b) { clean = false; break }
                lastSpace = b == 0x20
            }
            if clean, !lastSpace || u.isEmpty { return nil }
            var out = [UInt8]()
            out.reserveCapacity(u.count)
            lastSpace = true
            for b in u {
                if isSpace(b) {
                    if !lastSpace { out.append(0x20) }
                    lastSpace = true
                } else {
                    out.append(b)
                    lastSpace = false
                }
            }
            if out.last == 0x20 { out.removeLast() }
            return String(decoding: out, as: UTF8.self)
        } ?? s
    }

    /// A mailing-list archive's spam-proofed sender ("alice at example.org (Alice Smith)", as Mailman's
    /// text archives write it) as an ordinary address ("Alice Smith <alice@example.org>"), so that it reads
    /// and filters like every other sender; anything else unchanged.
    static func unobfuscatedSender(_ value: String) -> String {
        let parts = value.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
        guard parts.count >= 3, parts[1] == "at" else { return value }
        let local = parts[0], domain = parts[2]
        let addressCharacters = { (c: Character) in c.isLetter || c.isNumber || "._%+-".contains(c) }
        guard local.allSatisfy(addressCharacters), domain.allSatisfy(addressCharacters), domain.contains(".") else {
            return value
        }
        let address = "\(local)@\(domain)"
        guard parts.count == 4 else { return address }
        let comment = parts[3]
        guard comment.hasPrefix("("), comment.hasSuffix(")"), comment.count > 2 else { return value }
        return "\(comment.dropFirst().dropLast()) <\(address)>"
    }

    /// Splits an address list on commas that are outside quotes, angle brackets and comments.
    /// Scans UTF-8 bytes: every delimiter is ASCII, and ASCII bytes never occur inside a multi-byte
    /// character.
    static func splitAddresses(_ s: String) -> [String] {
        var result: [String] = []
        var s = s
        s.withUTF8 { u in
            var inQuote = false
            var angle = 0
            var paren = 0
            var escaped = false
            var start = 0
            func take(_ end: Int) {
                let t = collapseSpaces(String(decoding: UnsafeBufferPointer(rebasing: u[start..<end]), as: UTF8.self))
                if !t.isEmpty { result.append(t) }
            }
            for (i, b) in u.enumerated() {
                if escaped { escaped = false; continue }
                switch b {
                case 0x5C where inQuote: escaped = true
                case 0x22: inQuote.toggle()
                case 0x3C where !inQuote: angle += 1
                case 0x3E where !inQuote: angle = max(0, angle - 1)
                case 0x28 where !inQuote: paren += 1
                case 0x29 where !inQuote: paren = max(0, paren - 1)
                case 0x2C where !inQuote && angle == 0 && paren == 0:
                    take(i)
                    start = i + 1
                default: break
                }
            }
            take(u.count)
        }
        return result
    }

    /// Message-IDs in a header value: every `<…>` (brackets removed); without brackets, the
    /// whitespace-separated words that contain `@`.
    static func messageIDs(_ s: String, limit: Int = .max) -> [String] {
        var ids: [String] = []
        let u = Array(s.utf8)
        var i = 0
        while i < u.count, ids.count < limit {
            if u[i] == 0x3C {
                var j = i + 1
                while j < u.count, u[j] != 0x3E, u[j] != 0x3C { j += 1 }
                if j < u.count, u[j] == 0x3E {
                    let id = String(decoding: u[(i + 1)..<j].filter { $0 > 0x20 }, as: UTF8.self)
                    if !id.isEmpty { ids.append(id) }
                    i = j + 1
                    continue
                }
            }
            i += 1
        }
        if ids.isEmpty {
            for word in s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }) where word.contains("@") {
                var w = word
                while let f = w.first, f == "<" || f == "\"" { w = w.dropFirst() }
                while let l = w.last, l == ">" || l == "\"" || l == ";" { w = w.dropLast() }
                if !w.isEmpty { ids.append(String(w)) }
                if ids.count >= limit { break }
            }
        }
        return ids
    }

    /// A structured MIME header (`Content-Type`, `Content-Disposition`): the lowercased value before the
    /// first `;` and its parameters, with RFC 2231 continuations (`name*0*=`) and charsets
    /// (`filename*=UTF-8''…`) and RFC 2047 words in quoted names (a common violation) decoded.
    static func parameterized(_ s: String) -> (value: String, params: [String: String]) {
        if s.isEmpty { return ("", [:]) }
        let parts = splitSemicolons(s)
        let value = (parts.first ?? "").trimmingSpaces.lowercased()
        var simple: [String: String] = [:]
        var continued: [String: [(index: Int, encoded: Bool, text: String)]] = [:]
        for part in parts.dropFirst() {
            guard let eq = part.firstIndex(of: "=") else { continue }
            var key = part[..<eq].trimmingSpaces.lowercased()
            var raw = String(part[part.index(after: eq)...].trimmingSpaces)
            if raw.utf8.first == 0x22, raw.count >= 2 {
                raw = String(raw.dropFirst())
                if raw.utf8.last == 0x22 { raw.removeLast() }
                if raw.utf8.contains(0x5C) { raw = unescapeQuoted(raw) }
            }
            if key.utf8.contains(0x2A) {
                let encoded = key.hasSuffix("*")
                if encoded { key.removeLast() }
                var index = 0
                if let star = key.firstIndex(of: "*") {
                    index = Int(key[key.index(after: star)...]) ?? 0
                    key = String(key[..<star])
                }
                continued[key, default: []].append((index, encoded, raw))
            } else if simple[key] == nil {
                simple[key] = raw
            }
        }
        for (key, pieces) in continued {
            let sorted = pieces.sorted { $0.index < $1.index }
            var charset: String?
            var bytes: [UInt8] = []
            for (n, piece) in sorted.enumerated() {
                var text = Substring(piece.text)
                if piece.encoded, n == 0 {
                    // charset'language'percent-encoded
                    let fields = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                    if fields.count == 3 {
                        charset = String(fields[0])
                        text = fields[2]
                    }
                }
                bytes += piece.encoded ? percentDecode(text) : Array(text.utf8)
            }
            simple[key] = TextDecoding.decode(bytes, charset: charset)
        }
        for (k, v) in simple where v.containsBytes("=?") { simple[k] = EncodedWords.decode(v) }
        return (value, simple)
    }

    /// Removes the backslashes of quoted-pair escapes inside a quoted string.
    private static func unescapeQuoted(_ s: String) -> String {
        var out = ""
        var escaped = false
        for ch in s {
            if !escaped, ch == "\\" { escaped = true; continue }
            escaped = false
            out.append(ch)
        }
        return out
    }

    /// Splits on `;` outside quoted strings, scanning UTF-8 (the delimiters are ASCII).
    private static func splitSemicolons(_ s: String) -> [Substring] {
        var parts: [Substring] = []
        let u = s.utf8
        var start = u.startIndex
        var inQuote = false
        var i = u.startIndex
        while i < u.endIndex {
            let c = u[i]
            if c == 0x22 { inQuote.toggle() }
            else if c == 0x5C, inQuote, u.index(after: i) < u.endIndex { i = u.index(after: i) }
            else if c == 0x3B, !inQuote { parts.append(s[start..<i]); start = u.index(after: i) }
            i = u.index(after: i)
        }
        parts.append(s[start...])
        return parts
    }

    private static func percentDecode(_ s: Substring) -> [UInt8] {
        let u = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < u.count {
            if u[i] == 0x25, i + 2 < u.count, let h = TransferEncoding.hexValue(u[i + 1]), let l = TransferEncoding.hexValue(u[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(u[i])
                i += 1
            }
        }
        return out
    }
}
