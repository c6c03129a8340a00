import Foundation
import Testing

@testable import Inference

/// Inputs the fuzzers (`Fuzz/`) found to break the readers and tokenizers, kept so they stay fixed.
@Suite("Fuzz regressions: model files and tokenizers")
struct InferenceFuzzRegressionTests {
    /// Fuzz/Tokenizers found that a byte SmolLM2 has no token for (U+0004 among others) was encoded as the
    /// vocabulary's "unknown" token, which in SmolLM2 is `<|endoftext|>`: plain text in a mail became a
    /// control token that ends the prompt. Such bytes are now dropped, as llama.cpp does.
    @Test("a byte without a token never becomes a control token")
    func unspellableByteIsNotAControlToken() throws {
        let tokenizer = try makeTokenizer(
            from: GGUFFile(path: TestModels.path("smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf")))
        let bpe = try #require(tokenizer as? BPETokenizer)
        let text = "F\u{0}\u{0}\u{1}\u{4}ocus \u{6}x\u{13}\u{14}\u{16}\u{1D}"
        let ids = tokenizer.encode(text, parseSpecial: false)
        let controls = ids.filter { bpe.vocabulary.kinds[Int($0)] == .control }
        #expect(controls.isEmpty, "plain text produced control tokens \(controls)")
        #expect(tokenizer.decode(ids) == "F\u{0}\u{0}\u{1}ocus x")
    }

    /// Fuzz/Tokenizers then found that such bytes, once dropped, came back as id -1 when the same word was
    /// encoded again: the word cache kept the -1 and its hits were appended unfiltered.
    @Test("a cached word with unspellable bytes yields only valid ids")
    func cachedWordKeepsNoInvalidID() throws {
        let tokenizer = try makeTokenizer(
            from: GGUFFile(path: TestModels.path("smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf")))
        let text = "def\u{13}f(x):" + String(repeating: "\u{4}", count: 32) + "\n    return x *t\n"
        let first = tokenizer.encode(text, parseSpecial: false)
        let second = tokenizer.encode(text, parseSpecial: false)
        #expect(first.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabularySize })
        #expect(second == first, "the cached encoding differs: \(second) vs \(first)")
        #expect(tokenizer.decode(second) == "deff(x):\n    return x *t\n")
    }
}
