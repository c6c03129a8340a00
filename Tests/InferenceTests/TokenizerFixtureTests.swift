import Foundation
import Testing

@testable import Inference

/// The reference outputs of llama.cpp in `shared/fixtures`, found via `ASSIST_FIXTURES` or next to the package.
enum TokenizerFixture {
    struct Case: Decodable {
        var text: String
        var token_ids: [Int32]
    }
    struct Generation: Decodable {
        var prompt: String
        var prompt_token_ids: [Int32]
    }
    struct File: Decodable {
        var tokenization: [Case]
        var generations: [Generation]
    }
    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String { "fixture \(path) is missing: set ASSIST_FIXTURES to the shared fixtures folder" }
    }

    static var directory: String {
        if let dir = ProcessInfo.processInfo.environment["ASSIST_FIXTURES"], !dir.isEmpty { return dir }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        // `<root>/../shared/fixtures`; a git worktree under `<repo>/../wt/<branch>` looks two levels up.
        let candidates = [packageRoot.deletingLastPathComponent(), packageRoot.deletingLastPathComponent().deletingLastPathComponent()]
            .map { $0.appendingPathComponent("shared/fixtures").path }
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
    }

    static func load(_ name: String) throws -> File {
        let path = directory + "/" + name
        guard let data = FileManager.default.contents(atPath: path) else { throw Missing(path: path) }
        return try JSONDecoder().decode(File.self, from: data)
    }

    static let smolModel = "smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf"
    static let qwenModel = "qwen2.5-coder-0.5b/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    static let smolFixture = "llamacpp-smollm2-135m-q4_1.json"
    static let qwenFixture = "llamacpp-qwen2.5-coder-0.5b-q4_k_m.json"

    static func tokenizer(_ model: String) throws -> any TextTokenizer {
        try makeTokenizer(from: GGUFFile(path: TestModels.path(model)))
    }
}

@Suite("Tokenizer matches llama.cpp on the fixture models")
struct TokenizerFixtureTests {
    static let pairs = [
        (TokenizerFixture.smolModel, TokenizerFixture.smolFixture),
        (TokenizerFixture.qwenModel, TokenizerFixture.qwenFixture),
    ]

    @Test("plain-text tokenization is identical", arguments: 0..<2)
    func plainText(pair: Int) throws {
        let (model, fixture) = Self.pairs[pair]
        let tokenizer = try TokenizerFixture.tokenizer(model)
        let file = try TokenizerFixture.load(fixture)
        #expect(!file.tokenization.isEmpty)
        for c in file.tokenization {
            let ids = tokenizer.encode(c.text, parseSpecial: false)
            #expect(ids == c.token_ids, "\(model): \(c.text.debugDescription)")
            #expect(tokenizer.decode(ids) == c.text, "round trip of \(c.text.debugDescription)")
        }
    }

    @Test("prompts with special tokens are identical", arguments: 0..<2)
    func prompts(pair: Int) throws {
        let (model, fixture) = Self.pairs[pair]
        let tokenizer = try TokenizerFixture.tokenizer(model)
        let file = try TokenizerFixture.load(fixture)
        #expect(!file.generations.isEmpty)
        #expect(tokenizer.addsBOS == false, "both fixture models are prompted without BOS")
        for g in file.generations {
            #expect(tokenizer.encode(g.prompt, parseSpecial: true) == g.prompt_token_ids, "\(model): \(g.prompt.prefix(60))")
        }
    }

    @Test("special-token text is plain text unless parsing is asked for")
    func specialTokensNeedParsing() throws {
        let tokenizer = try TokenizerFixture.tokenizer(TokenizerFixture.qwenModel)
        let plain = tokenizer.encode("<|im_start|>", parseSpecial: false)
        #expect(plain.count > 1)
        #expect(!plain.contains(151644))
        #expect(tokenizer.encode("<|im_start|>", parseSpecial: true) == [151644])
        #expect(tokenizer.endOfGenerationIDs.contains(151645))
        #expect(tokenizer.endOfGenerationIDs.contains(151643))
        #expect(tokenizer.decode([151644]) == "", "control tokens write no text")
    }

    @Test("a megabyte line made of pathological runs tokenizes and round-trips")
    func longLine() throws {
        let tokenizer = try TokenizerFixture.tokenizer(TokenizerFixture.smolModel)
        var text = String(repeating: "abcdefghij", count: 40_000)  // 400 kB, one word
        text += String(repeating: "x", count: 300_000)
        text += String(repeating: " ", count: 200_000) + String(repeating: "é1", count: 50_000)
        let ids = tokenizer.encode(text, parseSpecial: false)
        #expect(ids.count < text.utf8.count)
        #expect(tokenizer.decode(ids) == text)
    }
}
