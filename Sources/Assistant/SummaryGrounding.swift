import Foundation

/// Keeps a thread's summary items to what the thread says.
///
/// A 0.5B model fills the sections it is asked for whether or not the thread has anything to put there:
/// "Dana Okafor: brought a photo ID and ran well" for a registration confirmation, a decision that is only
/// a participant's name and a date, an "open question" that is a statement copied from the last message.
/// Each decision, action and open question must therefore be made mostly of the thread's own words (a few
/// words of framing aside), and an open question must be phrased as one. The check reads word stems, not
/// meaning, so a faithful paraphrase passes as long as it keeps the thread's nouns and verbs.
enum SummaryGrounding {
    /// Share of an item's words the thread must contain. Half lets a model rephrase the verbs of a
    /// sentence ("ship the units" → "send the units") while an invented item, whose words mostly come
    /// from nowhere in the thread, falls below it.
    static let minimumSupport = 0.5

    /// The share of `item`'s word keys found in `threadKeys`, leaving out the participants' names (which
    /// every thread contains): the smaller of the shares of its words and of its numbers, so that dates
    /// and counts cannot vouch for words that come from nowhere. Nil when the item has no words besides
    /// names, numbers and framing ("Dana Okafor (2026-09-15)" is a date with nothing said about it).
    static func support(of item: String, threadKeys: Set<String>, nameKeys: Set<String>) -> Double? {
        let own = keys(item).subtracting(nameKeys)
        let words = own.filter { $0.contains(where: \.isLetter) }
        guard !words.isEmpty else { return nil }
        let numbers = own.subtracting(words)
        func share(_ keys: Set<String>) -> Double {
            keys.isEmpty ? 1 : Double(keys.intersection(threadKeys).count) / Double(keys.count)
        }
        return min(share(words), share(numbers))
    }

    /// Whether an open question reads as one: a question mark, or a question word first ("Whether the
    /// venue has parking"). A statement listed as a question ("The decommission ran as planned.") is not.
    static func isQuestion(_ text: String) -> Bool {
        if text.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: ")\"'."))).hasSuffix("?") { return true }
        guard let first = LexicalText.words(text).first else { return false }
        return questionOpeners.contains(first)
    }

    /// Word keys for comparing an item with its thread: lowercased words of three letters or more,
    /// without stop words and the model's framing words ("decided", "thread"), in their base form
    /// ("sent" → "send", "dropped" → "drop") and cut to five letters so that "charge" meets "charged"
    /// and "meeting" meets "meetings"; and every number, whole but for leading zeros ("08:00" is 8 o'clock).
    static func keys(_ text: some StringProtocol) -> Set<String> {
        Set(LexicalText.words(text).compactMap { word -> String? in
            if word.allSatisfy(\.isNumber) {
                let digits = word.drop { $0 == "0" }
                return digits.isEmpty ? "0" : String(digits)
            }
            guard word.count >= 3, !LexicalText.stopWords.contains(word), !framingWords.contains(word) else { return nil }
            return String((baseForms[word] ?? withoutVerbEnding(word)).prefix(5))
        })
    }

    /// `word` without "-ed" or "-ing", and without the consonant English doubles before them
    /// ("dropped" → "drop", "planning" → "plan"; "called" and "passed" keep their double letter).
    static func withoutVerbEnding(_ word: String) -> String {
        for ending in ["ing", "ed"] where word.hasSuffix(ending) && word.count - ending.count >= 3 {
            let stem = Array(word.dropLast(ending.count))
            if stem.count >= 4, let last = stem.last, stem[stem.count - 2] == last, !"aeioulsz".contains(last) {
                return String(stem.dropLast())
            }
            return String(stem)
        }
        return word
    }

    /// Keys of the participants' display names and addresses.
    static func nameKeys(_ participants: [String]) -> Set<String> {
        var result = Set<String>()
        for person in participants {
            result.formUnion(keys(MailAddress.name(of: person) + " " + MailAddress.address(of: person)))
        }
        return result
    }

    /// Words a model uses to frame an item rather than to say what the thread said.
    static let framingWords: Set<String> = [
        "decide", "decided", "decides", "decision", "decisions", "agreed", "agree", "agrees", "thread", "discussed",
        "discuss", "discussion", "message", "messages", "email", "emails", "reply", "replied", "replies", "asked",
        "ask", "asks", "asking", "question", "questions", "action", "actions", "item", "items", "whether",
        "mentioned", "noted", "stated", "regarding", "participants", "participant", "sender", "recipient",
        // The transcript's headers stamp every message in UTC; a model copies the zone with the time.
        "utc", "gmt",
    ]

    static let questionOpeners: Set<String> = [
        "who", "whom", "whose", "what", "when", "where", "which", "why", "how", "whether", "if", "is", "are", "was",
        "were", "can", "could", "should", "will", "would", "do", "does", "did", "has", "have", "had", "shall", "may",
    ]

    private static let baseForms: [String: String] = [
        "brought": "bring", "bought": "buy", "sent": "send", "paid": "pay", "went": "go", "gone": "go",
        "made": "make", "told": "tell", "met": "meet", "got": "get", "gave": "give", "given": "give",
        "took": "take", "taken": "take", "left": "leave", "kept": "keep", "held": "hold", "chose": "choose",
        "chosen": "choose", "wrote": "write", "written": "write", "ran": "run", "began": "begin", "begun": "begin",
        "found": "find", "spoke": "speak", "spoken": "speak", "sold": "sell", "won": "win", "lost": "lose",
        "felt": "feel", "meant": "mean", "built": "build", "spent": "spend", "caught": "catch", "thought": "think",
    ]
}

extension SummaryNotes {
    /// The notes without decisions, actions and open questions the thread does not support
    /// (`SummaryGrounding`), and without open questions that are not questions.
    public func supported(by thread: ThreadTranscript) -> SummaryNotes {
        // What the people wrote, and the days they wrote it (an item may date itself by its message);
        // not the transcript's header lines, whose "UTC" and addresses would vouch for any item.
        let threadKeys = SummaryGrounding.keys(
            ([thread.subject] + thread.messages.map { $0.text + " " + ($0.date.map(DateLabel.day) ?? "") }).joined(separator: "\n"))
        let names = SummaryGrounding.nameKeys(thread.participants)
        func grounded(_ text: String) -> Bool {
            guard let support = SummaryGrounding.support(of: text, threadKeys: threadKeys, nameKeys: names) else { return false }
            return support >= SummaryGrounding.minimumSupport
        }
        var notes = self
        notes.decisions = decisions.filter(grounded)
        notes.actionItems = actionItems.filter { grounded($0.what) }
        notes.openQuestions = openQuestions.filter { SummaryGrounding.isQuestion($0) && grounded($0) }
        return notes
    }
}
