import Foundation

/// One thing someone has to do, as stated in a thread.
public struct ActionItem: Sendable, Equatable, Codable {
    /// Who should do it, as the thread names them; nil when unclear.
    public var who: String?
    public var what: String
    /// The deadline as stated ("Friday", "2024-03-14"); nil when none was stated.
    public var due: String?

    public init(who: String?, what: String, due: String?) {
        self.who = who
        self.what = what
        self.due = due
    }
}

/// What a model's summary of a thread (or of part of one) says, parsed into sections.
public struct SummaryNotes: Sendable, Equatable, Codable {
    public var summary: String
    public var decisions: [String]
    public var actionItems: [ActionItem]
    public var openQuestions: [String]

    public init(summary: String = "", decisions: [String] = [], actionItems: [ActionItem] = [], openQuestions: [String] = []) {
        self.summary = summary
        self.decisions = decisions
        self.actionItems = actionItems
        self.openQuestions = openQuestions
    }

    enum CodingKeys: String, CodingKey {
        case summary, decisions, actionItems = "action_items", openQuestions = "open_questions"
    }

    /// The notes without items that say the same thing about different people ("Kwame will be there
    /// anyway", "Maren will be there anyway"): a small model tends to copy one line once per participant,
    /// each with that person's message date. Items are compared with the participants' names and
    /// addresses and all numbers taken out; the first of each stays. Items too short to compare that way
    /// are kept as they are.
    public func withoutRepeatsAcrossPeople(_ participants: [String]) -> SummaryNotes {
        var nameWords = Set<String>()
        for person in participants {
            for word in LexicalText.words(person) where word.count > 1 { nameWords.insert(word) }
        }
        func key(_ text: String) -> String? {
            let rest = LexicalText.words(text).filter { !nameWords.contains($0) && !$0.allSatisfy(\.isNumber) }
                .joined(separator: " ")
            return rest.count >= 12 ? rest : nil
        }
        func unique<T>(_ items: [T], _ text: (T) -> String) -> [T] {
            var seen = Set<String>()
            return items.filter { item in key(text(item)).map { seen.insert($0).inserted } ?? true }
        }
        var notes = self
        notes.decisions = unique(decisions) { $0 }
        notes.actionItems = unique(actionItems) { $0.what }
        notes.openQuestions = unique(openQuestions) { $0 }
        return notes
    }

    /// The notes without items that only copy a message's closing lines: a company footer ("Greyfield
    /// Mutual - home insurance"), a name and title, "Kind regards". A small model lists those as decisions
    /// or actions. A closing line ends two or more messages (among their last three lines, eight words at
    /// most), or stands in a message's signature block (`signatureLines`): a short message's one line
    /// ("Confirmed: we go with Oakhaven.") is what it says and may well be a decision. An item is a copy
    /// when its words are a closing line's words, give or take three (a date or a name the model added).
    public func withoutCopiedClosings(_ messages: [TranscriptMessage]) -> SummaryNotes {
        var endings: [[String]: Int] = [:]
        for message in messages {
            let lines = message.text.split(separator: "\n").map { LexicalText.words(String($0)) }.filter { !$0.isEmpty }
            for words in Set(lines.suffix(3)) where words.count <= 8 { endings[words, default: 0] += 1 }
        }
        var closings = Set(endings.filter { $0.value >= 2 }.map(\.key))
        for message in messages { closings.formUnion(Self.signatureLines(message.text)) }
        func isCopy(_ text: String) -> Bool {
            let words = LexicalText.words(text)
            return closings.contains { closing in
                guard words.count >= closing.count, words.count <= closing.count + 3 else { return false }
                return (0...(words.count - closing.count)).contains { Array(words[$0..<($0 + closing.count)]) == closing }
                    && (closing.count >= 2 || words.count == closing.count)
            }
        }
        var notes = self
        notes.decisions = decisions.filter { !isCopy($0) }
        notes.actionItems = actionItems.filter { !isCopy($0.what) }
        notes.openQuestions = openQuestions.filter { !isCopy($0) }
        return notes
    }

