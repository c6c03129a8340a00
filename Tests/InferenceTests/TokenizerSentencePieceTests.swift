import Foundation
import Testing

@testable import Inference

/// Typed metadata entries for `GGUFBuilder`, enough to describe a tokenizer.
enum TokenizerTestMetadata {
    case string(String)
    case strings([String])
    case floats([Float])
    case ints([Int32])
    case uint32(UInt32)
    case bool(Bool)

    /// A GGUF file with these entries and no tensors.
    static func write(_ entries: [(String, TokenizerTestMetadata)]) throws -> String {
        var b = GGUFBuilder()
        b.header(tensors: 0, keys: UInt64(entries.count))
        for (key, value) in entries {
            b.string(key)
            switch value {
            case .string(let s):
                b.u32(8)
                b.string(s)
            case .strings(let a):
                b.u32(9)
                b.u32(8)
                b.u64(UInt64(a.count))
                for s in a { b.string(s) }
            case .floats(let a):
                b.u32(9)
                b.u32(6)
                b.u64(UInt64(a.count))
                for f in a { b.u32(f.bitPattern) }
            case .ints(let a):
                b.u32(9)
                b.u32(5)
                b.u64(UInt64(a.count))
                for i in a { b.u32(UInt32(bitPattern: i)) }
            case .uint32(let v):
                b.u32(4)
                b.u32(v)
            case .bool(let v):
                b.u32(7)
                b.bytes.append(v ? 1 : 0)
            }
        }
        return try b.write()
    }
}

@Suite("SentencePiece tokenizer on a generated vocabulary")
struct TokenizerSentencePieceTests {
    /// `<unk> <s> </s>`, 256 byte tokens, then pieces whose scores make "▁hello" assemble as
    /// ll → he → hell → hello → ▁hello.
    static let pieces: [(String, Float)] = [
        ("▁", -1), ("h", -2), ("e", -2), ("l", -2), ("o", -2), ("w", -2),
        ("ll", -1.5), ("he", -1.6), ("hell", -1.7), ("llo", -1.8), ("hello", -1.9), ("▁hello", -2.0),
    ]

    static func makeFile(addSpacePrefix: Bool = true, omitScores: Bool = false) throws -> String {
        var tokens = ["<unk>", "<s>", "</s>"]
        var types: [Int32] = [2, 3, 3]
        var scores: [Float] = [0, 0, 0]
        for b in 0..<256 {
            tokens.append(String(format: "<0x%02X>", b))
            types.append(6)
            scores.append(0)
        }
        for (p, s) in pieces {
            tokens.append(p)
            types.append(1)
            scores.append(s)
        }
        var entries: [(String, TokenizerTestMetadata)] = [
            ("general.architecture", .string("llama")),
            ("tokenizer.ggml.model", .string("llama")),
            ("tokenizer.ggml.tokens", .strings(tokens)),
            ("tokenizer.ggml.token_type", .ints(types)),
            ("tokenizer.ggml.bos_token_id", .uint32(1)),
            ("tokenizer.ggml.eos_token_id", .uint32(2)),
            ("tokenizer.ggml.unknown_token_id", .uint32(0)),
            ("tokenizer.ggml.add_space_prefix", .bool(addSpacePrefix)),
        ]
        if !omitScores { entries.append(("tokenizer.ggml.scores", .floats(scores))) }
        return try TokenizerTestMetadata.write(entries)
    }

    static func id(_ piece: String) -> Int32 {
        Int32(3 + 256 + pieces.firstIndex { $0.0 == piece }!)
    }
    static func byte(_ b: UInt8) -> Int32 { Int32(3 + Int(b)) }

    @Test("merges by score, falls back to bytes, adds the space prefix and BOS flag")
    func encode() throws {
        let path = try Self.makeFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tokenizer = try makeTokenizer(from: GGUFFile(path: path))
        #expect(tokenizer is SentencePieceTokenizer)
        #expect(tokenizer.addsBOS, "SentencePiece models add BOS unless the file says otherwise")
        #expect(tokenizer.bosID == 1)
        #expect(tokenizer.endOfGenerationIDs.contains(2))
        let ids = tokenizer.encode("hello wé", parseSpecial: false)
        #expect(ids == [Self.id("▁hello"), Self.id("▁"), Self.id("w"), Self.byte(0xC3), Self.byte(0xA9)])
        #expect(tokenizer.decode(ids) == "hello wé")
        #expect(tokenizer.tokenPiece(Self.id("▁hello")) == Array(" hello".utf8))
        #expect(tokenizer.tokenPiece(Self.byte(0xC3)) == [0xC3])
    }

    @Test("special tokens are parsed only on request, and text after one gets a space prefix")
    func special() throws {
        let path = try Self.makeFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tokenizer = try makeTokenizer(from: GGUFFile(path: path))
        #expect(tokenizer.encode("</s>he", parseSpecial: true) == [2, Self.id("▁"), Self.id("he")])
        #expect(!tokenizer.encode("</s>he", parseSpecial: false).contains(2))
    }

