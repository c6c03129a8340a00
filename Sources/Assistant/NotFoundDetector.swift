import Foundation

/// Recognises a model's "the sources don't say" reply: the exact sentinel it was told to use, or one of the
/// phrasings small models produce instead of it.
///
/// A fuzzy phrasing only counts when it dominates the reply (it opens the answer, or the answer is short):
/// "The offsite is in May [2]. The sources do not say who books it." is an answer, not an abstention.
public struct NotFoundDetector: Sendable {
    /// The exact reply the prompt asks for when the context lacks the answer.
    public var sentinel: String

    public init(sentinel: String = NotFoundDetector.defaultSentinel) {
        self.sentinel = sentinel
    }

    public static let defaultSentinel = "NOT_FOUND"

    /// Phrasings meaning "the context does not contain the answer", matched case-insensitively after
    /// collapsing whitespace and curly apostrophes.
    static let phrases = [
        "context does not", "context doesn't", "context did not", "sources do not", "sources don't",
        "source does not", "source doesn't", "notes do not", "notes don't", "does not contain", "doesn't contain",
        "do not contain", "don't contain", "does not mention", "doesn't mention", "do not mention",
        "don't mention", "does not provide", "doesn't provide", "do not provide", "don't provide",
        "does not say", "doesn't say", "do not say", "don't say", "does not specify", "doesn't specify",
        "no information", "not mentioned", "not provided", "not specified", "not stated", "not enough information",
        "cannot answer", "can't answer", "cannot find", "can't find", "could not find", "couldn't find",
        "unable to find", "unable to answer", "i don't know", "i do not know", "there is no mention",
        "no mention of", "not available in the",
    ]

    /// Whether `answer` means the sources lack the answer.
    public func isNotFound(_ answer: String) -> Bool {
        let text = Self.normalize(answer)
        if text.isEmpty { return true }
        let compactSentinel = Self.normalize(sentinel)
        if text.hasPrefix(compactSentinel) || text.hasPrefix(compactSentinel.replacingOccurrences(of: "_", with: " ")) {
            return true
        }
        if text.contains(compactSentinel) && text.count < compactSentinel.count + 80 { return true }
        let sentences = LexicalText.sentences(in: text)
        guard let first = sentences.first else { return false }
        let cites = text.range(of: #"\[\d+\]"#, options: .regularExpression) != nil
        let short = sentences.count <= 2 && text.count <= 240
        if Self.phrases.contains(where: { first.contains($0) }), !cites || short { return true }
        if short, !cites { return Self.phrases.contains { text.contains($0) } }
        return false
    }

    /// Whether `partial` (the start of a streamed reply) could still turn into the sentinel, so that a
    /// streaming caller can hold it back instead of printing `NOT_FOUND` to the user.
    public func couldBecomeSentinel(_ partial: String) -> Bool {
        let text = partial.drop { $0.isWhitespace }.uppercased().replacingOccurrences(of: "_", with: " ")
        if text.isEmpty { return true }
        let target = sentinel.uppercased().replacingOccurrences(of: "_", with: " ")
        return target.hasPrefix(text) || text.hasPrefix(target)
    }

    /// Whether `partial` (the start of a streamed reply) already opens with the whole sentinel. Such a reply
    /// is "not found" whatever follows (`isNotFound`), so the caller can stop generating: small models go on
    /// after the sentinel with an explanation or a copy of a source.
    public func opensWithSentinel(_ partial: String) -> Bool {
        let text = partial.drop { $0.isWhitespace }.uppercased().replacingOccurrences(of: "_", with: " ")
        return text.hasPrefix(sentinel.uppercased().replacingOccurrences(of: "_", with: " "))
    }

    static func normalize(_ text: String) -> String {
        let lowered = text.lowercased().replacingOccurrences(of: "\u{2019}", with: "'")
        return lowered.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).joined(separator: " ")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
