import Foundation

/// Who says a chat message.
public enum ChatRole: String, Sendable, Codable {
    case system, user, assistant
}

/// One turn of a conversation.
public struct ChatMessage: Sendable, Codable, Equatable {
    public var role: ChatRole
    public var content: String
    public init(role: ChatRole, content: String) {
        self.role = role
        self.content = content
    }
}

/// How the next token is chosen. `temperature == 0` means greedy.
public struct SamplingOptions: Sendable, Equatable {
    public var maxTokens: Int
    public var temperature: Float
    public var topK: Int
    public var topP: Float
    public var minP: Float
    public var repetitionPenalty: Float
    public var seed: UInt64
    /// Generation stops before any of these strings would be emitted.
    public var stop: [String]

    public init(
        maxTokens: Int = 512, temperature: Float = 0, topK: Int = 40, topP: Float = 0.95, minP: Float = 0.05,
        repetitionPenalty: Float = 1.0, seed: UInt64 = 0, stop: [String] = []
    ) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
        self.stop = stop
    }
}

/// A piece of generated text. `tokenID` is nil for backends that stream text only (HTTP servers).
public struct GeneratedPiece: Sendable, Equatable {
    public var text: String
    public var tokenID: Int32?
    /// On the first piece of the built-in engine: how the prompt was processed (nil elsewhere).
    public var prefill: PrefillReport?
    public init(text: String, tokenID: Int32? = nil, prefill: PrefillReport? = nil) {
        self.text = text
        self.tokenID = tokenID
        self.prefill = prefill
    }
}

/// Something that writes text from a conversation: the built-in engine, Ollama, or an OpenAI-compatible server.
public protocol TextGenerator: Sendable {
    /// A name for the model that users recognise, shown in answers and `--json` output.
    var modelID: String { get }
    /// How many tokens the model attends to, prompt and answer together.
    var contextLength: Int { get }
    /// Tokens `text` takes in this model's vocabulary, for packing context within `contextLength`.
    func countTokens(_ text: String) throws -> Int
    /// Streams the reply to `messages`, with the model's own chat template applied.
    func generate(_ messages: [ChatMessage], options: SamplingOptions) -> AsyncThrowingStream<GeneratedPiece, Error>
}

/// Something that turns texts into unit-length vectors of a fixed size.
public protocol Embedder: Sendable {
    /// Stable identity of the model; changing it makes the index re-embed.
    var modelID: String { get }
    var dimensions: Int { get }
    /// Longest input in tokens; longer text is truncated by the model.
    var maxTokens: Int { get }
    func countTokens(_ text: String) -> Int
    func embed(_ texts: [String]) throws -> [[Float]]
}
