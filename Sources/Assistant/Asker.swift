import Foundation
import Index
import Inference
import Ingest

/// Answers questions from the user's notes and mail: retrieve, pack, prompt, stream, check citations.
///
/// The model is trusted with wording only. Which sources exist, which ids are valid, what is quoted and
/// whether anything relevant was found are all decided in code (`RelevanceGate`, `ContextPacker`,
/// `CitationResolver`, `NotFoundDetector`, `IdentifierAnswerCheck`, `AmountCheck`, `ClockTimeCheck`,
/// `DecimalCheck`, `QuantityCheck`). A reply that is the model's `NOT_FOUND` gets a second look without
/// the sentinel on offer (`AskOptions.secondLook`); the checks then decide.
public struct Asker: Sendable {
    public var retriever: any Retriever
    public var generator: any TextGenerator
    public var prompts: PromptLibrary
    public var options: AskOptions
    /// Optional meaning-based relevance for the gate (see `RelevanceGate`); nil uses word overlap only.
    public var scorer: (any RelevanceScorer)?
    public var detector: NotFoundDetector
    public var resolver: CitationResolver

    public init(
        retriever: any Retriever, generator: any TextGenerator, prompts: PromptLibrary = .standard(),
        options: AskOptions = AskOptions(), scorer: (any RelevanceScorer)? = nil,
        detector: NotFoundDetector = NotFoundDetector(), resolver: CitationResolver = CitationResolver()
    ) {
        self.retriever = retriever
        self.generator = generator
        self.prompts = prompts
        self.options = options
        self.scorer = scorer
        self.detector = detector
        self.resolver = resolver
    }

    /// The messages sent to the model and the context items they contain.
    public struct PreparedPrompt: Sendable, Equatable {
        public var messages: [ChatMessage]
        public var items: [ContextItem]
        /// The prompt's size in the model's tokens (message texts; the chat template adds a few more).
        public var tokens: Int
    }

    /// Streams the answer to `question`: `.retrieved`, then `.token`s, then `.finished`.
    public func ask(_ question: String) -> AsyncThrowingStream<AskEvent, Error> {
        ask(question, retrievalText: question, history: [])
    }

    /// Answers `question` and returns only the result.
    public func answer(_ question: String) async throws -> AskResult {
        try await Self.result(of: ask(question))
    }

    /// Drains an event stream to its result.
    public static func result(of stream: AsyncThrowingStream<AskEvent, Error>) async throws -> AskResult {
        for try await event in stream {
            if case let .finished(result) = event { return result }
        }
        throw CancellationError()
    }

    /// The general form used by `RAGConversation`: retrieve with `retrievalText`, keep `history` turns
    /// between the system prompt and the question.
    func ask(_ question: String, retrievalText: String, history: [ChatMessage]) -> AsyncThrowingStream<AskEvent, Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await run(question, retrievalText: retrievalText, history: history, continuation: continuation)
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func run(
        _ question: String, retrievalText: String, history: [ChatMessage],
        continuation: AsyncThrowingStream<AskEvent, Error>.Continuation
    ) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        func elapsed() -> Double {
            let duration = clock.now - start
            return Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        }

        var phases = PhaseClock()
        var timings = AskTimings()
        let hits = try retriever.search(options.filters.query(text: retrievalText, limit: options.limit))
        phases.lap("retrieval")
        continuation.yield(.retrieved(hits))
        // Judged against the retrieval text, so a follow-up inherits the topic of the question before it.
        let similarities = try scorer?.similarities(question: retrievalText, hits: hits)
        let relevant = options.relevance.relevant(hits, question: retrievalText, similarities: similarities)
        phases.lap("relevance")
        let prepared = try prepare(question: question, hits: relevant, history: history)
        phases.lap("prompt")
        timings.promptTokens = prepared.tokens

        guard !prepared.items.isEmpty else {
            let closest = hits.prefix(3).enumerated().map { ContextItem(n: $0.offset + 1, hit: $0.element) }
            timings.phases = phases.phases
            continuation.yield(.token(AskResult.notFoundAnswer))
            continuation.yield(.finished(AskResult(
                question: question, answer: AskResult.notFoundAnswer, citations: [], found: false,
                model: generator.modelID, seconds: elapsed(), firstTokenSeconds: nil, sources: closest,
                timings: timings, declined: AskResult.Declined(reason: .noRelevantSource))))
            return
        }

