import Foundation
import Ingest

/// What a question says about time, read from its words.
///
/// "latest", "current", "now", "still", "ended up" → prefer recent documents; "originally", "at first",
/// "first planned" → prefer early ones. "yesterday", "last week",
/// "last month", "since May" → a date range that filters; "in March", "in June 2026", "before April",
/// "after May", "in 2025", "on 2026-03-14" → a range that ranks documents inside it first. "from July" and
/// "until March" set no range: they say when something holds ("rent from July"), which a document written
/// before then states. Months without a year mean the most recent such month not after `now`. Ranges are
/// in UTC.
public struct TemporalIntent: Sendable, Equatable {
    /// Inclusive lower bound on the document date.
    public var since: Date?
    /// Inclusive upper bound on the document date.
    public var until: Date?
    /// The question asks for the newest state of things.
    public var prefersRecent: Bool
    /// The question asks how things stood at first ("what was originally planned?"), before later changes.
    public var prefersEarliest: Bool
    /// The range came from a calendar name ("in October", "during 2025", "before April"), which may be
    /// about the content ("what are we reading in October?", "what must be done before April?") rather
    /// than the document's date: search ranks documents inside it first instead of excluding the rest.
    /// Relative phrases ("last week", "yesterday", "since May") are about when things were written and
    /// filter.
    public var rangeIsSoft: Bool
    /// The calendar words consumed ("October", "2026"), which stay useful as search terms.
    public var calendarWords: [String]
    /// The question without its time words, for text search ("what did Ana say last week" → "what did
    /// Ana say"), so that "week" does not become a search term.
    public var remainder: String

    public var hasRange: Bool { since != nil || until != nil }

    public init(
        since: Date? = nil, until: Date? = nil, prefersRecent: Bool = false, prefersEarliest: Bool = false,
        rangeIsSoft: Bool = false, calendarWords: [String] = [], remainder: String
    ) {
        self.since = since
        self.until = until
        self.prefersRecent = prefersRecent
        self.prefersEarliest = prefersEarliest
        self.rangeIsSoft = rangeIsSoft
        self.calendarWords = calendarWords
        self.remainder = remainder
    }

    /// Words asking for the present state of something: "when is the ride now?", "do we still…?".
    private static let recencyWords: Set<String> = [
        "latest", "newest", "current", "currently", "recent", "recently", "nowadays", "now", "finally", "eventually",
    ]

    /// Auxiliaries that make "first" after the subject an adverb of time: "when did we first meet?".
    private static let pastAuxiliaries: Set<String> = ["did", "do", "does"]

    /// Words after which "first" is an ordinal of the next noun ("our first meeting"), not "at first".
    private static let determiners: Set<String> = [
        "the", "a", "an", "my", "our", "your", "his", "her", "their", "its", "this", "that", "these", "those",
        "of", "on", "in", "for", "at", "to",
    ]

    /// Recency words that stay search words: a note may use them too ("bars I still have to practise").
    private static let keptRecencyWords: Set<String> = ["still", "anymore"]

    /// Phrases asking for the newest state or the outcome: "what did we end up paying?".
    private static let recencyPhrases: [[String]] = [
        ["most", "recent"], ["most", "recently"], ["end", "up"], ["ended", "up"], ["ends", "up"],
        ["in", "the", "end"], ["at", "the", "moment"], ["these", "days"], ["as", "of", "now"],
    ]

    private static let months = FlexibleDate.englishMonthNames
    private static let shortMonths = months.map { String($0.prefix(3)) }

