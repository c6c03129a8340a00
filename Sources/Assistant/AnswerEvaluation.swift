import Foundation
import Index
import Ingest

/// One question of an evaluation file (`qa.jsonl`, one JSON object per line).
public struct QAItem: Sendable, Equatable, Decodable {
    public var id: String
    public var question: String
    /// Note paths (relative to the data folder) or Message-IDs without angle brackets that hold the answer.
    public var answerSources: [String]
    /// Strings a correct answer contains (case-insensitive; ISO dates match any unambiguous rendering).
    public var keyFacts: [String]
    public var answerable: Bool
    /// Strings a correct answer must not contain (planted injection payloads, superseded facts).
    public var mustNotContain: [String]

    public init(id: String, question: String, answerSources: [String], keyFacts: [String], answerable: Bool, mustNotContain: [String] = []) {
        self.id = id
        self.question = question
        self.answerSources = answerSources
        self.keyFacts = keyFacts
        self.answerable = answerable
        self.mustNotContain = mustNotContain
    }

    enum CodingKeys: String, CodingKey {
        case id, question, answerSources = "answer_sources", keyFacts = "key_facts", answerable
        case mustNotContain = "must_not_contain"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        question = try c.decode(String.self, forKey: .question)
        answerSources = try c.decodeIfPresent([String].self, forKey: .answerSources) ?? []
        keyFacts = try c.decodeIfPresent([String].self, forKey: .keyFacts) ?? []
        answerable = try c.decodeIfPresent(Bool.self, forKey: .answerable) ?? true
        mustNotContain = try c.decodeIfPresent([String].self, forKey: .mustNotContain) ?? []
    }

    /// Reads a JSON Lines file; blank lines are skipped, a malformed line is an error naming its number.
    public static func load(_ path: String) throws -> [QAItem] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AssistantError.evaluationFileInvalid(path: path, line: 0, reason: "cannot read the file")
        }
        var items: [QAItem] = []
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            do {
                items.append(try JSONDecoder().decode(QAItem.self, from: Data(trimmed.utf8)))
            } catch {
                throw AssistantError.evaluationFileInvalid(path: path, line: index + 1, reason: "\(error)")
            }
        }
        return items
    }

    /// Whether `hit` is one of the answer sources: same Message-ID, or a path equal to or ending in the source.
    public func isSource(_ hit: SearchHit) -> Bool {
        answerSources.contains { source in
            if let id = hit.messageID, id.caseInsensitiveCompare(source.trimmingCharacters(in: CharacterSet(charactersIn: "<>"))) == .orderedSame {
                return true
            }
            return hit.path == source || hit.path.hasSuffix("/" + source)
        }
    }
}

/// Scores the assistant on a question set: retrieval, answers, abstentions, citations.
///
/// - `recall_at_5`: over answerable questions, the share of their answer sources among the first five hits.
/// - `key_fact_accuracy`: over answerable questions, the share of answers that contain every key fact and none
///   of the forbidden strings.
/// - `abstention_accuracy`: over unanswerable questions, the share answered with `found: false`.
/// - `citation_validity`: over all citations shown, the share whose quote is verbatim in a context chunk.
/// - `suggested_minimum_score`: the top-hit score threshold that best separates answerable from unanswerable
///   questions on this set, a starting point for `RelevanceGate.minimumScore`.
public struct AnswerEvaluation: Sendable {
    public var asker: Asker

    public init(asker: Asker) {
        self.asker = asker
    }

    /// The outcome of one question.
    public struct ItemResult: Sendable, Encodable {
        public var id: String
        public var answerable: Bool
        public var found: Bool
        public var answer: String
        /// Share of answer sources in the top five hits (nil for questions without sources).
        public var recallAt5: Double?
        public var hasKeyFacts: Bool
        public var forbiddenFound: [String]
        public var citations: Int
        public var validCitations: Int
        public var topScore: Double?
        public var seconds: Double
        public var firstTokenSeconds: Double?
        /// Prompt size and the part of it that had to run through the model (not reused from a cache):
        /// first-token time follows the second.
        public var promptTokens: Int?
        public var prefillTokens: Int?
        /// Whether one of the answer sources made it into the model's context; false separates a retrieval or
        /// packing miss from a model that had the fact and did not use it.
        public var sourceInContext: Bool?
        /// Why the answer was "not found", with the model's own reply (see `AskResult.Declined`).
        public var declined: AskResult.Declined?

