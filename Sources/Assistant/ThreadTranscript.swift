import Foundation

/// One message of a thread as the summarizer sees it: who, when, to whom, and only their own words.
public struct TranscriptMessage: Sendable, Equatable {
    public var messageID: String
    /// `Name <addr>` or a bare address.
    public var from: String
    /// Recipients, To then Cc.
    public var to: [String]
    public var date: Date?
    /// The message's own words: quoted history and signature removed (`ReplyCleaner.ownWords`).
    public var text: String
    /// A machine sent it (`Document.isAutomated`): a newsletter, a notice, a no-reply confirmation.
    public var isAutomated: Bool
    /// The Message-ID of the message it answers (its nearest reference), if any.
    public var inReplyTo: String?

    public init(
        messageID: String, from: String, to: [String] = [], date: Date?, text: String, isAutomated: Bool = false,
        inReplyTo: String? = nil
    ) {
        self.messageID = messageID
        self.from = from
        self.to = to
        self.date = date
        self.text = text
        self.isAutomated = isAutomated
        self.inReplyTo = inReplyTo
    }
}

/// A thread ready to summarize: its messages oldest first, rendered as a plain transcript.
public struct ThreadTranscript: Sendable, Equatable {
    public var threadID: String
    public var subject: String
    /// Oldest first.
    public var messages: [TranscriptMessage]

    public init(threadID: String, subject: String, messages: [TranscriptMessage]) {
        self.threadID = threadID
        self.subject = subject
        self.messages = messages.enumerated().sorted { a, b in
            switch (a.element.date, b.element.date) {
            case let (x?, y?) where x != y: return x < y
            case (nil, _?): return true
            case (_?, nil): return false
            default: return a.offset < b.offset
            }
        }.map(\.element)
    }

    /// One entry per message: a `From, date:` header line and the message's own words.
    public var entries: [String] {
        messages.map(Self.entry)
    }

    /// The whole transcript, entries separated by blank lines, neutralized against fence forging.
    public var rendered: String {
        entries.joined(separator: "\n\n")
    }

    /// Distinct senders in order of first message, then recipients who never wrote.
    public var participants: [String] {
        var seen = Set<String>()
        var result: [String] = []
        for person in messages.map(\.from) + messages.flatMap(\.to) {
            let key = MailAddress.address(of: person)
            guard !key.isEmpty, seen.insert(key).inserted else { continue }
            result.append(person)
        }
        return result
    }

    /// Whom `message` is addressed to: its To and Cc, or, when it has none, the author of the message it
    /// answers. A mailing list's archive (pipermail, Mailman's `.txt`) keeps no To:, and there a reply is
    /// written to the one it answers, in front of the list.
    public func addressees(of message: TranscriptMessage) -> [String] {
        if !message.to.isEmpty { return message.to }
        guard let parentID = message.inReplyTo, let parent = messages.first(where: { $0.messageID == parentID }),
            MailAddress.address(of: parent.from) != MailAddress.address(of: message.from)
        else { return [] }
        return [parent.from]
    }

    static func entry(_ message: TranscriptMessage) -> String {
        let when = message.date.map(DateLabel.minute) ?? "undated"
        let header = ContextFence.headerField("\(message.from), \(when):")
        let body = ContextFence.neutralize(InjectionFilter.withhold(message.text).trimmingCharacters(in: .whitespacesAndNewlines))
        return header + "\n" + (body.isEmpty ? "(no new text)" : body)
    }

    /// Splits the transcript into consecutive segments of at most `budget` tokens, at message boundaries.
    ///
    /// Messages are never reordered or dropped, so the first segment always starts with the first message
    /// (where decisions are often made). A single message longer than the budget is split at paragraph, then
    /// line, then word boundaries; its pieces after the first carry a "(continued)" header.
    public func segments(budget: Int, count: (String) throws -> Int) rethrows -> [String] {
        var segments: [String] = []
        var current: [String] = []
        var used = 0
        let separatorCost = 1
        func flush() {
            if !current.isEmpty { segments.append(current.joined(separator: "\n\n")) }
            current = []
            used = 0
        }
        for (index, entry) in entries.enumerated() {
            let cost = try count(entry) + separatorCost
            if cost <= budget {
                if used + cost > budget { flush() }
                current.append(entry)
                used += cost
                continue
            }
            flush()
            for piece in try split(entry, message: messages[index], budget: budget, count: count) {
                segments.append(piece)
            }
        }
        flush()
        return segments
    }

    /// Pieces of one over-long message entry, each within `budget`.
    private func split(_ entry: String, message: TranscriptMessage, budget: Int, count: (String) throws -> Int) rethrows -> [String] {
        let when = message.date.map(DateLabel.minute) ?? "undated"
        let continued = ContextFence.headerField("\(message.from), \(when) (continued):")
        var units: [String] = []
        for paragraph in entry.components(separatedBy: "\n\n") {
            if try count(paragraph) < budget / 2 {
                units.append(paragraph)
                continue
            }
            for line in paragraph.components(separatedBy: "\n") {
                if try count(line) < budget / 2 {
                    units.append(line)
                    continue
                }
                // A line longer than half the budget: cut into runs of words.
                var run: [Substring] = []
                for word in line.split(separator: " ") {
                    run.append(word)
                    if try count(run.joined(separator: " ")) >= budget / 2 {
                        units.append(run.joined(separator: " "))
                        run = []
                    }
                }
                if !run.isEmpty { units.append(run.joined(separator: " ")) }
            }
        }
        var pieces: [String] = []
        var current = ""
        for unit in units {
            let candidate = current.isEmpty ? unit : current + "\n" + unit
            let framed = pieces.isEmpty ? candidate : continued + "\n" + candidate
            if try count(framed) <= budget || current.isEmpty {
                current = candidate
            } else {
                pieces.append(pieces.isEmpty ? current : continued + "\n" + current)
                current = unit
            }
        }
        if !current.isEmpty { pieces.append(pieces.isEmpty ? current : continued + "\n" + current) }
        return pieces
    }
}

/// Email address helpers for `Name <addr>` strings.
public enum MailAddress {
    /// The lowercased address inside angle brackets, or the whole trimmed string lowercased.
    public static func address(of person: String) -> String {
        if let open = person.lastIndex(of: "<"), let close = person[open...].firstIndex(of: ">") {
            return person[person.index(after: open)..<close].trimmingCharacters(in: .whitespaces).lowercased()
        }
        return person.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\"'"))).lowercased()
    }

    /// The display name before `<addr>` without quotes; empty when there is none.
    public static func name(of person: String) -> String {
        guard let open = person.lastIndex(of: "<") else { return "" }
        return person[..<open].trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\"'")))
    }
}

extension DateLabel {
    /// `2024-03-05 14:02 UTC`, for transcript headers.
    public static func minute(_ date: Date) -> String {
        let style = Date.ISO8601FormatStyle(dateSeparator: .dash, dateTimeSeparator: .space, timeZone: .gmt)
            .year().month().day().time(includingFractionalSeconds: false)
        let text = date.formatted(style)
        return String(text.prefix(16)) + " UTC"
    }
}
