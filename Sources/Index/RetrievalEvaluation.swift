import Foundation
import Ingest

/// Measures retrieval on a question set: for each answerable question, does the right source come up?
///
/// Reads a `qa.jsonl` (one JSON object per line: `id`, `question`, `answer_sources` — note paths relative
/// to the sample root, or Message-IDs —, `key_facts`, `answerable`) and runs every answerable question
/// through BM25 only, vectors only and hybrid search over an index already synced with the sample root.
/// Reports recall@k (share of a question's sources found among the first k hits, averaged) and MRR (the
/// reciprocal rank of the first hit from any of its sources, within the first 10, averaged).
public struct RetrievalEvaluation: Sendable {
    public struct Question: Sendable, Decodable, Equatable {
        public var id: String
        public var question: String
        public var answerSources: [String]
        public var keyFacts: [String]
        public var answerable: Bool

        private enum CodingKeys: String, CodingKey {
            case id, question, answerSources = "answer_sources", keyFacts = "key_facts", answerable
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decode(String.self, forKey: .id)
            question = try container.decode(String.self, forKey: .question)
            answerSources = try container.decodeIfPresent([String].self, forKey: .answerSources) ?? []
            keyFacts = try container.decodeIfPresent([String].self, forKey: .keyFacts) ?? []
            answerable = try container.decodeIfPresent(Bool.self, forKey: .answerable) ?? true
        }
    }

    /// Scores of one search mode.
    public struct ModeScore: Sendable, Encodable, Equatable {
        public var mode: SearchMode
        public var questions: Int
        public var recallAtK: Double
        public var mrr: Double
        /// Questions whose sources were not in the first k hits.
        public var missed: [String]
        /// Per question id, the 1-based rank of the first hit from one of its sources (nil: not in the first 10),
        /// so two modes or two versions can be compared question by question.
        public var firstSourceRanks: [String: Int?]

        private enum CodingKeys: String, CodingKey {
            case mode, questions, recallAtK = "recall_at_k", mrr, missed, firstSourceRanks = "first_source_ranks"
        }
    }

    public struct Report: Sendable, Encodable, Equatable {
        public var k: Int
        public var modes: [ModeScore]
    }

    public let store: IndexStore
    public let sampleRoot: String
    public let questions: [Question]
    public let k: Int

    /// Loads the questions of `qaPath`; `sampleRoot` is the folder their note paths are relative to.
    public init(store: IndexStore, sampleRoot: String, qaPath: String, k: Int = 5) throws {
        self.store = store
        self.sampleRoot = SourceScanner.absolute(sampleRoot)
        self.k = k
        guard let data = FileManager.default.contents(atPath: qaPath) else {
            throw StoreError.evaluation(path: qaPath, detail: "cannot read the file")
        }
        var questions: [Question] = []
        for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            do {
                questions.append(try JSONDecoder().decode(Question.self, from: Data(trimmed.utf8)))
            } catch {
                throw StoreError.evaluation(path: qaPath, detail: "line \(number + 1) is not a question object: \(error)")
            }
        }
        self.questions = questions
    }

    /// Runs the answerable questions in each mode. `now` anchors "last week"-style questions.
    public func run(modes: [SearchMode] = SearchMode.allCases, now: Date = Date()) throws -> Report {
        let answerable = questions.filter { $0.answerable && !$0.answerSources.isEmpty }
        var scores: [ModeScore] = []
        for mode in modes {
            var recallSum = 0.0
            var reciprocalSum = 0.0
            var missed: [String] = []
            var ranks: [String: Int?] = [:]
            for question in answerable {
                let hits = try store.search(SearchQuery(text: question.question, limit: max(k, 10)), mode: mode, now: now)
                let sources = Set(question.answerSources.map(Self.normalizedSource))
                let ranked = hits.map(identity)
                let found = Set(ranked.prefix(k)).intersection(sources)
                recallSum += Double(found.count) / Double(sources.count)
                if found.isEmpty { missed.append(question.id) }
                let rank = ranked.firstIndex(where: { sources.contains($0) })
                if let rank { reciprocalSum += 1 / Double(rank + 1) }
                ranks[question.id] = rank.map { $0 + 1 }
            }
            let count = Double(max(1, answerable.count))
            scores.append(ModeScore(
                mode: mode, questions: answerable.count, recallAtK: recallSum / count, mrr: reciprocalSum / count,
                missed: missed, firstSourceRanks: ranks))
        }
        return Report(k: k, modes: scores)
    }

    /// A hit's source in the question file's terms: Message-ID for mail, path below the root for notes.
    private func identity(_ hit: SearchHit) -> String {
        if hit.kind == .mail, let messageID = hit.messageID { return Self.normalizedSource(messageID) }
        let prefix = sampleRoot.hasSuffix("/") ? sampleRoot : sampleRoot + "/"
        return hit.path.hasPrefix(prefix) ? String(hit.path.dropFirst(prefix.count)) : hit.path
    }

    private static func normalizedSource(_ source: String) -> String {
        source.trimmingCharacters(in: CharacterSet(charactersIn: "<> \t"))
    }
}
