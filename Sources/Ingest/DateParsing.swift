import Foundation

/// Lenient date parsing for front matter, file names, mail `Date:` headers and mbox `From ` lines.
///
/// Hand-written rather than `DateFormatter`: it is locale-independent, fast, and accepts the many shapes
/// real files carry. Dates without a zone are taken as UTC.
enum DateParsing {
    /// Seconds since 1970 for a proleptic Gregorian civil date-time in UTC, or nil if out of range.
    static func makeDate(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Double = 0,
                         offsetSeconds: Int = 0) -> Date? {
        guard (1...12).contains(month), (1...31).contains(day), (0...24).contains(hour), (0...59).contains(minute),
              second >= 0, second < 61, (1...9999).contains(year) else { return nil }
        guard day <= daysInMonth(year: year, month: month) else { return nil }
        // Days from 1970-01-01 (civil calendar arithmetic with March-based years).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        let seconds = Double(days * 86400 + hour * 3600 + minute * 60 - offsetSeconds) + second
        return Date(timeIntervalSince1970: seconds)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static let monthNames: [String: Int] = {
        var m: [String: Int] = [:]
        for (i, name) in FlexibleDate.englishMonthNames.enumerated() {
            m[name] = i + 1
            m[String(name.prefix(3))] = i + 1
        }
        m["sept"] = 9
        // German and French short forms seen in hand-written front matter.
        for (k, v) in ["mär": 3, "mrz": 3, "mai": 5, "okt": 10, "dez": 12, "januar": 1, "februar": 2, "märz": 3,
                       "juni": 6, "juli": 7, "oktober": 10, "dezember": 12, "janv": 1, "févr": 2, "avr": 4,
                       "juin": 6, "juil": 7, "déc": 12] {
            m[k] = v
        }
        return m
    }()

    static let weekdayNames: Set<String> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "tuesday",
        "wednesday", "thursday", "friday", "saturday", "sunday", "tues", "thur", "thurs"]

    /// Named zones seen in mail headers, as offsets from UTC in minutes.
    static let zoneNames: [String: Int] = [
        "ut": 0, "utc": 0, "gmt": 0, "z": 0, "wet": 0, "bst": 60, "ist": 330, "cet": 60, "met": 60, "cest": 120,
        "mest": 120, "eet": 120, "eest": 180, "msk": 180, "est": -300, "edt": -240, "cst": -360, "cdt": -300,
        "mst": -420, "mdt": -360, "pst": -480, "pdt": -420, "akst": -540, "akdt": -480, "hst": -600,
        "jst": 540, "kst": 540, "hkt": 480, "sgt": 480, "aest": 600, "aedt": 660, "nzst": 720, "nzdt": 780,
    ]