    /// The words of the lines that close a message under its last sentence: up to three short lines
    /// (eight words at most) without a full stop, question or exclamation mark, as in "Maren Holloway /
    /// Pip's mum, Rowan class" or "Lifeline Training Ltd". Lines count only under a sentence or a long
    /// line: a message of short lines alone ("Sunday works for me") or a list is content.
    static func signatureLines(_ text: String) -> [[String]] {
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var block: [[String]] = []
        var index = lines.count - 1
        while index >= 0, block.count < 3, let end = lines[index].last, !".!?".contains(end) {
            let words = LexicalText.words(lines[index])
            guard words.count <= 8 else { break }
            if !words.isEmpty { block.append(words) }
            index -= 1
        }
        // Above the block there must be the message's text: a sentence, or a line too long to be a closing.
        guard index >= 0, let end = lines[index].last, ".!?:".contains(end) || LexicalText.words(lines[index]).count > 8 else {
            return []
        }
        return block
    }

    /// The line-based format the prompts ask for; used to feed part summaries to the merge step.
    public var rendered: String {
        var lines = ["SUMMARY: \(summary)", "DECISIONS:"]
        lines += decisions.isEmpty ? ["- none"] : decisions.map { "- \($0)" }
        lines.append("ACTIONS:")
        lines += actionItems.isEmpty
            ? ["- none"] : actionItems.map { "- \($0.who ?? "unassigned") | \($0.what) | \($0.due ?? "none")" }
        lines.append("QUESTIONS:")
        lines += openQuestions.isEmpty ? ["- none"] : openQuestions.map { "- \($0)" }
        return lines.joined(separator: "\n")
    }
}

/// Reads the `SUMMARY:` / `DECISIONS:` / `ACTIONS:` / `QUESTIONS:` format out of small-model output.
///
/// Small models deviate: Markdown headings (`## Decisions`), bold labels, synonyms ("Action items",
/// "Next steps", "Open questions"), bullets as `-`, `*`, `•` or numbers, items without bullets, a chatty
/// first line, echoed template text, "none" placeholders, missing sections. Every input yields a value;
/// text outside any recognised section becomes the summary when there is no other.
public enum SummaryParser {
    enum Section { case summary, decisions, actions, questions }

    public static func parse(_ output: String) -> SummaryNotes {
        var notes = SummaryNotes()
        var summaryLines: [String] = []
        var preamble: [String] = []
        var section: Section?
        var sawHeading = false

        func addItem(_ raw: String, to section: Section) {
            let item = raw.trimmingCharacters(in: .whitespaces)
            guard !item.isEmpty, !isPlaceholder(item), !isLabel(item) else { return }
            // A decision, action or question of one word ("A", "Approved") says neither who nor what: it is
            // a reply cut off by the token limit or a stray word.
            if section != .summary && LexicalText.words(item).count < 2 { return }
            switch section {
            case .summary: summaryLines.append(item)
            case .decisions: if let decision = decisionText(item) { appendUnique(decision, to: &notes.decisions) }
            case .questions: appendUnique(item, to: &notes.openQuestions)
            case .actions:
                if let action = parseAction(item),
                    !notes.actionItems.contains(where: { $0.what.lowercased() == action.what.lowercased() })
                {
                    notes.actionItems.append(action)
                }
            }
        }

        for rawLine in output.components(separatedBy: .newlines) {
            let line = stripMarkup(rawLine)
            // The prompts fence the thread with `<<<` markers: a line carrying one is the prompt copied back.
            if line.isEmpty || line.contains("<<<") { continue }
            if let (heading, rest) = heading(in: line) {
                section = heading
                sawHeading = true
                if !rest.isEmpty { addItem(stripBullet(rest) ?? rest, to: heading) }
                continue
            }
            guard let current = section else {
                preamble.append(line)
                continue
            }
            if current == .summary {
                summaryLines.append(stripBullet(line) ?? line)
            } else if let item = stripBullet(line) {
                addItem(item, to: current)
            } else if let first = line.first, first.isLowercase, current != .actions {
                // A wrapped line continuing the previous item.
                switch current {
                case .decisions where !notes.decisions.isEmpty: notes.decisions[notes.decisions.count - 1] += " " + line
                case .questions where !notes.openQuestions.isEmpty:
                    notes.openQuestions[notes.openQuestions.count - 1] += " " + line
                default: addItem(line, to: current)
                }
            } else {
                addItem(line, to: current)
            }
        }
        if summaryLines.isEmpty {
            // No SUMMARY section: use the text before the first heading, minus a chatty lead-in ("Here is…:").
            summaryLines = preamble.filter { !$0.hasSuffix(":") }
            if !sawHeading { summaryLines = preamble }
        }
        notes.summary = withoutSignOffs(dropRepeatedSentences(withoutRepeatedRuns(
            summaryLines.filter { !isPlaceholder($0) }.joined(separator: " "))))
        return notes
    }

