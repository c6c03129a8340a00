import Foundation
import Inference

/// The chat models a server offers, each loaded on first use, kept for the life of the server, and used by
/// one generation at a time.
///
/// Loading goes through the caller's provider exactly once per model even when requests race for it; a
/// load that fails is forgotten, so the next request tries again (a model file put in place later works).
actor ModelPool {
    /// Names clients may ask for, in the order `/v1/models` and `/api/tags` list them; the first is the default.
    let names: [String]
    private let provider: AssistServer.GeneratorProvider
    private let queueLimit: Int
    private var loads: [String: Task<QueuedGenerator, Error>] = [:]

    init(names: [String], queueLimit: Int, provider: @escaping AssistServer.GeneratorProvider) {
        var seen = Set<String>()
        self.names = names.filter { !$0.isEmpty && seen.insert($0).inserted }
        self.queueLimit = queueLimit
        self.provider = provider
    }

    /// The served name a request's `model` field refers to: the default when absent, and Ollama's
    /// `name:latest` spelling for `name`. Nil when the server does not offer it.
    nonisolated func resolve(_ requested: String?) -> String? {
        guard let requested = requested?.trimmingCharacters(in: .whitespaces), !requested.isEmpty else {
            return names.first
        }
        if names.contains(requested) { return requested }
        if requested.hasSuffix(":latest") {
            let bare = String(requested.dropLast(":latest".count))
            if names.contains(bare) { return bare }
        }
        return nil
    }

    /// The generator for `requested` (see `resolve`), loading it if this is the first request for it.
    func generator(for requested: String?) async throws -> QueuedGenerator {
        guard let name = resolve(requested) else {
            throw APIError.modelNotFound(requested ?? "", available: names)
        }
        if let load = loads[name] { return try await load.value }
        let provider = self.provider
        let limit = queueLimit
        // Loading maps files or contacts a server: off the actor, which keeps answering other requests.
        let load = Task.detached {
            let generator = try await provider(name)
            return QueuedGenerator(servedName: name, base: generator, gate: ExclusiveGate(limit: limit))
        }
        loads[name] = load
        do {
            return try await load.value
        } catch {
            loads[name] = nil
            throw APIError.modelUnavailable(name, reason: String(describing: error))
        }
    }
}

/// A `TextGenerator` whose generations wait their turn at the model's gate.
///
/// Everything that generates with a served model goes through this wrapper: the OpenAI and Ollama routes
/// and the `Asker` behind `/v1/assist/ask`. The gate is held from the first token until the stream ends,
/// fails, or its consumer goes away.
struct QueuedGenerator: TextGenerator {
    /// The name clients use for the model.
    let servedName: String
    let base: any TextGenerator
    let gate: ExclusiveGate

    var modelID: String { base.modelID }
    var contextLength: Int { base.contextLength }
    func countTokens(_ text: String) throws -> Int { try base.countTokens(text) }

    func generate(_ messages: [ChatMessage], options: SamplingOptions) -> AsyncThrowingStream<GeneratedPiece, Error> {
        let base = self.base
        let gate = self.gate
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await gate.withExclusiveAccess {
                        for try await piece in base.generate(messages, options: options) {
                            if case .terminated = continuation.yield(piece) { break }
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
