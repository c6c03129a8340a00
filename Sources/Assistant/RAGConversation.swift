import Foundation
import Inference

/// A question-and-answer conversation over the user's notes and mail (`assist chat --rag`).
///
/// Each new question gets fresh retrieval, so the answer always rests on sources. Follow-ups such as
/// "and who decided that?" carry no topic of their own, so the retrieval query is the previous question
/// followed by the new one. Earlier turns (question and answer, without their sources) are kept in the
/// prompt, newest first, as long as they fit `AskOptions.historyTokens`.
public actor RAGConversation {
    public let asker: Asker
    /// Completed turns, oldest first.
    public private(set) var turns: [Turn] = []

    public struct Turn: Sendable, Equatable {
        public var question: String
        public var answer: String
    }

    public init(asker: Asker) {
        self.asker = asker
    }

    /// Streams the answer to `question` in the context of earlier turns; the turn is recorded when it finishes.
    public func ask(_ question: String) throws -> AsyncThrowingStream<AskEvent, Error> {
        let retrievalText = Self.retrievalText(question: question, previous: turns.last?.question)
        let history = try trimmedHistory()
        let inner = asker.ask(question, retrievalText: retrievalText, history: history)
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await event in inner {
                        if case let .finished(result) = event { self.record(question: question, result: result) }
                        continuation.yield(event)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Forgets all earlier turns.
    public func reset() {
        turns.removeAll()
    }

    private func record(question: String, result: AskResult) {
        turns.append(Turn(question: question, answer: result.answer))
    }

    /// The query used to retrieve for `question`: the previous question, then this one.
    static func retrievalText(question: String, previous: String?) -> String {
        guard let previous, !previous.isEmpty else { return question }
        return previous + " " + question
    }

    /// The most recent turns that fit the history budget, as alternating user/assistant messages.
    func trimmedHistory() throws -> [ChatMessage] {
        var kept: [ChatMessage] = []
        var used = 0
        for turn in turns.reversed() {
            let cost = try asker.generator.countTokens(turn.question) + asker.generator.countTokens(turn.answer) + 16
            if used + cost > asker.options.historyTokens { break }
            used += cost
            kept.insert(contentsOf: [
                ChatMessage(role: .user, content: turn.question),
                ChatMessage(role: .assistant, content: turn.answer),
            ], at: 0)
        }
        return kept
    }
}
