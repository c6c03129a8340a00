/// Small byte-level string helpers for hot paths.
///
/// Foundation's `trimmingCharacters`, `replacingOccurrences` and friends go through NSString on Linux
/// and cost microseconds per call; on millions of mail lines that dominates parsing. These work on UTF-8.
extension StringProtocol {
    /// Without leading and trailing spaces, tabs and carriage returns.
    var trimmingSpaces: SubSequence {
        let u = utf8
        var start = u.startIndex
        while start < u.endIndex, Self.isSpace(u[start]) { start = u.index(after: start) }
        // Forward scan remembering the end of the last non-space byte (UTF8View is not bidirectional
        // for every StringProtocol).
        var end = start
        var i = start
        while i < u.endIndex {
            let next = u.index(after: i)
            if !Self.isSpace(u[i]) { end = next }
            i = next
        }
        return self[start..<end]
    }

    /// Empty or only spaces, tabs and carriage returns.
    var isBlankLine: Bool { utf8.allSatisfy(Self.isSpace) }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }

    /// Whether the text starts with `prefix` (given in lowercase), ignoring ASCII case.
    func hasPrefixIgnoringCase(_ prefix: String) -> Bool {
        var it = utf8.makeIterator()
        for p in prefix.utf8 {
            guard let b = it.next(), TextScan.fold(b) == p else { return false }
        }
        return true
    }

    /// Whether the text ends with `suffix` (given in lowercase), ignoring ASCII case.
    func hasSuffixIgnoringCase(_ suffix: String) -> Bool {
        let s = Array(suffix.utf8)
        let u = utf8
        guard u.count >= s.count else { return false }
        return zip(u.suffix(s.count), s).allSatisfy { TextScan.fold($0) == $1 }
    }

    /// Whether `needle` (given in lowercase) occurs anywhere, ignoring ASCII case.
    func containsIgnoringCase(_ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard let first = n.first else { return true }
        let u = Array(utf8)
        guard u.count >= n.count else { return false }
        var i = 0
        while i <= u.count - n.count {
            if TextScan.fold(u[i]) == first {
                var k = 1
                while k < n.count, TextScan.fold(u[i + k]) == n[k] { k += 1 }
                if k == n.count { return true }
            }
            i += 1
        }
        return false
    }
}

enum TextScan {
    @inline(__always) static func fold(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    /// Lines of `text` split at LF, each without a trailing CR.
    static func lines(_ text: String) -> [Substring] {
        var result: [Substring] = []
        let u = text.utf8
        var start = u.startIndex
        var i = u.startIndex
        while i < u.endIndex {
            if u[i] == 0x0A {
                var end = i
                if end > start, u[u.index(before: end)] == 0x0D { end = u.index(before: end) }
                result.append(text[start..<end])
                start = u.index(after: i)
            }
            i = u.index(after: i)
        }
        var end = u.endIndex
        if end > start, u[u.index(before: end)] == 0x0D { end = u.index(before: end) }
        result.append(text[start..<end])
        return result
    }

    /// CRLF and lone CR become LF.
    static func normalizeNewlines(_ s: String) -> String {
        guard s.utf8.contains(0x0D) else { return s }
        var out = [UInt8]()
        out.reserveCapacity(s.utf8.count)
        var previousCR = false
        for b in s.utf8 {
            if b == 0x0D { out.append(0x0A); previousCR = true; continue }
            if b == 0x0A && previousCR { previousCR = false; continue }
            previousCR = false
            out.append(b)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Drops blank lines at both ends and trailing spaces on every line.
    static func trimBlankLinesAndTrailingSpaces(_ s: String) -> String {
        var out = [UInt8]()
        out.reserveCapacity(s.utf8.count)
        var line = [UInt8]()
        var pendingNewlines = 0
        func flush() {
            while let last = line.last, last == 0x20 || last == 0x09 { line.removeLast() }
            if line.isEmpty {
                pendingNewlines += 1
            } else {
                if !out.isEmpty { out.append(contentsOf: repeatElement(0x0A, count: pendingNewlines + 1)) }
                out.append(contentsOf: line)
                pendingNewlines = 0
            }
            line.removeAll(keepingCapacity: true)
        }
        for b in s.utf8 {
            if b == 0x0A { flush() } else { line.append(b) }
        }
        flush()
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether the text has anything but whitespace.
    static func hasContent(_ s: String) -> Bool {
        s.utf8.contains { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0x0C) }
            && !s.unicodeScalars.allSatisfy { $0.properties.isWhitespace }
    }
}
