import Foundation
import Inference

/// Why a generation ended, in the words both APIs use.
enum FinishReason: String, Sendable {
    /// The model ended its answer or a stop string was reached.
    case stop
    /// The token limit was reached.
    case length
}

/// What a finished generation amounted to, for `usage`, `finish_reason` and Ollama's timing fields.
struct ChatOutcome: Sendable {
    var text: String
    /// Tokens of the messages' text (the chat template's few tokens are not counted); nil if unknown.
    var promptTokens: Int?
    var completionTokens: Int
    var finishReason: FinishReason
    /// From the start of the request to the first generated piece (waiting in line included).
    var promptNanoseconds: UInt64
    /// From the first generated piece to the end.
    var generationNanoseconds: UInt64
    var totalNanoseconds: UInt64
}

/// One generation with a served model, streamed piece by piece to a route that formats it for its API.
struct ChatRun: Sendable {
    let generator: QueuedGenerator
    let messages: [ChatMessage]
    let options: SamplingOptions

    /// Runs the generation, calling `emit` with each non-empty piece of text as it arrives.
    ///
    /// If `emit` throws (the client went away), the generation is cancelled and the model's gate freed.
    func run(_ emit: (String) async throws -> Void) async throws -> ChatOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        var firstPiece: ContinuousClock.Instant?
        var text = ""
        var pieces = 0
        var allPiecesAreTokens = true
        for try await piece in generator.generate(messages, options: options) {
            if firstPiece == nil { firstPiece = clock.now }
            pieces += 1
            if piece.tokenID == nil { allPiecesAreTokens = false }
            guard !piece.text.isEmpty else { continue }
            text += piece.text
            try await emit(piece.text)
        }
        let end = clock.now
        // Remote backends stream text chunks, not tokens; count their text instead.
        let completionTokens = allPiecesAreTokens ? pieces : ((try? generator.countTokens(text)) ?? pieces)
        return ChatOutcome(
            text: text, promptTokens: promptTokens(), completionTokens: completionTokens,
            finishReason: completionTokens >= options.maxTokens ? .length : .stop,
            promptNanoseconds: Self.nanoseconds((firstPiece ?? end) - start),
            generationNanoseconds: Self.nanoseconds(end - (firstPiece ?? end)),
            totalNanoseconds: Self.nanoseconds(end - start))
    }

    /// Runs the generation to its end and returns the whole text.
    func collect() async throws -> ChatOutcome {
        try await run { _ in }
    }

    private func promptTokens() -> Int? {
        var total = 0
        for message in messages {
            guard let count = try? generator.countTokens(message.content) else { return nil }
            total += count
        }
        return total
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}

/// Sampling settings as a request states them, checked and clamped to what the server allows.
struct SamplingRequest {
    var maxTokens: Int?
    var temperature: Double?
    var topK: Int?
    var topP: Double?
    var minP: Double?
    var repetitionPenalty: Double?
    var seed: Int64?
    var stop: [String] = []

    /// Tokens generated when the request does not say.
    static let defaultMaxTokens = 512

    /// The engine's options: unset fields keep `SamplingOptions`' defaults (greedy decoding), `maxTokens`
    /// is at most `limit` and the model's window. Throws 400 for values no sampler can use.
    func options(limit: Int, contextLength: Int) throws -> SamplingOptions {
        var options = SamplingOptions()
        let ceiling = max(1, min(limit, contextLength))
        if let maxTokens {
            // Ollama's num_predict uses -1 (and -2) for "until the window is full".
            guard maxTokens != 0, maxTokens >= -2 else {
                throw APIError.badRequest("max_tokens must be a positive number of tokens (got \(maxTokens))")
            }
            options.maxTokens = maxTokens < 0 ? ceiling : min(maxTokens, ceiling)
        } else {
            options.maxTokens = min(Self.defaultMaxTokens, ceiling)
        }
        if let temperature {
            guard temperature.isFinite, temperature >= 0, temperature <= 2 else {
                throw APIError.badRequest("temperature must be a number from 0 to 2 (got \(temperature))")
            }
            options.temperature = Float(temperature)
        }
        if let topK {
            guard topK >= 0 else { throw APIError.badRequest("top_k must be 0 (off) or more (got \(topK))") }
            options.topK = topK
        }
        if let topP {
            guard topP.isFinite, topP > 0, topP <= 1 else {
                throw APIError.badRequest("top_p must be above 0 and at most 1 (got \(topP))")
            }
            options.topP = Float(topP)
        }
        if let minP {
            guard minP.isFinite, minP >= 0, minP < 1 else {
                throw APIError.badRequest("min_p must be from 0 to below 1 (got \(minP))")
            }
            options.minP = Float(minP)
        }
        if let repetitionPenalty {
            guard repetitionPenalty.isFinite, repetitionPenalty > 0 else {
                throw APIError.badRequest("repeat_penalty must be above 0 (got \(repetitionPenalty))")
            }
            options.repetitionPenalty = Float(repetitionPenalty)
        }
        if let seed { options.seed = UInt64(bitPattern: seed) }
        guard stop.count <= 16 else { throw APIError.badRequest("at most 16 stop strings are allowed") }
        options.stop = stop.filter { !$0.isEmpty }
        return options
    }
}
