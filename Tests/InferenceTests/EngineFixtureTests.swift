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

/// Teacher-forced and greedy comparison with llama.cpp on the real model files.
///
/// Tolerances: quantized inference is not bit-reproducible across engines (llama.cpp rounds activations to
/// 8 bits per matmul, keeps K/V in f16, and sums in its own order). Measured on these fixtures, an exact f32
/// pass of the same weights (no activation quantization) differs from llama.cpp's log-probabilities by up to
/// 0.18 on low-confidence steps. With activations quantized as llama.cpp does (Q8_K for K-quant weights,
/// f16 block scales), this engine measured: SmolLM2 105 of 112 steps within 0.1 (worst 0.25), Qwen2.5-Coder
/// 94 of 94 (worst 0.099); top-1 equal on every step whose gap exceeds 0.1 (109 and 92 steps). On an AVX2
/// CPU (other kernels, other summation order) SmolLM2 measured 104 of 112 within 0.1 (worst 0.20) and top-1
/// equal on 107 of 109, the two others at gaps of 0.11 and 0.24: a gap below the log-probability tolerance
/// can flip with a rounding.
/// The checks: top-1 agrees wherever llama.cpp's top-1/top-2 gap exceeds `clearGap` (the log-probability
/// tolerance) and on at least 97% of the steps whose gap exceeds 0.1; the reference token's
/// log-probability is within 0.1 on at least 90% of steps and within `maxLogProbError` on all; greedy
/// decoding reproduces the reference up to its first near tie (`greedyGap`, within the first 16 tokens).
@Suite(.serialized) struct EngineFixtureTests {
    static let clearGap = maxLogProbError
    /// Greedy runs prefill then single-token decode, whose kernels sum in another order than teacher forcing.
    static let greedyGap = 0.3
    static let maxLogProbError = 0.3

    struct Stats {
        var steps = 0, withinTenth = 0, top1Checked = 0, top1Agree = 0, strictTop1Checked = 0, strictTop1Agree = 0
        var worst = 0.0
    }

    func check(model modelPath: String, fixture name: String) throws {
        let fixture = try LlamaCppFixture.load(name)
        let model = try LanguageModel(path: try TestModels.path(modelPath))
        let session = InferenceSession(model: model, threads: 2)
        var stats = Stats()
        for generation in fixture.generations {
            session.reset()
            let prompt = generation.prompt_token_ids
            try session.logitsForAll(prompt + generation.output_token_ids.dropLast()) { index, logits in
                let step = index - (prompt.count - 1)
                guard step >= 0, step < generation.steps.count else { return }
                let reference = generation.steps[step]
                let refTop1 = Int(reference.top[0][0]), gap = reference.top[0][1] - reference.top[1][1]
                let top1 = argmax(logits)
                if gap > 0.1 {
                    stats.strictTop1Checked += 1
                    if top1 == refTop1 { stats.strictTop1Agree += 1 }
                }
                if gap > Self.clearGap {
                    stats.top1Checked += 1
                    if top1 == refTop1 { stats.top1Agree += 1 }
                    #expect(top1 == refTop1, "\(generation.name) step \(step): top-1 \(top1), reference \(refTop1) (gap \(gap))")
                }
                if let refLogProb = reference.top.first(where: { Int32($0[0]) == reference.id })?[1] {
                    let error = abs(logSoftmax(logits)(Int(reference.id)) - refLogProb)
                    stats.steps += 1
                    if error <= 0.1 { stats.withinTenth += 1 }
                    stats.worst = max(stats.worst, error)
                    #expect(error < Self.maxLogProbError, "\(generation.name) step \(step): log-prob error \(error)")
                }
            }
        }
        #expect(stats.steps == fixture.generations.reduce(0) { $0 + $1.steps.count })
        #expect(Double(stats.withinTenth) >= 0.9 * Double(stats.steps), "only \(stats.withinTenth) of \(stats.steps) steps within 0.1")
        #expect(
            Double(stats.strictTop1Agree) >= 0.97 * Double(stats.strictTop1Checked),
            "top-1 agrees on only \(stats.strictTop1Agree) of \(stats.strictTop1Checked) steps with gap > 0.1")
        print(
            "\(name): \(stats.withinTenth)/\(stats.steps) steps within 0.1 (worst \(stats.worst)); top-1 agrees on "
                + "\(stats.strictTop1Agree)/\(stats.strictTop1Checked) steps with gap > 0.1, \(stats.top1Agree)/\(stats.top1Checked) with gap > \(Self.clearGap)")

        // Greedy decoding up to the reference's first near tie.
        for generation in fixture.generations {
            session.reset()
            let clear = generation.steps.prefix(16).prefix { $0.top[0][1] - $0.top[1][1] > Self.greedyGap }.count
            let wanted = Array(generation.output_token_ids.prefix(min(16, clear)))
            var logits = try session.prefill(generation.prompt_token_ids)
            var produced: [Int32] = []
            while produced.count < wanted.count {
                let next = Int32(logits.withUnsafeBufferPointer { argmax($0) })
                produced.append(next)
                if produced.count < wanted.count { logits = try session.decode(next) }
            }
            #expect(produced == wanted, "\(generation.name): greedy output differs before the first near tie")
        }
    }

    @Test func smolLM2MatchesLlamaCpp() throws {
        try check(model: "smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf", fixture: "llamacpp-smollm2-135m-q4_1.json")
    }

    @Test func qwenMatchesLlamaCpp() throws {
        try check(
            model: "qwen2.5-coder-0.5b/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", fixture: "llamacpp-qwen2.5-coder-0.5b-q4_k_m.json")
    }
}
