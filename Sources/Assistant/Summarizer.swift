import Foundation
import Inference

/// Where summaries of unchanged threads are kept between runs. `IndexStore` is the real one.
public protocol SummaryCache: Sendable {
    func cachedSummary(threadID: String, contentHash: String, model: String) throws -> String?
    func storeSummary(threadID: String, contentHash: String, model: String, json: String) throws
}

/// How `Summarizer` selects threads and sizes prompts.
public struct SummarizeOptions: Sendable {
    /// Only threads with a message on or after this date.
    public var since: Date?
    /// Only the thread with this id (its root Message-ID), or containing a message with this Message-ID.
    public var threadID: String?
    /// The user's own address, for the digest order; nil to infer it (most frequent recipient).
    public var userAddress: String?
    /// Largest prompt in tokens; longer threads are summarized in parts, then merged.
    public var maxPromptTokens: Int
    /// Tokens the model may write per summary.
    public var summaryTokens: Int
    public var temperature: Float
    /// Above 1, discourages the loops small models fall into when decoding greedily.
    public var repetitionPenalty: Float
    public var seed: UInt64

    public init(
        since: Date? = nil, threadID: String? = nil, userAddress: String? = nil, maxPromptTokens: Int = 1500,
        summaryTokens: Int = 320, temperature: Float = 0, repetitionPenalty: Float = 1.1, seed: UInt64 = 0
    ) {
        self.since = since
        self.threadID = threadID
        self.userAddress = userAddress
        self.maxPromptTokens = maxPromptTokens
        self.summaryTokens = summaryTokens
        self.temperature = temperature
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
    }
}

/// Summarizes mail threads: clean transcript → one prompt, or map-reduce when it does not fit → parsed sections.
///
/// With a `cache`, a thread whose cleaned transcript (and prompts, and model) did not change since the last
/// run is not sent to the model again, so a nightly run only pays for new and changed threads.
public struct Summarizer: Sendable {
    public var generator: any TextGenerator
    public var prompts: PromptLibrary
    public var cache: (any SummaryCache)?
    public var options: SummarizeOptions

    public init(
        generator: any TextGenerator, prompts: PromptLibrary = .standard(), cache: (any SummaryCache)? = nil,
        options: SummarizeOptions = SummarizeOptions()
    ) {
        self.generator = generator
        self.prompts = prompts
        self.cache = cache
        self.options = options
    }

    /// Summarizes the threads passing the `since`/`threadID` filters and orders them into a digest.
    public func digest(
        _ threads: [ThreadTranscript], progress: (@Sendable (_ done: Int, _ total: Int, _ subject: String) -> Void)? = nil
    ) async throws -> SummaryDigest {
        var recipientCounts: [String: Int] = [:]
        for thread in threads {
            for message in thread.messages {
                for person in message.to { recipientCounts[MailAddress.address(of: person), default: 0] += 1 }
            }
        }
        var summaries: [ThreadSummary] = []
        let selected = select(threads)
        for (i, thread) in selected.enumerated() {
            try Task.checkCancellation()
            progress?(i, selected.count, thread.subject)
            summaries.append(try await summarize(thread))
        }
        progress?(selected.count, selected.count, "")
        return SummaryDigest.ordered(summaries, userAddress: options.userAddress, recipientCounts: recipientCounts)
    }

    /// The threads the options ask for.
    public func select(_ threads: [ThreadTranscript]) -> [ThreadTranscript] {
        threads.filter { thread in
            if let since = options.since, !thread.messages.contains(where: { ($0.date ?? .distantPast) >= since }) {
                return false
            }
            if let wanted = options.threadID.map(Self.bareID) {
                return Self.bareID(thread.threadID) == wanted || thread.messages.contains { Self.bareID($0.messageID) == wanted }
            }
            return true
        }
    }

