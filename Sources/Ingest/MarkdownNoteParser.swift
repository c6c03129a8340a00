import Foundation

/// Parses one Markdown note into a `Document`: front matter, title, tags, wikilinks and date.
///
/// Pure: the caller reads the file and passes its bytes and modification date.
public enum MarkdownNoteParser {
    /// Parses a note. `path` names the file in errors and in the document; `modified` is the date used
    /// when neither the front matter nor the file name carries one.
    public static func parse(_ data: Data, path: String, modified: Date) throws(IngestError) -> Document {
        let (text, encodingWarning) = try decodeText(data, path: path)
        let lines = MarkdownLines(text)

        var frontMatter = FrontMatter()
        var warnings = encodingWarning.map { [$0] } ?? []
        var bodyStartLine = 0  // 0-based index into lines
        if let closing = lines.frontMatterClosingLine() {
            let yaml = lines.join(1..<closing)
            do {
                frontMatter = try FrontMatter.parse(yaml, path: path, firstLine: 2)
            } catch .badFrontMatter(_, let line, let reason) {
                // `title: Meeting: Q3 plan` is not YAML, and such notes are common: the note still counts,
                // with what a plain reading of its lines gives, and the person learns what to fix.
                frontMatter = FrontMatter.plainLines(yaml)
                let at = line.map { " (line \($0))" } ?? ""
                warnings.append("front matter is not valid YAML\(at): \(reason); its title, tags, aliases and date were read as plain 'key: value' lines")
            }
            bodyStartLine = closing + 1
        } else {
            // Logseq keeps them as lines of the page itself, so they stay in the body.
            let top = (0..<min(lines.count, 64)).lazy.map { String(decoding: lines.line($0), as: UTF8.self) }
            frontMatter = FrontMatter.pageProperties(top)
        }
        let body = EmbeddedData.withoutPayloads(lines.join(bodyStartLine..<lines.count))
        let scan = MarkdownScanner.scan(body)

        let fileName = (path as NSString).lastPathComponent
        let baseName = (fileName as NSString).deletingPathExtension
        let title = frontMatter.title ?? scan.firstH1 ?? (baseName.isEmpty ? fileName : baseName)

        var tags: [String] = []
        var seenTags = Set<String>()
        for tag in frontMatter.tags + scan.tags where seenTags.insert(tag.lowercased()).inserted {
            tags.append(tag)
        }
        let statedDate = frontMatter.date ?? DateParsing.dateInFileName(baseName)

        var document = Document(
            kind: .note, path: path, title: title, date: statedDate ?? modified, dateIsFileTime: statedDate == nil,
            tags: tags, links: scan.links,
            aliases: frontMatter.aliases, body: body, bodyLineOffset: bodyStartLine + 1)
        document.warnings = warnings
        return document
    }

    /// Decodes note bytes: refuses binary files, strips a UTF-8 byte order mark, tolerates a few invalid
    /// bytes (replaced by U+FFFD), and reads a file with more as Windows-1252, the 8-bit encoding of older
    /// Windows and Mac editors (Latin-1's letters and then some), with a warning saying so.
    static func decodeText(_ data: Data, path: String) throws(IngestError) -> (text: String, warning: String?) {
        // UTF-16 with a byte order mark (Windows editors): decode instead of calling it binary.
        if data.count >= 2, (data[data.startIndex] == 0xFF && data[data.startIndex + 1] == 0xFE)
            || (data[data.startIndex] == 0xFE && data[data.startIndex + 1] == 0xFF) {
            if let s = String(data: data, encoding: .utf16) { return (s, nil) }
            throw .invalidUTF8(path: path, invalidBytes: data.count, totalBytes: data.count)
        }
        let result: Result<(text: String, warning: String?), IngestError> = data.withUnsafeBytes { raw in
            if TextDecoding.looksBinary(raw) { return .failure(.binaryContent(path: path)) }
            var bytes = raw
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
                bytes = UnsafeRawBufferPointer(rebasing: bytes[3...])
            }
            switch TextDecoding.decodeUTF8(bytes) {
            case .valid(let s): return .success((s, nil))
            case .lossy(let s, let invalid):
                guard Double(invalid) > Double(bytes.count) * TextDecoding.maxInvalidFraction else { return .success((s, nil)) }
                guard let legacy = Charset.iconvDecode(Array(bytes), from: "WINDOWS-1252") else {
                    return .failure(.invalidUTF8(path: path, invalidBytes: invalid, totalBytes: bytes.count))
                }
                return .success((legacy, "\(invalid) of \(bytes.count) bytes are not UTF-8, so the file was read as Windows-1252; if its accents look wrong in search results, convert it to UTF-8 (e.g. iconv -f LATIN1 -t UTF-8)"))
            }
        }
        return try result.get()
    }
}

