import Foundation
import Testing

@testable import Inference

/// BERT from GGUF: MiniLM converted at test time into llama.cpp's `bert` layout must embed like the
/// safetensors original; a llama.cpp-made file can be checked too by pointing `ASSIST_BERT_GGUF` at it.
@Suite(.serialized)
struct EmbeddingGGUFTests {
    /// A minimal GGUF v3 writer: metadata, tensor table, 32-byte aligned data.
    struct Writer {
        enum Value {
            case u32(UInt32), f32(Float), bool(Bool), string(String), strings([String]), ints([Int32])
        }
        var metadata: [(String, Value)] = []
        var tensors: [(name: String, dims: [Int], type: UInt32, bytes: [UInt8])] = []

        func data() -> Data {
            var out = [UInt8]()
            func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
            func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
            func string(_ s: String) {
                u64(UInt64(s.utf8.count))
                out += Array(s.utf8)
            }
            out += Array("GGUF".utf8)
            u32(3)
            u64(UInt64(tensors.count))
            u64(UInt64(metadata.count))
            for (key, value) in metadata {
                string(key)
                switch value {
                case .u32(let v): u32(4); u32(v)
                case .f32(let v): u32(6); u32(v.bitPattern)
                case .bool(let v): u32(7); out.append(v ? 1 : 0)
                case .string(let v): u32(8); string(v)
                case .strings(let items):
                    u32(9); u32(8); u64(UInt64(items.count))
                    for item in items { string(item) }
                case .ints(let items):
                    u32(9); u32(5); u64(UInt64(items.count))
                    for item in items { u32(UInt32(bitPattern: item)) }
                }
            }
            var offset = 0
            var offsets: [Int] = []
            for tensor in tensors {
                offsets.append(offset)
                offset = (offset + tensor.bytes.count + 31) / 32 * 32
            }
            for (tensor, start) in zip(tensors, offsets) {
                string(tensor.name)
                u32(UInt32(tensor.dims.count))
                for dim in tensor.dims { u64(UInt64(dim)) }
                u32(tensor.type)
                u64(UInt64(start))
            }
            while out.count % 32 != 0 { out.append(0) }
            let base = out.count
            for (tensor, start) in zip(tensors, offsets) {
                out += [UInt8](repeating: 0, count: base + start - out.count)
                out += tensor.bytes
            }
            return Data(out)
        }
    }

