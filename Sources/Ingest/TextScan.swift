#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }

    /// Whether the UTF-8 of `needle` occurs in the UTF-8 of this string. Byte-wise, so unlike Foundation's
    /// `contains(_:)` it never bridges to NSString; for ASCII needles it is the same test.
    func containsBytes(_ needle: String) -> Bool {
        var needle = needle
        return needle.withUTF8 { n in
            if let fast = utf8.withContiguousStorageIfAvailable({ TextScan.find(n, in: $0) }) {
                return fast
            }
            let copy = Array(utf8)
            return copy.withUnsafeBufferPointer { TextScan.find(n, in: $0) }
        }
    }
}

enum TextScan {
    /// Whether `needle` occurs in `haystack` (an empty needle always does).
    static func find(_ needle: UnsafeBufferPointer<UInt8>, in haystack: UnsafeBufferPointer<UInt8>) -> Bool {
        guard needle.count > 0 else { return true }
        return firstIndex(of: needle, in: haystack, from: 0) != nil
    }

    /// Where `needle` first occurs in `haystack` at or after `from`: memchr for its first byte, then a
    /// comparison of the rest.
    static func firstIndex(of needle: UnsafeBufferPointer<UInt8>, in haystack: UnsafeBufferPointer<UInt8>,
                           from: Int) -> Int? {
        guard let n = needle.baseAddress, needle.count > 0 else { return from }
        guard let h = haystack.baseAddress else { return nil }
        let last = haystack.count - needle.count
        var i = from
        while i <= last {
            guard let hit = memchr(h + i, Int32(n.pointee), last - i + 1) else { return nil }
            let at = h.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if memcmp(h + at, n, needle.count) == 0 { return at }
            i = at + 1
        }
        return nil
    }

    /// Without leading and trailing ASCII whitespace (space, tab, CR, LF, VT, FF), read on UTF-8 bytes;
    /// the same result as `trimmingCharacters(in: .whitespacesAndNewlines)` for text whose edges are ASCII,
    /// which is all the header values this is used on. Non-ASCII edges (NBSP, U+2028…) are kept.
    static func trimASCIIWhitespace(_ s: String) -> Substring {
        let u = s.utf8
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
        var start = u.startIndex
        var end = u.endIndex
        while start < end, isSpace(u[start]) { start = u.index(after: start) }
        while end > start, isSpace(u[u.index(before: end)]) { end = u.index(before: end) }
        return s[start..<end]
    }

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
        var s = s
        return s.withUTF8 { u -> String? in
            guard let base = u.baseAddress, memchr(base, 0x0D, u.count) != nil else { return nil }
            var out = [UInt8]()
            out.reserveCapacity(u.count)
            var i = 0
            while i < u.count {
                let b = u[i]
                if b == 0x0D {
                    out.append(0x0A)
                    if i + 1 < u.count, u[i + 1] == 0x0A { i += 1 }
                } else {
                    out.append(b)
                }
                i += 1
            }
            return String(decoding: out, as: UTF8.self)
        } ?? s
    }

    /// Drops blank lines at both ends and trailing spaces on every line.
    static func trimBlankLinesAndTrailingSpaces(_ s: String) -> String {
        var s = s
        return s.withUTF8 { u in
            var out = [UInt8]()
            out.reserveCapacity(u.count)
            var pendingNewlines = 0
            var lineStart = 0
            let n = u.count
            while lineStart <= n {
                var lineEnd = lineStart
                if let base = u.baseAddress, lineStart < n, let nl = memchr(base + lineStart, 0x0A, n - lineStart) {
                    lineEnd = base.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                } else {
                    lineEnd = n
                }
                var end = lineEnd
                while end > lineStart, u[end - 1] == 0x20 || u[end - 1] == 0x09 { end -= 1 }
                if end == lineStart {
                    pendingNewlines += 1
                } else {
                    if !out.isEmpty { out.append(contentsOf: repeatElement(0x0A, count: pendingNewlines + 1)) }
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: u[lineStart..<end]))
                    pendingNewlines = 0
                }
                lineStart = lineEnd + 1
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Whether the text has anything but whitespace.
    static func hasContent(_ s: String) -> Bool {
        var s = s
        let asciiContent = s.withUTF8 { u in
            u.contains { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0x0C) && $0 < 0x80 }
        }
        return asciiContent || !s.unicodeScalars.allSatisfy { $0.properties.isWhitespace }
    }
}
