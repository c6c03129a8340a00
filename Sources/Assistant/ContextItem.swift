import Foundation
import Index
import Ingest

/// One retrieved chunk as placed in the prompt, with the short id `n` the model cites it by.
public struct ContextItem: Sendable, Equatable {
    /// The id shown to the model as `[n]`, from 1.
    public var n: Int
    public var hit: SearchHit
    /// The text placed in the prompt: the chunk's text, cut at a line boundary when it alone overflowed the budget.
    /// Quotes are always taken from this text, so they are verbatim in what the model saw.
    public var text: String

    public init(n: Int, hit: SearchHit, text: String? = nil) {
        self.n = n
        self.hit = hit
        self.text = text ?? hit.text
    }

    /// The date the chunk speaks for (`SearchHit.contentDate`): the model is told which source is the
    /// latest word, and a note copied today is not.
    public var date: Date? { hit.contentDate }

    /// The fenced block for the prompt: a header line with id, date first (so the model sees which source is
    /// newest), kind and origin; the neutralized text with instruction-like sentences withheld; a closing line.
    /// Document text cannot forge either fence line (see `ContextFence`).
    public var fencedBlock: String {
        var header = "\(ContextFence.marker)SOURCE [\(n)] | \(DateLabel.day(date)) | "
        switch hit.kind {
        case .note:
            // Title and the chunk's own section name the topic; the path and the outer headings (which
            // mostly repeat the title) would only add prompt tokens, and every token costs prefill time.
            header += "note \"\(ContextFence.headerField(hit.title))\""
            let section = hit.heading?.components(separatedBy: " > ").last.map(ContextFence.headerField) ?? ""
            if !section.isEmpty, section != ContextFence.headerField(hit.title) { header += " > \(section)" }
        case .mail:
            header += "email \"\(ContextFence.headerField(hit.title))\""
            if let from = hit.from.map(ContextFence.headerField), !from.isEmpty { header += " from \(from)" }
        }
        let body = ContextFence.neutralize(InjectionFilter.withhold(text)).trimmingCharacters(in: .whitespacesAndNewlines)
        return header + "\n" + body + "\n\(ContextFence.marker)END SOURCE [\(n)]"
    }

    /// Whether `reply` reproduces a block header (`[2] | 2026-05-20 | email "…"`): a small model that has
    /// lost the thread copies the next source out instead of answering, and a copy is not an answer.
    public static func reproducesHeader(_ reply: String) -> Bool {
        reply.range(of: #"\|\s*(\d{4}-\d{2}-\d{2}|undated)\s*\|\s*(note|email)\s+""#, options: .regularExpression) != nil
    }

    /// How the source is listed under an answer: `[n] path:start-end (date)` for notes,
    /// `[n] Subject — From, date <Message-ID>` for mail.
    public var sourceLine: String {
        SourceLine.format(n: n, hit: hit)
    }
}

/// Source listings shared by context items and citations.
enum SourceLine {
    static func format(n: Int, hit: SearchHit) -> String {
        switch hit.kind {
        case .note:
            return "[\(n)] \(hit.path):\(hit.lineStart)-\(hit.lineEnd) (\(DateLabel.day(hit.date)))"
        case .mail:
            var line = "[\(n)] \(hit.title.isEmpty ? "(no subject)" : hit.title) — "
            line += hit.from ?? "unknown sender"
            line += ", \(DateLabel.day(hit.date))"
            if let id = hit.messageID { line += " <\(id)>" }
            return line
        }
    }
}

/// Date formats used in prompts and output. All in UTC so that output is the same on every machine.
public enum DateLabel {
    /// `2024-03-05`, or `undated`.
    public static func day(_ date: Date?) -> String {
        guard let date else { return "undated" }
        return date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day())
    }

    /// `2024-03-05T14:02:00Z`, the form used in JSON output.
    public static func iso(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt))
    }
}