    /// Parses any supported shape: ISO 8601 and numeric dates first, then word-based (RFC 5322, asctime,
    /// "March 5, 2024", "5 Mar 2024").
    static func parse(_ text: String) -> Date? {
        // ASCII trimming on bytes; Foundation's Unicode-aware trim only when an edge is not ASCII.
        var trimmed = String(TextScan.trimASCIIWhitespace(text))
        if let first = trimmed.utf8.first, let last = trimmed.utf8.last, first >= 0x80 || last >= 0x80 {
            trimmed = trimmed.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if trimmed.isEmpty || trimmed.utf8.count > 200 { return nil }
        if let d = parseRFC5322(trimmed) { return d }
        if let d = parseNumeric(trimmed) { return d }
        return parseWords(trimmed)
    }

    /// The common, well-formed mail date `[Www, ]D[D] Mmm YYYY HH:MM[:SS] ±HHMM[ (comment)]` read straight
    /// from the bytes. Returns nil for anything else, which then goes through the general parsers; what it
    /// accepts, `parseWords` reads to the same instant, only faster (no tokens, no dictionary look-ups).
    static func parseRFC5322(_ s: String) -> Date? {
        var s = s
        return s.withUTF8 { u -> Date? in
            var i = 0
            let n = u.count
            func skipSpaces() -> Bool {
                let start = i
                while i < n, u[i] == 0x20 { i += 1 }
                return i > start
            }
            func number(_ minCount: Int, _ maxCount: Int) -> Int? {
                var v = 0, c = 0
                while i < n, c < maxCount, u[i] >= 0x30, u[i] <= 0x39 { v = v * 10 + Int(u[i] - 0x30); i += 1; c += 1 }
                return c >= minCount ? v : nil
            }
            func word3() -> UInt32? {
                guard i + 3 <= n else { return nil }
                var key: UInt32 = 0
                for k in 0..<3 {
                    let b = u[i + k] | 0x20
                    guard b >= 0x61, b <= 0x7A else { return nil }
                    key = key << 8 | UInt32(b)
                }
                i += 3
                return key
            }
            if let first = u.first, first >= 0x41 {
                guard let weekday = word3(), Self.weekdayKeys.contains(weekday), i < n, u[i] == 0x2C else { return nil }
                i += 1
                _ = skipSpaces()
            }
            guard let day = number(1, 2), skipSpaces(), let monthKey = word3(),
                  let month = Self.monthKeys.firstIndex(of: monthKey), skipSpaces(),
                  let year = number(4, 4), year >= 1000, i == n || u[i] == 0x20, skipSpaces(),
                  let hour = number(2, 2), i < n, u[i] == 0x3A else { return nil }
            i += 1
            guard let minute = number(2, 2) else { return nil }
            var second = 0
            if i < n, u[i] == 0x3A {
                i += 1
                guard let sec = number(2, 2) else { return nil }
                second = sec
            }
            guard skipSpaces(), i < n, u[i] == 0x2B || u[i] == 0x2D else { return nil }
            let sign = u[i] == 0x2D ? -1 : 1
            i += 1
            guard let zone = number(4, 4), i == n || u[i] == 0x20 else { return nil }
            _ = skipSpaces()
            if i < n {
                // Only a trailing comment such as "(UTC)" may follow, with no nested parentheses.
                guard u[i] == 0x28, u[n - 1] == 0x29 else { return nil }
                for k in (i + 1)..<(n - 1) where u[k] == 0x28 || u[k] == 0x29 { return nil }
            }
            return makeDate(year: year, month: month + 1, day: day, hour: hour, minute: minute,
                            second: Double(second), offsetSeconds: sign * (zone / 100 * 3600 + zone % 100 * 60))
        }
    }

    private static func key3(_ name: StaticString) -> UInt32 {
        name.withUTF8Buffer { $0.reduce(0) { $0 << 8 | UInt32($1) } }
    }
    private static let weekdayKeys: [UInt32] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map { key3($0) }
    private static let monthKeys: [UInt32] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                              "nov", "dec"].map { key3($0) }