    private static var utc: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0)!
        calendar.firstWeekday = 2
        return calendar
    }

    public static func parse(_ question: String, now: Date) -> TemporalIntent {
        let calendar = utc
        var words = question.split(whereSeparator: { $0.isWhitespace }).map(String.init)
        var lower = words.map { $0.lowercased().trimmingCharacters(in: .punctuationCharacters) }
        var intent = TemporalIntent(remainder: question)
        let today = calendar.startOfDay(for: now)

        func remove(_ range: Range<Int>) {
            words.removeSubrange(range)
            lower.removeSubrange(range)
        }
        func month(_ word: String) -> Int? {
            if let index = months.firstIndex(of: word) { return index + 1 }
            if let index = shortMonths.firstIndex(of: word) { return index + 1 }
            return nil
        }
        func year(_ word: String) -> Int? {
            guard word.count == 4, let value = Int(word), (1970...2200).contains(value) else { return nil }
            return value
        }
        func monthRange(_ month: Int, _ explicitYear: Int?) -> (Date, Date)? {
            var year = explicitYear ?? calendar.component(.year, from: now)
            if explicitYear == nil, month > calendar.component(.month, from: now) { year -= 1 }
            guard let start = calendar.date(from: DateComponents(year: year, month: month, day: 1)),
                let next = calendar.date(byAdding: .month, value: 1, to: start)
            else { return nil }
            return (start, next.addingTimeInterval(-0.001))
        }
        func yearRange(_ year: Int) -> (Date, Date)? {
            guard let start = calendar.date(from: DateComponents(year: year, month: 1, day: 1)),
                let next = calendar.date(byAdding: .year, value: 1, to: start)
            else { return nil }
            return (start, next.addingTimeInterval(-0.001))
        }
        func isoDay(_ word: String) -> (Date, Date)? {
            let parts = word.split(separator: "-")
            guard parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
                parts[0].count == 4, let start = calendar.date(from: DateComponents(year: y, month: m, day: d))
            else { return nil }
            return (start, start.addingTimeInterval(86_400 - 0.001))
        }

        var index = 0
        while index < lower.count {
            let word = lower[index]
            let next = index + 1 < lower.count ? lower[index + 1] : ""
            let afterNext = index + 2 < lower.count ? lower[index + 2] : ""

            if Self.recencyWords.contains(word) {
                intent.prefersRecent = true
                remove(index..<(index + 1))
                continue
            }
            if Self.keptRecencyWords.contains(word) { intent.prefersRecent = true }
            if ["originally", "initially"].contains(word) {
                intent.prefersEarliest = true
                remove(index..<(index + 1))
                continue
            }
            // "At first"; "first" before a past participle ("first scheduled", "first quoted"); and "first"
            // as the adverb of a did-question ("what did the agent first propose?"), which no article or
            // possessive precedes. Not "first aid", "the first Thursday" or "did we miss our first train".
            let adverbOfDid = word == "first" && index > 0 && lower[..<index].contains { Self.pastAuxiliaries.contains($0) }
                && !Self.determiners.contains(lower[index - 1])
            if (word == "at" && next == "first") || (word == "first" && next.count > 4 && next.hasSuffix("ed")) || adverbOfDid {
                intent.prefersEarliest = true
                remove(index..<(index + 1 + (word == "at" ? 1 : 0)))
                continue
            }
            if let length = Self.recencyPhrases.first(where: { lower[index...].starts(with: $0) })?.count {
                intent.prefersRecent = true
                remove(index..<(index + length))
                continue
            }
            if word == "yesterday" {
                intent.rangeIsSoft = false
                intent.since = calendar.date(byAdding: .day, value: -1, to: today)
                intent.until = today.addingTimeInterval(-0.001)
                remove(index..<(index + 1))
                continue
            }
            if word == "today" {
                intent.since = today
                intent.until = now
                remove(index..<(index + 1))
                continue
            }
            if word == "last" || word == "past" || word == "this" {
                var count = 1
                var unitIndex = index + 1
                if let value = Int(next) ?? ["two": 2, "three": 3, "four": 4, "few": 3, "couple": 2][next] {
                    count = value
                    unitIndex = index + 2
                    if afterNext == "of", index + 3 < lower.count { unitIndex = index + 3 }
                }
                let unitWord = unitIndex < lower.count ? lower[unitIndex] : ""
                let units: [String: (Calendar.Component, Int)] = [
                    "day": (.day, 1), "days": (.day, 1), "week": (.day, 7), "weeks": (.day, 7),
                    "month": (.month, 1), "months": (.month, 1), "year": (.year, 1), "years": (.year, 1),
                ]
                if let (component, multiple) = units[unitWord] {
                    if word == "this" {
                        let start: Date?
                        switch component {
                        case .day where multiple == 7: start = calendar.dateInterval(of: .weekOfYear, for: now)?.start
                        case .month: start = calendar.dateInterval(of: .month, for: now)?.start
                        case .year: start = calendar.dateInterval(of: .year, for: now)?.start
                        default: start = today
                        }
                        intent.since = start
                    } else {
                        intent.since = calendar.date(byAdding: component, value: -count * multiple, to: today)
                    }
                    intent.until = now
                    remove(index..<(unitIndex + 1))
                    continue
                }
            }
            if ["in", "during", "since", "from", "before", "until", "after", "on"].contains(word) {
                let preposition = word
                var range: (Date, Date)?
                var consumed = 0
                if let m = month(next) {
                    let y = year(afterNext)
                    range = monthRange(m, y)
                    consumed = y == nil ? 2 : 3
                } else if let y = year(next) {
                    range = yearRange(y)
                    consumed = 2
                } else if let day = isoDay(next) {
                    range = day
                    consumed = 2
                }
                if let (start, end) = range {
                    switch preposition {
                    case "since":
                        intent.since = start
                    case "after":
                        intent.since = end
                        intent.rangeIsSoft = true
                    case "before":
                        intent.until = start.addingTimeInterval(-0.001)
                        intent.rangeIsSoft = true
                    case "from", "until":
                        // "Rent from July", "valid until March": when something holds, said in a
                        // document written before that. The month stays a search word, nothing more.
                        break
                    default:
                        intent.since = start
                        intent.until = end
                        intent.rangeIsSoft = true
                    }
                    intent.calendarWords.append(contentsOf: lower[(index + 1)..<(index + consumed)])
                    remove(index..<(index + consumed))
                    continue
                }
            }
            index += 1
        }
        intent.remainder = words.joined(separator: " ")
        return intent
    }
}
