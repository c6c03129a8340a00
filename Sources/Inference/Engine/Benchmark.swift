import Foundation

/// Prefill and decode speed of the built-in engine, measured like `llama-bench -p P -n N`.
public struct BenchResult: Sendable, Codable, Equatable {
    public var model: String
    public var threads: Int
    public var promptTokens: Int
    public var generateTokens: Int
    /// Prompt tokens per second, one prefill of `promptTokens` from an empty cache.
    public var prefillTokensPerSecond: Double
    /// Tokens per second decoding `generateTokens` tokens one at a time from an empty cache.
    public var decodeTokensPerSecond: Double
}

public enum EngineBenchmark {
    /// Runs one warm-up pass, then times a `promptTokens` prefill and `generateTokens` single-token decodes.
    /// Token ids are fixed pseudo-random ids (the speed does not depend on which tokens they are).
    public static func run(model: LanguageModel, threads: Int, promptTokens: Int = 512, generateTokens: Int = 128)
        throws -> BenchResult
    {
        let vocab = model.hyperparameters.vocabularySize
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func nextToken() -> Int32 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int32(truncatingIfNeeded: (state >> 33) % UInt64(vocab))
        }
        let session = InferenceSession(
            model: model, contextLength: max(promptTokens, generateTokens) + 1, threads: threads)
        let prompt = (0..<max(1, promptTokens)).map { _ in nextToken() }
        let generated = (0..<max(1, generateTokens)).map { _ in nextToken() }

        // Warm-up: fault in the weights and caches.
        _ = try session.prefill(Array(prompt.prefix(16)))
        session.reset()

        let prefillStart = DispatchTime.now().uptimeNanoseconds
        _ = try session.prefill(prompt)
        let prefillSeconds = Double(DispatchTime.now().uptimeNanoseconds - prefillStart) / 1e9

        session.reset()
        let decodeStart = DispatchTime.now().uptimeNanoseconds
        for token in generated { try session.decode(token) { _ in () } }
        let decodeSeconds = Double(DispatchTime.now().uptimeNanoseconds - decodeStart) / 1e9

        return BenchResult(
            model: URL(fileURLWithPath: model.file.path).lastPathComponent, threads: threads,
            promptTokens: prompt.count, generateTokens: generated.count,
            prefillTokensPerSecond: Double(prompt.count) / prefillSeconds,
            decodeTokensPerSecond: Double(generated.count) / decodeSeconds)
    }
}
