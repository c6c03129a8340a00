import Foundation
import Testing

@testable import Inference

/// A tiny random-weights transformer written to a GGUF file, and a plain f32 forward pass over it.
struct TinyModel {
    struct Tensor {
        let name: String
        let dims: [Int]
        let type: GGMLType
        let bytes: [UInt8]
    }

    let architecture: String
    let dim = 256, heads = 4, kvHeads = 2, ffn = 512, vocab = 128, layers = 2
    var headDim: Int { dim / heads }
    var tensors: [String: Tensor] = [:]
    var order: [String] = []

    /// Layer 0 and 1 use different quant types so every kernel runs inside a real forward pass.
    init(architecture: String, seed: UInt64) {
        self.architecture = architecture
        var rng = RandomBlocks(state: seed)
        let qwen = architecture == "qwen2"
        let types: [[String: GGMLType]] = [
            ["attn_q": .q4_0, "attn_k": .q4_1, "attn_v": .q5_0, "attn_output": .q5_1, "ffn_gate": .q4_K,
             "ffn_up": .q5_K, "ffn_down": .q6_K],
            ["attn_q": .q8_0, "attn_k": .f16, "attn_v": .bf16, "attn_output": .f32, "ffn_gate": .q6_K,
             "ffn_up": .q4_0, "ffn_down": .q8_0],
        ]
        func add(_ name: String, _ type: GGMLType, columns: Int, rows: Int, scale: Float = 0.01) {
            let data = (0..<rows).flatMap { _ in rng.row(type, n: columns, scale: scale) }
            tensors[name] = Tensor(name: name, dims: rows == 1 ? [columns] : [columns, rows], type: type, bytes: data)
            order.append(name)
        }
        func norm(_ name: String, _ count: Int) {
            var bytes: [UInt8] = []
            for _ in 0..<count { withUnsafeBytes(of: rng.float(0.5...1.5).bitPattern.littleEndian) { bytes += $0 } }
            tensors[name] = Tensor(name: name, dims: [count], type: .f32, bytes: bytes)
            order.append(name)
        }
        add("token_embd.weight", .q8_0, columns: dim, rows: vocab, scale: 0.1)
        let kvDim = kvHeads * headDim
        for l in 0..<layers {
            let t = types[l]
            norm("blk.\(l).attn_norm.weight", dim)
            add("blk.\(l).attn_q.weight", t["attn_q"]!, columns: dim, rows: dim)
            add("blk.\(l).attn_k.weight", t["attn_k"]!, columns: dim, rows: kvDim)
            add("blk.\(l).attn_v.weight", t["attn_v"]!, columns: dim, rows: kvDim)
            if qwen {
                norm("blk.\(l).attn_q.bias", dim)
                norm("blk.\(l).attn_k.bias", kvDim)
                norm("blk.\(l).attn_v.bias", kvDim)
            }
            add("blk.\(l).attn_output.weight", t["attn_output"]!, columns: dim, rows: dim)
            norm("blk.\(l).ffn_norm.weight", dim)
            add("blk.\(l).ffn_gate.weight", t["ffn_gate"]!, columns: dim, rows: ffn)
            add("blk.\(l).ffn_up.weight", t["ffn_up"]!, columns: dim, rows: ffn)
            add("blk.\(l).ffn_down.weight", t["ffn_down"]!, columns: ffn, rows: dim)
        }
        norm("output_norm.weight", dim)
        if qwen { add("output.weight", .q6_K, columns: dim, rows: vocab) }  // llama ties it to token_embd
    }

