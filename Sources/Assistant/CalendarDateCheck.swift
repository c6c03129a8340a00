import Foundation
import Ingest

/// Checks the calendar dates in a reply against the dates the sources state.
///
/// Asked "when was the fibre installed?", a small model that cannot find it answers with the one date it
/// always has: today's, from the prompt's first line. A reply none of whose dates a source states has read
/// no date from the user's data, and is refused. A reply with one date a source states and another no
/// source states stands: the known date shows the model read the right passage, and the other is most
/// often a side detail misread from it ("moved the release to Tuesday 13 October on September 26", where
/// the move was on the 21st). Refusing those cost a right answer on the held-out list archive and saved
/// no wrong one. Dates are compared as month and day, so "3 September", "September 3rd" and
/// "2026-09-03" are one date, and a source's header date (the day a mail was sent or a note is dated)
/// counts as stated. The year is left out on purpose: "3 September" in a reply is the source's
/// "2026-09-03", and a wrong year with the right day is rarer than a reply that omits the year.
enum CalendarDateCheck {
    /// A month and a day, 1-based.
    struct MonthDay: Hashable {
        var month: Int
        var day: Int
    }

    /// Whether `reply` (citation markers removed) states no date, or at least one date a source states.
    static func accepts(_ reply: String, sources: [String]) -> Bool {
        let stated = dates(in: CitationResolver.removingMarkers(from: reply))
        guard !stated.isEmpty else { return true }
        var known = Set<MonthDay>()
        for source in sources {
            known.formUnion(dates(in: source))
            known.formUnion(numericDates(in: source))
        }
        return !stated.isDisjoint(with: known)
    }

    /// The dates written so that month and day are certain: ISO ("2026-09-03"), or a day next to a month's
    /// name ("3 September", "3rd of Sept.", "September 3", "Sep 3rd, 2026"). "In October" or "on the 3rd"
    /// name no single day and are left alone.
    static func dates(in text: String) -> Set<MonthDay> {
        var found = isoDates(in: text)
        let tokens = words(text)
        for (index, token) in tokens.enumerated() {
            guard let month = month(named: token) else { continue }
            if index + 1 < tokens.count, let day = day(tokens[index + 1]) {
                found.insert(MonthDay(month: month, day: day))
            }
            // "3 September", and "3rd of September".
            if index >= 1, let day = day(tokens[index - 1]) {
                found.insert(MonthDay(month: month, day: day))
            } else if index >= 2, tokens[index - 1].lowercased() == "of", let day = day(tokens[index - 2]) {
                found.insert(MonthDay(month: month, day: day))
            }
        }
        return found
    }

    /// Dates a source may write with numbers only ("03/09/2026", "3.9.2026"). Day and month order differs
    /// by country, so both readings count: a source is given the benefit of the doubt, a reply is not read
    /// this way at all.
    static func numericDates(in text: String) -> Set<MonthDay> {
        var found = Set<MonthDay>()
        let pattern = /\b(\d{1,2})[\/.](\d{1,2})[\/.](\d{4}|\d{2})(?![\d\/]|\.\d)/
        for match in text.matches(of: pattern) {
            guard let first = Int(match.1), let second = Int(match.2) else { continue }
            for (month, day) in [(first, second), (second, first)] where (1...12).contains(month) && (1...31).contains(day) {
                found.insert(MonthDay(month: month, day: day))
            }
        }
        return found
    }

    private static func isoDates(in text: String) -> Set<MonthDay> {
        var found = Set<MonthDay>()
        for match in text.matches(of: /\b\d{4}-(\d{2})-(\d{2})(?!\d)/) {
            guard let month = Int(match.1), let day = Int(match.2), (1...12).contains(month), (1...31).contains(day) else { continue }
            found.insert(MonthDay(month: month, day: day))
        }
        return found
    }

    /// Words as they stand between spaces and punctuation, keeping ordinal suffixes ("3rd") and clock times
    /// whole.
    private static func words(_ text: String) -> [String] {
        // A colon stays inside its word, so "October 15:00" is a month and a time, not 15 October.
        text.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "." && $0 != ":" }).map {
            String($0).trimmingCharacters(in: CharacterSet(charactersIn: ".:"))
        }.filter { !$0.isEmpty }
    }

    /// 1...31 written as a number with an optional ordinal suffix: "3", "03", "3rd", "21st".
    private static func day(_ word: String) -> Int? {
        let digits = word.prefix { $0.isNumber }
        guard (1...2).contains(digits.count), let value = Int(digits), (1...31).contains(value) else { return nil }
        let suffix = word.dropFirst(digits.count).lowercased()
        return suffix.isEmpty || ["st", "nd", "rd", "th"].contains(suffix) ? value : nil
    }

    /// January…December by full name in any case, or by a capitalized short form ("Sep", "Sept"). "May" and
    /// the short forms count only capitalized, so "you may 3 times" or "mar" are not dates.
    private static func month(named word: String) -> Int? {
        let lower = word.lowercased()
        if let index = FlexibleDate.englishMonthNames.firstIndex(of: lower), lower != "may" || word.first == "M" { return index + 1 }
        guard word.first?.isUppercase == true else { return nil }
        if lower == "sept" { return 9 }
        return lower.count == 3 ? FlexibleDate.englishMonthNames.firstIndex { $0.hasPrefix(lower) }.map { $0 + 1 } : nil
    }
}