    @Test("without the space prefix, text is taken as is")
    func noPrefix() throws {
        let path = try Self.makeFile(addSpacePrefix: false)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tokenizer = try makeTokenizer(from: GGUFFile(path: path))
        #expect(tokenizer.encode("hello", parseSpecial: false) == [Self.id("hello")])
    }

    @Test("a file without scores is rejected, naming the file and the key")
    func missingScores() throws {
        let path = try Self.makeFile(omitScores: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try makeTokenizer(from: GGUFFile(path: path))
            Issue.record("expected an error")
        } catch let error as TokenizerError {
            #expect(error.description.contains(path))
            #expect(error.description.contains("tokenizer.ggml.scores"))
        }
    }
}

@Suite("BPE pre-tokenizers")
struct TokenizerPreTokenizerTests {
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Pattern =
        #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The words a regular-expression engine (ICU, through Foundation) finds for `pattern`.
    static func regexWords(_ text: String, _ pattern: String) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return ["<bad pattern>"] }
        let ns = text as NSString
        return regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range) }
    }

    static func reference(_ text: String, _ pre: PreTokenizer) -> [String] {
        switch pre {
        case .gpt2: return regexWords(text, gpt2Pattern)
        case .llama3: return regexWords(text, llama3Pattern)
        case .qwen2: return regexWords(text, llama3Pattern.replacingOccurrences(of: "\\p{N}{1,3}", with: "\\p{N}"))
        case .smollm:
            // Every \p{N} alone, the stretches between them split with the gpt2 pattern.
            guard let digit = try? NSRegularExpression(pattern: #"\p{N}"#) else { return [] }
            let ns = text as NSString
            var out: [String] = []
            var start = 0
            for match in digit.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                out += regexWords(ns.substring(with: NSRange(location: start, length: match.range.location - start)), gpt2Pattern)
                out.append(ns.substring(with: match.range))
                start = match.range.location + match.range.length
            }
            return out + regexWords(ns.substring(from: start), gpt2Pattern)
        }
    }

    @Test("the hand-written scanners agree with a regex engine on random text", arguments: [PreTokenizer.gpt2, .smollm, .llama3, .qwen2])
    func agreesWithRegex(pre: PreTokenizer) {
        // ICU's \s lacks U+000B and U+0085 (White_Space has them), so the alphabet leaves them out.
        let alphabet: [String] = Array("abcXYZ é'sStTmMlLdDrReEvV \t\n\r0123456789٣४½Ⅻ.,;:!?-_()<>\"/@#%&*+=~|").map(String.init)
            + ["\u{00A0}", "\u{2009}", "\u{3000}", "東", "😀", "👍🏽", "\u{200D}", "\u{0301}", "Ж", "ß", "ǅ", "ʰ", "\u{2028}", "\r\n"]
        let samples = ["the", "don't", "I'M", "You'll", "we've", "1,000.50", "  ", "\n\n", "naïve", "Straße"]
        var random = Xoshiro256(seed: 2024)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        for _ in 0..<1500 {
            var text = ""
            for _ in 0..<(1 + Int(random.next() % 24)) {
                text += random.next() % 10 < 3 ? pick(samples) : pick(alphabet)
            }
            let expected = Self.reference(text, pre)
            let found = words(text, pre)
            #expect(found == expected, "\(pre) on \(text.debugDescription)")
            if found != expected { break }
        }
    }

    func words(_ text: String, _ pre: PreTokenizer) -> [String] {
        let bytes = Array(text.utf8)
        var out: [String] = []
        bytes.withUnsafeBufferPointer { buffer in
            pre.split(buffer, range: 0..<bytes.count) { out.append(String(decoding: bytes[$0], as: UTF8.self)) }
        }
        return out
    }

    @Test("gpt2, smollm, llama3 and qwen2 patterns split as their regular expressions do")
    func patterns() {
        #expect(words("I'm  12345 x\n\n y", .gpt2) == ["I", "'m", " ", " 12345", " x", "\n\n", " y"])
        #expect(words("I'm  12345 x", .smollm) == ["I", "'m", "  ", "1", "2", "3", "4", "5", " x"])
        #expect(words("I'M 12345 (x)\n\n  y  ", .llama3) == ["I", "'M", " ", "123", "45", " (", "x", ")\n\n", " ", " y", "  "])
        #expect(words("12345 -breaking\r\n", .qwen2) == ["1", "2", "3", "4", "5", " -", "breaking", "\r\n"])
        #expect(words("a \n\t b", .llama3) == ["a", " \n", "\t", " b"])
        #expect(PreTokenizer(ggmlName: "llama-bpe") == .llama3)
        #expect(PreTokenizer(ggmlName: "smollm") == .smollm)
        #expect(PreTokenizer(ggmlName: "something-new") == .gpt2)
    }
}
