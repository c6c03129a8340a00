import Foundation
import Testing

@testable import Inference

@Suite("Sampler")
struct SamplerTests {
    func sample(_ logits: [Float], _ options: SamplingOptions, history: [Int32] = [], sampler: inout Sampler) -> Int32 {
        var copy = logits
        return copy.withUnsafeMutableBufferPointer { sampler.sample($0, history: history) }
    }

    @Test("greedy picks the highest logit, the lowest id on ties")
    func greedy() {
        var s = Sampler(options: SamplingOptions(temperature: 0))
        #expect(sample([0.1, 3, -2, 3, 1], s.options, sampler: &s) == 1)
        #expect(sample([-5, -1, -3], s.options, sampler: &s) == 1)
    }

    @Test("repetition penalty divides positive logits and multiplies negative ones")
    func repetitionPenalty() {
        let options = SamplingOptions(temperature: 0, repetitionPenalty: 2)
        var s = Sampler(options: options)
        var logits: [Float] = [4, 3, -1, -1.5]
        let chosen = logits.withUnsafeMutableBufferPointer { s.sample($0, history: [0, 0, 2]) }
        #expect(logits == [2, 3, -2, -1.5])
        #expect(chosen == 1)
    }

    @Test("the same seed draws the same tokens; another seed draws others")
    func seeded() {
        let logits = (0..<1000).map { Float(($0 * 7919) % 1000) / 250 }
        func run(seed: UInt64) -> [Int32] {
            var s = Sampler(options: SamplingOptions(temperature: 1.5, topK: 0, topP: 1, minP: 0, seed: seed))
            return (0..<50).map { _ in sample(logits, s.options, sampler: &s) }
        }
        #expect(run(seed: 42) == run(seed: 42))
        #expect(run(seed: 42) != run(seed: 43))
    }

    @Test("top-k keeps only the k best candidates")
    func topK() {
        var logits = [Float](repeating: 0, count: 151_936)
        logits[5] = 10
        logits[77] = 9.5
        logits[150_000] = 9.9
        var s = Sampler(options: SamplingOptions(temperature: 5, topK: 3, topP: 1, minP: 0, seed: 1))
        let top = logits.withUnsafeMutableBufferPointer { s.topCandidates($0) }
        #expect(top.map(\.id) == [5, 150_000, 77])
        for _ in 0..<200 {
            #expect([5, 77, 150_000].contains(sample(logits, s.options, sampler: &s)))
        }
    }

    @Test("top-p and min-p cut the unlikely tail")
    func nucleus() {
        // Probabilities ≈ 0.67, 0.24, 0.09, tiny.
        let logits: [Float] = [2, 1, 0, -10]
        var s = Sampler(options: SamplingOptions(temperature: 1, topK: 0, topP: 0.8, minP: 0, seed: 3))
        var seen = Set<Int32>()
        for _ in 0..<300 { seen.insert(sample(logits, s.options, sampler: &s)) }
        #expect(seen == [0, 1])
        var m = Sampler(options: SamplingOptions(temperature: 1, topK: 0, topP: 1, minP: 0.3, seed: 3))
        seen = []
        for _ in 0..<300 { seen.insert(sample(logits, m.options, sampler: &m)) }
        #expect(seen == [0, 1])
    }

    @Test("with top-k off, min-p pre-selection keeps exactly the tokens min-p allows, with full-vocabulary probabilities")
    func minPPreselection() {
        var generator = Xoshiro256(seed: 11)
        var logits = (0..<50_000).map { _ in Float(generator.nextUnitDouble() * 12 - 6) }
        let s = Sampler(options: SamplingOptions(temperature: 1, topK: 0, topP: 1, minP: 0.05))
        let (candidates, probabilities) = logits.withUnsafeMutableBufferPointer { s.rankedCandidates($0) }
        let maxLogit = logits.max()!
        let sum = logits.reduce(0.0) { $0 + exp(Double($1 - maxLogit)) }
        let expected = logits.indices.filter { exp(Double(logits[$0] - maxLogit)) >= 0.05 }
        #expect(Set(candidates.map { Int($0.id) }) == Set(expected))
        #expect(zip(candidates, candidates.dropFirst()).allSatisfy { $0.logit >= $1.logit })
        for (c, p) in zip(candidates, probabilities).prefix(20) {
            #expect(abs(Double(p) - exp(Double(c.logit - maxLogit)) / sum) < 1e-6)
        }
    }

    @Test("xoshiro256** from SplitMix64 is reproducible and uniform enough")
    func generator() {
        var a = Xoshiro256(seed: 0)
        var b = Xoshiro256(seed: 0)
        var sum = 0.0
        for _ in 0..<10_000 {
            let x = a.nextUnitDouble()
            #expect(x == b.nextUnitDouble())
            #expect(x >= 0 && x < 1)
            sum += x
        }
        #expect(abs(sum / 10_000 - 0.5) < 0.02)
    }
}

@Suite("Stop strings")
struct SamplerStopStringTests {
    @Test("text that may start a stop string is held back, then released or cut")
    func holdAndCut() {
        var m = StopStringMatcher(stops: ["<|im_end|>", "\nUser:"])
        #expect(m.append("Hello <|im") == .init(text: "Hello ", stopped: false))
        #expect(m.append("_en") == .init(text: "", stopped: false))
        #expect(m.append("d|> trailing") == .init(text: "", stopped: true))
        #expect(m.append("more") == .init(text: "", stopped: true))

        var n = StopStringMatcher(stops: ["\nUser:"])
        #expect(n.append("a\nUs") == .init(text: "a", stopped: false))
        #expect(n.append("ually fine") == .init(text: "\nUsually fine", stopped: false))
        #expect(n.append("\n") == .init(text: "", stopped: false))
        #expect(n.flush() == "\n")
    }

    @Test("the earliest of several stop strings wins")
    func earliest() {
        var m = StopStringMatcher(stops: ["END", "Ö!"])
        #expect(m.append("xxÖ! then END") == .init(text: "xx", stopped: true))
    }
}

@Suite("Token text decoder")
struct SamplerTokenTextDecoderTests {
    @Test("a character split across tokens comes out whole")
    func splitCharacters() throws {
        let tokenizer = try TokenizerFixture.tokenizer(TokenizerFixture.smolModel)
        let text = "emoji 🚀🔥👍🏽 family 👨‍👩‍👧, déjà 東京"
        let ids = tokenizer.encode(text, parseSpecial: false)
        var decoder = TokenTextDecoder(tokenizer: tokenizer)
        var pieces: [String] = []
        for id in ids { pieces.append(decoder.append(id)) }
        pieces.append(decoder.flush())
        #expect(pieces.joined() == text)
        #expect(!pieces.contains { $0.contains("\u{FFFD}") })
        #expect(pieces.contains(""), "some tokens end inside a character and must be held back")
    }

    @Test("complete-prefix length holds back only unfinished characters")
    func prefix() {
        #expect(TokenTextDecoder.completePrefixLength([0x61, 0xF0, 0x9F]) == 1)
        #expect(TokenTextDecoder.completePrefixLength([0xF0, 0x9F, 0x9A, 0x80]) == 4)
        #expect(TokenTextDecoder.completePrefixLength([0x61, 0xC3]) == 1)
        #expect(TokenTextDecoder.completePrefixLength([0x61, 0x80]) == 2)
    }
}
