import Foundation

/// A summarized thread: identity, people, dates, and the parsed summary sections.
///
/// Encodes to one element of CLI.md's `assist summarize --json` `threads` array, plus `needs_action`.
public struct ThreadSummary: Sendable, Equatable, Encodable {
    public var threadID: String
    public var subject: String
    public var participants: [String]
    /// Oldest first.
    public var messageIDs: [String]
    public var firstDate: Date?
    public var lastDate: Date?
    public var notes: SummaryNotes
    /// Whether the digest puts this thread first because the user has something to do or answer.
    public var needsAction: Bool
    /// Whom the thread waits on: the recipients of its newest message when a person wrote it and it asks
    /// something (`SummaryDigest.asksTheReader`); empty when nobody was asked anything.
    public var waitingOn: [String] = []
    /// Sender of the newest message, and whom it is addressed to (`ThreadTranscript.addressees`), for
    /// deciding whom a thread waits on.
    public var lastSender: String?
    public var lastRecipients: [String]
    /// Whether a machine sent the newest message (a newsletter, a no-reply notice): then nobody waits on
    /// the user, whatever the summary lists.
    public var lastIsAutomated: Bool
    /// The newest message's own words, to tell whether it asks its reader for something.
    public var lastText: String
    /// Whether `notes` came from the summary cache rather than the model.
    public var fromCache: Bool

    public init(
        threadID: String, subject: String, participants: [String], messageIDs: [String], firstDate: Date?,
        lastDate: Date?, notes: SummaryNotes, needsAction: Bool = false, lastSender: String? = nil,
        lastRecipients: [String] = [], lastIsAutomated: Bool = false, lastText: String = "", fromCache: Bool = false
    ) {
        self.threadID = threadID
        self.subject = subject
        self.participants = participants
        self.messageIDs = messageIDs
        self.firstDate = firstDate
        self.lastDate = lastDate
        self.notes = notes
        self.needsAction = needsAction
        self.lastSender = lastSender
        self.lastRecipients = lastRecipients
        self.lastIsAutomated = lastIsAutomated
        self.lastText = lastText
        self.fromCache = fromCache
    }

    public var summary: String { notes.summary }
    public var decisions: [String] { notes.decisions }
    public var actionItems: [ActionItem] { notes.actionItems }
    public var openQuestions: [String] { notes.openQuestions }

    enum CodingKeys: String, CodingKey {
        case threadID = "thread_id", subject, participants, messageIDs = "message_ids", firstDate = "first_date"
        case lastDate = "last_date", summary, decisions, actionItems = "action_items", openQuestions = "open_questions"
        case needsAction = "needs_action", waitingOn = "waiting_on"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(threadID, forKey: .threadID)
        try c.encode(subject, forKey: .subject)
        try c.encode(participants, forKey: .participants)
        try c.encode(messageIDs, forKey: .messageIDs)
        try c.encode(firstDate.map(DateLabel.iso), forKey: .firstDate)
        try c.encode(lastDate.map(DateLabel.iso), forKey: .lastDate)
        try c.encode(notes.summary, forKey: .summary)
        try c.encode(notes.decisions, forKey: .decisions)
        try c.encode(notes.actionItems.map(EncodedAction.init), forKey: .actionItems)
        try c.encode(notes.openQuestions, forKey: .openQuestions)
        try c.encode(needsAction, forKey: .needsAction)
        try c.encode(waitingOn, forKey: .waitingOn)
    }

    /// Action items always carry all three keys, `null` where unknown.
    private struct EncodedAction: Encodable {
        var item: ActionItem
        enum CodingKeys: String, CodingKey { case who, what, due }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(item.who, forKey: .who)
            try c.encode(item.what, forKey: .what)
            try c.encode(item.due, forKey: .due)
        }
    }
}

/// Summaries of many threads, ordered for a person to read: what waits on them first, then newest first.
public struct SummaryDigest: Sendable, Equatable, Encodable {
    public var threads: [ThreadSummary]
    /// The address the ordering treated as the user's (configured, or the most frequent recipient).
    public var user: String?

    public init(threads: [ThreadSummary], user: String?) {
        self.threads = threads
        self.user = user
    }

    enum CodingKeys: String, CodingKey { case threads, user }

    /// Orders `threads` for the digest and marks those that need the user's action.
    ///
    /// The user is `userAddress` when configured, else the address that receives the most messages across
    /// all threads (in a personal mailbox, its owner). A thread waits on the user when its newest message
    /// came from someone else, was written by a person (not a newsletter or a no-reply notice), reached
    /// the user (sent to them, answering them in a list archive without To:, or naming them on a list)
    /// and asks something of its reader: a question or a
    /// request ("please…", "could you…", "let me know"). That is read from the mail itself, not from what
    /// a small model put in the summary, which lists "Maren: track the order" for every dispatch notice.
    /// Those threads come first; within each group, the most recent first.
    public static func ordered(_ threads: [ThreadSummary], userAddress: String?, recipientCounts: [String: Int]) -> SummaryDigest {
        let user = userAddress.map(MailAddress.address) ?? mostFrequent(recipientCounts)
        let names = user.map { displayNames(of: $0, in: threads) } ?? []
        var marked = threads
        for index in marked.indices {
            marked[index].needsAction = user.map { needsAction(marked[index], user: $0, names: names) } ?? false
            marked[index].waitingOn = waitingOn(marked[index])
        }
        marked.sort { a, b in
            if a.needsAction != b.needsAction { return a.needsAction }
            switch (a.lastDate, b.lastDate) {
            case let (x?, y?) where x != y: return x > y
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a.subject.localizedStandardCompare(b.subject) == .orderedAscending
            }
        }
        return SummaryDigest(threads: marked, user: user)
    }

