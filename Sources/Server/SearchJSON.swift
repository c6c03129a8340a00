import Assistant
import Foundation
import Index
import Ingest

/// A search hit in the `assist search --json` shape of CLI.md, plus `from`; the CLI prints the same shape.
public struct SearchResultJSON: Encodable, Sendable {
    public var hit: SearchHit

    public init(hit: SearchHit) { self.hit = hit }

    enum CodingKeys: String, CodingKey {
        case score, kind, path, lineStart = "line_start", lineEnd = "line_end", messageID = "message_id"
        case subject, from, date, heading, text
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(hit.score, forKey: .score)
        try container.encode(hit.kind.rawValue, forKey: .kind)
        try container.encode(hit.path, forKey: .path)
        try container.encode(hit.lineStart, forKey: .lineStart)
        try container.encode(hit.lineEnd, forKey: .lineEnd)
        try container.encode(hit.messageID, forKey: .messageID)
        try container.encode(hit.title, forKey: .subject)
        try container.encode(hit.from, forKey: .from)
        try container.encode(hit.date.map(DateLabel.iso), forKey: .date)
        try container.encode(hit.heading, forKey: .heading)
        try container.encode(hit.text, forKey: .text)
    }
}

/// `{"results":[…]}`.
public struct SearchResultsJSON: Encodable, Sendable {
    public var results: [SearchResultJSON]
    public init(_ hits: [SearchHit]) { results = hits.map(SearchResultJSON.init) }
}

/// The filters shared by the search and ask requests of the HTTP API and the MCP tools, as clients send them.
struct FilterFields: Sendable, Equatable {
    var limit: Int?
    var source: String?
    var since: String?
    var until: String?
    var from: String?
    var path: String?
    var tag: String?

    /// Largest `limit` honoured.
    static let maxLimit = 100

    /// The checked filters: `source` is `notes` or `mail`; dates as `date(_:field:endOfDay:now:)` reads them.
    func askFilters(now: Date = Date()) throws -> AskFilters {
        var filters = AskFilters()
        switch source?.lowercased() {
        case nil, "", "all", "both": break
        case "notes", "note": filters.kind = .note
        case "mail", "email", "mails": filters.kind = .mail
        case let other?: throw FilterError("source must be 'notes' or 'mail' (got '\(other)')")
        }
        filters.since = try since.map { try Self.date($0, field: "since", endOfDay: false, now: now) }
        filters.until = try until.map { try Self.date($0, field: "until", endOfDay: true, now: now) }
        if let since = filters.since, let until = filters.until, since > until {
            throw FilterError("since (\(DateLabel.iso(since))) is after until (\(DateLabel.iso(until)))")
        }
        filters.from = from.flatMap { $0.isEmpty ? nil : $0 }
        filters.pathContains = path.flatMap { $0.isEmpty ? nil : $0 }
        filters.tag = tag.flatMap { $0.isEmpty ? nil : ($0.hasPrefix("#") ? String($0.dropFirst()) : $0) }
        return filters
    }

    /// `limit` checked to 1…`maxLimit`, or `fallback` when absent.
    func checkedLimit(fallback: Int) throws -> Int {
        guard let limit else { return fallback }
        guard (1...Self.maxLimit).contains(limit) else {
            throw FilterError("limit must be from 1 to \(Self.maxLimit) (got \(limit))")
        }
        return limit
    }

    func searchQuery(text: String, fallbackLimit: Int = 10, now: Date = Date()) throws -> SearchQuery {
        let filters = try askFilters(now: now)
        return SearchQuery(
            text: text, limit: try checkedLimit(fallback: fallbackLimit), kind: filters.kind, since: filters.since,
            until: filters.until, from: filters.from, pathContains: filters.pathContains, tag: filters.tag)
    }

    /// Reads a date bound. Bare days, months and years are taken in this machine's time zone, as
    /// `assist search --since` takes them; an `until` day, month or year includes all of it.
    static func date(_ text: String, field: String, endOfDay: Bool, now: Date) throws -> Date {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .current
        if let unit = trimmed.last, "dwmy".contains(unit), let count = Int(trimmed.dropLast()), (0...10_000).contains(count) {
            let component: Calendar.Component = unit == "d" ? .day : unit == "w" ? .weekOfYear : unit == "m" ? .month : .year
            if let date = calendar.date(byAdding: component, value: -count, to: now) { return date }
        }
        let pieces = trimmed.split(separator: "-", omittingEmptySubsequences: false)
        let numbers = pieces.compactMap { Int($0) }
        if (1...3).contains(pieces.count), numbers.count == pieces.count, pieces[0].count == 4,
            pieces.dropFirst().allSatisfy({ $0.count == 2 }),
            numbers.count < 2 || (1...12).contains(numbers[1]), numbers.count < 3 || (1...31).contains(numbers[2]),
            let start = calendar.date(
                from: DateComponents(year: numbers[0], month: numbers.count > 1 ? numbers[1] : 1, day: numbers.count > 2 ? numbers[2] : 1))
        {
            guard endOfDay else { return start }
            let span: Calendar.Component = numbers.count == 3 ? .day : numbers.count == 2 ? .month : .year
            return (calendar.date(byAdding: span, value: 1, to: start) ?? start).addingTimeInterval(-0.001)
        }
        if let instant = try? Date.ISO8601FormatStyle().parse(trimmed) { return instant }
        if let instant = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(trimmed) { return instant }
        throw FilterError(
            "\(field) must be a date like 2026-03-05 (or 2026-03, 2026), an ISO 8601 time, or 7d / 2w / 6m / 1y "
                + "(got '\(text)')")
    }
}

/// A filter value that cannot be used, with what to send instead.
struct FilterError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