    static func f32Bytes(_ values: [Float]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(values.count * 4)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { out += $0 } }
        return out
    }

    static func bf16Bytes(_ values: [Float]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(values.count * 2)
        for value in values {
            let bits = value.bitPattern
            let rounded = UInt16((bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
            withUnsafeBytes(of: rounded.littleEndian) { out += $0 }
        }
        return out
    }

    /// MiniLM's safetensors, config and vocabulary rewritten as llama.cpp's converter lays them out.
    static func convertMiniLM(to url: URL) throws {
        let dir = try EmbeddingTestSupport.miniLMDirectory()
        let file = try SafetensorsFile(url: dir.appendingPathComponent("model.safetensors"))
        let vocab = try String(contentsOf: dir.appendingPathComponent("vocab.txt"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        let control = vocab.map { $0.hasPrefix("[") && $0.hasSuffix("]") }
        let pieces = zip(vocab, control).map { token, isControl in
            isControl ? token : token.hasPrefix("##") ? String(token.dropFirst(2)) : "\u{2581}" + token
        }
        var writer = Writer()
        writer.metadata = [
            ("general.architecture", .string("bert")), ("bert.context_length", .u32(512)),
            ("bert.embedding_length", .u32(384)), ("bert.feed_forward_length", .u32(1536)),
            ("bert.block_count", .u32(6)), ("bert.attention.head_count", .u32(12)),
            ("bert.attention.layer_norm_epsilon", .f32(1e-12)), ("bert.attention.causal", .bool(false)),
            ("bert.pooling_type", .u32(1)), ("tokenizer.ggml.model", .string("bert")),
            ("tokenizer.ggml.pre", .string("default")), ("tokenizer.ggml.token_type_count", .u32(2)),
            ("tokenizer.ggml.tokens", .strings(pieces)), ("tokenizer.ggml.token_type", .ints(control.map { $0 ? 3 : 1 })),
            ("tokenizer.ggml.unknown_token_id", .u32(100)), ("tokenizer.ggml.bos_token_id", .u32(101)),
            ("tokenizer.ggml.seperator_token_id", .u32(102)), ("tokenizer.ggml.padding_token_id", .u32(0)),
        ]
        // Like llama.cpp's converter, leave out the position-id buffer and the unused pooler head.
        for (name, info) in file.tensors.sorted(by: { $0.key < $1.key })
        where name != "embeddings.position_ids" && !name.hasPrefix("pooler.") {
            let target = try #require(GGUFBertSource.ggufName(name), "no GGUF name for \(name)")
            let values = try file.floats(name)
            // The big embedding table as BF16, the rest F32: both conversion paths get exercised.
            let isTable = target == "token_embd.weight"
            writer.tensors.append(
                (target, info.shape.reversed(), isTable ? 30 : 0, isTable ? bf16Bytes(values) : f32Bytes(values)))
        }
        try writer.data().write(to: url)
    }

    @Test func convertedMiniLMMatchesReference() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("minilm-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.convertMiniLM(to: url)
        let embedder = try BertEmbedder(gguf: url, name: "minilm-gguf", threads: 2, precision: .float32)
        #expect(embedder.modelID.hasPrefix("minilm-gguf@"))
        #expect(embedder.maxTokens == 256)
        #expect(embedder.pooling == .mean)
        try Self.checkAgainstFixture(embedder)

        // A path to the file works wherever a model name does (`embed_model`, `assist embed --model`).
        let store = ModelStore(root: url.deletingLastPathComponent().path, environment: [:])
        let resolved = try BertEmbedder(model: try store.resolve(url.path), threads: 2, precision: .float32)
        #expect(resolved.modelID.hasPrefix(url.deletingPathExtension().lastPathComponent + "@"))
        let text = "Where did we leave the garden shed keys?"
        #expect(EmbeddingTestSupport.cosine(try resolved.embed([text])[0], try embedder.embed([text])[0]) > 0.999999)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["ASSIST_BERT_GGUF"] != nil))
    func llamaCppConvertedFileMatchesReference() throws {
        let path = try #require(ProcessInfo.processInfo.environment["ASSIST_BERT_GGUF"])
        try Self.checkAgainstFixture(try BertEmbedder(gguf: URL(fileURLWithPath: path), threads: 2, precision: .float32))
    }

    static func checkAgainstFixture(_ embedder: BertEmbedder) throws {
        let fixture = try EmbeddingTestSupport.miniLMFixture()
        for item in fixture.cases {
            #expect(embedder.tokenizer.encode(item.text) == item.token_ids, "text: \(item.text)")
        }
        let vectors = try embedder.embed(fixture.cases.map(\.text))
        for (item, vector) in zip(fixture.cases, vectors) {
            let cosine = EmbeddingTestSupport.cosine(vector, item.embedding)
            #expect(cosine >= 0.9999, "cosine \(cosine) for: \(item.text)")
        }
    }

    @Test func refusesOtherArchitecturesAndQuantizedTensors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bert-gguf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var llama = Writer()
        llama.metadata = [("general.architecture", .string("llama"))]
        let llamaURL = dir.appendingPathComponent("llama.gguf")
        try llama.data().write(to: llamaURL)
        #expect(throws: EmbeddingModelError.self) { try BertEmbedder(gguf: llamaURL) }

        var tiny = Writer()
        tiny.metadata = [
            ("general.architecture", .string("bert")), ("bert.context_length", .u32(8)),
            ("bert.embedding_length", .u32(32)), ("bert.feed_forward_length", .u32(64)),
            ("bert.block_count", .u32(1)), ("bert.attention.head_count", .u32(2)),
            ("tokenizer.ggml.tokens", .strings(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "\u{2581}a", "b"])),
            ("tokenizer.ggml.token_type", .ints([3, 3, 3, 3, 1, 1])),
        ]
        tiny.tensors = [
            ("token_types.weight", [32, 2], 0, Self.f32Bytes([Float](repeating: 0, count: 64))),
            // Q8_0: 32 weights in 34 bytes per block.
            ("token_embd.weight", [32, 6], 8, [UInt8](repeating: 0, count: 34 * 6)),
        ]
        let tinyURL = dir.appendingPathComponent("tiny.gguf")
        try tiny.data().write(to: tinyURL)
        do {
            _ = try BertEmbedder(gguf: tinyURL, precision: .float32)
            Issue.record("a quantized BERT GGUF was accepted")
        } catch let error as EmbeddingModelError {
            #expect(error.description.contains("token_embd.weight"))
            #expect(error.description.contains(tinyURL.path))
        }
    }
}