    static func mostFrequent(_ counts: [String: Int]) -> String? {
        counts.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }?.key
    }

    /// Lowercased name words (3+ letters) and the local part that identify `user` in free text ("Dana", "dana.o").
    static func displayNames(of user: String, in threads: [ThreadSummary]) -> Set<String> {
        var names = Set<String>()
        if let local = user.split(separator: "@").first, local.count >= 3 { names.insert(String(local)) }
        for person in threads.flatMap({ $0.participants + $0.lastRecipients }) where MailAddress.address(of: person) == user {
            for word in MailAddress.name(of: person).lowercased().split(whereSeparator: { !$0.isLetter })
            where word.count >= 3 {
                names.insert(String(word))
            }
        }
        return names
    }

    static func needsAction(_ thread: ThreadSummary, user: String, names: Set<String>) -> Bool {
        let sentByUser = thread.lastSender.map { MailAddress.address(of: $0) == user } ?? false
        if thread.lastIsAutomated || sentByUser { return false }
        let sentToUser = thread.lastRecipients.contains { MailAddress.address(of: $0) == user }
        let namesUser = !Set(LexicalText.words(thread.lastText)).isDisjoint(with: names)
        guard sentToUser || namesUser else { return false }
        return asksTheReader(thread.lastText)
    }

    /// The people the newest message asks something of: its recipients other than its sender, when a
    /// person wrote it and it asks (a list address stands for the list).
    static func waitingOn(_ thread: ThreadSummary) -> [String] {
        guard !thread.lastIsAutomated, asksTheReader(thread.lastText) else { return [] }
        let sender = thread.lastSender.map(MailAddress.address)
        var seen = Set<String>()
        return thread.lastRecipients.filter { person in
            let address = MailAddress.address(of: person)
            return address != sender && seen.insert(address).inserted
        }
    }

    /// Whether a message asks its reader for something: a question of three words or more ("Questions?"
    /// alone is a footer), or a request ("please", "could you", "let me know"). A sentence starting with
    /// "if" offers help rather than asking ("If you have any questions, please contact us").
    static func asksTheReader(_ text: String) -> Bool {
        let requests = ["please", "could you", "can you", "would you", "will you", "let me know", "let us know", "kindly"]
        return LexicalText.sentences(in: text).contains { sentence in
            let words = LexicalText.words(sentence)
            if words.first == "if" { return false }
            if sentence.hasSuffix("?") && words.count >= 3 { return true }
            let padded = " " + words.joined(separator: " ") + " "
            return requests.contains { padded.contains(" \($0) ") }
        }
    }

    /// The digest as Markdown for people.
    public var markdown: String {
        var out = "# Mail digest\n\n"
        let waiting = threads.filter(\.needsAction).count
        out += "\(threads.count) thread\(threads.count == 1 ? "" : "s")"
        if waiting > 0 { out += ", \(waiting) waiting on you" }
        out += ".\n"
        for thread in threads {
            out += "\n## \(thread.subject.isEmpty ? "(no subject)" : thread.subject)"
            if thread.needsAction { out += " — needs your action" }
            out += "\n\n"
            var meta: [String] = []
            switch (thread.firstDate, thread.lastDate) {
            case let (first?, last?) where DateLabel.day(first) != DateLabel.day(last):
                meta.append("\(DateLabel.day(first)) – \(DateLabel.day(last))")
            case let (_, last?): meta.append(DateLabel.day(last))
            default: break
            }
            meta.append("\(thread.messageIDs.count) message\(thread.messageIDs.count == 1 ? "" : "s")")
            let people = thread.participants.map { MailAddress.name(of: $0).isEmpty ? $0 : MailAddress.name(of: $0) }
            if !people.isEmpty { meta.append(people.prefix(6).joined(separator: ", ") + (people.count > 6 ? ", …" : "")) }
            out += "*" + meta.joined(separator: " · ") + "*\n\n"
            if !thread.waitingOn.isEmpty, let asker = thread.lastSender {
                func label(_ person: String) -> String {
                    if let user, MailAddress.address(of: person) == user { return "you" }
                    let name = MailAddress.name(of: person)
                    return name.isEmpty ? MailAddress.address(of: person) : name
                }
                let since = thread.lastDate.map { " since \(DateLabel.day($0))" } ?? ""
                out += "Waiting on \(thread.waitingOn.prefix(4).map(label).joined(separator: ", "))"
                    + "\(thread.waitingOn.count > 4 ? ", …" : ""), asked by \(label(asker))\(since).\n\n"
            }
            if !thread.summary.isEmpty { out += thread.summary + "\n\n" }
            if !thread.decisions.isEmpty {
                out += "**Decisions**\n" + thread.decisions.map { "- \($0)\n" }.joined() + "\n"
            }
            if !thread.actionItems.isEmpty {
                out += "**Action items**\n"
                for item in thread.actionItems {
                    out += "- " + (item.who.map { "\($0): " } ?? "") + item.what + (item.due.map { " (due \($0))" } ?? "") + "\n"
                }
                out += "\n"
            }
            if !thread.openQuestions.isEmpty {
                out += "**Open questions**\n" + thread.openQuestions.map { "- \($0)\n" }.joined() + "\n"
            }
        }
        return out
    }
}
