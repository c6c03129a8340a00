import Foundation
import Index
import Ingest

/// A source shown under an answer: which context chunk supports it and the sentence from that chunk that does.
///
/// Built only by `CitationResolver`, which takes `n` from the context and `quote` verbatim from the chunk's
/// text; nothing here is copied from model output.
public struct Citation: Sendable, Equatable, Encodable {
    /// The context id the answer cites as `[n]`.
    public var n: Int
    public var kind: DocumentKind
    public var path: String
    public var lineStart: Int
    public var lineEnd: Int
    public var messageID: String?
    /// Note title or mail subject.
    public var title: String
    public var from: String?
    public var date: Date?
    /// A sentence of the chunk, verbatim.
    public var quote: String

    public init(n: Int, hit: SearchHit, quote: String) {
        self.n = n
        self.kind = hit.kind
        self.path = hit.path
        self.lineStart = hit.lineStart
        self.lineEnd = hit.lineEnd
        self.messageID = hit.messageID
        self.title = hit.title
        self.from = hit.from
        self.date = hit.date
        self.quote = quote
    }

    /// `[n] path:start-end (date)` for notes, `[n] Subject — From, date <Message-ID>` for mail.
    public var sourceLine: String {
        SourceLine.format(n: n, hit: asHit)
    }

    private var asHit: SearchHit {
        SearchHit(
            chunkID: 0, documentID: 0, score: 0, kind: kind, path: path, lineStart: lineStart, lineEnd: lineEnd,
            messageID: messageID, title: title, from: from, date: date, heading: nil, text: quote)
    }

    enum CodingKeys: String, CodingKey {
        case n, kind, path, lineStart = "line_start", lineEnd = "line_end", messageID = "message_id", subject
        case from, date, quote
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(n, forKey: .n)
        try c.encode(kind.rawValue, forKey: .kind)
        try c.encode(path, forKey: .path)
        try c.encode(lineStart, forKey: .lineStart)
        try c.encode(lineEnd, forKey: .lineEnd)
        try c.encode(messageID, forKey: .messageID)
        try c.encode(title, forKey: .subject)
        try c.encode(from, forKey: .from)
        try c.encode(date.map(DateLabel.iso), forKey: .date)
        try c.encode(quote, forKey: .quote)
    }
}

/// Turns a model's answer into checked citations.
///
/// The model is only trusted to point: it writes `[n]` after a sentence. Code then (1) drops ids that were not
/// in the context, (2) picks as quote the sentence of chunk n sharing the most content words with the answer
/// sentence that cites it, and (3) when the model cites nothing, attributes each answer sentence to the chunk
/// sentence it overlaps most, if the overlap is real. Quotes are substrings of the chunk text by construction,
/// and `verify` re-checks that.
public struct CitationResolver: Sendable {
    /// Overlap score (see `LexicalText.overlap`) below which an uncited sentence is not attributed.
    public var minimumOverlap: Double
    /// Longest quote in characters; longer sentences are cut at a word boundary (still verbatim).
    public var maxQuoteLength: Int

    public init(minimumOverlap: Double = 0.2, maxQuoteLength: Int = 300) {
        self.minimumOverlap = minimumOverlap
        self.maxQuoteLength = maxQuoteLength
    }

    /// A citation marker in an answer: `[2]`, `[1, 3]`, `[1][2]` (two markers), `[Source 2]`.
    public struct Marker: Sendable, Equatable {
        public var range: Range<String.Index>
        public var ids: [Int]
    }

    /// The answer with markers to unknown ids removed (and markers added where code attributed an uncited
    /// sentence), and the checked citations ordered by `n`.
    public struct Resolution: Sendable, Equatable {
        public var answer: String
        public var citations: [Citation]
    }

    /// All citation markers in `text`, in order.
    public static func markers(in text: String) -> [Marker] {
        var result: [Marker] = []
        var index = text.startIndex
        while let open = text[index...].firstIndex(of: "[") {
            guard let close = text[open...].prefix(48).firstIndex(of: "]") else {
                index = text.index(after: open)
                continue
            }
            let inner = text[text.index(after: open)..<close]
            if let ids = parseIDs(inner) {
                result.append(Marker(range: open..<text.index(after: close), ids: ids))
                index = text.index(after: close)
            } else {
                index = text.index(after: open)
            }
        }
        return result
    }

