import Foundation

/// An approximation of a WordPiece token count, for when no tokenizer is loaded.
///
/// Counts each run of letters/digits as `1 + (length − 1) / 6` tokens (long words split into several
/// word pieces), each punctuation or symbol character as one token, and each CJK ideograph, kana or
/// hangul syllable as one token. It tends to overestimate slightly, which is the safe direction for a
/// chunk limit. It does not count `[CLS]`/`[SEP]`; leave room for them in `maxTokens`.
public struct ApproximateTokenCounter: TokenCounting {
    public init() {}

    public func countTokens(_ text: String) -> Int {
        var tokens = 0
        var wordLength = 0
        @inline(__always) func endWord() {
            if wordLength > 0 { tokens += 1 + (wordLength - 1) / 6; wordLength = 0 }
        }
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v < 0x80 {
                let b = UInt8(v)
                if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) {
                    wordLength += 1
                } else if b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D || b == 0x0C || b == 0x0B {
                    endWord()
                } else {
                    endWord()
                    tokens += 1
                }
                continue
            }
            if v >= 0xC0 && v <= 0x24F && v != 0xD7 && v != 0xF7 {
                wordLength += 1  // Latin letters with diacritics, the common case outside ASCII
            } else if Self.isCJK(v) {
                endWord()
                tokens += 1
            } else if scalar.properties.isWhitespace {
                endWord()
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil
                        || scalar.properties.generalCategory == .nonspacingMark {
                wordLength += 1
            } else {
                endWord()
                tokens += 1
            }
        }
        endWord()
        return tokens
    }

    private static func isCJK(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x3040...0x30FF).contains(v)
            || (0xAC00...0xD7AF).contains(v) || (0xF900...0xFAFF).contains(v) || (0x20000...0x2FA1F).contains(v)
            || (0x3000...0x303F).contains(v) || (0xFF00...0xFFEF).contains(v)
    }
}

/// Cuts documents into pieces sized for the embedding model, following their structure.
///
/// Notes: sections by heading (each chunk carries its heading path, outermost first), then blocks
/// (paragraphs, lists, fenced code), merged while they fit under one heading; consecutive chunks of one
/// section overlap by up to `overlapTokens` of whole trailing blocks or lines. A fenced code block is only
/// split (by lines) when it alone exceeds the limit. Over-long lines are split by sentences, then words,
/// then characters. Mail: the sender's own words (`ReplyCleaner.ownLines`), by paragraph, same limits;
/// a message with no words of its own (a bare forward) is chunked whole.
///
/// Every chunk's text is a verbatim span of the (cleaned) body, its line range is exact in the source
/// file (the note, or the mbox via `bodyLineOffset`), and `counter.countTokens(text) <= maxTokens`.
/// Each unit of text is counted once, so chunking is linear in the document's size.
public struct Chunker: Sendable {
    public let counter: any TokenCounting
    public let maxTokens: Int
    public let overlapTokens: Int
    /// Upper bound on a chunk's UTF-8 size, so that text a tokenizer counts as few tokens (one
    /// 3 MB "word" is a single `[UNK]` for WordPiece) still yields sensibly sized chunks.
    public let maxChunkBytes: Int

    public init(counter: any TokenCounting, maxTokens: Int = 256, overlapTokens: Int = 32) {
        self.counter = counter
        self.maxTokens = max(1, maxTokens)
        self.overlapTokens = max(0, min(overlapTokens, maxTokens / 2))
        self.maxChunkBytes = max(64, self.maxTokens * 16)
    }

    public func chunks(for document: Document) -> [Chunk] {
        var text = ChunkText()
        switch document.kind {
        case .note:
            var lineIndex = 0
            var first = true
            for line in TextScan.lines(document.body) {
                text.append(line, sourceLine: document.bodyLineOffset + lineIndex, first: first)
                first = false
                lineIndex += 1
            }
        case .mail:
            var own = ReplyCleaner.ownLines(document.body)
            if own.isEmpty {
                // Nothing of the sender's own (a bare forward, only quotes): the carried text is all there is.
                own = TextScan.lines(document.body).enumerated().map { OwnLine(lineIndex: $0.offset, text: String($0.element)) }
            }
            for (k, line) in own.enumerated() {
                text.append(Substring(line.text), sourceLine: document.bodyLineOffset + line.lineIndex, first: k == 0)
            }
        }
        let sections = BlockParser.sections(text, syntax: document.kind == .note ? document.noteSyntax : nil)
        var out: [Chunk] = []
        for section in sections {
            var units: [Unit] = []
            for block in section.blocks { units += self.units(for: block, in: text) }
            pack(units, headingPath: section.headingPath, text: text, into: &out)
        }
        return out
    }