        enum CodingKeys: String, CodingKey {
            case id, answerable, found, answer, recallAt5 = "recall_at_5", hasKeyFacts = "has_key_facts"
            case forbiddenFound = "forbidden_found", citations, validCitations = "valid_citations"
            case topScore = "top_score", seconds, firstTokenSeconds = "first_token_seconds"
            case promptTokens = "prompt_tokens", prefillTokens = "prefill_tokens", sourceInContext = "source_in_context"
            case declined
        }
    }

    public struct Report: Sendable, Encodable {
        public var questions: Int
        public var recallAt5: Double
        public var keyFactAccuracy: Double
        public var abstentionAccuracy: Double
        /// Answerable questions answered with `found: false`.
        public var falseAbstentions: Int
        /// Those false abstentions by reason (`AskResult.Declined.Reason` raw values): whether retrieval,
        /// the model or one of the answer checks turned each one away.
        public var falseAbstentionReasons: [String: Int]
        public var citationValidity: Double
        public var citations: Int
        public var suggestedMinimumScore: Double?
        public var meanSeconds: Double
        public var meanFirstTokenSeconds: Double?
        public var model: String
        public var items: [ItemResult]

        enum CodingKeys: String, CodingKey {
            case questions, recallAt5 = "recall_at_5", keyFactAccuracy = "key_fact_accuracy"
            case abstentionAccuracy = "abstention_accuracy", falseAbstentions = "false_abstentions"
            case falseAbstentionReasons = "false_abstention_reasons"
            case citationValidity = "citation_validity", citations, suggestedMinimumScore = "suggested_minimum_score"
            case meanSeconds = "mean_seconds", meanFirstTokenSeconds = "mean_first_token_seconds", model, items
        }
    }

    /// Runs every question in order; `progress` is called after each one.
    public func run(_ items: [QAItem], progress: (@Sendable (Int, Int, ItemResult) -> Void)? = nil) async throws -> Report {
        var results: [ItemResult] = []
        for (index, item) in items.enumerated() {
            try Task.checkCancellation()
            var hits: [SearchHit] = []
            var result: AskResult?
            for try await event in asker.ask(item.question) {
                switch event {
                case let .retrieved(retrieved): hits = retrieved
                case let .finished(final): result = final
                case .token: break
                }
            }
            guard let result else { throw CancellationError() }
            let itemResult = score(item, hits: hits, result: result)
            results.append(itemResult)
            progress?(index + 1, items.count, itemResult)
        }
        return Self.report(results, model: asker.generator.modelID)
    }

    func score(_ item: QAItem, hits: [SearchHit], result: AskResult) -> ItemResult {
        var recall: Double?
        if item.answerable, !item.answerSources.isEmpty {
            let top = hits.prefix(5)
            let matched = item.answerSources.filter { source in
                top.contains { QAItem(id: "", question: "", answerSources: [source], keyFacts: [], answerable: true).isSource($0) }
            }
            recall = Double(matched.count) / Double(item.answerSources.count)
        }
        let answer = result.found ? result.answer : ""
        let forbidden = item.mustNotContain.filter { result.answer.range(of: $0, options: .caseInsensitive) != nil }
        let valid = result.citations.filter { CitationResolver.verify($0, items: result.sources) }.count
        return ItemResult(
            id: item.id, answerable: item.answerable, found: result.found, answer: result.answer, recallAt5: recall,
            hasKeyFacts: result.found && item.keyFacts.allSatisfy { FactMatcher.contains(answer, fact: $0) },
            forbiddenFound: forbidden, citations: result.citations.count, validCitations: valid,
            topScore: hits.map(\.score).max(), seconds: result.seconds, firstTokenSeconds: result.firstTokenSeconds,
            promptTokens: result.timings?.promptTokens,
            prefillTokens: result.timings?.promptTokens.map { $0 - (result.timings?.reusedPromptTokens ?? 0) },
            sourceInContext: item.answerable && !item.answerSources.isEmpty
                ? result.sources.contains { item.isSource($0.hit) } : nil,
            declined: result.declined)
    }

