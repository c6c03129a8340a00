import Foundation

/// Small, dependency-free text tools for matching answers to sources: words, content words, sentences.
enum LexicalText {
    /// Lowercased runs of letters and digits.
    static func words(_ text: some StringProtocol) -> [String] {
        var result: [String] = []
        var current = ""
        for scalar in text.unicodeScalars {
            if CharacterSet.alphanumerics.contains(scalar) {
                current.unicodeScalars.append(scalar)
            } else if !current.isEmpty {
                result.append(current.lowercased())
                current = ""
            }
        }
        if !current.isEmpty { result.append(current.lowercased()) }
        return result
    }

    /// Words that carry meaning: no stop words, no one-letter words (digits are kept: dates and numbers matter),
    /// lightly stemmed so that "decided"/"decides" and "meetings"/"meeting" match.
    static func contentWords(_ text: some StringProtocol) -> Set<String> {
        var result = Set<String>()
        for word in words(text) {
            if stopWords.contains(word) { continue }
            if word.count < 2, !(word.first?.isNumber ?? false) { continue }
            result.insert(stem(word))
        }
        return result
    }

    /// Strips a few common English suffixes; enough for overlap scoring, not linguistics.
    static func stem(_ word: String) -> String {
        guard word.count > 4, !(word.first?.isNumber ?? false) else { return word }
        for suffix in ["ing", "ed", "s"] where word.hasSuffix(suffix) && word.count - suffix.count >= 3 {
            if suffix == "s" && word.hasSuffix("ss") { return word }
            return String(word.dropLast(suffix.count))
        }
        return word
    }

    /// The sentences of `text` as ranges, whitespace-trimmed: split after `.`, `!`, `?` followed by space, and at
    /// line breaks (notes are full of bullets and headings that end without a full stop).
    static func sentenceRanges(in text: String) -> [Range<String.Index>] {
        var ranges: [Range<String.Index>] = []
        var start = text.startIndex
        var index = text.startIndex
        func close(at end: String.Index) {
            if let trimmed = trim(start..<end, in: text) { ranges.append(trimmed) }
        }
        while index < text.endIndex {
            let c = text[index]
            let next = text.index(after: index)
            if c.isNewline {
                close(at: index)
                start = next
            } else if c == "." || c == "!" || c == "?" {
                if next == text.endIndex || text[next].isWhitespace {
                    close(at: next)
                    start = next
                }
            }
            index = next
        }
        close(at: text.endIndex)
        return ranges
    }

    static func sentences(in text: String) -> [String] {
        sentenceRanges(in: text).map { String(text[$0]) }
    }

    private static func trim(_ range: Range<String.Index>, in text: String) -> Range<String.Index>? {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, text[lower].isWhitespace { lower = text.index(after: lower) }
        while upper > lower {
            let before = text.index(before: upper)
            if text[before].isWhitespace { upper = before } else { break }
        }
        return lower < upper ? lower..<upper : nil
    }

    /// How much of `a`'s meaning `b` covers: shared content words weighted towards rarer, longer words and numbers.
    static func overlap(_ a: Set<String>, _ b: Set<String>) -> Double {
        guard !a.isEmpty, !b.isEmpty else { return 0 }
        var shared = 0.0
        for word in a where b.contains(word) {
            shared += (word.first?.isNumber ?? false) ? 1.5 : 1.0
        }
        guard shared > 0 else { return 0 }
        // Normalise by both sizes so that a long source sentence does not win by sheer length.
        return shared / (Double(a.count).squareRoot() * Double(b.count).squareRoot())
    }

    static let stopWords: Set<String> = [
        "a", "an", "the", "and", "or", "but", "if", "then", "so", "of", "to", "in", "on", "at", "by", "for", "with",
        "from", "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that", "these",
        "those", "there", "here", "he", "she", "they", "them", "we", "us", "you", "your", "our", "i", "me", "my",
        "his", "her", "their", "what", "which", "who", "whom", "when", "where", "why", "how", "do", "does", "did",
        "have", "has", "had", "will", "would", "should", "could", "can", "may", "might", "must", "shall", "not",
        "no", "yes", "about", "into", "over", "than", "too", "very", "just", "also", "any", "all", "some", "such",
        "up", "out", "per", "via", "according", "source", "sources", "based", "mentioned", "stated", "says",
        "said", "note", "notes", "email", "mail",
    ]
}
