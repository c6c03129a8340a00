import Foundation

/// A "how much" or "how many" question is answered with a quantity.
///
/// Asked "how many downloads did 3.2.0 have?" with no count in sight, a small model lists what it has
/// instead: names, titles, a reference number's neighbours. A reply without any number in it, in digits or
/// in words, did not say how much or how many. Neither did one whose only digits belong to dates
/// ("7-13 September 2026", "week 37"), version numbers ("3.1.4") or the question itself: those are the
/// digits of the subject lines such a list is copied from.
///
/// Asked how much something cost or was paid, the quantity is a sum of money: "the deposit … remains
/// protected with SafeDeposit (ref SD-2291-774) at 7 Quarry Row" has digits but says nothing of how much.
enum QuantityCheck {
    /// Whether `reply` may stand as an answer to `question`.
    static func accepts(_ reply: String, question: String) -> Bool {
        guard asksForAQuantity(question) else { return true }
        if asksForASum(question) {
            let text = CitationResolver.removingMarkers(from: reply)
            return !AmountCheck.amounts(in: text).isEmpty || LexicalText.words(text).contains("free")
        }
        let text = withoutDatesAndVersions(CitationResolver.removingMarkers(from: reply))
        let asked = Set(numbers(in: withoutDatesAndVersions(question)))
        return numbers(in: text).contains { !asked.contains($0) }
            || LexicalText.words(text).contains(where: numberWords.contains)
    }

    /// "How much …", "how many …".
    static func asksForAQuantity(_ question: String) -> Bool {
        let words = LexicalText.words(question)
        return zip(words, words.dropFirst()).contains { $0.0 == "how" && ($0.1 == "much" || $0.1 == "many") }
    }

    /// "How much did the plumber charge", "how much is our deposit": a how-much question about money.
    static func asksForASum(_ question: String) -> Bool {
        let words = LexicalText.words(question)
        return zip(words, words.dropFirst()).contains { $0.0 == "how" && $0.1 == "much" } && words.contains(where: moneyWords.contains)
    }

    /// Words that make "how much" ask for a sum of money.
    static let moneyWords: Set<String> = [
        "money", "cost", "costs", "price", "priced", "pay", "paid", "pays", "charge", "charged", "charges", "fee",
        "fees", "deposit", "rent", "salary", "wage", "refund", "refunded", "compensation", "budget", "spend",
        "spent", "owe", "owed", "worth", "raise", "raised", "donate", "donated", "bill", "billed", "invoice",
        "invoiced", "quote", "quoted", "excess", "premium", "reimbursed", "fine", "earn", "earned", "tip",
    ]

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
