import Foundation
import Index
import Inference
import Ingest

/// The outcome of one question: the answer, checked citations, and whether the sources held the answer.
///
/// Encodes to the `assist ask --json` shape of CLI.md (`answer`, `citations`, `found`, `model`, `seconds`)
/// plus `first_token_seconds` and `sources`, the context the model saw (or the closest hits when nothing
/// relevant was found), listed so users can check for themselves.
public struct AskResult: Sendable, Equatable, Encodable {
    public var question: String
    public var answer: String
    public var citations: [Citation]
    /// False when retrieval found nothing relevant or the model said the sources lack the answer.
    public var found: Bool
    public var model: String
    /// Wall time from the question to the finished answer.
    public var seconds: Double
    /// Wall time from the question to the first streamed token; nil when the model was not asked.
    public var firstTokenSeconds: Double?
    /// The context items in prompt order; when `found` is false, the closest sources.
    public var sources: [ContextItem]
    /// Where the time went (`timings` in JSON).
    public var timings: AskTimings?
    /// Why the answer is "not found" (`declined` in JSON); nil when an answer stands.
    public var declined: Declined?

    public init(
        question: String, answer: String, citations: [Citation], found: Bool, model: String, seconds: Double,
        firstTokenSeconds: Double?, sources: [ContextItem], timings: AskTimings? = nil, declined: Declined? = nil
    ) {
        self.timings = timings
        self.declined = declined
        self.question = question
        self.answer = answer
        self.citations = citations
        self.found = found
        self.model = model
        self.seconds = seconds
        self.firstTokenSeconds = firstTokenSeconds
        self.sources = sources
    }

    /// What users read when the sources lack the answer.
    public static let notFoundAnswer = "I couldn't find this in your notes or mail."

    /// The lines to print under a streamed answer: the citations, or, when nothing was found, the closest sources.
    public var sourceLines: [String] {
        if found { return citations.map(\.sourceLine) }
        return sources.map(\.sourceLine)
    }

    /// Why a question got "I couldn't find this", and what the model had replied when it was asked: the
    /// checks set aside replies that are not grounded in the sources, and this says which check did.
    public struct Declined: Sendable, Equatable, Encodable {
        public enum Reason: String, Sendable, Encodable {
            /// No source was close enough in meaning to the question; the model was not asked.
            case noRelevantSource = "no_relevant_source"
            /// The model said the sources do not contain the answer.
            case modelSaidNotFound = "model_said_not_found"
            /// The reply states nothing: only citation markers, or sentences that break off at the fact.
            case statesNothing = "states_nothing"
            /// The reply copies a source block instead of answering.
            case copiesASource = "copies_a_source"
            /// The identifier in the reply is not spelled next to the thing the question names.
            case identifierNotInSources = "identifier_not_in_sources"
            /// A sum of money in the reply is not one any source states for the thing the reply pins it on.
            case amountNotInSources = "amount_not_in_sources"
            /// A time of day in the reply is not one any source states, or a "what time" reply has none.
            case timeNotInSources = "time_not_in_sources"
            /// The reply states calendar dates ("3 September", "2026-09-03") and none is one a source states.
            case dateNotInSources = "date_not_in_sources"
            /// A decimal number or version in the reply ("5.0", "3.2.1") is not one any source states.
            case numberNotInSources = "number_not_in_sources"
            /// A "how much" or "how many" question got a reply without any number, or a question for a price one
            /// without a sum of money.
            case noQuantity = "no_quantity"

            /// For people: why the reply was set aside.
            public var explanation: String {
                switch self {
                case .noRelevantSource: return "nothing in your notes or mail is close to the question"
                case .modelSaidNotFound: return "the model found no answer in the closest sources"
                case .statesNothing: return "the model's reply stated nothing"
                case .copiesASource: return "the model copied a source instead of answering"
                case .identifierNotInSources: return "the model's identifier is not one the sources give for this"
                case .amountNotInSources: return "the model's sum of money is not one the sources give for this"
                case .timeNotInSources: return "the model's time of day is not in the sources"
                case .dateNotInSources: return "no date in the model's reply is one the sources give"
                case .numberNotInSources: return "the model's number is not in the sources"
                case .noQuantity: return "the model's reply gives no number for a how-much question, or no sum for a price"
                }
            }
        }

        public var reason: Reason
        /// The model's reply as it was; nil when the model was not asked.
        public var modelReply: String?

        public init(reason: Reason, modelReply: String? = nil) {
            self.reason = reason
            self.modelReply = modelReply
        }

        enum CodingKeys: String, CodingKey {
            case reason, modelReply = "model_reply"
        }
    }

    enum CodingKeys: String, CodingKey {
        case question, answer, citations, found, model, seconds, firstTokenSeconds = "first_token_seconds", sources
        case timings, declined
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(question, forKey: .question)
        try c.encode(answer, forKey: .answer)
        try c.encode(citations, forKey: .citations)
        try c.encode(found, forKey: .found)
        try c.encode(model, forKey: .model)
        try c.encode(seconds, forKey: .seconds)
        try c.encode(firstTokenSeconds, forKey: .firstTokenSeconds)
        try c.encode(sources.map(EncodedSource.init), forKey: .sources)
        try c.encodeIfPresent(timings, forKey: .timings)
        try c.encodeIfPresent(declined, forKey: .declined)
    }