    private static func bareID(_ id: String) -> String {
        id.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "<>"))).lowercased()
    }

    /// Summarizes one thread, from the cache when its transcript is unchanged.
    public func summarize(_ thread: ThreadTranscript) async throws -> ThreadSummary {
        let templates = try PromptLibrary.Name.all.filter { $0.hasPrefix("summarize") }
            .map { try prompts.template(named: $0).text }
        // Prompts, sampling and the parser's version are part of the key: changing any of them changes the
        // summary, so cached ones must not outlive them.
        let settings = "parser-4|tokens \(options.summaryTokens)|penalty \(options.repetitionPenalty)|t \(options.temperature)"
        let hash = ContentDigest.hex(of: [thread.rendered] + templates + [settings])
        var notes: SummaryNotes?
        var fromCache = false
        if let cache, let json = try cache.cachedSummary(threadID: thread.threadID, contentHash: hash, model: generator.modelID),
            let cached = try? JSONDecoder().decode(SummaryNotes.self, from: Data(json.utf8))
        {
            notes = cached
            fromCache = true
        }
        if notes == nil {
            let fresh = try await modelNotes(for: thread)
            if let cache {
                let data = try JSONEncoder().encode(fresh)
                try cache.storeSummary(
                    threadID: thread.threadID, contentHash: hash, model: generator.modelID,
                    json: String(decoding: data, as: UTF8.self))
            }
            notes = fresh
        }
        let last = thread.messages.last
        return ThreadSummary(
            threadID: thread.threadID, subject: thread.subject, participants: thread.participants,
            messageIDs: thread.messages.map(\.messageID), firstDate: thread.messages.compactMap(\.date).min(),
            lastDate: thread.messages.compactMap(\.date).max(), notes: Self.refined(notes ?? SummaryNotes(), for: thread),
            lastSender: last?.from, lastRecipients: last.map(thread.addressees) ?? [], lastIsAutomated: last?.isAutomated ?? false,
            lastText: last?.text ?? "", fromCache: fromCache)
    }

    /// The model's notes as the digest shows them: without items copied once per participant or from a
    /// footer, without items the thread does not support, and with the decisions the thread states
    /// outright that the model did not list. Applied on every run, to cached notes too, so the cache
    /// holds what the model said and a better check needs no new summaries.
    ///
    /// A thread only machines wrote (a newsletter, a shipping notice) records nobody's decisions and asks
    /// nobody's open questions: a newsletter's "X decided to move off CouchDB" is news, not a decision of
    /// the reader's, so those sections stay empty. Its action items stay, since a notice may ask for one
    /// ("renew by 1 December").
    static func refined(_ modelNotes: SummaryNotes, for thread: ThreadTranscript) -> SummaryNotes {
        var notes = modelNotes.withoutRepeatsAcrossPeople(thread.participants).withoutCopiedClosings(thread.messages)
            .supported(by: thread)
        // The parser collapses a looping phrase; summaries cached before it did are collapsed here.
        notes.summary = SummaryParser.withoutRepeatedRuns(notes.summary)
        if !thread.messages.isEmpty && thread.messages.allSatisfy(\.isAutomated) {
            notes.decisions = []
            notes.openQuestions = []
            return notes
        }
        for decision in DecisionSpotter.decisions(in: thread)
        where !notes.decisions.contains(where: { Self.similar($0, decision) }) {
            notes.decisions.append(decision)
        }
        return notes
    }

    /// One prompt when the transcript fits, else map (per segment) and reduce (merge, in rounds if needed).
    func modelNotes(for thread: ThreadTranscript) async throws -> SummaryNotes {
        let single = try prompts.template(named: PromptLibrary.Name.summarizeThread)
        let values = [
            "subject": ContextFence.headerField(thread.subject),
            "participants": ContextFence.headerField(thread.participants.joined(separator: ", ")),
            "transcript": thread.rendered,
        ]
        let prompt = single.render(values)
        if try generator.countTokens(prompt) <= promptBudget {
            return SummaryParser.parse(try await complete(prompt))
        }

        let segmentTemplate = try prompts.template(named: PromptLibrary.Name.summarizeSegment)
        let frame = segmentTemplate.render([
            "part": "99", "parts": "99", "subject": values["subject"] ?? "", "transcript": "",
        ])
        let segmentBudget = max(64, promptBudget - (try generator.countTokens(frame)))
        let segments = try thread.segments(budget: segmentBudget) { try generator.countTokens($0) }
        var partials: [SummaryNotes] = []
        for (index, segment) in segments.enumerated() {
            try Task.checkCancellation()
            let prompt = segmentTemplate.render([
                "part": String(index + 1), "parts": String(segments.count), "subject": values["subject"] ?? "",
                "transcript": segment,
            ])
            partials.append(SummaryParser.parse(try await complete(prompt)))
        }
        let merged = try await reduce(partials, subject: values["subject"] ?? "")
        return Self.keepingEarlyFindings(merged: merged, partials: partials)
    }

    /// Merges part summaries, in groups that fit the budget, until one remains.
    private func reduce(_ partials: [SummaryNotes], subject: String) async throws -> SummaryNotes {
        guard partials.count > 1 else { return partials.first ?? SummaryNotes() }
        let template = try prompts.template(named: PromptLibrary.Name.summarizeMerge)
        func render(_ group: [SummaryNotes]) -> String {
            let text = group.enumerated().map { "Part \($0.offset + 1):\n" + ContextFence.neutralize($0.element.rendered) }
                .joined(separator: "\n\n")
            return template.render(["parts": String(group.count), "subject": subject, "partials": text])
        }
        var groups: [[SummaryNotes]] = []
        var current: [SummaryNotes] = []
        for partial in partials {
            if !current.isEmpty, try generator.countTokens(render(current + [partial])) > promptBudget {
                groups.append(current)
                current = []
            }
            current.append(partial)
        }
        if !current.isEmpty { groups.append(current) }
        var next: [SummaryNotes] = []
        for group in groups {
            try Task.checkCancellation()
            if group.count == 1 {
                next.append(group[0])
            } else {
                let merged = SummaryParser.parse(try await complete(render(group)))
                next.append(Self.keepingEarlyFindings(merged: merged, partials: group))
            }
        }
        // Each round at least halves the count unless every group is a single part; then stop merging.
        if next.count >= partials.count { return Self.union(next) }
        return try await reduce(next, subject: subject)
    }

    /// The merge result, with decisions the merge step dropped restored in order, and sections the model
    /// left empty filled from the parts. Small models lose early decisions when merging; code does not.
    static func keepingEarlyFindings(merged: SummaryNotes, partials: [SummaryNotes]) -> SummaryNotes {
        var result = merged
        var restored: [String] = []
        for decision in partials.flatMap(\.decisions)
        where !(result.decisions + restored).contains(where: { similar($0, decision) }) {
            restored.append(decision)
        }
        result.decisions = restored + result.decisions
        if result.actionItems.isEmpty { result.actionItems = union(partials).actionItems }
        if result.openQuestions.isEmpty, merged.summary.isEmpty { result.openQuestions = union(partials).openQuestions }
        if result.summary.isEmpty { result.summary = partials.map(\.summary).filter { !$0.isEmpty }.joined(separator: " ") }
        return result
    }

    /// All parts' sections concatenated (the fallback when merging cannot shrink further).
    static func union(_ parts: [SummaryNotes]) -> SummaryNotes {
        var result = SummaryNotes(summary: parts.map(\.summary).filter { !$0.isEmpty }.joined(separator: " "))
        for part in parts {
            for d in part.decisions where !result.decisions.contains(where: { similar($0, d) }) { result.decisions.append(d) }
            for a in part.actionItems where !result.actionItems.contains(where: { similar($0.what, a.what) }) {
                result.actionItems.append(a)
            }
            for q in part.openQuestions where !result.openQuestions.contains(where: { similar($0, q) }) {
                result.openQuestions.append(q)
            }
        }
        return result
    }

    /// Whether two items say the same thing: most content words shared.
    static func similar(_ a: String, _ b: String) -> Bool {
        let x = LexicalText.contentWords(a)
        let y = LexicalText.contentWords(b)
        if x.isEmpty || y.isEmpty { return a.lowercased() == b.lowercased() }
        return Double(x.intersection(y).count) / Double(min(x.count, y.count)) >= 0.6
    }

    private var promptBudget: Int {
        min(options.maxPromptTokens, max(256, generator.contextLength - options.summaryTokens))
    }

    private func complete(_ prompt: String) async throws -> String {
        let sampling = SamplingOptions(
            maxTokens: options.summaryTokens, temperature: options.temperature,
            repetitionPenalty: options.repetitionPenalty, seed: options.seed)
        var text = ""
        for try await piece in generator.generate([ChatMessage(role: .user, content: prompt)], options: sampling) {
            text += piece.text
        }
        return text
    }
}

/// A 128-bit fingerprint (two independent FNV-1a 64 passes) of texts, as hex: a cache key, not a security measure.
enum ContentDigest {
    static func hex(of parts: [String]) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x6c62_272e_07bb_0142
        for part in parts {
            for byte in part.utf8 {
                a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
                b = (b ^ UInt64(byte ^ 0x5A)) &* 0x0000_0100_0000_01B3
            }
            // A separator that cannot occur in UTF-8 so that ["ab","c"] and ["a","bc"] differ.
            a = (a ^ 0xFF) &* 0x0000_0100_0000_01B3
            b = (b ^ 0xFF) &* 0x0000_0100_0000_01B3
        }
        return String(format: "%016llx%016llx", a, b)
    }
}