    /// `text` with every citation marker replaced by a space, for checks on what an answer says.
    public static func removingMarkers(from text: String) -> String {
        var result = ""
        var from = text.startIndex
        for marker in markers(in: text) {
            result += text[from..<marker.range.lowerBound] + " "
            from = marker.range.upperBound
        }
        return result + text[from...]
    }

    /// `1`, `1, 2`, `1;2`, `source 1`, `Sources 1 and 3` → ids; anything else → nil.
    private static func parseIDs(_ inner: Substring) -> [Int]? {
        var words = inner.lowercased()
            .replacingOccurrences(of: ",", with: " ").replacingOccurrences(of: ";", with: " ")
            .split(separator: " ").map(String.init)
        words.removeAll { $0 == "source" || $0 == "sources" || $0 == "and" || $0 == "&" }
        guard !words.isEmpty, words.count <= 12 else { return nil }
        var ids: [Int] = []
        for word in words {
            guard word.count <= 4, let id = Int(word), id > 0 else { return nil }
            if !ids.contains(id) { ids.append(id) }
        }
        return ids
    }

    /// Resolves the citations of `answer` against the context `items`; `question` helps place quotes for
    /// answer sentences too short to match on their own ("Yes [1].").
    public func resolve(answer: String, items: [ContextItem], question: String = "") -> Resolution {
        let byID = Dictionary(items.map { ($0.n, $0) }, uniquingKeysWith: { first, _ in first })
        let markers = Self.markers(in: answer)
        let cleaned = rewriteMarkers(answer, markers: markers, valid: Set(byID.keys))
        let sentences = citedSentences(in: cleaned)
        let questionWords = LexicalText.contentWords(question)

        var best: [Int: (score: Double, quote: String)] = [:]
        func offer(_ n: Int, _ score: Double, _ quote: String) {
            if let current = best[n], current.score >= score { return }
            best[n] = (score, quote)
        }
        var attributedAnswer = cleaned
        var insertions: [(String.Index, Int)] = []
        let anyCited = sentences.contains { !$0.ids.isEmpty }

        for sentence in sentences {
            var words = LexicalText.contentWords(sentence.text)
            if words.count < 2 { words.formUnion(questionWords) }
            if anyCited {
                for n in sentence.ids {
                    guard let item = byID[n] else { continue }
                    let match = bestSentence(in: item, for: words)
                    if match.score > 0 {
                        offer(n, match.score, match.quote)
                    } else if let other = bestItem(items, for: words), other.score >= minimumOverlap {
                        // The model pointed at a chunk that shares nothing with its sentence; credit the chunk
                        // that does support it rather than show an unrelated quote.
                        offer(other.n, other.score, other.quote)
                    } else {
                        offer(n, 0, bestSentence(in: item, for: questionWords).quote)
                    }
                }
            } else if let match = bestItem(items, for: words), match.score >= minimumOverlap {
                offer(match.n, match.score, match.quote)
                insertions.append((sentence.contentEnd, match.n))
            }
        }
        if !insertions.isEmpty {
            // Rebuild from slices of the unmodified text so no index outlives a mutation.
            var rebuilt = ""
            var from = cleaned.startIndex
            for (position, n) in insertions.sorted(by: { $0.0 < $1.0 }) {
                rebuilt += cleaned[from..<position] + " [\(n)]"
                from = position
            }
            attributedAnswer = rebuilt + cleaned[from...]
        }
        let citations = best.keys.sorted().compactMap { n -> Citation? in
            guard let item = byID[n], let quote = best[n]?.quote, !quote.isEmpty else { return nil }
            return Citation(n: n, hit: item.hit, quote: quote)
        }
        return Resolution(answer: attributedAnswer, citations: citations)
    }

    /// Whether `citation` points at a context item and its quote occurs verbatim in that item's text.
    public static func verify(_ citation: Citation, items: [ContextItem]) -> Bool {
        guard let item = items.first(where: { $0.n == citation.n }) else { return false }
        return !citation.quote.isEmpty && item.text.contains(citation.quote) && item.hit.path == citation.path
    }

    // MARK: - Pieces