    /// A context item as listed in JSON.
    private struct EncodedSource: Encodable {
        var item: ContextItem
        enum CodingKeys: String, CodingKey {
            case n, kind, score, path, lineStart = "line_start", lineEnd = "line_end", messageID = "message_id"
            case subject, from, date
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            let hit = item.hit
            try c.encode(item.n, forKey: .n)
            try c.encode(hit.kind.rawValue, forKey: .kind)
            try c.encode(hit.score, forKey: .score)
            try c.encode(hit.path, forKey: .path)
            try c.encode(hit.lineStart, forKey: .lineStart)
            try c.encode(hit.lineEnd, forKey: .lineEnd)
            try c.encode(hit.messageID, forKey: .messageID)
            try c.encode(hit.title, forKey: .subject)
            try c.encode(hit.from, forKey: .from)
            try c.encode(hit.date.map(DateLabel.iso), forKey: .date)
        }
    }
}

/// What `Asker.ask` streams: the retrieved hits first, then answer text as it is generated, then the result.
///
/// `.token` pieces are display text. The exact `NOT_FOUND` sentinel is never streamed; when the answer is a
/// not-found, the plain message is streamed instead. `AskResult.answer` is the final, cleaned answer (markers
/// to unknown sources removed), which can differ slightly from the concatenated tokens.
public enum AskEvent: Sendable {
    case retrieved([SearchHit])
    case token(String)
    case finished(AskResult)
}

/// Filters and limits of the retrieval behind an answer, mirroring `assist ask`'s flags.
public struct AskFilters: Sendable, Equatable {
    public var kind: DocumentKind?
    public var since: Date?
    public var until: Date?
    public var from: String?
    public var pathContains: String?
    public var tag: String?

    public init(
        kind: DocumentKind? = nil, since: Date? = nil, until: Date? = nil, from: String? = nil,
        pathContains: String? = nil, tag: String? = nil
    ) {
        self.kind = kind
        self.since = since
        self.until = until
        self.from = from
        self.pathContains = pathContains
        self.tag = tag
    }

    func query(text: String, limit: Int) -> SearchQuery {
        SearchQuery(
            text: text, limit: limit, kind: kind, since: since, until: until, from: from,
            pathContains: pathContains, tag: tag)
    }
}

/// How `Asker` retrieves, packs and generates.
public struct AskOptions: Sendable {
    /// Hits requested from the retriever.
    public var limit: Int
    public var filters: AskFilters
    public var relevance: RelevanceGate
    /// Preferred largest prompt in tokens (small models answer faster from short prompts).
    public var maxPromptTokens: Int
    /// Tokens reserved for the answer; also the generation limit.
    public var answerTokens: Int
    /// At most this many chunks in the context.
    public var maxContextItems: Int
    /// Each chunk is cut to the lines nearest the question, at most this many tokens (`ContextTrimmer`);
    /// 0 (the default) shows chunks whole. 110 halves the prompt (≈1000 → ≈500 tokens) and so the prefill,
    /// but on SampleData with qwen2.5-coder-0.5b it cost key facts (0.529 → 0.471 together with the other
    /// changes of that run), so it stays opt-in until trimming keeps the answer lines more reliably.
    public var chunkTokens: Int
    public var temperature: Float
    /// Greater than 1 discourages the loops small models fall into at temperature 0.
    public var repetitionPenalty: Float
    public var seed: UInt64
    /// Tokens of earlier conversation turns kept in the prompt (`RAGConversation`).
    public var historyTokens: Int
    /// The date the prompt calls "today" (defaults to now), so the model can reason about "last week".
    public var today: Date?
    /// Whether a reply that is the model's `NOT_FOUND` gets a second look: the same sources and question
    /// under `ask-system` without its line offering the sentinel (see `Asker`).
    public var secondLook: Bool

    public init(
        limit: Int = 8, filters: AskFilters = AskFilters(), relevance: RelevanceGate = RelevanceGate(),
        maxPromptTokens: Int = 1000, answerTokens: Int = 200, maxContextItems: Int = 6, chunkTokens: Int = 0,
        temperature: Float = 0,
        repetitionPenalty: Float = 1.1,
        seed: UInt64 = 0, historyTokens: Int = 300, today: Date? = nil, secondLook: Bool = true
    ) {
        self.secondLook = secondLook
        self.limit = limit
        self.filters = filters
        self.relevance = relevance
        self.maxPromptTokens = maxPromptTokens
        self.answerTokens = answerTokens
        self.maxContextItems = maxContextItems
        self.chunkTokens = chunkTokens
        self.temperature = temperature
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
        self.historyTokens = historyTokens
        self.today = today
    }
}
