import Foundation
import Inference

/// A model as the user names it: `NAME` on the configured backend, or `ollama:NAME`, `openai:NAME`,
/// `builtin:NAME` to pick the backend explicitly (as `--model` accepts). Only the first colon separates,
/// so Ollama tags survive: `ollama:qwen2.5-coder:0.5b`.
public struct ModelChoice: Sendable, Equatable, CustomStringConvertible {
    public var backend: BackendKind
    public var model: String

    public init(backend: BackendKind, model: String) {
        self.backend = backend
        self.model = model
    }

    public init(parsing text: String, defaultBackend: BackendKind) {
        if let colon = text.firstIndex(of: ":"), let backend = BackendKind(rawValue: String(text[..<colon])),
            text.index(after: colon) < text.endIndex
        {
            self.init(backend: backend, model: String(text[text.index(after: colon)...]))
        } else {
            self.init(backend: defaultBackend, model: text)
        }
    }

    public var description: String { "\(backend.rawValue):\(model)" }
}

extension AssistConfig {
    /// The chat model to use: `override` (a `--model` value) if given, else `chat_model` on `chat_backend`.
    public func chatChoice(override: String? = nil) -> ModelChoice {
        ModelChoice(parsing: override ?? chatModel, defaultBackend: chatBackend)
    }

    /// Whether answers from `choice` get a second look at a `NOT_FOUND`: `second_look` when set, else only
    /// for the built-in engine. Its small models often say `NOT_FOUND` with the answer in front of them; a
    /// larger model behind Ollama or an OpenAI-compatible server usually means it, and asking again would
    /// cost a generation and take its abstention away.
    public func secondLook(for choice: ModelChoice) -> Bool {
        secondLook ?? (choice.backend == .builtin)
    }

    /// The embedding model to use: `override` if given, else `embed_model` on `embed_backend`.
    public func embedChoice(override: String? = nil) -> ModelChoice {
        ModelChoice(parsing: override ?? embedModel, defaultBackend: embedBackend)
    }

    /// Connects to the chat model when it lives on a server (Ollama or OpenAI-compatible), checking that
    /// the server is up; nil when it is the built-in engine's, which the caller loads from `modelsDir`.
    public func connectRemoteGenerator(_ choice: ModelChoice) async throws -> (any TextGenerator)? {
        switch choice.backend {
        case .builtin:
            return nil
        case .ollama:
            return try await OllamaGenerator.connect(baseURL: ollamaURL, model: choice.model)
        case .openai:
            return try await OpenAICompatibleGenerator.connect(baseURL: openaiURL, model: choice.model, apiKey: openaiAPIKey)
        }
    }

    /// Connects to the embedding model when it lives on a server, learning its vector size; nil for the
    /// built-in engine.
    public func connectRemoteEmbedder(_ choice: ModelChoice) async throws -> (any Embedder)? {
        switch choice.backend {
        case .builtin:
            return nil
        case .ollama:
            return try await OllamaEmbedder.connect(baseURL: ollamaURL, model: choice.model)
        case .openai:
            return try await OpenAICompatibleEmbedder.connect(baseURL: openaiURL, model: choice.model, apiKey: openaiAPIKey)
        }
    }
}
