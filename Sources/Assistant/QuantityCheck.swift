import Foundation

/// A question asking how much or how many is answered with a quantity, and one asking for a price with a sum.
///
/// Asked "how many downloads did 3.2.0 have?" with no count in sight, a small model lists what it has
/// instead: names, titles, a reference number's neighbours. A reply without any number in it, in digits or
/// in words, did not say how much or how many. Neither did one whose only digits belong to dates
/// ("7-13 September 2026", "week 37"), version numbers ("3.1.4") or the question itself: those are the
/// digits of the subject lines such a list is copied from.
///
/// Asked what something cost or how much was paid, the quantity is a sum of money: "the deposit … remains
/// protected with SafeDeposit (ref SD-2291-774) at 7 Quarry Row" has digits but says nothing of how much,
/// and "the nightly rate … is 10 minutes per segment" names no price.
enum QuantityCheck {
    /// Whether `reply` may stand as an answer to `question`.
    static func accepts(_ reply: String, question: String) -> Bool {
        let text = CitationResolver.removingMarkers(from: reply)
        if asksForASum(question) {
            return !AmountCheck.amounts(in: text).isEmpty || LexicalText.words(text).contains("free")
        }
        guard asksForAQuantity(question) else { return true }
        let stripped = withoutDatesAndVersions(text)
        let asked = Set(numbers(in: withoutDatesAndVersions(question)))
        return numbers(in: stripped).contains { !asked.contains($0) }
            || LexicalText.words(stripped).contains(where: numberWords.contains)
    }

    /// "How much …", "how many …".
    static func asksForAQuantity(_ question: String) -> Bool {
        asksHow(LexicalText.words(question), ["much", "many"])
    }

    /// Whether `words` hold "how" followed by one of `next`.
    private static func asksHow(_ words: [String], _ next: Set<String>) -> Bool {
        zip(words, words.dropFirst()).contains { $0.0 == "how" && next.contains($0.1) }
    }

    /// Whether `question` asks for a sum of money:
    /// - how much, about money: "how much did the plumber charge", "how much is our deposit";
    /// - what price: "what annual price did we sign", "what's the nightly rate where I'm staying", "what is
    ///   the monthly rent at the flat": what or which, perhaps a form of "be" and an article, at most two
    ///   more words, then a price noun that ends the phrase ("what is the deposit scheme reference" asks
    ///   for a reference, and "what date is the rent due" for a date);
    /// - what was paid: "what did we end up paying the garage", "what does the course cost".
    static func asksForASum(_ question: String) -> Bool {
        let words = LexicalText.words(question)
        if asksHow(words, ["much"]) {
            return words.contains(where: moneyWords.contains)
        }
        guard let first = words.first, first == "what" || first == "which" else { return false }
        var i = 1
        if i < words.count, ["is", "was", "are", "were", "s"].contains(words[i]) { i += 1 }
        if i < words.count, ["the", "our", "my", "their", "your", "a"].contains(words[i]) { i += 1 }
        for _ in 0..<3 where i < words.count {
            let endsPhrase = i + 1 == words.count || phraseEnders.contains(words[i + 1])
            if endsPhrase, isPriceNoun(words[i], before: words[i - 1]) { return true }
            if LexicalText.stopWords.contains(words[i]) { break }
            i += 1
        }
        // what did/does/will <up to three words> pay/cost/charge
        guard words.count > 2, ["did", "do", "does", "will", "would"].contains(words[1]) else { return false }
        return words.dropFirst(3).prefix(3).contains(where: paymentVerbs.contains)
    }

    private static func isPriceNoun(_ word: String, before: String) -> Bool {
        priceNouns.contains(word) || (word == "rate" || word == "rates") && periodWords.contains(before)
    }

    private static let priceNouns: Set<String> = [
        "price", "prices", "cost", "costs", "fee", "fees", "fare", "fares", "rent", "salary", "deposit",
        "budget", "premium", "excess",
    ]
    /// A rate is a price when it is per night, per day, per hour, per room …
    private static let periodWords: Set<String> = ["nightly", "daily", "hourly", "weekly", "monthly", "room", "day"]
    /// Words that may follow a price noun that ends the phrase.
    private static let phraseEnders: Set<String> = [
        "for", "of", "at", "on", "in", "per", "from", "to", "with", "where", "when", "that", "did", "do", "does",
        "is", "was", "will", "would", "we", "i", "they", "you", "he", "she", "it", "this", "there",
    ]
    private static let paymentVerbs: Set<String> = ["pay", "paying", "paid", "spend", "spent", "charge", "charged", "cost"]

    /// Words that make "how much" ask for a sum of money.
    static let moneyWords = priceNouns.union(paymentVerbs).union([
        "money", "priced", "pays", "charges", "wage", "refund", "refunded", "compensation", "owe", "owed", "worth",
        "raise", "raised", "donate", "donated", "bill", "billed", "invoice", "invoiced", "quote", "quoted",
        "reimbursed", "fine", "earn", "earned", "tip",
    ])

    /// The numbers written in digits in `text`, with their inner separators ("3.2.0", "1,200", "½").
    static func numbers(in text: String) -> [String] {
        var found: [String] = []
        var current = ""
        var pendingSeparator: Character?
        for character in text {
            if character.isNumber {
                if let separator = pendingSeparator, !current.isEmpty { current.append(separator) }
                current.append(character)
            } else if (character == "." || character == ","), !current.isEmpty, pendingSeparator == nil {
                pendingSeparator = character
                continue
            } else if !current.isEmpty {
                found.append(current)
                current = ""
            }
            pendingSeparator = nil
        }
        if !current.isEmpty { found.append(current) }
        return found
    }

    /// `text` with dates, calendar weeks and version numbers blanked out; a year counts only next to a month.
    static func withoutDatesAndVersions(_ text: String) -> String {
        datePatterns.reduce(text) { $0.replacingOccurrences(of: $1, with: " ", options: [.regularExpression, .caseInsensitive]) }
    }

    private static let month =
        #"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"#
    private static let datePatterns = [
        #"\b\d+(?:\.\d+){2,}\b"#,  // version numbers: 3.2.0
        #"\b\d{4}-\d{2}-\d{2}\b"#,  // ISO dates
        #"\bweek\s+\d{1,2}\b"#,  // calendar weeks
        // 20 October, 7-13 September 2026, 1st May
        #"\b\d{1,2}(?:\s*[-–]\s*\d{1,2})?(?:st|nd|rd|th)?\s+"# + month + #"\b(?:\s+\d{4})?"#,
        // October 20, May 1st, 2026
        #"\b"# + month + #"\s+\d{1,2}(?:st|nd|rd|th)?\b(?:,?\s+\d{4})?"#,
    ]

    static let numberWords: Set<String> = [
        "none", "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred",
        "thousand", "million", "billion", "dozen", "half", "once", "twice", "single", "double", "free",
    ]
}
