import Foundation

/// A "how much" or "how many" question is answered with a quantity.
///
/// Asked "how many downloads did 3.2.0 have?" with no count in sight, a small model lists what it has
/// instead: names, titles, a reference number's neighbours. A reply without any number in it, in digits or
/// in words, did not say how much or how many.
enum QuantityCheck {
    /// Whether `reply` may stand as an answer to `question`.
    static func accepts(_ reply: String, question: String) -> Bool {
        !asksForAQuantity(question) || statesAQuantity(CitationResolver.removingMarkers(from: reply))
    }

    /// "How much …", "how many …".
    static func asksForAQuantity(_ question: String) -> Bool {
        let words = LexicalText.words(question)
        return zip(words, words.dropFirst()).contains { $0.0 == "how" && ($0.1 == "much" || $0.1 == "many") }
    }

    /// Whether `text` holds a number: a digit, or a number word ("twelve", "a dozen", "none", "free").
    static func statesAQuantity(_ text: String) -> Bool {
        text.contains(where: \.isNumber) || LexicalText.words(text).contains(where: numberWords.contains)
    }

    static let numberWords: Set<String> = [
        "none", "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred",
        "thousand", "million", "billion", "dozen", "half", "once", "twice", "single", "double", "free",
    ]
}
