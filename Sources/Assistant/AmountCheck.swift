import Foundation

/// Checks the sums of money in a reply against the sums the sources state, and what they state them for.
///
/// A small model asked "how much did we raise?" with no total in sight writes one anyway ("$28 million"),
/// often built from a number it saw elsewhere (28 marshals). A sum of money that no source states as a
/// sum of money was not read from the user's data, so such a reply is not an answer. The comparison is on
/// the amount alone: "GBP 1,195", "£1,195" and "1195 pounds" are one amount, and so are "$5,320" and
/// "$5,320.00"; the currency is not compared, since models swap signs and codes freely.
///
/// Nor is a real sum pinned on the wrong thing: asked what the plumber charged the neighbour, a small model
/// answers "€250" from "The excess on my contents policy is €250". So a source must state the sum where it
/// speaks of what the reply or the question speaks of: the sentence holding the sum, the sentences on
/// either side (an invoice's total sits under its items) or the source's header share a word with the
/// reply's sentence or the question.
enum AmountCheck {
    /// Currency words and signs that make a number next to them a sum of money.
    static let currencies: Set<String> = [
        "$", "€", "£", "¥", "usd", "eur", "gbp", "chf", "jpy", "cad", "aud", "sek", "nok", "dkk", "pln", "inr",
        "dollars", "euros", "pounds", "dollar", "euro", "pound", "quid", "bucks",
    ]

    /// Words that scale the number before them; kept with the amount ("28 million" is not 28).
    static let scales: Set<String> = ["thousand", "million", "billion", "k", "m", "bn"]

    /// Whether every sum of money in `reply` is one a source in `sources` states about the same thing.
    /// Each source is a fenced context block: its first line is the header (title, section, sender).
    static func accepts(_ reply: String, question: String, sources: [String]) -> Bool {
        let text = CitationResolver.removingMarkers(from: reply)
        let asked = topicWords(question)
        let statements = sources.flatMap(sumStatements)
        for sentence in LexicalText.sentences(in: text) {
            let topic = topicWords(sentence).union(asked)
            for sum in amounts(in: sentence) where !statements.contains(where: { $0.sums.contains(sum) && !$0.topic.isDisjoint(with: topic) }) {
                return false
            }
        }
        return true
    }

    /// Each sentence of `source` that states a sum of money: its sums, and the topic words around it
    /// (the sentence, its neighbours and the source's header).
    private static func sumStatements(_ source: String) -> [(sums: Set<String>, topic: Set<String>)] {
        let header = source.prefix { !$0.isNewline }
        let sentences = LexicalText.sentences(in: String(source.dropFirst(header.count)))
        let headerTopic = topicWords(header)
        return sentences.indices.compactMap { index in
            let sums = amounts(in: sentences[index])
            guard !sums.isEmpty else { return nil }
            let around = sentences[max(0, index - 1)...min(sentences.count - 1, index + 1)]
            return (sums, around.reduce(headerTopic) { $0.union(topicWords($1)) })
        }
    }

    /// The words of `text` that say what a sum is for, as comparable keys: letters only (no numbers),
    /// no stop words or currency words, irregular forms of money verbs to their base ("paid" → "pay") and
    /// cut to five letters, so that "charge" meets "charged" and "neighbour" meets "neighbours".
    static func topicWords(_ text: some StringProtocol) -> Set<String> {
        Set(LexicalText.words(text).compactMap { word -> String? in
            guard word.count >= 3, word.allSatisfy(\.isLetter), !LexicalText.stopWords.contains(word),
                !currencies.contains(word), word != "much", word != "many"
            else { return nil }
            return String((baseForms[word] ?? word).prefix(5))
        })
    }

    private static let baseForms: [String: String] = [
        "paid": "pay", "payment": "pay", "payments": "pay", "bought": "buy", "sold": "sell", "spent": "spend",
        "owed": "owe", "lent": "lend", "got": "get", "gave": "give", "given": "give", "won": "win",
    ]

    /// The sums of money in `text`, normalized: digits with one decimal point, no thousands separators,
    /// no zero cents, and a scale word if one follows ("1195", "8.5", "28 million").
    static func amounts(in text: String) -> Set<String> {
        let tokens: [String] = text.split(whereSeparator: \.isWhitespace).map { String($0) }
        var found = Set<String>()
        for (i, raw) in tokens.enumerated() {
            let token = bare(raw)
            guard token.contains(where: \.isNumber) else { continue }
            let before: String? = i > 0 ? tokens[i - 1] : nil
            let after: String? = i + 1 < tokens.count ? tokens[i + 1] : nil
            guard isMoney(token, before: before, after: after), let number = normalizedNumber(token) else { continue }
            // The scale is glued on ("28k", "3bn") or the next word ("28 million").
            let glued = String(token.reversed().prefix { $0.isLetter }.reversed())
            let scale = [glued, after.map { bare($0) } ?? ""].first { scales.contains($0) }
            found.insert(scale.map { "\(number) \(canonicalScale($0))" } ?? number)
        }
        return found
    }

    /// Whether `token` (with its neighbours) is a sum of money: a currency sign or code touches it or
    /// stands right before or after it.
    static func isMoney(_ token: String, before: String?, after: String?) -> Bool {
        if let first = token.first, currencies.contains(String(first)) { return true }
        if let last = token.last, currencies.contains(String(last)) { return true }
        let letters = token.lowercased().filter(\.isLetter)
        if !letters.isEmpty, currencies.contains(letters) { return true }
        return isCurrency(before) || isCurrency(after)
    }

    private static func isCurrency(_ word: String?) -> Bool {
        guard let word else { return false }
        let cleaned = bare(word)
        if currencies.contains(cleaned) { return true }
        // "£" or "€" written apart from a number, or glued to other punctuation.
        return cleaned.count <= 2 && cleaned.unicodeScalars.contains { $0.properties.generalCategory == .currencySymbol }
    }

    private static func bare(_ word: String) -> String {
        word.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ".,;:!?()\"'“”‘’*`[]"))
    }

    private static func canonicalScale(_ word: String) -> String {
        switch word {
        case "k", "thousand": return "thousand"
        case "m", "million": return "million"
        default: return "billion"
        }
    }

    /// The number in a money token, or nil when it holds none: "£1,195.00" → "1195", "8,50€" → "8.5",
    /// "1.195,50" → "1195.5". A last group of exactly three digits after a separator is thousands (money
    /// rarely has three decimals); a shorter one is the decimal part; earlier groups are thousands.
    static func normalizedNumber(_ token: String) -> String? {
        let digits = token.drop { !$0.isNumber }.prefix { $0.isNumber || $0 == "," || $0 == "." }
        let groups: [String] = digits.split(whereSeparator: { $0 == "," || $0 == "." }).map { String($0) }
        guard var integer = groups.first else { return nil }
        var fraction = ""
        for (index, group) in groups.enumerated().dropFirst() {
            if index == groups.count - 1 && group.count != 3 { fraction = group } else { integer += group }
        }
        integer = String(integer.drop { $0 == "0" })
        fraction = String(fraction.reversed().drop { $0 == "0" }.reversed())
        if integer.isEmpty { integer = "0" }
        return fraction.isEmpty ? integer : "\(integer).\(fraction)"
    }
}
