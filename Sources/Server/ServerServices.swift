import Assistant
import Foundation
import Index
import Inference

/// What the routes work with: the configuration, the models, and the user's index.
struct ServerServices: Sendable {
    let configuration: ServerConfiguration
    let models: ModelPool
    let embedder: (any Embedder)?
    /// Embedding is CPU-bound like generation; one batch at a time keeps latency predictable.
    let embedGate: ExclusiveGate
    let retriever: (any Retriever)?
    let ask: AskHandler?

    /// The served generator for a request's `model`, after checking its line is not already full.
    func generator(for requested: String?) async throws -> QueuedGenerator {
        let generator = try await models.generator(for: requested)
        if await generator.gate.waiting >= configuration.maxQueuedGenerations {
            throw ExclusiveGate.Full(limit: configuration.maxQueuedGenerations)
        }
        return generator
    }

    /// The embedder, or 501 when the server was started without one.
    func requireEmbedder() throws -> any Embedder {
        guard let embedder else {
            throw APIError.notConfigured("no embedding model is configured on this server (embed_model)")
        }
        return embedder
    }

    /// Embeds `texts` in one batch, waiting for any other batch to finish first.
    func embed(_ texts: [String]) async throws -> (vectors: [[Float]], tokens: Int) {
        let embedder = try requireEmbedder()
        guard !texts.isEmpty else { throw APIError.badRequest("input must hold at least one text") }
        guard texts.count <= 4096 else { throw APIError.badRequest("at most 4096 inputs per request") }
        return try await embedGate.withExclusiveAccess {
            let (vectors, tokens) = try await BlockingWork.run {
                (try embedder.embed(texts), texts.reduce(0) { $0 + embedder.countTokens($1) })
            }
            guard vectors.count == texts.count else {
                throw APIError.internalError(
                    "embedder \(embedder.modelID) returned \(vectors.count) vectors for \(texts.count) texts")
            }
            return (vectors, tokens)
        }
    }
}