    func write() throws -> String {
        var b = GGUFBuilder()
        let a = architecture
        let ints: [(String, UInt32)] = [
            ("\(a).embedding_length", UInt32(dim)), ("\(a).block_count", UInt32(layers)),
            ("\(a).attention.head_count", UInt32(heads)), ("\(a).attention.head_count_kv", UInt32(kvHeads)),
            ("\(a).feed_forward_length", UInt32(ffn)), ("\(a).context_length", 256),
            ("\(a).rope.dimension_count", UInt32(headDim)),
        ]
        let floats: [(String, Float)] = [("\(a).attention.layer_norm_rms_epsilon", 1e-5), ("\(a).rope.freq_base", 10000)]
        b.header(tensors: UInt64(order.count), keys: UInt64(1 + ints.count + floats.count))
        b.string("general.architecture"); b.u32(8); b.string(a)
        for (k, v) in ints { b.string(k); b.u32(4); b.u32(v) }
        for (k, v) in floats { b.string(k); b.u32(6); b.u32(v.bitPattern) }
        var offset = 0
        for name in order {
            let t = tensors[name]!
            b.string(name); b.u32(UInt32(t.dims.count))
            for d in t.dims { b.u64(UInt64(d)) }
            b.u32(t.type.rawValue); b.u64(UInt64(offset))
            offset += (t.bytes.count + 31) / 32 * 32
        }
        while b.bytes.count % 32 != 0 { b.bytes.append(0) }
        for name in order {
            b.bytes += tensors[name]!.bytes
            while b.bytes.count % 32 != 0 { b.bytes.append(0) }
        }
        return try b.write()
    }

    /// The weights of `name` as f32 rows, decoded by the test's own dequantizer.
    func matrix(_ name: String) -> [[Float]] {
        let t = tensors[name]!
        let columns = t.dims[0], rows = t.dims.count > 1 ? t.dims[1] : 1
        let rowBytes = t.bytes.count / rows
        return (0..<rows).map { ReferenceDequantizer.row(t.type, Array(t.bytes[(rowBytes * $0)..<(rowBytes * ($0 + 1))]), n: columns) }
    }

