import Foundation

/// What threading needs from a message.
public struct ThreadableMessage: Sendable, Equatable {
    public var messageID: String
    /// References then In-Reply-To, oldest first (as `Document.references`).
    public var references: [String]
    public var subject: String
    public var date: Date?

    public init(messageID: String, references: [String], subject: String, date: Date?) {
        self.messageID = messageID
        self.references = references
        self.subject = subject
        self.date = date
    }

    public init(_ document: Document) {
        self.init(messageID: document.messageID ?? "", references: document.references, subject: document.title,
                  date: document.date)
    }
}

/// One conversation.
public struct MailThread: Sendable, Equatable {
    /// Message-ID of the root message, or of the earliest message when the root is missing.
    public var id: String
    /// The root's (or earliest message's) subject without reply/forward prefixes.
    public var subject: String
    /// The thread's messages in date order (undated ones last, in input order).
    public var messageIDs: [String]

    public init(id: String, subject: String, messageIDs: [String]) {
        self.id = id
        self.subject = subject
        self.messageIDs = messageIDs
    }
}

/// Jamie Zawinski's threading algorithm, done iteratively over index-based containers.
///
/// 1. One container per Message-ID (seen or only referenced). 2. Each message's references link
/// consecutive ids parent→child unless that would make a loop or the child already has a parent; the
/// message itself goes under its last reference. 3. Containers without a parent are roots. 4. Empty
/// containers are pruned (their children move up; an empty root keeps its children if it has several).
/// 5. Subject grouping: a root message that has no references at all and whose subject says it is a reply
/// ("Re:", "AW:", "SV:", "Fwd:" …) joins the earliest root with the same normalized subject. Messages
/// that do not claim to be replies are never merged by subject, so weekly "Status" mails stay separate.
///
/// Output is deterministic: threads sorted by their last date, newest first, then by id.
public enum MailThreader {
    public static func thread(_ messages: [ThreadableMessage]) -> [MailThread] {
        var table = ContainerTable()
        // 1–2. Containers and links.
        for (index, message) in messages.enumerated() {
            let id = message.messageID.isEmpty ? "\u{0}noid-\(index)" : message.messageID
            var container = table.container(for: id)
            if table.message[container] != nil {
                // A duplicate Message-ID: keep both messages, the second in its own container.
                container = table.container(for: "\(id)\u{0}dup-\(index)")
            }
            table.message[container] = index
            var previous: Int?
            for ref in message.references where !ref.isEmpty {
                let refContainer = table.container(for: ref)
                if let parent = previous, table.parent[refContainer] == nil, refContainer != parent,
                   !table.wouldCreateLoop(parent: parent, child: refContainer) {
                    table.link(parent: parent, child: refContainer)
                }
                previous = refContainer
            }
            // The message goes under its last reference, replacing what earlier references guessed.
            if let parent = previous, parent != container, !table.wouldCreateLoop(parent: parent, child: container) {
                table.unlink(container)
                table.link(parent: parent, child: container)
            } else if previous == nil, table.parent[container] != nil {
                // No references: it is a root, whatever other messages claimed.
                table.unlink(container)
            }
        }
        // 3. Roots, in container creation order (deterministic).
        var roots = (0..<table.count).filter { table.parent[$0] == nil }
        // 4. Prune empty containers.
        roots = table.prune(roots: roots)
        // 5. Subject grouping.
        roots = groupBySubject(roots, table: &table, messages: messages)
        // Output.
        var threads: [(thread: MailThread, last: Date?)] = []
        for root in roots {
            let members = table.messagesInSubtree(root)
            guard !members.isEmpty else { continue }
            let ordered = members.enumerated().sorted { a, b in
                let da = messages[a.element].date, db = messages[b.element].date
                switch (da, db) {
                case let (x?, y?): return x != y ? x < y : a.offset < b.offset
                case (_?, nil): return true
                case (nil, _?): return false
                case (nil, nil): return a.offset < b.offset
                }
            }.map(\.element)
            let rootMessage = table.message[root] ?? ordered[0]
            let subject = SubjectNormalizer.display(messages[rootMessage].subject)
            let last = members.compactMap { messages[$0].date }.max()
            threads.append((MailThread(id: messages[rootMessage].messageID, subject: subject,
                                       messageIDs: ordered.map { messages[$0].messageID }), last))
        }
        threads.sort { a, b in
            switch (a.last, b.last) {
            case let (x?, y?) where x != y: return x > y
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a.thread.id < b.thread.id
            }
        }
        return threads.map(\.thread)
    }

    private static func groupBySubject(_ roots: [Int], table: inout ContainerTable,
                                       messages: [ThreadableMessage]) -> [Int] {
        // The subject of a root: its message's, or its earliest child's when it is empty.
        func subject(of root: Int) -> String? {
            if let m = table.message[root] { return messages[m].subject }
            for child in table.children[root] { if let m = table.message[child] { return messages[m].subject } }
            return nil
        }
        var earliestCache: [Int: Date] = [:]
        func earliestDate(of root: Int) -> Date {
            if let d = earliestCache[root] { return d }
            let d = table.messagesInSubtree(root).compactMap { messages[$0].date }.min() ?? .distantFuture
            earliestCache[root] = d
            return d
        }
        var anchorBySubject: [String: Int] = [:]
        for root in roots {
            guard let s = subject(of: root) else { continue }
            let key = SubjectNormalizer.normalize(s)
            guard !key.isEmpty else { continue }
            if let existing = anchorBySubject[key] {
                // The anchor is the earliest thread; prefer a non-reply message at equal dates.
                let e = earliestDate(of: existing), r = earliestDate(of: root)
                if r < e || (r == e && !SubjectNormalizer.isReply(s) && SubjectNormalizer.isReply(subject(of: existing) ?? "")) {
                    anchorBySubject[key] = root
                }
            } else {
                anchorBySubject[key] = root
            }
        }
        var kept: [Int] = []
        for root in roots {
            if let m = table.message[root], messages[m].references.isEmpty, SubjectNormalizer.isReply(messages[m].subject),
               let anchor = anchorBySubject[SubjectNormalizer.normalize(messages[m].subject)], anchor != root {
                table.link(parent: anchor, child: root)
                continue
            }
            kept.append(root)
        }
        return kept
    }
}