    /// `text` without the letter closings a model copies from the thread ("Yours faithfully, Maren
    /// Holloway.") and without a "- none" placeholder run onto its end.
    static func withoutSignOffs(_ text: String) -> String {
        var kept: [String] = []
        for sentence in LexicalText.sentences(in: text) {
            let words = LexicalText.words(sentence)
            let opening = words.prefix(2).joined(separator: " ")
            let closing = signOffs.contains(opening) || words.first.map(signOffs.contains) == true
            if closing && words.count <= 6 { continue }
            kept.append(sentence)
        }
        var result = kept.joined(separator: " ")
        while let range = result.range(of: #"\s*-\s*none\.?\s*$"#, options: [.regularExpression, .caseInsensitive]) {
            result.removeSubrange(range)
        }
        return result
    }

    /// A decision as a sentence. Models often write decisions in the action format, `who | what | when`:
    /// that becomes "who: what (when)", and one whose "what" is empty or "None" is no decision at all.
    static func decisionText(_ item: String) -> String? {
        let parts = item.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard parts.count > 1 else { return item }
        let what = parts[1]
        guard meaningful(what) != nil, !isPlaceholder(what) else { return nil }
        let who = meaningful(parts[0]).map { "\($0): " } ?? ""
        let when = parts.count > 2 ? meaningful(parts[2]).map { " (\($0))" } ?? "" : ""
        return who + what + when
    }

    /// A short line ending in a colon ("PART 2:", "Thread part 1:", "Next steps:") labels what follows;
    /// it is not an item itself.
    static func isLabel(_ item: String) -> Bool {
        item.hasSuffix(":") && LexicalText.words(item).count <= 3
    }

    /// First words of a letter's closing line.
    static let signOffs: Set<String> = [
        "yours faithfully", "yours sincerely", "yours truly", "best regards", "kind regards", "warm regards",
        "best wishes", "many thanks", "regards", "cheers", "sincerely", "thanks", "best",
    ]

    /// `text` with a run of three words or more that follows itself at once kept once: a model looping on
    /// a subject line without a full stop ("Field Tech Weekly #112 - roundup Field Tech Weekly #112 -
    /// roundup …") never ends a sentence for `dropRepeatedSentences` to catch.
    static func withoutRepeatedRuns(_ text: String) -> String {
        var words = text.split(separator: " ", omittingEmptySubsequences: true)
        var start = 0
        while start < words.count {
            var removed = false
            var length = 3
            while start + 2 * length <= words.count {
                if words[start..<(start + length)].elementsEqual(words[(start + length)..<(start + 2 * length)]) {
                    words.removeSubrange((start + length)..<(start + 2 * length))
                    removed = true
                } else {
                    length += 1
                }
            }
            if !removed { start += 1 }
        }
        return words.joined(separator: " ")
    }

