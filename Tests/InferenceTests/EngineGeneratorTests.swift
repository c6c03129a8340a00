import Foundation
import Testing

@testable import Inference

@Suite(.serialized) struct EngineGeneratorTests {
    static let smolLM2 = "smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf"

    /// A raw prompt reproduces llama.cpp's tokens and greedy answer, ending at the end-of-turn token.
    @Test func rawGreedyRunMatchesReference() throws {
        let fixture = try LlamaCppFixture.load("llamacpp-smollm2-135m-q4_1.json")
        let capital = try #require(fixture.generations.first { $0.name == "capital" })
        let generator = try BuiltinGenerator(path: try TestModels.path(Self.smolLM2), threads: 2)
        var streamed = ""
        let result = try generator.run(
            prompt: "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n", raw: true,
            options: SamplingOptions(maxTokens: 32, temperature: 0)
        ) { streamed += $0.text }
        #expect(result.promptTokenIDs == capital.prompt_token_ids)
        #expect(result.tokenIDs + [2] == capital.output_token_ids)
        #expect(result.text == "The capital of France is Paris.")
        #expect(streamed == result.text)
        #expect(result.stopReason == .endOfGeneration)

        // The same prompt again reuses the cached prefix and gives the same answer.
        let again = try generator.run(
            prompt: "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n", raw: true,
            options: SamplingOptions(maxTokens: 32, temperature: 0))
        #expect(again.prefillTokens == 1)
        #expect(again.tokenIDs == result.tokenIDs)

        let json = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        #expect(json.contains("\"prompt_token_ids\""))
        #expect(json.contains("\"decode_tokens_per_second\""))
    }

    @Test func stopsOnStopStringsAndMaxTokens() throws {
        let generator = try BuiltinGenerator(path: try TestModels.path(Self.smolLM2), threads: 2)
        let prompt = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
        let stopped = try generator.run(
            prompt: prompt, raw: true, options: SamplingOptions(maxTokens: 32, temperature: 0, stop: [" Paris"]))
        #expect(stopped.text == "The capital of France is")
        #expect(stopped.stopReason == .stopString)

        let short = try generator.run(prompt: prompt, raw: true, options: SamplingOptions(maxTokens: 3, temperature: 0))
        #expect(short.tokenIDs == [504, 3575, 282])
        #expect(short.stopReason == .maxTokens)
    }

    /// The chat path streams pieces off the caller's thread; sampling with a seed is repeatable.
    @Test func streamsChatReplies() async throws {
        let generator = try BuiltinGenerator(path: try TestModels.path(Self.smolLM2), threads: 2)
        #expect(generator.modelID == "SmolLM2-135M-Instruct.Q4_1")
        #expect(try generator.countTokens("What is the capital of France?") == 7)
        let messages = [ChatMessage(role: .user, content: "Name a colour.")]
        let options = SamplingOptions(maxTokens: 12, temperature: 0.8, seed: 42)
        func collect() async throws -> [GeneratedPiece] {
            var pieces: [GeneratedPiece] = []
            for try await piece in generator.generate(messages, options: options) { pieces.append(piece) }
            return pieces
        }
        let first = try await collect()
        let second = try await collect()
        #expect(!first.isEmpty)
        // Equal tokens, though the second run reuses the first one's cached prompt (its prefill report differs).
        #expect(first.map(\.tokenID) == second.map(\.tokenID))
        #expect(first.map(\.text) == second.map(\.text))
        #expect((second.first?.prefill?.reusedTokens ?? 0) > 0)
        #expect(first.count <= 12)
        #expect(!first.map(\.text).joined().contains("<|im_end|>"))
    }
}