    /// Logits after each of `tokens`, computed with f32 weights and activations in the plainest loops.
    func referenceLogits(_ tokens: [Int32]) -> [[Float]] {
        let neox = architecture == "qwen2"
        var decoded: [String: [[Float]]] = [:]
        for name in order { decoded[name] = self.matrix(name) }
        func matrix(_ name: String) -> [[Float]] { decoded[name]! }
        let embed = matrix("token_embd.weight")
        let output = tensors["output.weight"] == nil ? embed : matrix("output.weight")
        func matvec(_ w: [[Float]], _ x: [Float]) -> [Float] {
            w.map { row in zip(row, x).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
        }
        func rmsnorm(_ x: [Float], _ w: [Float]) -> [Float] {
            let ms = x.reduce(Float(0)) { $0 + $1 * $1 } / Float(x.count)
            let s = 1 / (ms + 1e-5).squareRoot()
            return zip(x, w).map { $0 * s * $1 }
        }
        func rope(_ v: inout [Float], heads: Int, position: Int) {
            for h in 0..<heads {
                for i in 0..<(headDim / 2) {
                    let freq = Foundation.pow(10000, -2 * Double(i) / Double(headDim))
                    let angle = Double(position) * freq
                    let a = h * headDim + (neox ? i : 2 * i), b = h * headDim + (neox ? i + headDim / 2 : 2 * i + 1)
                    let x0 = Double(v[a]), x1 = Double(v[b])
                    v[a] = Float(x0 * Foundation.cos(angle) - x1 * Foundation.sin(angle))
                    v[b] = Float(x0 * Foundation.sin(angle) + x1 * Foundation.cos(angle))
                }
            }
        }
        var keys = [[[Float]]](repeating: [], count: layers), values = keys
        var result: [[Float]] = []
        for (position, token) in tokens.enumerated() {
            var x = embed[Int(token)]
            for l in 0..<layers {
                let p = "blk.\(l)."
                let h = rmsnorm(x, matrix(p + "attn_norm.weight")[0])
                var q = matvec(matrix(p + "attn_q.weight"), h)
                var k = matvec(matrix(p + "attn_k.weight"), h)
                var v = matvec(matrix(p + "attn_v.weight"), h)
                if tensors[p + "attn_q.bias"] != nil {
                    q = zip(q, matrix(p + "attn_q.bias")[0]).map(+)
                    k = zip(k, matrix(p + "attn_k.bias")[0]).map(+)
                    v = zip(v, matrix(p + "attn_v.bias")[0]).map(+)
                }
                rope(&q, heads: heads, position: position)
                rope(&k, heads: kvHeads, position: position)
                keys[l].append(k)
                values[l].append(v)
                var attended = [Float](repeating: 0, count: dim)
                for head in 0..<heads {
                    let kvHead = head / (heads / kvHeads)
                    var scores = (0...position).map { j in
                        (0..<headDim).reduce(Float(0)) { $0 + q[head * headDim + $1] * keys[l][j][kvHead * headDim + $1] }
                            / Float(headDim).squareRoot()
                    }
                    let mx = scores.max()!
                    scores = scores.map { Foundation.exp($0 - mx) }
                    let total = scores.reduce(0, +)
                    for j in 0...position {
                        for i in 0..<headDim {
                            attended[head * headDim + i] += scores[j] / total * values[l][j][kvHead * headDim + i]
                        }
                    }
                }
                x = zip(x, matvec(matrix(p + "attn_output.weight"), attended)).map(+)
                let h2 = rmsnorm(x, matrix(p + "ffn_norm.weight")[0])
                let gate = matvec(matrix(p + "ffn_gate.weight"), h2), up = matvec(matrix(p + "ffn_up.weight"), h2)
                let act = zip(gate, up).map { g, u in g / (1 + Foundation.exp(-g)) * u }
                x = zip(x, matvec(matrix(p + "ffn_down.weight"), act)).map(+)
            }
            result.append(matvec(output, rmsnorm(x, matrix("output_norm.weight")[0])))
        }
        return result
    }
}

@Suite struct EngineForwardTests {
    /// Largest logit difference relative to the reference's largest logit magnitude.
    static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        let scale = b.map(abs).max() ?? 1
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    @Test(arguments: ["llama", "qwen2"]) func matchesPlainReference(architecture: String) throws {
        let tiny = TinyModel(architecture: architecture, seed: architecture == "llama" ? 11 : 12)
        let model = try LanguageModel(path: try tiny.write())
        #expect(model.hyperparameters.ropeStyle == (architecture == "llama" ? .interleaved : .neox))
        // Crosses a prefill batch boundary.
        var rng = RandomBlocks(state: 5)
        let tokens = (0..<(InferenceSession.batchSize + 6)).map { _ in Int32(rng.next() % UInt64(tiny.vocab)) }
        let reference = tiny.referenceLogits(tokens)

        let session = InferenceSession(model: model, contextLength: 2 * InferenceSession.batchSize, threads: 2)
        var worst: Float = 0
        try session.logitsForAll(tokens) { i, logits in
            let error = Self.relativeError(Array(logits), reference[i])
            worst = max(worst, error)
            #expect(error < 0.03, "teacher-forced logits at \(i) differ by \(error)")
        }
        #expect(session.position == tokens.count)

        // Prefill then token-by-token decode reach the same logits.
        session.reset()
        let prefilled = try session.prefill(Array(tokens.prefix(5)))
        #expect(Self.relativeError(prefilled, reference[4]) < 0.03)
        for i in 5..<12 {
            let logits = try session.decode(tokens[i])
            #expect(Self.relativeError(logits, reference[i]) < 0.03, "decode at \(i)")
        }
        print("\(architecture): worst relative logit error \(worst)")
    }

    @Test func rejectsBadInput() throws {
        let tiny = TinyModel(architecture: "llama", seed: 3)
        let model = try LanguageModel(path: try tiny.write())
        let session = InferenceSession(model: model, contextLength: 4, threads: 1)
        #expect(throws: EngineError.tokenOutOfRange(token: 128, vocabularySize: 128)) { try session.prefill([128]) }
        #expect(throws: EngineError.emptyInput) { try session.prefill([]) }
        _ = try session.prefill([1, 2, 3])
        _ = try session.decode(4)
        #expect(throws: EngineError.contextFull(limit: 4, requested: 5)) { try session.decode(5) }
        #expect(session.position == 4)
    }

    @Test func rejectsUnsupportedArchitecture() throws {
        var b = GGUFBuilder()
        b.header(tensors: 0, keys: 1)
        b.string("general.architecture"); b.u32(8); b.string("mamba")
        let path = try b.write()
        #expect(throws: GGUFError.unsupportedArchitecture(path: path, architecture: "mamba")) {
            try LanguageModel(path: path)
        }
    }
}