        // Stopping at the fence marker ends the "copy the next source block" mode small models slip into;
        // retrieved text cannot contain the marker, so no real answer needs it.
        let sampling = SamplingOptions(
            maxTokens: options.answerTokens, temperature: options.temperature,
            repetitionPenalty: options.repetitionPenalty, seed: options.seed, stop: [ContextFence.marker])
        var streamed = false
        var firstToken: Double?
        /// The model's reply to `messages`; when `streaming`, shown as soon as it is clear that it is not
        /// the sentinel, else held back for the checks.
        func reply(to messages: [ChatMessage], streaming: Bool) async throws -> String {
            var text = ""
            for try await piece in generator.generate(messages, options: sampling) {
                try Task.checkCancellation()
                // A held-back reply's first word is shown only after the checks: the caller times it.
                if streaming, firstToken == nil {
                    firstToken = elapsed()
                    phases.lap("prefill")
                }
                if let report = piece.prefill {
                    timings.promptTokens = report.promptTokens
                    timings.reusedPromptTokens = report.reusedTokens
                    timings.restoredPromptTokens = report.restoredTokens
                }
                timings.answerPieces += 1
                text += piece.text
                // The sentinel decides the outcome; what a small model writes after it is never shown.
                if !streamed && detector.opensWithSentinel(text) { break }
                guard streaming else { continue }
                if streamed {
                    continuation.yield(.token(piece.text))
                } else if !detector.couldBecomeSentinel(text) {
                    // Held back until it is clear the reply is not the sentinel; flush what was held.
                    streamed = true
                    continuation.yield(.token(text))
                }
            }
            if streaming { phases.lap(firstToken == nil ? "prefill" : "decode") }
            return text
        }