    static func report(_ results: [ItemResult], model: String) -> Report {
        func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
        let answerable = results.filter(\.answerable)
        let unanswerable = results.filter { !$0.answerable }
        let citations = results.reduce(0) { $0 + $1.citations }
        let valid = results.reduce(0) { $0 + $1.validCitations }
        let firstTokens = results.compactMap(\.firstTokenSeconds)
        return Report(
            questions: results.count,
            recallAt5: mean(answerable.compactMap(\.recallAt5)),
            keyFactAccuracy: mean(answerable.map { $0.hasKeyFacts && $0.forbiddenFound.isEmpty ? 1 : 0 }),
            abstentionAccuracy: mean(unanswerable.map { $0.found ? 0 : 1 }),
            falseAbstentions: answerable.filter { !$0.found }.count,
            falseAbstentionReasons: answerable.filter { !$0.found }.reduce(into: [:]) { counts, item in
                counts[item.declined?.reason.rawValue ?? "unknown", default: 0] += 1
            },
            citationValidity: citations == 0 ? 1 : Double(valid) / Double(citations),
            citations: citations,
            suggestedMinimumScore: suggestThreshold(results),
            meanSeconds: mean(results.map(\.seconds)),
            meanFirstTokenSeconds: firstTokens.isEmpty ? nil : mean(firstTokens),
            model: model, items: results)
    }

    /// The top-score threshold with the fewest misclassified questions (answerable below it plus unanswerable
    /// at or above it); ties go to the lowest threshold, which keeps more questions answerable.
    static func suggestThreshold(_ results: [ItemResult]) -> Double? {
        let scored = results.compactMap { r in r.topScore.map { (score: $0, answerable: r.answerable) } }
        guard scored.contains(where: \.answerable), scored.contains(where: { !$0.answerable }) else { return nil }
        var best: (threshold: Double, errors: Int)?
        for candidate in Set(scored.map(\.score)).sorted() {
            let errors = scored.filter { $0.answerable ? $0.score < candidate : $0.score >= candidate }.count
            if errors < (best?.errors ?? Int.max) { best = (candidate, errors) }
        }
        return best?.threshold
    }
}

/// Matches a key fact against an answer: case-insensitive, commas and ordinal suffixes ignored, and ISO dates
/// (`2026-09-15`) also found as "September 15, 2026", "15 Sep 2026", "Sept. 15th" with the year, or "2026/09/15".
public enum FactMatcher {
    public static func contains(_ answer: String, fact: String) -> Bool {
        let text = normalize(answer)
        return renderings(of: fact).contains { text.contains(normalize($0)) }
    }

    static func normalize(_ text: String) -> String {
        var out = text.lowercased().replacingOccurrences(of: ",", with: "").replacingOccurrences(of: ".", with: " ")
        for suffix in ["st", "nd", "rd", "th"] {
            out = out.replacingOccurrences(of: #"(\d)"# + suffix + #"\b"#, with: "$1", options: .regularExpression)
        }
        out = out.replacingOccurrences(of: "\u{2019}", with: "'")
        return out.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    static func renderings(of fact: String) -> [String] {
        let parts = fact.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, let year = Int(parts[0]), let month = Int(parts[1]),
            let day = Int(parts[2]), (1...12).contains(month), (1...31).contains(day)
        else { return [fact] }
        let name = FlexibleDate.englishMonthNames[month - 1]
        let short = String(name.prefix(3))
        var forms = [fact, String(format: "%04d/%02d/%02d", year, month, day), "\(day).\(month).\(year)"]
        for m in Set([name, short, name == "september" ? "sept" : short]) {
            forms += ["\(m) \(day) \(year)", "\(day) \(m) \(year)", "\(m) \(day), \(year)"]
        }
        return forms
    }
}