    /// ISO 8601 and purely numeric forms: `2024-03-05`, `2024-03-05T10:30:00.5+01:00`, `2024-03-05 10:30`,
    /// `2024/03/05`, `2024.03.05`, `20240305`, `05.03.2024` (day first), `03/05/2024` (US month first
    /// unless the first number exceeds 12).
    static func parseNumeric(_ s: String) -> Date? {
        let u = Array(s.utf8)
        var i = 0
        func digits(_ maxCount: Int) -> (value: Int, count: Int)? {
            var v = 0, c = 0
            while i < u.count, c < maxCount, u[i] >= 48, u[i] <= 57 { v = v * 10 + Int(u[i] - 48); i += 1; c += 1 }
            return c == 0 ? nil : (v, c)
        }
        guard let first = digits(8) else { return nil }
        var year = 0, month = 0, day = 0
        if first.count == 8 && (i == u.count || u[i] == 0x54 || u[i] == 0x20) {
            year = first.value / 10000; month = first.value / 100 % 100; day = first.value % 100
        } else if first.count == 4, i < u.count, [0x2D, 0x2F, 0x2E].contains(u[i]) {
            let sep = u[i]; i += 1
            guard let m = digits(2), i < u.count, u[i] == sep else { return nil }
            i += 1
            guard let d = digits(2) else { return nil }
            year = first.value; month = m.value; day = d.value
        } else if first.count <= 2, i < u.count, [0x2D, 0x2F, 0x2E].contains(u[i]) {
            let sep = u[i]; i += 1
            guard let second = digits(2), i < u.count, u[i] == sep else { return nil }
            i += 1
            guard let y = digits(4), y.count == 4 || y.count == 2 else { return nil }
            year = y.count == 2 ? expandYear(y.value) : y.value
            if sep == 0x2F && first.value <= 12 { month = first.value; day = second.value }  // US 03/05/2024
            else { day = first.value; month = second.value }
        } else {
            return nil
        }
        var hour = 0, minute = 0
        var second = 0.0
        var offset = 0
        if i < u.count, u[i] == 0x54 || u[i] == 0x74 || u[i] == 0x20 {
            let save = i
            i += 1
            while i < u.count, u[i] == 0x20 { i += 1 }
            if let h = digits(2), i < u.count, u[i] == 0x3A {
                i += 1
                guard let mi = digits(2) else { return nil }
                hour = h.value; minute = mi.value
                if i < u.count, u[i] == 0x3A {
                    i += 1
                    guard let sec = digits(2) else { return nil }
                    second = Double(sec.value)
                    if i < u.count, u[i] == 0x2E || u[i] == 0x2C {
                        i += 1
                        var scale = 0.1
                        while i < u.count, u[i] >= 48, u[i] <= 57 { second += Double(u[i] - 48) * scale; scale /= 10; i += 1 }
                    }
                }
                while i < u.count, u[i] == 0x20 { i += 1 }
                if i < u.count {
                    if u[i] == 0x5A || u[i] == 0x7A { i += 1 }
                    else if u[i] == 0x2B || u[i] == 0x2D {
                        let sign = u[i] == 0x2D ? -1 : 1
                        i += 1
                        guard let oh = digits(2) else { return nil }
                        var om = 0
                        if i < u.count, u[i] == 0x3A { i += 1 }
                        if let m = digits(2) { om = m.value }
                        offset = sign * (oh.value * 3600 + om * 60)
                    } else {
                        let rest = String(decoding: u[i...], as: UTF8.self).lowercased()
                        guard let z = zoneNames[rest] else { return nil }
                        offset = z * 60
                        i = u.count
                    }
                }
            } else {
                // A date followed by words ("2024-03-05 standup") is still a date.
                i = save
                _ = i
                return makeDate(year: year, month: month, day: day)
            }
        }
        guard i == u.count else { return nil }
        return makeDate(year: year, month: month, day: day, hour: hour, minute: minute, second: second,
                        offsetSeconds: offset)
    }

    static func expandYear(_ y: Int) -> Int {
        if y < 50 { return 2000 + y }
        if y < 100 { return 1900 + y }
        if y < 1000 { return 1900 + y }  // three-digit years from old Y2K-broken mailers
        return y
    }

