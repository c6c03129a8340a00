import Foundation
import Testing

@testable import Inference

/// The BERT normalizer, pre-tokenizer and WordPiece on a small hand-made vocabulary.
struct EmbeddingWordPieceTests {
    static let tokens = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s", "un", "##aff", "##able", ",", "!",
        "cafe", "東", "京", "a", "##a", "$", "の", "`", "i", "ss",
    ]

    static func tokenizer(options: WordPieceTokenizer.Options = .init(), maxLength: Int = 512) throws -> WordPieceTokenizer {
        var vocabulary: [String: Int32] = [:]
        for (index, token) in tokens.enumerated() { vocabulary[token] = Int32(index) }
        return try WordPieceTokenizer(
            vocabulary: vocabulary, options: options, addedTokens: [("[MASK]", 4), ("[SEP]", 3)], maxLength: maxLength)
    }

    static func id(_ token: String) -> Int32 { Int32(tokens.firstIndex(of: token)!) }

    func ids(_ text: String) throws -> [Int32] { try Self.tokenizer().encode(text, addSpecialTokens: false) }

    @Test func splitsPunctuationAndLowercases() throws {
        #expect(try Self.tokenizer().encode("Hello, World!") == [2, 5, 11, 6, 12, 3])
        #expect(try ids("HELLO\tworld\nhello\r\nworlds") == [5, 6, 5, 6, 7].map(Int32.init))
        // ASCII symbols that Unicode calls currency or modifier symbols still split for BERT.
        #expect(try ids("$a`a") == [Self.id("$"), Self.id("a"), Self.id("`"), Self.id("a")])
        // Unicode dash punctuation splits too; it is not in the vocabulary.
        #expect(try ids("a—a") == [Self.id("a"), 1, Self.id("a")])
    }

    @Test func stripsAccentsAndFollowsLowercase() throws {
        #expect(try ids("Café") == [Self.id("cafe")])
        #expect(try ids("CAFÉ") == [Self.id("cafe")])
        // Decomposed input (e + U+0301) normalizes the same way.
        #expect(try ids("cafe\u{301}") == [Self.id("cafe")])
        var keepAccents = WordPieceTokenizer.Options()
        keepAccents.stripAccents = false
        #expect(try Self.tokenizer(options: keepAccents).encode("café", addSpecialTokens: false) == [1])
        var cased = WordPieceTokenizer.Options()
        cased.lowercase = false
        // Without lowercasing, accents are kept too (strip_accents follows lowercase when unset).
        #expect(try Self.tokenizer(options: cased).encode("Hello cafe café", addSpecialTokens: false) == [1, 13, 1])
        // NFD runs before lowercasing: U+0130 decomposes to I + U+0307, the mark is stripped, I lowercases.
        #expect(try ids("\u{130}") == [Self.id("i")])
        #expect(try ids("ß") == [1])
    }

    @Test func isolatesCJKIdeographsButNotKana() throws {
        #expect(try ids("東京") == [Self.id("東"), Self.id("京")])
        #expect(try ids("a東a") == [Self.id("a"), Self.id("東"), Self.id("a")])
        // Hiragana is not a CJK ideograph: "のの" stays one word, which has no piece for its second half.
        #expect(try ids("の") == [Self.id("の")])
        #expect(try ids("のの") == [1])
    }

    @Test func cleansControlCharacters() throws {
        #expect(try ids("hel\u{0}lo") == [Self.id("hello")])
        #expect(try ids("hel\u{200B}lo") == [Self.id("hello")])
        #expect(try ids("hel\u{FFFD}lo\u{7}") == [Self.id("hello")])
        #expect(try ids("hello\u{A0}world") == [Self.id("hello"), Self.id("world")])
        #expect(try ids("") == [])
        #expect(try ids(" \t\n ") == [])
        #expect(try Self.tokenizer().encode("") == [2, 3])
    }

    @Test func greedyLongestMatchFirst() throws {
        #expect(try ids("unaffable") == [Self.id("un"), Self.id("##aff"), Self.id("##able")])
        // One unmatched piece turns the whole word into [UNK], not just the piece.
        #expect(try ids("unaffablex hello") == [1, Self.id("hello")])
        #expect(try ids("aaa") == [Self.id("a"), Self.id("##a"), Self.id("##a")])
    }

    @Test func overLongWordsBecomeUnknown() throws {
        #expect(try ids(String(repeating: "a", count: 100)).count == 100)
        #expect(try ids(String(repeating: "a", count: 101)) == [1])
        #expect(try ids(String(repeating: "a", count: 101) + " hello") == [1, Self.id("hello")])
    }

    @Test func truncatesKeepingSeparator() throws {
        let tokenizer = try Self.tokenizer(maxLength: 5)
        #expect(tokenizer.encode("hello world hello world") == [2, 5, 6, 5, 3])
        #expect(tokenizer.encode("hello world hello world", maxLength: 3) == [2, 5, 3])
        #expect(tokenizer.encode("unaffable", maxLength: 4) == [2, 8, 9, 3])
        #expect(tokenizer.encode("hello world hello world", maxLength: Int.max).count == 6)
        #expect(tokenizer.encode("hello world hello", addSpecialTokens: false, maxLength: 2) == [5, 6])
        #expect(tokenizer.countTokens("hello world hello world") == 4)
    }

    @Test func matchesAddedTokensVerbatim() throws {
        #expect(try Self.tokenizer().encode("hello [SEP] world[MASK]") == [2, 5, 3, 6, 4, 3])
        // Not normalized: lowercase text is ordinary punctuation and words.
        #expect(try ids("[sep] [MASK]x") == [1, 1, 1, 4, 1])
    }

    @Test func loadsVocabTxt() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vocab-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: url) }
        try (Self.tokens.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        let tokenizer = try WordPieceTokenizer(vocabTxt: url)
        #expect(tokenizer.encode("Hello, unaffable [MASK] world!") == [2, 5, 11, 8, 9, 10, 4, 6, 12, 3])
    }

    @Test func rejectsBrokenTokenizerFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases = [
            "not json", #"{"model":{}}"#, #"{"model":{"type":"BPE","vocab":{"a":0}}}"#,
            #"{"model":{"type":"WordPiece","vocab":{"a":0}}}"#,
            #"{"model":{"type":"WordPiece","vocab":{"[UNK]":-3}}}"#,
        ]
        for (index, text) in cases.enumerated() {
            let url = dir.appendingPathComponent("t\(index).json")
            try text.write(to: url, atomically: true, encoding: .utf8)
            do {
                _ = try WordPieceTokenizer(tokenizerJSON: url)
                Issue.record("accepted: \(text)")
            } catch let error as WordPieceError {
                #expect(error.description.contains(url.path))
            }
        }
    }
}