/// Subject normalization for threading and display.
enum SubjectNormalizer {
    private static let replyPrefixes: Set<String> = ["re", "aw", "sv", "vs", "antw", "ynt", "r", "rif", "ref", "fw",
                                                     "fwd", "wg", "tr", "rv", "enc", "doorst", "odp", "pd"]

    /// Removes leading "Re:", "Re[2]:", "Fwd:", "AW:", "SV:" and "[list]" tags, repeatedly.
    static func strip(_ subject: String) -> (text: String, wasReply: Bool) {
        var s = Substring(subject.trimmingCharacters(in: .whitespacesAndNewlines))
        var wasReply = false
        var changed = true
        while changed {
            changed = false
            if s.hasPrefix("["), let close = s.firstIndex(of: "]"), s.distance(from: s.startIndex, to: close) < 64 {
                s = s[s.index(after: close)...].drop(while: { $0 == " " || $0 == "\t" })
                changed = true
                continue
            }
            if let colon = s.firstIndex(of: ":"), s.distance(from: s.startIndex, to: colon) <= 10 {
                var word = s[..<colon].lowercased().trimmingCharacters(in: .whitespaces)
                // "Re[2]" / "Re(2)" / "RE^2" counters.
                if let bracket = word.firstIndex(where: { $0 == "[" || $0 == "(" || $0 == "^" }) { word = String(word[..<bracket]) }
                if replyPrefixes.contains(word) {
                    s = s[s.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
                    wasReply = true
                    changed = true
                }
            }
        }
        return (String(s), wasReply)
    }

    static func normalize(_ subject: String) -> String {
        HeaderValues.collapseSpaces(strip(subject).text).lowercased()
    }

    static func isReply(_ subject: String) -> Bool { strip(subject).wasReply }

    static func display(_ subject: String) -> String {
        let s = strip(subject).text
        return s.isEmpty ? subject : s
    }
}

/// Threading containers as parallel arrays indexed by container number.
private struct ContainerTable {
    var indexByID: [String: Int] = [:]
    var message: [Int?] = []
    var parent: [Int?] = []
    var children: [[Int]] = []
    var count: Int { message.count }

    mutating func container(for id: String) -> Int {
        if let c = indexByID[id] { return c }
        let c = message.count
        indexByID[id] = c
        message.append(nil)
        parent.append(nil)
        children.append([])
        return c
    }

    /// Linking `child` under `parent` makes a loop iff `child` is `parent` or one of its ancestors.
    /// A container with no children cannot be anyone's ancestor, which keeps long reference chains linear.
    func wouldCreateLoop(parent p: Int, child: Int) -> Bool {
        if p == child { return true }
        if children[child].isEmpty { return false }
        var cursor: Int? = p
        var steps = 0
        while let c = cursor {
            if c == child { return true }
            steps += 1
            if steps > count { return true }  // defensive: an existing loop would never end
            cursor = parent[c]
        }
        return false
    }

    mutating func link(parent p: Int, child: Int) {
        parent[child] = p
        children[p].append(child)
    }

    mutating func unlink(_ child: Int) {
        guard let p = parent[child] else { return }
        if let k = children[p].lastIndex(of: child) { children[p].remove(at: k) }
        parent[child] = nil
    }

    /// Removes empty containers bottom-up without recursion; returns the new root list.
    mutating func prune(roots: [Int]) -> [Int] {
        // Post-order over every tree, children before parents.
        var order: [Int] = []
        var stack = roots
        while let c = stack.popLast() {
            order.append(c)
            stack.append(contentsOf: children[c])
        }
        var replacement: [Int: Int] = [:]
        for c in order.reversed() {
            // Empty children are replaced by their own (already flattened) children, in place. Building
            // the new list once per container keeps this linear even with thousands of siblings.
            if children[c].contains(where: { message[$0] == nil }) {
                var rebuilt: [Int] = []
                for k in children[c] {
                    if message[k] == nil {
                        rebuilt += children[k]
                        children[k] = []
                        parent[k] = nil
                    } else {
                        rebuilt.append(k)
                    }
                }
                for k in rebuilt { parent[k] = c }
                children[c] = rebuilt
            }
            if message[c] == nil, parent[c] == nil, children[c].count == 1 {
                // An empty root with one child: the child becomes the root.
                parent[children[c][0]] = nil
                replacement[c] = children[c][0]
                children[c] = []
            }
            // An empty root with several children stays, holding the thread together.
        }
        // Children are processed before parents, so a promoted child is never itself empty.
        return roots.compactMap { r in
            if let promoted = replacement[r] { return promoted }
            return message[r] == nil && children[r].isEmpty ? nil : r
        }
    }

    /// Message indices in the subtree under `root`, iteratively.
    func messagesInSubtree(_ root: Int) -> [Int] {
        var result: [Int] = []
        var stack = [root]
        var visited = Set<Int>()
        while let c = stack.popLast() {
            guard visited.insert(c).inserted else { continue }
            if let m = message[c] { result.append(m) }
            stack.append(contentsOf: children[c])
        }
        return result
    }
}