    // MARK: Units

    /// A contiguous span of the text that is kept whole inside one chunk.
    struct Unit {
        var start: Int  // byte offsets into ChunkText.bytes
        var end: Int
        var firstLine: Int  // indices into ChunkText.lines
        var lastLine: Int
        var tokens: Int
        /// Whether the unit is a multi-line block that could be split by lines if the real count disagrees.
        var isBlock: Bool
    }

    private func count(_ text: ChunkText, _ start: Int, _ end: Int) -> Int {
        counter.countTokens(text.string(start, end))
    }

    private func units(for block: Block, in text: ChunkText) -> [Unit] {
        var lineUnits: [Unit] = []
        var total = 0
        var oversizedLine = false
        for line in block.firstLine...block.lastLine {
            let r = text.lines[line].range
            let tokens = count(text, r.lowerBound, r.upperBound)
            if tokens > maxTokens || r.count > maxChunkBytes { oversizedLine = true }
            total += tokens
            if r.isEmpty { continue }
            lineUnits.append(Unit(start: r.lowerBound, end: r.upperBound, firstLine: line, lastLine: line,
                                  tokens: tokens, isBlock: false))
        }
        guard !lineUnits.isEmpty else { return [] }
        let start = lineUnits[0].start, end = lineUnits[lineUnits.count - 1].end
        if !oversizedLine, total <= maxTokens, end - start <= maxChunkBytes {
            return [Unit(start: start, end: end, firstLine: block.firstLine, lastLine: block.lastLine,
                         tokens: total, isBlock: block.firstLine != block.lastLine)]
        }
        var result: [Unit] = []
        for unit in lineUnits {
            if unit.tokens <= maxTokens, unit.end - unit.start <= maxChunkBytes { result.append(unit) }
            else { result += splitLine(unit, text) }
        }
        return result
    }

    /// Splits one over-long line into sentences, words, and at last characters.
    private func splitLine(_ line: Unit, _ text: ChunkText) -> [Unit] {
        var result: [Unit] = []
        let sentences = text.spans(line.start, line.end, breakAfterSentence: true)
        for sentence in sentences {
            // A span as long as the whole line is already known to be too big: do not count it again.
            let whole = sentences.count == 1 && sentence.count >= line.end - line.start
            let tokens = whole ? Int.max : count(text, sentence.lowerBound, sentence.upperBound)
            if tokens <= maxTokens, sentence.count <= maxChunkBytes {
                result.append(Unit(start: sentence.lowerBound, end: sentence.upperBound, firstLine: line.firstLine,
                                   lastLine: line.lastLine, tokens: tokens, isBlock: false))
                continue
            }
            let words = text.spans(sentence.lowerBound, sentence.upperBound, breakAfterSentence: false)
            for word in words {
                let wholeWord = words.count == 1 && word.count >= sentence.count
                let wordTokens = wholeWord ? Int.max : count(text, word.lowerBound, word.upperBound)
                if wordTokens <= maxTokens, word.count <= maxChunkBytes {
                    result.append(Unit(start: word.lowerBound, end: word.upperBound, firstLine: line.firstLine,
                                       lastLine: line.lastLine, tokens: wordTokens, isBlock: false))
                } else {
                    result += splitCharacters(word, line: line.firstLine, text)
                }
            }
        }
        return result
    }

