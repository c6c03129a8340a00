import Foundation
import Testing

@testable import Inference

/// The reference generations llama.cpp produced on the project's default models (see fixtures/README.md).
struct LlamaCppFixture: Decodable {
    struct Generation: Decodable {
        struct Step: Decodable {
            let id: Int32
            /// (token id, log-probability) pairs, most likely first.
            let top: [[Double]]
        }
        let name: String
        let prompt_token_ids: [Int32]
        let output_token_ids: [Int32]
        let steps: [Step]
    }
    let model: String
    let generations: [Generation]

    static func load(_ name: String) throws -> LlamaCppFixture {
        let env = ProcessInfo.processInfo.environment["ASSIST_FIXTURES"]
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidates = [env].compactMap { $0 } + [
            root.appendingPathComponent("../shared/fixtures").path,
            root.appendingPathComponent("../../shared/fixtures").path,
        ]
        for dir in candidates where FileManager.default.fileExists(atPath: dir + "/" + name) {
            let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))
            return try JSONDecoder().decode(LlamaCppFixture.self, from: data)
        }
        throw MissingFixture(name: name, searched: candidates)
    }

    struct MissingFixture: Error, CustomStringConvertible {
        let name: String
        let searched: [String]
        var description: String { "fixture \(name) not found in \(searched); set ASSIST_FIXTURES" }
    }
}

/// log-softmax of one logit, computed in Double over the full vocabulary.
func logSoftmax(_ logits: UnsafeBufferPointer<Float>) -> (Int) -> Double {
    let maxLogit = Double(logits.max() ?? 0)
    var sum = 0.0
    for v in logits { sum += Foundation.exp(Double(v) - maxLogit) }
    let logZ = maxLogit + Foundation.log(sum)
    return { Double(logits[$0]) - logZ }
}

func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
    var best = 0
    for i in 1..<logits.count where logits[i] > logits[best] { best = i }
    return best
}

@Suite(.serialized) struct EngineFixtureTests {
    /// Teacher-forces every reference generation and compares each step's distribution.
    func checkTeacherForced(model modelPath: String, fixture name: String) throws {
        let fixture = try LlamaCppFixture.load(name)
        let model = try LanguageModel(path: try TestModels.path(modelPath))
        let session = InferenceSession(model: model, threads: 2)
        var checked = 0, worstLogProbError = 0.0
        for generation in fixture.generations {
            session.reset()
            let prompt = generation.prompt_token_ids
            let input = prompt + generation.output_token_ids.dropLast()
            try session.logitsForAll(input) { index, logits in
                let step = index - (prompt.count - 1)
                guard step >= 0, step < generation.steps.count else { return }
                let reference = generation.steps[step]
                let logProb = logSoftmax(logits)
                let refTop1 = Int(reference.top[0][0]), gap = reference.top[0][1] - reference.top[1][1]
                if gap > 0.1 {
                    #expect(argmax(logits) == refTop1, "\(generation.name) step \(step): top-1 \(argmax(logits)) vs reference \(refTop1) (gap \(gap))")
                }
                let refLogProb = reference.top.first { Int32($0[0]) == reference.id }?[1]
                if let refLogProb {
                    let error = abs(logProb(Int(reference.id)) - refLogProb)
                    worstLogProbError = max(worstLogProbError, error)
                    #expect(error < 0.1, "\(generation.name) step \(step): log p(\(reference.id)) = \(logProb(Int(reference.id))), reference \(refLogProb)")
                }
                checked += 1
            }
        }
        #expect(checked == fixture.generations.reduce(0) { $0 + $1.steps.count })
        print("\(name): \(checked) steps checked, worst log-prob error \(worstLogProbError)")
    }

    /// Greedy decoding from each prompt reproduces the reference's first 16 tokens.
    func checkGreedy(model modelPath: String, fixture name: String) throws {
        let fixture = try LlamaCppFixture.load(name)
        let model = try LanguageModel(path: try TestModels.path(modelPath))
        let session = InferenceSession(model: model, threads: 2)
        for generation in fixture.generations {
            session.reset()
            var logits = try session.prefill(generation.prompt_token_ids)
            var produced: [Int32] = []
            let wanted = Array(generation.output_token_ids.prefix(16))
            while produced.count < wanted.count {
                let next = Int32(logits.withUnsafeBufferPointer { argmax($0) })
                produced.append(next)
                if produced.count < wanted.count { logits = try session.decode(next) }
            }
            #expect(produced == wanted, "\(generation.name)")
        }
    }

    @Test func smolLM2TeacherForced() throws {
        try checkTeacherForced(model: "smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf", fixture: "llamacpp-smollm2-135m-q4_1.json")
    }

    @Test func smolLM2Greedy() throws {
        try checkGreedy(model: "smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf", fixture: "llamacpp-smollm2-135m-q4_1.json")
    }

    @Test func qwenTeacherForced() throws {
        try checkTeacherForced(
            model: "qwen2.5-coder-0.5b/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", fixture: "llamacpp-qwen2.5-coder-0.5b-q4_k_m.json")
    }

    @Test func qwenGreedy() throws {
        try checkGreedy(
            model: "qwen2.5-coder-0.5b/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", fixture: "llamacpp-qwen2.5-coder-0.5b-q4_k_m.json")
    }
}