        var text = try await reply(to: prepared.messages, streaming: true)
        // A second look: the 0.5B default model often answers `NOT_FOUND` by reflex with the answer in
        // front of it, and then goes on to state it. Asked again without being offered the sentinel, it
        // states what the sources say, and every check below still stands between that reply and the user
        // (an invented identifier, sum, time or number is refused, and so is a reply that states nothing).
        // That reply comes from a prompt that leaves the model no way to decline, so it is shown only once
        // the checks have passed it, never streamed and then taken back.
        if options.secondLook, !streamed, detector.opensWithSentinel(text) {
            let system = try prompts.template(named: PromptLibrary.Name.askSystem)
                .removingLines(using: "not_found").render([:])
            var messages = prepared.messages
            messages[0] = ChatMessage(role: .system, content: system)
            text = try await reply(to: messages, streaming: false)
            phases.lap(AskTimings.secondLookPhase)
            firstToken = elapsed()
        }
        timings.phases = phases.phases
        let reply = Self.cleanReply(text)
        let sources = prepared.items.map(\.fencedBlock)
        if let reason = Self.declineReason(reply, question: question, sources: sources, detector: detector) {
            continuation.yield(.token(streamed ? "\n\n" + AskResult.notFoundAnswer : AskResult.notFoundAnswer))
            continuation.yield(.finished(AskResult(
                question: question, answer: AskResult.notFoundAnswer, citations: [], found: false,
                model: generator.modelID, seconds: elapsed(), firstTokenSeconds: firstToken,
                sources: prepared.items, timings: timings, declined: AskResult.Declined(reason: reason, modelReply: text))))
            return
        }
        let resolution = resolver.resolve(answer: reply, items: prepared.items, question: question)
        let citations = resolution.citations.filter { CitationResolver.verify($0, items: prepared.items) }
        // A reply held back as a possible sentinel turned out to be an answer: show it now.
        if !streamed { continuation.yield(.token(resolution.answer)) }
        continuation.yield(.finished(AskResult(
            question: question, answer: resolution.answer, citations: citations, found: true,
            model: generator.modelID, seconds: elapsed(), firstTokenSeconds: firstToken, sources: prepared.items,
            timings: timings)))
    }

    /// Builds the prompt for `question` over `hits` (best first), packing as many as fit the budget.
    public func prepare(question: String, hits: [SearchHit], history: [ChatMessage] = []) throws -> PreparedPrompt {
        let system = try prompts.template(named: PromptLibrary.Name.askSystem)
            .render(["not_found": detector.sentinel])
        let userTemplate = try prompts.template(named: PromptLibrary.Name.askUser)
        var values = [
            "question": question.trimmingCharacters(in: .whitespacesAndNewlines),
            "today": DateLabel.day(options.today ?? Date()),
            "not_found": detector.sentinel,
            "context": "",
            "timeline": "",
        ]
        let perMessageOverhead = 8
        let historyCost = try history.reduce(0) { $0 + (try generator.countTokens($1.content)) + perMessageOverhead }
        let fixed = try generator.countTokens(system) + (try generator.countTokens(userTemplate.render(values)))
            + historyCost + 2 * perMessageOverhead
        let window = generator.contextLength - options.answerTokens
        guard fixed < window else {
            throw AssistantError.contextTooSmall(
                model: generator.modelID, contextLength: generator.contextLength, needed: fixed + options.answerTokens)
        }
        // Keep the preferred size, but never so small that a long question or history leaves no room for sources.
        let budget = min(window, max(options.maxPromptTokens, fixed + 256))
        let packer = ContextPacker(promptBudget: budget, maxItems: options.maxContextItems)
        let trimmer = ContextTrimmer(maxTokens: options.chunkTokens)
        let count: (String) throws -> Int = { try generator.countTokens($0) }
        let items = try packer.pack(hits, fixedTokens: fixed, count: count) { hit in
            options.chunkTokens > 0 ? try trimmer.trim(hit.text, question: question, count: count) : hit.text
        }
        values["context"] = ContextPacker.render(items)
        values["timeline"] = ContextPacker.timeline(items)
        let user = userTemplate.render(values)
        let messages = [ChatMessage(role: .system, content: system)] + history
            + [ChatMessage(role: .user, content: user)]
        let tokens = try messages.reduce(0) { $0 + (try generator.countTokens($1.content)) }
        return PreparedPrompt(messages: messages, items: items, tokens: tokens)
    }

    /// Why `reply` cannot stand as an answer to `question` from `sources`, or nil when it can. The checks
    /// run in this order, and the first that refuses names the reason.
    static func declineReason(
        _ reply: String, question: String, sources: [String], detector: NotFoundDetector
    ) -> AskResult.Declined.Reason? {
        if detector.isNotFound(reply) { return .modelSaidNotFound }
        if !statesSomething(reply) || isRepetitive(reply) || (isRollCall(reply) && asksForOne(question)) {
            return .statesNothing
        }
        if ContextItem.reproducesHeader(reply) { return .copiesASource }
        if !IdentifierAnswerCheck.accepts(reply, question: question, sources: sources) { return .identifierNotInSources }
        if !AmountCheck.accepts(reply, question: question, sources: sources) { return .amountNotInSources }
        if !ClockTimeCheck.accepts(reply, question: question, sources: sources) { return .timeNotInSources }
        if !CalendarDateCheck.accepts(reply, sources: sources) { return .dateNotInSources }
        if !DecimalCheck.accepts(reply, sources: sources) { return .numberNotInSources }
        if !QuantityCheck.accepts(reply, question: question) { return .noQuantity }
        return nil
    }

    /// Whether the reply is one phrase over and over ("Priya Natarajan [1] Priya Natarajan [2] …"): a small
    /// model stuck in a loop, which says nothing however often it names something. Judged on replies of
    /// 15 words or more, by the share of distinct words.
    static func isRepetitive(_ reply: String) -> Bool {
        let words = LexicalText.words(CitationResolver.removingMarkers(from: reply))
        guard words.count >= 15 else { return false }
        return Double(Set(words).count) / Double(words.count) < 0.3
    }

    /// Whether the reply only lists names, each behind a citation marker of its own ("[3] Priya Natarajan
    /// [4] Łukasz Wróbel [5] Ingrid Halvorsen"): a small model that cannot say who is meant reads out who
    /// its sources are from. Asked for one (`asksForOne`), naming every candidate is not naming the one
    /// asked for, even when it is among them. Three names at least, each of one to four capitalized
    /// words, each under a different source number; "Jonas, Priya and Ines [1]" from one source is an
    /// answer.
    static func isRollCall(_ reply: String) -> Bool {
        let marker = #/\[(\d+)\]/#
        let numbers = reply.matches(of: marker).map { $0.output.1 }
        guard numbers.count >= 3, Set(numbers).count == numbers.count else { return false }
        let names = reply.split(separator: marker).map {
            $0.split { $0.isWhitespace || $0.isPunctuation && $0 != "-" && $0 != "'" }
        }.filter { !$0.isEmpty }
        guard names.count >= 3 else { return false }
        return names.allSatisfy { words in
            words.count <= 4 && words.allSatisfy { $0.first?.isUppercase == true }
        }
    }

    /// Whether `question` asks for one thing or person ("Who is the treasurer?", "Which contractor is
    /// doing the kitchen?"), not for a list ("Which cities did we visit?", "Who are the panelists?"): it
    /// has a singular "is" or "was", or opens with "who's".
    static func asksForOne(_ question: String) -> Bool {
        let words = LexicalText.words(question)
        return words.contains("is") || words.contains("was") || words.starts(with: ["who", "s"])
    }

    /// Whether the reply states anything once citation markers are removed. "[2][3]" alone does not, and
    /// neither does a reply whose every sentence breaks off where the fact should be ("Dana's passport
    /// number is [1]."): a small model asked for something the sources lack often writes the question back
    /// as a statement and leaves the gap, and showing that as an answer would claim a find that isn't there.
    static func statesSomething(_ reply: String) -> Bool {
        LexicalText.sentences(in: CitationResolver.removingMarkers(from: reply)).contains { sentence in
            guard let last = LexicalText.words(sentence).last else { return false }
            return !danglingEndings.contains(last.lowercased())
        }
    }

    /// Words no complete English statement ends with: articles, copulas, "of" and possessives wait for
    /// the noun or value that follows them.
    static let danglingEndings: Set<String> = [
        "a", "an", "the", "is", "are", "was", "were", "of", "my", "our", "your", "their", "its", "his", "her",
    ]

    /// The reply without a leading "Answer:" label and surrounding whitespace.
    static func cleanReply(_ text: String) -> String {
        var reply = text.trimmingCharacters(in: .whitespacesAndNewlines)
        for label in ["answer:", "**answer:**", "a:"] where reply.lowercased().hasPrefix(label) {
            reply = String(reply.dropFirst(label.count)).trimmingCharacters(in: .whitespacesAndNewlines)
            break
        }
        return reply
    }
}