    /// Cuts a span with no spaces into pieces that fit, at scalar boundaries. The piece length adapts:
    /// halved when a piece is over the limit, so each byte is counted a bounded number of times.
    private func splitCharacters(_ span: Range<Int>, line: Int, _ text: ChunkText) -> [Unit] {
        var result: [Unit] = []
        var start = span.lowerBound
        var length = maxChunkBytes
        while start < span.upperBound {
            var end = text.scalarBoundary(atOrBefore: min(span.upperBound, start + length), after: start)
            var tokens = count(text, start, end)
            while tokens > maxTokens, end > text.scalarBoundary(atOrBefore: start + 1, after: start) {
                length = max(1, (end - start) / 2)
                end = text.scalarBoundary(atOrBefore: start + length, after: start)
                tokens = count(text, start, end)
            }
            result.append(Unit(start: start, end: end, firstLine: line, lastLine: line, tokens: tokens, isBlock: false))
            start = end
        }
        return result
    }

    // MARK: Packing

    private func pack(_ units: [Unit], headingPath: [String], text: ChunkText, into out: inout [Chunk]) {
        var current: [Unit] = []
        var tokens = 0
        for unit in units {
            if !current.isEmpty, tokens + unit.tokens > maxTokens || unit.end - current[0].start > maxChunkBytes {
                emit(current, headingPath: headingPath, text: text, into: &out)
                // Overlap: whole trailing units of the chunk just emitted, never all of it.
                var overlap: [Unit] = []
                var overlapTokensUsed = 0
                for previous in current.dropFirst().reversed() {
                    if overlapTokensUsed + previous.tokens > overlapTokens { break }
                    overlap.insert(previous, at: 0)
                    overlapTokensUsed += previous.tokens
                }
                current = overlap
                tokens = overlapTokensUsed
                if let first = current.first,
                   tokens + unit.tokens > maxTokens || unit.end - first.start > maxChunkBytes {
                    current = []
                    tokens = 0
                }
            }
            current.append(unit)
            tokens += unit.tokens
        }
        if !current.isEmpty { emit(current, headingPath: headingPath, text: text, into: &out) }
    }

    /// Emits a chunk after checking the real count of its exact text; a counter that is not additive over
    /// whitespace-separated pieces can disagree with the sum, and then the chunk is rebuilt piece by piece.
    private func emit(_ units: [Unit], headingPath: [String], text: ChunkText, into out: inout [Chunk]) {
        guard let first = units.first, let last = units.last else { return }
        let string = text.string(first.start, last.end)
        if units.count == 1 && !first.isBlock || counter.countTokens(string) <= maxTokens {
            out.append(Chunk(ordinal: out.count, text: string, headingPath: headingPath,
                             lineStart: text.lines[first.firstLine].sourceLine,
                             lineEnd: text.lines[last.lastLine].sourceLine))
            return
        }
        // Greedy rebuild with real counts, block units broken into their lines.
        var pieces: [Unit] = []
        for unit in units {
            if unit.isBlock {
                for line in unit.firstLine...unit.lastLine where !text.lines[line].range.isEmpty {
                    let r = text.lines[line].range
                    pieces.append(Unit(start: r.lowerBound, end: r.upperBound, firstLine: line, lastLine: line,
                                       tokens: count(text, r.lowerBound, r.upperBound), isBlock: false))
                }
            } else {
                pieces.append(unit)
            }
        }
        var start = 0
        while start < pieces.count {
            var end = start + 1
            while end < pieces.count, counter.countTokens(text.string(pieces[start].start, pieces[end].end)) <= maxTokens,
                  pieces[end].end - pieces[start].start <= maxChunkBytes {
                end += 1
            }
            let piece = pieces[start..<end]
            out.append(Chunk(ordinal: out.count, text: text.string(piece.first!.start, piece.last!.end),
                             headingPath: headingPath, lineStart: text.lines[piece.first!.firstLine].sourceLine,
                             lineEnd: text.lines[piece.last!.lastLine].sourceLine))
            start = end
        }
    }
}

/// The text being chunked: UTF-8 bytes with line ranges and each line's line number in the source file.
struct ChunkText {
    var bytes: [UInt8] = []
    var lines: [(range: Range<Int>, sourceLine: Int)] = []

    mutating func append(_ line: Substring, sourceLine: Int, first: Bool) {
        if !first { bytes.append(0x0A) }
        let start = bytes.count
        bytes.append(contentsOf: line.utf8)
        lines.append((start..<bytes.count, sourceLine))
    }