    /// `text` with every sentence after its first occurrence removed: a small model decoding greedily can
    /// loop on one sentence until it runs out of tokens, and the loop adds nothing. An unfinished last
    /// sentence that only restarts an earlier one (the token limit cut the loop) goes too.
    static func dropRepeatedSentences(_ text: String) -> String {
        var seen: [String] = []
        var kept: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        func key(_ sentence: String) -> String {
            sentence.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ".!? "))
        }
        func take(upTo end: String.Index, finished: Bool) {
            let sentence = text[start..<end].trimmingCharacters(in: .whitespaces)
            start = end
            let k = key(sentence)
            guard !k.isEmpty, !seen.contains(k) else { return }
            if !finished, seen.contains(where: { $0.hasPrefix(k) }) { return }
            seen.append(k)
            kept.append(Substring(sentence))
        }
        while index < text.endIndex {
            let character = text[index]
            index = text.index(after: index)
            if ".!?".contains(character), index == text.endIndex || text[index] == " " { take(upTo: index, finished: true) }
        }
        take(upTo: text.endIndex, finished: false)
        return kept.joined(separator: " ")
    }

    // MARK: - Lines

    /// The line without surrounding whitespace, Markdown heading marks and emphasis.
    static func stripMarkup(_ line: String) -> String {
        var text = line.trimmingCharacters(in: .whitespaces)
        while text.hasPrefix("#") { text.removeFirst() }
        text = text.replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "__", with: "")
        return text.trimmingCharacters(in: .whitespaces)
    }

    /// The item text when `line` starts with a bullet (`-`, `*`, `•`, `+`, `–`, `1.`, `1)`, `(1)`), else nil.
    static func stripBullet(_ line: String) -> String? {
        let text = line.trimmingCharacters(in: .whitespaces)
        if let first = text.first, "-*•+–—·".contains(first) {
            return String(text.dropFirst()).trimmingCharacters(in: .whitespaces)
        }
        var digits = text.drop { $0 == "(" }
        let number = digits.prefix { $0.isNumber }
        guard !number.isEmpty, number.count <= 3 else { return nil }
        digits = digits.dropFirst(number.count)
        guard let mark = digits.first, mark == "." || mark == ")" else { return nil }
        let rest = digits.dropFirst()
        guard rest.isEmpty || rest.first?.isWhitespace == true else { return nil }
        return rest.trimmingCharacters(in: .whitespaces)
    }

    static let headingWords: [(String, Section)] = [
        ("summary", .summary), ("overview", .summary), ("tl;dr", .summary), ("tldr", .summary),
        ("key decisions", .decisions), ("decisions made", .decisions), ("decisions", .decisions),
        ("decision", .decisions),
        ("action items", .actions), ("action item", .actions), ("actions", .actions), ("action", .actions),
        ("next steps", .actions), ("todo", .actions), ("to-do", .actions), ("to do", .actions), ("tasks", .actions),
        ("open questions", .questions), ("unanswered questions", .questions), ("questions", .questions),
        ("question", .questions),
    ]

    /// The section a heading line opens and the text after its colon, or nil for an ordinary line.
    static func heading(in line: String) -> (Section, String)? {
        let label: Substring
        let rest: String
        if let colon = line.firstIndex(of: ":") {
            label = line[..<colon]
            rest = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        } else {
            label = Substring(line)
            rest = ""
        }
        let name = label.lowercased().trimmingCharacters(in: .whitespaces.union(.punctuationCharacters))
            .replacingOccurrences(of: "open  ", with: "open ")
        guard !name.isEmpty, name.split(separator: " ").count <= 3 else { return nil }
        // Without a colon only a bare heading word counts, so "Decisions were postponed." stays text.
        for (word, section) in headingWords where name == word {
            return (section, rest)
        }
        return nil
    }

    /// "none", "N/A", "No decisions.", "There were no actions taken.", echoed template instructions and the
    /// like; also such an item under a name ("Greta (2026-10-24 16:30 UTC): No decision made."), which a
    /// small model writes once per participant when a thread decided nothing.
    static func isPlaceholder(_ item: String) -> Bool {
        if let colon = item.range(of: ": ", options: .backwards), isPlaceholderText(String(item[colon.upperBound...])) {
            return true
        }
        return isPlaceholderText(item)
    }

    private static func isPlaceholderText(_ item: String) -> Bool {
        let normalized = item.lowercased().unicodeScalars
            .filter { CharacterSet.letters.contains($0) || $0 == " " }
            .map(String.init).joined()
            .split(separator: " ").joined(separator: " ")
        if normalized.isEmpty { return true }
        let empties: Set<String> = [
            "none", "na", "nothing", "n a", "not applicable", "none stated", "none so far", "no", "unknown",
            "none mentioned", "nothing yet", "none yet", "none identified",
        ]
        if empties.contains(normalized) { return true }
        // A sentence saying the section is empty: "no decision made", "there were no further actions taken".
        let absence = /(there (is|are|was|were) )?no (further |other |new )?(decision|decisions|action|actions|action item|action items|question|questions|open questions)( (was|were|has been|have been|is|are))?( (made|taken|needed|required|recorded|reached|asked|raised|identified|necessary|yet))?/
        if normalized.wholeMatch(of: absence) != nil { return true }
        let echoes = [
            "each decision with who decided and when", "who what due date or none",
            "each question that is still unanswered", "each question asked and not answered in this part",
            "two or three sentences saying what the thread is about", "what happened in this part in two or three",
            "write none under a heading that has nothing", "reply in exactly this format",
        ]
        return echoes.contains { normalized.hasPrefix($0) }
    }

    private static func appendUnique(_ item: String, to list: inout [String]) {
        if !list.contains(where: { $0.lowercased() == item.lowercased() }) { list.append(item) }
    }

    // MARK: - Action items

    /// `who | what | due`, `who | what`, `Who: what by Friday`, `what (due 3 May)`, or just `what`.
    static func parseAction(_ item: String) -> ActionItem? {
        let parts = item.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count >= 2 {
            let who = meaningful(parts[0])
            var what = parts[1]
            var due = parts.count >= 3 ? meaningful(parts[2].replacingOccurrences(of: "due", with: "", options: [.caseInsensitive, .anchored]).trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: ":")))) : nil
            if due == nil, parts.count == 2 {
                let split = splitDue(what)
                what = split.what
                due = split.due
            }
            if who?.lowercased() == "who", what.lowercased() == "what" { return nil }
            guard !what.isEmpty, !isPlaceholder(what) else { return nil }
            return ActionItem(who: who, what: what, due: due)
        }
        var who: String?
        var what = item
        if let colon = item.firstIndex(of: ":") {
            let prefix = item[..<colon].trimmingCharacters(in: .whitespaces)
            if !prefix.isEmpty, prefix.split(separator: " ").count <= 3, prefix.first?.isUppercase == true {
                who = prefix
                what = String(item[item.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            }
        }
        let split = splitDue(what)
        guard !split.what.isEmpty else { return nil }
        return ActionItem(who: who, what: split.what, due: split.due)
    }

    /// Separates a trailing "(due X)", "due X" or "by X" deadline from the task.
    static func splitDue(_ text: String) -> (what: String, due: String?) {
        for marker in ["(due ", "due by ", "due: ", "due ", "deadline: ", " by "] {
            guard let range = text.range(of: marker, options: [.caseInsensitive, .backwards]) else { continue }
            let due = text[range.upperBound...].trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: ").")))
            let what = text[..<range.lowerBound].trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: ",;-(")))
            guard !due.isEmpty, due.split(separator: " ").count <= 5, !what.isEmpty else { continue }
            return (what, meaningful(due))
        }
        return (text, nil)
    }

    /// nil for "none", "n/a", "unknown", "not stated", "-", "TBD", empty.
    static func meaningful(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: ".")))
        let lowered = trimmed.lowercased()
        let empties: Set<String> = [
            "", "-", "none", "n/a", "na", "unknown", "not stated", "not specified", "unassigned", "nobody", "tbd",
            "no due date", "none stated", "no deadline", "?",
        ]
        return empties.contains(lowered) ? nil : trimmed
    }
}
