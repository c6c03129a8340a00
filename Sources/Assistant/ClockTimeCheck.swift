import Foundation

/// Checks the times of day in a reply against the times the sources state.
///
/// Asked "what time does my train leave?" with no timetable in sight, a small model answers with whatever
/// it has: a date, a hotel, a time from another event. A time of day that no source states was not read
/// from the user's data, and a "what time" question answered without any time was not answered. Times are
/// compared as minutes of the day, so "2pm", "2 p.m." and "14:00" are one time.
enum ClockTimeCheck {
    /// Whether `reply` may stand as an answer to `question`: every time of day in it is one a source states,
    /// and a question asking "what time" gets at least one.
    static func accepts(_ reply: String, question: String, sources: [String]) -> Bool {
        if asksForATime(question) && times(in: CitationResolver.removingMarkers(from: reply)).isEmpty { return false }
        return GroundedValues.accepts(reply, sources: sources, reading: times(in:))
    }

    /// "What time …", "at what time …", "what's the time …".
    static func asksForATime(_ question: String) -> Bool {
        let words = question.lowercased().split(whereSeparator: { !$0.isLetter && $0 != "'" }).map(String.init)
        return zip(words, words.dropFirst()).contains { pair in
            (pair.0 == "what" || pair.0 == "what's" || pair.0 == "which") && pair.1 == "time"
        }
    }

    /// The times of day in `text` as minutes after midnight: "14:30", "9:05am", "7 pm", "10.30 a.m.",
    /// both ends of "14:00-14:30", "noon". A bare number is not a time, and neither is "10.30" without
    /// am/pm (a price or a version).
    static func times(in text: String) -> Set<Int> {
        let tokens = text.lowercased().split(whereSeparator: { $0.isWhitespace || "-–—/".contains($0) }).map {
            $0.trimmingCharacters(in: CharacterSet(charactersIn: ",;!?()\"'“”‘’*`[]"))
        }
        var found = Set<Int>()
        for (index, token) in tokens.enumerated() {
            let word = token.trimmingCharacters(in: CharacterSet(charactersIn: ".:"))
            if word == "noon" || word == "midday" { found.insert(12 * 60) }
            if word == "midnight" { found.insert(0) }
            guard let first = token.first, first.isNumber else { continue }
            let next = index + 1 < tokens.count ? tokens[index + 1] : ""
            // The meridiem is glued on ("7pm", "9:05am") or the next word ("7 pm", "10.30 a.m.").
            let digits = String(token.prefix { $0.isNumber || $0 == ":" || $0 == "." })
            let glued = String(token.dropFirst(digits.count)).trimmingCharacters(in: CharacterSet(charactersIn: "."))
            let meridiem = [glued, next.trimmingCharacters(in: CharacterSet(charactersIn: "."))]
                .map { $0.replacingOccurrences(of: ".", with: "") }
                .first { $0 == "am" || $0 == "pm" }
            if !glued.isEmpty && meridiem == nil { continue }
            let clock = String(digits.reversed().drop { $0 == "." || $0 == ":" }.reversed())
            let parts = clock.split(omittingEmptySubsequences: false, whereSeparator: { $0 == ":" || $0 == "." })
            guard parts.count <= 2, let hour = Int(parts[0]), parts[0].count <= 2 else { continue }
            var minute = 0
            if parts.count == 2 {
                guard parts[1].count == 2, let value = Int(parts[1]), value < 60 else { continue }
                // "10.30" is a time only with am/pm; "14:30" is one on its own.
                if clock.contains(".") && meridiem == nil { continue }
                minute = value
            } else if meridiem == nil {
                continue
            }
            switch meridiem {
            case "am"? where (1...12).contains(hour): found.insert((hour % 12) * 60 + minute)
            case "pm"? where (1...12).contains(hour): found.insert((hour % 12 + 12) * 60 + minute)
            case nil where hour < 24: found.insert(hour * 60 + minute)
            default: continue
            }
        }
        return found
    }
}