    func string(_ start: Int, _ end: Int) -> String {
        String(decoding: bytes[start..<end], as: UTF8.self)
    }

    func line(_ i: Int) -> ArraySlice<UInt8> { bytes[lines[i].range] }

    /// The largest UTF-8 scalar boundary ≤ `index` that is > `after` (or the next boundary after `after`).
    func scalarBoundary(atOrBefore index: Int, after: Int) -> Int {
        var i = min(index, bytes.count)
        while i > after + 1, i < bytes.count, bytes[i] & 0xC0 == 0x80 { i -= 1 }
        if i <= after {
            i = after + 1
            while i < bytes.count, bytes[i] & 0xC0 == 0x80 { i += 1 }
        }
        return i
    }

    /// Spans of non-space text inside `start..<end`, separated at whitespace: every gap when words are
    /// wanted, only gaps after `.`, `!`, `?` (or CJK full stops, which need no space) for sentences.
    func spans(_ start: Int, _ end: Int, breakAfterSentence: Bool) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var i = start
        while i < end, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
        var spanStart = i
        while i < end {
            let b = bytes[i]
            if b == 0x20 || b == 0x09 {
                let prev = bytes[i - 1]
                let isBreak = !breakAfterSentence || prev == 0x2E || prev == 0x21 || prev == 0x3F
                if isBreak, i > spanStart {
                    result.append(spanStart..<i)
                    while i < end, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
                    spanStart = i
                    continue
                }
            } else if breakAfterSentence, b == 0xE3, i + 2 < end, bytes[i + 1] == 0x80, bytes[i + 2] == 0x82 {
                // "。" ends a sentence with no space after it.
                result.append(spanStart..<(i + 3))
                i += 3
                spanStart = i
                continue
            }
            i += 1
        }
        if spanStart < end {
            var e = end
            while e > spanStart, bytes[e - 1] == 0x20 || bytes[e - 1] == 0x09 { e -= 1 }
            if e > spanStart { result.append(spanStart..<e) }
        }
        return result
    }
}

/// A run of lines kept together: a paragraph or list, a fenced code block, or a heading.
struct Block {
    var firstLine: Int
    var lastLine: Int
}

struct Section {
    var headingPath: [String]
    var blocks: [Block]
}

/// Finds headings, fenced code blocks and paragraphs in the lines of a `ChunkText`.
enum BlockParser {
    /// Sections by heading and the blocks in them; `syntax` nil reads plain text (mail), whose only
    /// blocks are paragraphs.
    static func sections(_ text: ChunkText, syntax: NoteSyntax?) -> [Section] {
        let markdown = syntax == .markdown
        let org = syntax == .org
        var sections: [Section] = [Section(headingPath: [], blocks: [])]
        var stack: [(level: Int, title: String)] = []
        var paragraphStart: Int?
        var i = 0
        let n = text.lines.count

        func closeParagraph(_ end: Int) {
            if let s = paragraphStart, end >= s { sections[sections.count - 1].blocks.append(Block(firstLine: s, lastLine: end)) }
            paragraphStart = nil
        }
        func startSection(level: Int, title: String, block: Block) {
            while let last = stack.last, last.level >= level { stack.removeLast() }
            stack.append((level, ShortLabel.clipped(title)))
            sections.append(Section(headingPath: stack.map(\.title), blocks: [block]))
        }

        while i < n {
            let line = text.line(i)
            let isBlank = line.allSatisfy { $0 == 0x20 || $0 == 0x09 }
            if isBlank { closeParagraph(i - 1); i += 1; continue }
            if markdown, let fence = fenceOpening(line) {
                closeParagraph(i - 1)
                var j = i + 1
                while j < n, !isFenceClosing(text.line(j), fence) { j += 1 }
                let last = min(j, n - 1)
                sections[sections.count - 1].blocks.append(Block(firstLine: i, lastLine: last))
                i = last + 1
                continue
            }
            if org, let end = orgBlockEnd(text, from: i) {
                // #+begin_src … #+end_src (and example, quote blocks) stay whole, like fences.
                closeParagraph(i - 1)
                sections[sections.count - 1].blocks.append(Block(firstLine: i, lastLine: end))
                i = end + 1
                continue
            }
            if org, line.first == 0x2A, let heading = OrgHeading(String(decoding: line, as: UTF8.self)) {
                closeParagraph(i - 1)
                startSection(level: heading.level, title: heading.title, block: Block(firstLine: i, lastLine: i))
                i += 1
                continue
            }
            if markdown, let (level, title) = atxHeading(line) {
                closeParagraph(i - 1)
                startSection(level: level, title: title, block: Block(firstLine: i, lastLine: i))
                i += 1
                continue
            }
            if markdown, let s = paragraphStart, let level = setextLevel(line) {
                var title = ""
                for k in s..<i {
                    if !title.isEmpty { title += " " }
                    title += String(decoding: text.line(k), as: UTF8.self).trimmingCharacters(in: .whitespaces)
                }
                paragraphStart = nil
                startSection(level: level, title: title, block: Block(firstLine: s, lastLine: i))
                i += 1
                continue
            }
            if paragraphStart == nil { paragraphStart = i }
            i += 1
        }
        closeParagraph(n - 1)
        return sections.filter { !$0.blocks.isEmpty }
    }