/// A note's lines as UTF-8 byte ranges, line endings (LF or CRLF) excluded.
struct MarkdownLines {
    let bytes: [UInt8]
    /// Start and end (exclusive, before CR/LF) of each line.
    private(set) var ranges: [Range<Int>] = []

    init(_ text: String) {
        bytes = Array(text.utf8)
        var start = 0
        var i = 0
        let n = bytes.count
        bytes.withUnsafeBufferPointer { b in
            while i < n {
                if b[i] == 0x0A {
                    let end = i > start && b[i - 1] == 0x0D ? i - 1 : i
                    ranges.append(start..<end)
                    start = i + 1
                }
                i += 1
            }
        }
        if start < n { ranges.append(start..<(n > start && bytes[n - 1] == 0x0D ? n - 1 : n)) }
    }

    var count: Int { ranges.count }

    func line(_ i: Int) -> ArraySlice<UInt8> { bytes[ranges[i]] }

    /// Lines joined with LF (CRLF is normalized away).
    func join(_ range: Range<Int>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(range.isEmpty ? 0 : ranges[range.upperBound - 1].upperBound - ranges[range.lowerBound].lowerBound)
        for i in range {
            if i > range.lowerBound { out.append(0x0A) }
            out.append(contentsOf: bytes[ranges[i]])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Front matter: `---` on the very first line, closed by `---` or `...`. Returns the 0-based index of
    /// the closing line (the YAML is lines `1..<closing`), or nil when there is no front matter.
    func frontMatterClosingLine() -> Int? {
        guard count >= 2, isDelimiter(0, allowDots: false) else { return nil }
        var consumedBytes = 0
        for i in 1..<count {
            if isDelimiter(i, allowDots: true) { return startsLikeYAMLMapping(1..<i) ? i : nil }
            consumedBytes += ranges[i].count + 1
            // Past the size cap without a closing line it is a horizontal rule, not front matter; but a
            // closed block over the cap is reported by FrontMatter.parse, so keep scanning a bit further.
            if consumedBytes > FrontMatter.maxBytes * 4 { return nil }
        }
        return nil
    }

    /// Whether the block's first content line is `key:` with a key without spaces (or a comment), so that
    /// prose between two horizontal rules is not mistaken for front matter.
    private func startsLikeYAMLMapping(_ block: Range<Int>) -> Bool {
        for i in block {
            let l = line(i).drop(while: { $0 == 0x20 || $0 == 0x09 })
            guard let first = l.first else { continue }
            if first == 0x23 { continue }
            var k = l.startIndex
            while k < l.endIndex, l[k] != 0x3A, l[k] != 0x20, l[k] != 0x09 { k += 1 }
            while k < l.endIndex, l[k] == 0x20 || l[k] == 0x09 { k += 1 }
            guard k > l.startIndex, k < l.endIndex, l[k] == 0x3A else { return false }
            let after = l.index(after: k)
            return after == l.endIndex || l[after] == 0x20 || l[after] == 0x09
        }
        return true
    }

    private func isDelimiter(_ i: Int, allowDots: Bool) -> Bool {
        var l = line(i)
        while let last = l.last, last == 0x20 || last == 0x09 { l = l.dropLast() }
        if l.elementsEqual("---".utf8) { return true }
        return allowDots && l.elementsEqual("...".utf8)
    }
}

/// One pass over a note body collecting the first H1, `#tags` and `[[wikilinks]]`, skipping code.
enum MarkdownScanner {
    struct Result {
        var firstH1: String?
        var tags: [String] = []
        var links: [String] = []
    }

    static func scan(_ body: String) -> Result {
        var result = Result()
        var seenLinks = Set<String>()
        var seenTags = Set<String>()
        let u = Array(body.utf8)
        let n = u.count
        var fence: (char: UInt8, length: Int)?
        var indentation = IndentedCode()
        var lineStart = 0
        while lineStart <= n {
            var lineEnd = lineStart
            while lineEnd < n, u[lineEnd] != 0x0A { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > lineStart, u[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            // Fenced code blocks: ``` or ~~~ (three or more), indented at most three spaces.
            var k = lineStart
            while k < contentEnd, k - lineStart < 3, u[k] == 0x20 { k += 1 }
            if k < contentEnd, u[k] == 0x60 || u[k] == 0x7E {
                let c = u[k]
                var run = 0
                while k + run < contentEnd, u[k + run] == c { run += 1 }
                if run >= 3 {
                    if let open = fence {
                        var rest = k + run
                        while rest < contentEnd, u[rest] == 0x20 || u[rest] == 0x09 { rest += 1 }
                        if open.char == c, run >= open.length, rest == contentEnd { fence = nil }
                    } else {
                        fence = (c, run)
                    }
                    lineStart = lineEnd + 1
                    continue
                }
            }
            if fence == nil, !indentation.isCode(u[lineStart..<contentEnd]) {
                scanLine(u, lineStart, contentEnd, &result, &seenLinks, &seenTags)
            }
            lineStart = lineEnd + 1
        }
        return result
    }

    /// Tells indented code (four spaces or a tab) from indented prose, line by line.
    ///
    /// An indented line is code only after a blank line, outside a list: indentation cannot interrupt a
    /// paragraph, and under a list item it nests the item's blocks. Outliners (Logseq, Obsidian's nested
    /// bullets) indent most of a page by tabs, and its tags and links are prose.
    struct IndentedCode {
        private var previousBlank = true
        private var inList = false
        private var inCode = false

        mutating func isCode(_ line: ArraySlice<UInt8>) -> Bool {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                previousBlank = true
                return false
            }
            defer { previousBlank = false }
            let indented = line.first == 0x09 || (line.count >= 4 && line.prefix(4).allSatisfy { $0 == 0x20 })
            if indented {
                if inCode || (previousBlank && !inList) {
                    inCode = true
                    return true
                }
                return false
            }
            inCode = false
            inList = Self.startsListItem(line) || (inList && !previousBlank)
            return false
        }

        /// `- `, `* `, `+ `, `1. ` or `1) ` after at most three spaces.
        static func startsListItem(_ line: ArraySlice<UInt8>) -> Bool {
            let rest = line.drop { $0 == 0x20 }
            guard line.count - rest.count <= 3, let first = rest.first else { return false }
            if first == 0x2D || first == 0x2A || first == 0x2B {
                return rest.count == 1 || rest.dropFirst().first == 0x20 || rest.dropFirst().first == 0x09
            }
            let digits = rest.prefix { $0 >= 0x30 && $0 <= 0x39 }
            guard (1...9).contains(digits.count) else { return false }
            let after = rest.dropFirst(digits.count)
            guard let marker = after.first, marker == 0x2E || marker == 0x29 else { return false }
            return after.count == 1 || after.dropFirst().first == 0x20
        }
    }

    private static func isTagByte(_ b: UInt8) -> Bool {
        // ASCII letters, digits, '_', '-', '/', and any non-ASCII byte (letters in other scripts).
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
            || b == 0x2F || b >= 0x80
    }

    private static func scanLine(_ u: [UInt8], _ start: Int, _ end: Int, _ result: inout Result,
                                 _ seenLinks: inout Set<String>, _ seenTags: inout Set<String>) {
        var i = start
        while i < end, u[i] == 0x20 { i += 1 }
        if result.firstH1 == nil, i - start <= 3, i + 1 < end, u[i] == 0x23, u[i + 1] == 0x20 {
            var t = String(decoding: u[(i + 2)..<end], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            while t.hasSuffix("#") { t.removeLast() }
            t = t.trimmingCharacters(in: .whitespaces)
            if !t.isEmpty { result.firstH1 = t }
        }
        // A heading's leading hashes are not tags.
        if i < end, u[i] == 0x23 {
            var j = i
            while j < end, u[j] == 0x23 { j += 1 }
            if j == end || u[j] == 0x20 || u[j] == 0x09 { i = j }
        }
        var p = i
        while p < end {
            let b = u[p]
            if b == 0x60 {
                // Inline code: skip to the matching run of backticks (or treat as literal if unmatched).
                var run = 0
                while p + run < end, u[p + run] == 0x60 { run += 1 }
                var q = p + run
                var closed = -1
                while q < end {
                    if u[q] == 0x60 {
                        var r = 0
                        while q + r < end, u[q + r] == 0x60 { r += 1 }
                        if r == run { closed = q + r; break }
                        q += r
                    } else {
                        q += 1
                    }
                }
                p = closed >= 0 ? closed : p + run
                continue
            }
            if b == 0x5B, p + 1 < end, u[p + 1] == 0x5B {
                // [[target#heading|alias]]
                var q = p + 2
                while q + 1 < end, !(u[q] == 0x5D && u[q + 1] == 0x5D), u[q] != 0x5B { q += 1 }
                if q + 1 < end, u[q] == 0x5D, u[q + 1] == 0x5D {
                    var targetEnd = p + 2
                    while targetEnd < q, u[targetEnd] != 0x7C, u[targetEnd] != 0x23, u[targetEnd] != 0x5E {
                        targetEnd += 1
                    }
                    let target = String(decoding: u[(p + 2)..<targetEnd], as: UTF8.self)
                        .trimmingCharacters(in: .whitespaces)
                    if !target.isEmpty, seenLinks.insert(target).inserted { result.links.append(target) }
                    p = q + 2
                    continue
                }
                p += 2
                continue
            }
            if b == 0x23 {
                let before: UInt8 = p > start ? u[p - 1] : 0x20
                // "(#tag)" is a tag, but "[text](#anchor)" is a link to a heading.
                let linkTarget = before == 0x28 && p >= start + 2 && u[p - 2] == 0x5D
                let boundaryBefore = (before == 0x20 || before == 0x09 || before == 0x28 || before == 0x2C) && !linkTarget
                if boundaryBefore {
                    var q = p + 1
                    var hasNonDigit = false
                    while q < end, isTagByte(u[q]) {
                        if !(u[q] >= 0x30 && u[q] <= 0x39) { hasNonDigit = true }
                        q += 1
                    }
                    // Trailing '/' or '-' are punctuation, not part of the tag.
                    while q > p + 1, u[q - 1] == 0x2F || u[q - 1] == 0x2D { q -= 1 }
                    if q > p + 1, hasNonDigit {
                        let tag = String(decoding: u[(p + 1)..<q], as: UTF8.self)
                        if !tag.unicodeScalars.contains(where: { $0.properties.isWhitespace }),
                           seenTags.insert(tag.lowercased()).inserted {
                            result.tags.append(tag)
                        }
                    }
                    p = max(q, p + 1)
                    continue
                }
            }
            p += 1
        }
    }
}
