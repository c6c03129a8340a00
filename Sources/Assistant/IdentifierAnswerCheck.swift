import Foundation

/// Checks the one kind of answer whose shape is known in advance: a question asking for an identifier
/// ("what is my passport number", "the ticket ID of that bug", "the tracking code") is answered only by a
/// token with digits in it that the sources spell out.
///
/// Small models asked for an identifier the sources lack rarely say so; they fill the slot with the nearest
/// number in sight (a price, a date) or with one they make up. Both are caught here: a sum of money or a
/// date is not an identifier, and an identifier no source contains was not read from the user's data.
/// Questions of any other kind pass unchecked.
enum IdentifierAnswerCheck {
    /// Nouns that, after a naming word ("passport number", "order ID"), ask for an identifier.
    static let identifierNouns: Set<String> = ["number", "id", "code", "reference"]

    /// Currency words and signs that make a number next to them a sum of money.
    static let currencies: Set<String> = [
        "$", "€", "£", "¥", "usd", "eur", "gbp", "chf", "jpy", "cad", "aud", "sek", "nok", "dkk", "pln", "inr",
        "dollars", "euros", "pounds",
    ]

    /// Whether `answer` is acceptable for `question` given the text the model was shown.
    static func accepts(_ answer: String, question: String, sources: [String]) -> Bool {
        guard asksForIdentifier(question) else { return true }
        return !identifiers(in: answer, sources: sources).isEmpty
    }

    /// Words that make "number" a quantity: "the total number of guests".
    static let quantityWords: Set<String> = [
        "total", "maximum", "max", "minimum", "min", "average", "exact", "overall", "approximate", "final",
        "whole", "combined", "large", "small", "same", "right", "even", "odd", "round", "lucky",
    ]

    /// Whether `question` asks for an identifier: an identifier noun right after a naming word ("passport
    /// number", not "the number" or "total number").
    static func asksForIdentifier(_ question: String) -> Bool {
        let words = LexicalText.words(question)
        for (i, word) in words.enumerated() where identifierNouns.contains(word) && i > 0 {
            let before = words[i - 1]
            if LexicalText.stopWords.contains(before) || quantityWords.contains(before) { continue }
            if before.first?.isNumber == true { continue }
            return true
        }
        return false
    }

    /// Tokens of `answer` that can be the identifier asked for: they contain a digit, are neither money nor
    /// a date, and appear verbatim in one of `sources`. Citation markers are not tokens.
    static func identifiers(in answer: String, sources: [String]) -> [String] {
        let tokens = CitationResolver.removingMarkers(from: answer).split(whereSeparator: \.isWhitespace).map { String($0) }
        var found: [String] = []
        for (i, raw) in tokens.enumerated() {
            let token = raw.trimmingCharacters(in: CharacterSet(charactersIn: ".,;:!?()\"'“”‘’*`"))
            guard token.contains(where: \.isNumber) else { continue }
            if isMoney(token, before: i > 0 ? tokens[i - 1] : nil, after: i + 1 < tokens.count ? tokens[i + 1] : nil) {
                continue
            }
            if isDate(token) { continue }
            if sources.contains(where: { $0.contains(token) }) { found.append(token) }
        }
        return found
    }

    private static func isMoney(_ token: String, before: String?, after: String?) -> Bool {
        func currency(_ word: String?) -> Bool {
            guard let word else { return false }
            return currencies.contains(word.lowercased().trimmingCharacters(in: .punctuationCharacters))
        }
        if let first = token.first, currencies.contains(String(first)) { return true }
        if let last = token.last, currencies.contains(String(last)) { return true }
        return currency(before) || currency(after)
    }

    /// ISO days (2026-07-14), numeric days (14/07/2026, 7.14.2026) and times (14:30).
    private static func isDate(_ token: String) -> Bool {
        let parts = token.split(whereSeparator: { "-/.:".contains($0) })
        guard parts.count >= 2, parts.allSatisfy({ $0.allSatisfy(\.isNumber) }) else { return false }
        return token.contains(":") || parts.count == 3 && parts.contains { $0.count == 4 }
    }
}
