import Foundation

/// Checks the one kind of answer whose shape is known in advance: a question asking for an identifier
/// ("what is my passport number", "the ticket ID of that bug", "the tracking code") is answered only by a
/// token with digits in it that a source spells out next to the thing asked about.
///
/// Small models asked for an identifier the sources lack rarely say so; they fill the slot with the nearest
/// number in sight (a price, a date, a model name) or with one they make up. All are caught here: a sum of
/// money or a date is not an identifier, an identifier no source contains was not read from the user's
/// data, and one that no source puts near the question's naming word ("frame" for "frame number", within
/// `window` words) is some other thing's code: "Corvid GR2" is a bike's model, not its frame number.
/// Questions of any other kind pass unchecked.
enum IdentifierAnswerCheck {
    /// Nouns that, after a naming word ("passport number", "order ID"), ask for an identifier.
    static let identifierNouns: Set<String> = ["number", "id", "code", "reference"]

    /// Acronyms that name an identifier by themselves ("the dial-in PIN", "my IBAN"): what comes before
    /// them may be a stop word, and they are their own naming word. Only their capitalized spelling counts,
    /// so that "where did I pin the map" asks for no identifier.
    static let identifierAcronyms: Set<String> = ["PIN", "IBAN", "ISBN", "VIN", "IMEI"]

    /// Secrets asked for by name ("the Wi-Fi password"): like an identifier, the answer is a token a source
    /// spells out next to the word, never a description of where the secret is kept.
    static let secretNouns: Set<String> = ["password", "passcode", "passphrase"]

    /// How many words apart a source may put the naming word and the identifier ("Tracking number:
    /// PH77310925GB", "I've opened ticket TP-4417 and escalated it").
    static let window = 12

    /// Whether `answer` is acceptable for `question` given the text the model was shown.
    static func accepts(_ answer: String, question: String, sources: [String]) -> Bool {
        guard let naming = namingWords(question) else { return true }
        return identifiers(in: answer, sources: sources).contains { token in
            sources.contains { mentions(token, near: naming, in: $0) }
        }
    }

    /// Words that make "number" a quantity: "the total number of guests".
    static let quantityWords: Set<String> = [
        "total", "maximum", "max", "minimum", "min", "average", "exact", "overall", "approximate", "final",
        "whole", "combined", "large", "small", "same", "right", "even", "odd", "round", "lucky",
    ]

    /// Whether `question` asks for an identifier: an identifier noun right after a naming word ("passport
    /// number", not "the number" or "total number").
    static func asksForIdentifier(_ question: String) -> Bool {
        namingWords(question) != nil
    }

    /// The words naming what the identifier belongs to (up to two, nearest first: "EMS tracking number" →
    /// tracking, ems; "the dial-in PIN" → pin; "the Wi-Fi password" → password, fi), or nil when the
    /// question asks for no identifier.
    static func namingWords(_ question: String) -> [String]? {
        let words = LexicalText.words(question)
        func naming(_ index: Int) -> Bool {
            let candidate = words[index]
            return !LexicalText.stopWords.contains(candidate) && !quantityWords.contains(candidate)
                && candidate.first?.isNumber != true
        }
        for (i, word) in words.enumerated() where identifierNouns.contains(word) && i > 0 && naming(i - 1) {
            return i >= 2 && naming(i - 2) ? [words[i - 1], words[i - 2]] : [words[i - 1]]
        }
        if let secret = words.firstIndex(where: secretNouns.contains) {
            return [words[secret]] + (secret > 0 && naming(secret - 1) ? [words[secret - 1]] : [])
        }
        let acronym = question.split(whereSeparator: { !$0.isLetter }).first { identifierAcronyms.contains(String($0)) }
        return acronym.map { [$0.lowercased()] }
    }

    /// Whether `source` spells `token` within `window` words of a word starting with a naming word's
    /// first four letters ("tracking" finds "Tracking:", "confirmation" finds "confirmed").
    static func mentions(_ token: String, near naming: [String], in source: String) -> Bool {
        let prefixes = naming.map { String($0.prefix(4)) }
        let words = source.split(whereSeparator: \.isWhitespace).map { $0.lowercased() }
        let target = token.lowercased()
        for (i, word) in words.enumerated() where word.contains(target) {
            let nearby = words[max(0, i - window)...min(words.count - 1, i + window)]
            let named = nearby.contains { piece in
                LexicalText.words(piece).contains { w in prefixes.contains { w.hasPrefix($0) } }
            }
            if named { return true }
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
            if AmountCheck.isMoney(token, before: i > 0 ? tokens[i - 1] : nil, after: i + 1 < tokens.count ? tokens[i + 1] : nil) {
                continue
            }
            if isDate(token) { continue }
            if sources.contains(where: { $0.contains(token) }) { found.append(token) }
        }
        return found
    }

    /// ISO days (2026-07-14), numeric days (14/07/2026, 7.14.2026) and times (14:30).
    private static func isDate(_ token: String) -> Bool {
        let parts = token.split(whereSeparator: { "-/.:".contains($0) })
        guard parts.count >= 2, parts.allSatisfy({ $0.allSatisfy(\.isNumber) }) else { return false }
        return token.contains(":") || parts.count == 3 && parts.contains { $0.count == 4 }
    }
}