    /// The last line of an Org block opened at `start` (`#+begin_…` to `#+end_…`, any case), or nil when
    /// no block opens there. An unclosed block runs to the end, as Org reads it.
    private static func orgBlockEnd(_ text: ChunkText, from start: Int) -> Int? {
        func starts(_ line: ArraySlice<UInt8>, with prefix: String) -> Bool {
            let trimmed = line.drop(while: { $0 == 0x20 || $0 == 0x09 })
            return trimmed.count >= prefix.utf8.count
                && zip(trimmed, prefix.utf8).allSatisfy { a, b in a | 0x20 == b | 0x20 }
        }
        guard starts(text.line(start), with: "#+begin_") else { return nil }
        var j = start + 1
        while j < text.lines.count, !starts(text.line(j), with: "#+end_") { j += 1 }
        return min(j, text.lines.count - 1)
    }

    /// A code fence opened by `line` (three or more backticks or tildes after at most three spaces).
    static func fenceOpening(_ line: ArraySlice<UInt8>) -> (char: UInt8, length: Int)? {
        var l = line.drop(while: { $0 == 0x20 })
        guard line.count - l.count <= 3, let c = l.first, c == 0x60 || c == 0x7E else { return nil }
        var run = 0
        while let f = l.first, f == c { run += 1; l = l.dropFirst() }
        guard run >= 3 else { return nil }
        if c == 0x60, l.contains(0x60) { return nil }  // backticks in the info string: inline code
        return (c, run)
    }

    static func isFenceClosing(_ line: ArraySlice<UInt8>, _ fence: (char: UInt8, length: Int)) -> Bool {
        var l = line.drop(while: { $0 == 0x20 })
        guard line.count - l.count <= 3 else { return false }
        var run = 0
        while let f = l.first, f == fence.char { run += 1; l = l.dropFirst() }
        return run >= fence.length && l.allSatisfy { $0 == 0x20 || $0 == 0x09 }
    }

    private static func atxHeading(_ line: ArraySlice<UInt8>) -> (Int, String)? {
        var l = line.drop(while: { $0 == 0x20 })
        guard line.count - l.count <= 3 else { return nil }
        var level = 0
        while let f = l.first, f == 0x23 { level += 1; l = l.dropFirst() }
        guard (1...6).contains(level), l.isEmpty || l.first == 0x20 || l.first == 0x09 else { return nil }
        var title = String(decoding: l, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        // Closing hashes: "## Title ##".
        if title.hasSuffix("#") {
            let stripped = title.reversed().drop(while: { $0 == "#" })
            if stripped.first == " " || stripped.isEmpty { title = String(stripped.reversed()).trimmingCharacters(in: .whitespaces) }
        }
        return (level, title)
    }

    private static func setextLevel(_ line: ArraySlice<UInt8>) -> Int? {
        var l = line.drop(while: { $0 == 0x20 })
        while let last = l.last, last == 0x20 || last == 0x09 { l = l.dropLast() }
        guard l.count >= 3, let c = l.first, c == 0x3D || c == 0x2D, l.allSatisfy({ $0 == c }) else { return nil }
        return c == 0x3D ? 1 : 2
    }
}
