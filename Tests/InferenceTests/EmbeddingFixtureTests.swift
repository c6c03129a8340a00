import CKernels
import Foundation
import Testing

@testable import Inference

/// all-MiniLM-L6-v2 against the float64 reference in `shared/fixtures/minilm-embeddings.json`.
@Suite(.serialized)
struct EmbeddingFixtureTests {
    /// Every precision this CPU runs.
    static let precisions: [BertPrecision] =
        [.float32, .int16, .bfloat16].filter { bert_best_isa() >= $0.requiredISA }

    @Test func tokenIDsMatchReference() throws {
        let fixture = try EmbeddingTestSupport.miniLMFixture()
        let dir = try EmbeddingTestSupport.miniLMDirectory()
        let tokenizer = try WordPieceTokenizer(tokenizerJSON: dir.appendingPathComponent("tokenizer.json"), maxLength: 256)
        #expect(fixture.cases.count >= 10)
        for item in fixture.cases {
            #expect(tokenizer.encode(item.text) == item.token_ids, "text: \(item.text)")
            #expect(tokenizer.countTokens(item.text) == item.token_ids.count - 2, "text: \(item.text)")
            // Uncased model: upper-casing the input (Cyrillic, accented Latin included) changes nothing.
            #expect(tokenizer.encode(item.text.uppercased()) == item.token_ids, "text: \(item.text.uppercased())")
        }
    }

    @Test func vocabTxtTokenizesLikeTokenizerJSON() throws {
        let fixture = try EmbeddingTestSupport.miniLMFixture()
        let dir = try EmbeddingTestSupport.miniLMDirectory()
        let tokenizer = try WordPieceTokenizer(vocabTxt: dir.appendingPathComponent("vocab.txt"), maxLength: 256)
        for item in fixture.cases {
            #expect(tokenizer.encode(item.text) == item.token_ids, "text: \(item.text)")
        }
    }

    @Test(arguments: precisions)
    func embeddingsMatchReference(precision: BertPrecision) throws {
        let fixture = try EmbeddingTestSupport.miniLMFixture()
        let embedder = try BertEmbedder(
            directory: try EmbeddingTestSupport.miniLMDirectory(), name: "all-MiniLM-L6-v2", threads: 2,
            precision: precision)
        #expect(embedder.dimensions == 384)
        #expect(embedder.maxTokens == 256)
        #expect(embedder.modelID.hasPrefix("all-MiniLM-L6-v2@"))
        #expect(embedder.modelID.count == "all-MiniLM-L6-v2@".count + 12)
        let vectors = try embedder.embed(fixture.cases.map(\.text))
        #expect(vectors.count == fixture.cases.count)
        for (item, vector) in zip(fixture.cases, vectors) {
            let cosine = EmbeddingTestSupport.cosine(vector, item.embedding)
            #expect(cosine >= 0.9999, "\(precision) cosine \(cosine) for: \(item.text)")
            let norm = vector.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(abs(norm - 1) < 1e-4)
        }
    }

    /// Packing sequences of different lengths together must not let one see another's tokens.
    @Test(arguments: precisions)
    func batchEqualsOneByOne(precision: BertPrecision) throws {
        let embedder = try BertEmbedder(
            directory: try EmbeddingTestSupport.miniLMDirectory(), threads: 2, precision: precision)
        let texts = [
            "short", "A somewhat longer sentence about the weekly planning meeting and its agenda.",
            String(repeating: "Long passages are truncated to the model window. ", count: 40), "",
            "Émile's café — 東京 — Привет!",
        ]
        let batched = try embedder.embed(texts)
        for (text, vector) in zip(texts, batched) {
            let single = try embedder.embed([text])[0]
            let cosine = EmbeddingTestSupport.cosine(single, vector)
            #expect(cosine >= 0.99999, "cosine \(cosine) for: \(text.prefix(40))")
        }
        #expect(embedder.tokenizer.encode(texts[2]).count == 256)
        #expect(try embedder.embed([]).isEmpty)
    }

    /// The faster precisions (bf16, int16) must stay within the fixture tolerance of f32 on full-window
    /// passages too, where rounding has the most tokens to accumulate over.
    @Test(arguments: precisions.filter { $0 != .float32 })
    func fastPrecisionAgreesWithFloat32OnLongPassages(precision: BertPrecision) throws {
        let dir = try EmbeddingTestSupport.miniLMDirectory()
        let exact = try BertEmbedder(directory: dir, threads: 2, precision: .float32)
        let fast = try BertEmbedder(directory: dir, threads: 2, precision: precision)
        let fixture = try EmbeddingTestSupport.miniLMFixture()
        let passages = [
            fixture.cases.map(\.text).joined(separator: " "),
            String(repeating: "The committee met on Tuesday to review the 2027 budget; travel costs rose 14% while "
                + "hardware spending fell. Action items: Maria drafts the summary, Tom checks the invoices. ", count: 6),
            (0..<200).map { "item\($0) → état №\($0 * 7) «quoted» (x^2 + y_1) ∑ 東京 München" }.joined(separator: "\n"),
        ]
        for (a, b) in zip(try exact.embed(passages), try fast.embed(passages)) {
            let cosine = EmbeddingTestSupport.cosine(a, b)
            #expect(cosine >= 0.9999, "\(precision) vs f32 cosine \(cosine)")
        }
    }

    /// Without an explicit precision the embedder takes the fastest one the CPU has.
    @Test func defaultPrecisionIsTheFastestTheCPURuns() throws {
        let embedder = try BertEmbedder(directory: try EmbeddingTestSupport.miniLMDirectory(), threads: 1)
        let isa = bert_best_isa()
        let expected: BertPrecision =
            isa >= Int32(BERT_ISA_AVX512_BF16) ? .bfloat16 : isa == Int32(BERT_ISA_AVX2) ? .int16 : .float32
        #expect(embedder.precision == expected)
    }

    @Test func modelIDIsStable() throws {
        let dir = try EmbeddingTestSupport.miniLMDirectory()
        let first = try BertEmbedder(directory: dir, threads: 1, precision: .float32)
        let second = try BertEmbedder(directory: dir, threads: 1, precision: .float32)
        #expect(first.modelID == second.modelID)
        #expect(first.modelID.hasPrefix("minilm-l6-v2@"))
    }

    @Test func missingFilesAreNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("embed-missing-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: EmbeddingModelError.self) { try BertEmbedder(directory: dir) }
        let source = try EmbeddingTestSupport.miniLMDirectory()
        for file in ["config.json", "tokenizer.json"] {
            try FileManager.default.copyItem(
                at: source.appendingPathComponent(file), to: dir.appendingPathComponent(file))
        }
        do {
            _ = try BertEmbedder(directory: dir)
            Issue.record("loading without weights succeeded")
        } catch let error as EmbeddingModelError {
            #expect(error.description.contains("model.safetensors"))
        }
    }
}