    /// Word-based forms, order-agnostic: weekday (ignored), month name, day, year, `hh:mm[:ss]`, zone.
    /// Covers RFC 5322 (`Tue, 5 Mar 2024 10:30:00 +0100 (CET)`), obsolete variants (2-digit years, named
    /// zones, missing weekday or seconds) and asctime (`Tue Mar  5 10:30:00 2024`, as in `From ` lines).
    static func parseWords(_ s: String) -> Date? {
        // Drop comments in parentheses, split on whitespace and commas.
        var cleaned = ""
        var depth = 0
        for ch in s {
            if ch == "(" { depth += 1; continue }
            if ch == ")" { depth = max(0, depth - 1); continue }
            if depth == 0 { cleaned.append(ch == "," ? " " : ch) }
        }
        let tokens = cleaned.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" })
        var month: Int?, day: Int?, year: Int?, hour = 0, minute = 0
        var second = 0.0
        var offset: Int?
        var sawTime = false
        for raw in tokens {
            var tok = raw.lowercased()
            if tok.hasSuffix(".") { tok.removeLast() }
            if weekdayNames.contains(tok) { continue }
            if let m = monthNames[tok] { if month == nil { month = m }; continue }
            if !sawTime, tok.utf8.contains(0x3A) {
                let parts = tok.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count >= 2, let h = Int(parts[0]), let mi = Int(parts[1]) else { return nil }
                hour = h; minute = mi
                if parts.count >= 3 { second = Double(parts[2]) ?? 0 }
                sawTime = true
                continue
            }
            if let first = tok.utf8.first, first == 0x2B || first == 0x2D, tok.utf8.count == 5,
               let v = Int(tok.dropFirst()) {
                offset = (first == 0x2D ? -1 : 1) * (v / 100 * 3600 + v % 100 * 60)
                continue
            }
            if tok == "pm" || tok == "am" {
                if sawTime, tok == "pm", hour < 12 { hour += 12 }
                if sawTime, tok == "am", hour == 12 { hour = 0 }
                continue
            }
            if let z = zoneNames[tok] { if offset == nil { offset = z * 60 }; continue }
            if let n = Int(tok) {
                if tok.utf8.count >= 3 { if year == nil { year = expandYear(n) }; continue }
                if day == nil, (1...31).contains(n) { day = n; continue }
                if year == nil { year = expandYear(n); continue }
                continue
            }
            // "5th", "March-5": ordinal suffixes.
            let digitsPrefix = tok.prefix(while: { $0.isASCII && $0.isNumber })
            if !digitsPrefix.isEmpty, ["st", "nd", "rd", "th"].contains(String(tok.dropFirst(digitsPrefix.count))),
               let n = Int(digitsPrefix), day == nil {
                day = n
                continue
            }
            // Single-letter military zones and unknown zone words count as UTC (RFC 5322 §4.3).
            if tok.utf8.count <= 5, tok.allSatisfy({ $0.isLetter }), sawTime { continue }
            return nil
        }
        guard let month, let day, let year else { return nil }
        return makeDate(year: year, month: month, day: day, hour: hour, minute: minute, second: second,
                        offsetSeconds: offset ?? 0)
    }

    /// A date at the start of a file name: `2024-03-05.md`, `2024-03-05 standup.md`, `20240305.md`,
    /// `2024_03_05-notes.md`.
    static func dateInFileName(_ name: String) -> Date? {
        let u = Array(name.utf8)
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= u.count else { return nil }
            var v = 0
            for k in from..<(from + count) {
                guard u[k] >= 48, u[k] <= 57 else { return nil }
                v = v * 10 + Int(u[k] - 48)
            }
            return v
        }
        func boundary(_ at: Int) -> Bool { at >= u.count || !(u[at] >= 48 && u[at] <= 57) }
        guard let y = num(0, 4), (1900...2200).contains(y) else { return nil }
        if u.count > 4, [0x2D, 0x5F, 0x2E].contains(u[4]), let m = num(5, 2), u.count > 7, u[7] == u[4],
           let d = num(8, 2), boundary(10) {
            return makeDate(year: y, month: m, day: d)
        }
        // 20240305, and the Zettelkasten and org-roam ids 202403051015 and 20240305101500.
        if let m = num(4, 2), let d = num(6, 2),
            boundary(8) || (num(8, 4) != nil && boundary(12)) || (num(8, 6) != nil && boundary(14))
        {
            return makeDate(year: y, month: m, day: d)
        }
        return nil
    }
}

/// Lenient, locale-independent date parsing as used for notes and mail, for callers that read dates from
/// people (such as `--since 2024-03-05`): ISO 8601 (`2024-03-05`, `2024-03-05T10:30+01:00`), numeric
/// (`05.03.2024`, `2024/03/05`, `20240305`), RFC 5322 and asctime, and `March 5, 2024`. No zone means UTC.
public enum FlexibleDate {
    public static func parse(_ text: String) -> Date? { DateParsing.parse(text) }

    /// "january" … "december": the one list every reader of written dates works from.
    public static let englishMonthNames = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december",
    ]
}
