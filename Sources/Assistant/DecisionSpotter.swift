import Foundation

/// Finds sentences in which a thread states a decision outright ("We decided…", "Decision: …", "agreed to…").
///
/// Small models often leave a decision in the prose summary, or drop it while merging part summaries. A
/// decision the mail states in so many words is too important to depend on that, so the summarizer adds any
/// spotted decision the model's list does not already cover, with who said it and when.
public enum DecisionSpotter {
    static let markers = [
        "decided", "decision:", "final decision", "we agreed", "agreed to", "agreed on", "we will go with",
        "we'll go with", "let's go with", "we are going with", "we're going with", "approved", "signed off on",
    ]

    /// Decision sentences of the thread, oldest first, as "sentence (Sender, 2026-02-02)".
    public static func decisions(in thread: ThreadTranscript) -> [String] {
        var found: [String] = []
        for message in thread.messages {
            let text = InjectionFilter.withhold(message.text)
            for range in LexicalText.sentenceRanges(in: text) {
                let sentence = text[range].trimmingCharacters(in: .whitespaces)
                let lowered = sentence.lowercased()
                guard sentence.count <= 300, !sentence.hasSuffix("?"), !lowered.hasPrefix(">"),
                    markers.contains(where: { lowered.contains($0) }),
                    !lowered.contains("not decided"), !lowered.contains("undecided"), !lowered.contains("haven't decided")
                else { continue }
                let who = MailAddress.name(of: message.from).isEmpty ? message.from : MailAddress.name(of: message.from)
                let entry = sentence + " (\(who), \(DateLabel.day(message.date)))"
                if !found.contains(where: { Summarizer.similar($0, entry) }) { found.append(entry) }
            }
        }
        return found
    }
}
