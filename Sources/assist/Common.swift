import ArgumentParser
import Assistant
import Foundation
import Index
import Inference
import Ingest

/// `--db` and `--json`, shared by every command that reads the index.
struct IndexOptions: ParsableArguments {
    @Option(help: "Index file (default: $ASSIST_HOME/index.sqlite).") var db: String?
    @Flag(help: "Print one JSON document on stdout and nothing else there.") var json = false

    func workspace(extra: [ConfigKey: String] = [:]) throws -> Workspace {
        var flags = extra
        if let db { flags[.db] = db }
        return try Workspace.load(flags: flags)
    }
}

/// The retrieval filters shared by `search`, `ask` and `eval`.
struct FilterOptions: ParsableArguments {
    @Option(help: "Only this many results.") var limit: Int?
    @Option(help: "notes or mail.") var source: SourceFilter?
    @Option(help: "Only documents dated on or after this day (YYYY-MM-DD).") var since: String?
    @Option(help: "Only documents dated on or before this day (YYYY-MM-DD).") var until: String?
    @Option(help: "Only mail whose sender contains this text.") var from: String?
    @Option(help: "Only notes carrying this #tag.") var tag: String?
    @Option(help: "Only documents whose path contains this text.") var path: String?

    enum SourceFilter: String, ExpressibleByArgument, CaseIterable {
        case notes, mail
        var kind: DocumentKind { self == .notes ? .note : .mail }
    }

    func query(_ text: String, defaultLimit: Int) throws -> SearchQuery {
        SearchQuery(
            text: text, limit: limit ?? defaultLimit, kind: source?.kind,
            since: try since.map { try CLIDate.parse($0, option: "--since", endOfDay: false) },
            until: try until.map { try CLIDate.parse($0, option: "--until", endOfDay: true) },
            from: from, pathContains: path, tag: tag)
    }
}

/// Day arguments such as `2026-03-01`, read in the user's time zone.
enum CLIDate {
    static func parse(_ text: String, option: String, endOfDay: Bool) throws -> Date {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .current
        guard parts.count >= 1, parts.count <= 3, text.split(separator: "-").count == parts.count,
            let start = calendar.date(
                from: DateComponents(year: parts[0], month: parts.count > 1 ? parts[1] : 1, day: parts.count > 2 ? parts[2] : 1))
        else {
            throw ValidationError("\(option) takes a date like 2026-03-01 (or 2026-03, 2026), not '\(text)'")
        }
        guard endOfDay else { return start }
        let unit: Calendar.Component = parts.count == 3 ? .day : parts.count == 2 ? .month : .year
        return calendar.date(byAdding: unit, value: 1, to: start)!.addingTimeInterval(-0.001)
    }

    static func format(_ date: Date?) -> String? {
        guard let date else { return nil }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = .current
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: date)
    }

    static func iso(_ date: Date?) -> String? {
        guard let date else { return nil }
        let f = ISO8601DateFormatter()
        f.timeZone = .current
        return f.string(from: date)
    }
}

/// Failures the CLI reports itself, each with the exit code of the contract.
struct CLIError: Error {
    var message: String
    var exitCode: Int32

    static func failed(_ message: String) -> CLIError { CLIError(message: message, exitCode: 1) }
    static func missing(_ message: String) -> CLIError { CLIError(message: message, exitCode: 3) }

    /// 3 when a model or the index is missing (the message says which command fixes it), else 1.
    static func exitCode(for error: any Error) -> Int32 {
        switch error {
        case ModelStoreError.notPulled, ModelStoreError.unknownModel: 3
        case StoreError.missingIndex: 3
        default: 1
        }
    }
}

/// Encodes a value as the one JSON document `--json` prints.
enum JSONOutput {
    static func print<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        var data = try encoder.encode(value)
        data.append(0x0A)
        FileHandle.standardOutput.write(data)
    }
}

/// Any JSON value, for output shapes assembled by hand.
enum JSONValue: Encodable {
    case string(String?)
    case int(Int?)
    case double(Double?)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let v): if let v { try c.encode(v) } else { try c.encodeNil() }
        case .int(let v): if let v { try c.encode(v) } else { try c.encodeNil() }
        case .double(let v): if let v, v.isFinite { try c.encode(v) } else { try c.encodeNil() }
        case .bool(let v): try c.encode(v)
        case .array(let v): try c.encode(v)
        case .object(let v): try c.encode(v)
        }
    }
}