    private struct CitedSentence {
        var text: String
        var ids: [Int]
        /// Where an attribution marker goes: after the last word, before closing punctuation.
        var contentEnd: String.Index
    }

    /// Sentences of the answer with the ids cited in them. Markers standing before any word of a sentence
    /// ("…March 14. [2]") belong to the previous sentence.
    private func citedSentences(in answer: String) -> [CitedSentence] {
        let markers = Self.markers(in: answer)
        var result: [CitedSentence] = []
        for range in LexicalText.sentenceRanges(in: answer) {
            let inside = markers.filter { range.contains($0.range.lowerBound) }
            var text = String(answer[range])
            for marker in inside.reversed() {
                let lower = text.index(text.startIndex, offsetBy: answer.distance(from: range.lowerBound, to: marker.range.lowerBound))
                let upper = text.index(lower, offsetBy: answer.distance(from: marker.range.lowerBound, to: marker.range.upperBound))
                text.replaceSubrange(lower..<upper, with: " ")
            }
            let ids = inside.flatMap(\.ids)
            let hasWords = !LexicalText.words(text).isEmpty
            if !hasWords, !result.isEmpty {
                result[result.count - 1].ids.append(contentsOf: ids)
                continue
            }
            if let first = inside.first, !result.isEmpty,
                LexicalText.words(answer[range.lowerBound..<first.range.lowerBound]).isEmpty
            {
                result[result.count - 1].ids.append(contentsOf: first.ids)
                text = String(answer[first.range.upperBound..<range.upperBound])
                result.append(CitedSentence(
                    text: text, ids: inside.dropFirst().flatMap(\.ids), contentEnd: contentEnd(of: range, in: answer)))
                continue
            }
            result.append(CitedSentence(text: text, ids: ids, contentEnd: contentEnd(of: range, in: answer)))
        }
        return result
    }

    private func contentEnd(of range: Range<String.Index>, in text: String) -> String.Index {
        var end = range.upperBound
        while end > range.lowerBound {
            let before = text.index(before: end)
            if ".!?:;".contains(text[before]) { end = before } else { break }
        }
        return end
    }

    /// Replaces each marker by one listing only valid ids, or removes it (with the space before it).
    private func rewriteMarkers(_ answer: String, markers: [Marker], valid: Set<Int>) -> String {
        var text = ""
        var from = answer.startIndex
        for marker in markers {
            let kept = marker.ids.filter(valid.contains)
            var piece = answer[from..<marker.range.lowerBound]
            if kept.isEmpty {
                if piece.last == " " { piece = piece.dropLast() }
                text += piece
            } else {
                text += piece + kept.map { "[\($0)]" }.joined()
            }
            from = marker.range.upperBound
        }
        return text + answer[from...]
    }

    private func bestItem(_ items: [ContextItem], for words: Set<String>) -> (n: Int, score: Double, quote: String)? {
        var best: (n: Int, score: Double, quote: String)?
        for item in items {
            let match = bestSentence(in: item, for: words)
            if match.score > (best?.score ?? 0) { best = (item.n, match.score, match.quote) }
        }
        return best
    }

    /// The chunk sentence sharing the most content words with `words`; the first substantial sentence if none do.
    func bestSentence(in item: ContextItem, for words: Set<String>) -> (score: Double, quote: String) {
        let ranges = LexicalText.sentenceRanges(in: item.text)
        var bestScore = 0.0
        var bestRange: Range<String.Index>?
        for range in ranges {
            let candidate = LexicalText.contentWords(item.text[range])
            let score = LexicalText.overlap(words, candidate)
            if score > bestScore {
                bestScore = score
                bestRange = range
            }
        }
        let chosen = bestRange
            ?? ranges.first { LexicalText.contentWords(item.text[$0]).count >= 3 }
            ?? ranges.first
        guard let chosen else { return (0, "") }
        return (bestScore, capped(String(item.text[chosen])))
    }

    /// `quote` cut at a word boundary to `maxQuoteLength` characters; a prefix, so still verbatim.
    private func capped(_ quote: String) -> String {
        guard quote.count > maxQuoteLength else { return quote }
        let prefix = quote.prefix(maxQuoteLength)
        if let space = prefix.lastIndex(of: " ") { return String(prefix[..<space]) }
        return String(prefix)
    }
}
