import CKernels

/// The shape of a decoder-only transformer, read from a GGUF file's `<architecture>.*` metadata.
public struct ModelHyperparameters: Sendable, Equatable {
    /// How RoPE pairs up the dimensions of a head.
    public enum RopeStyle: Sendable, Equatable {
        /// Neighbours (2i, 2i+1) rotate together — llama.cpp's "normal" style, used for `llama`.
        case interleaved
        /// Dimension i rotates with i + rot/2 — the GPT-NeoX style, used for `qwen2`.
        case neox
    }

    public var architecture: String
    public var embeddingLength: Int
    public var blockCount: Int
    public var headCount: Int
    public var headCountKV: Int
    public var headDimension: Int
    public var feedForwardLength: Int
    public var vocabularySize: Int
    public var contextLength: Int
    public var rmsEpsilon: Float
    public var ropeFrequencyBase: Float
    public var ropeDimensions: Int
    public var ropeStyle: RopeStyle

    public var queryDimension: Int { headCount * headDimension }
    public var keyValueDimension: Int { headCountKV * headDimension }
}

/// A weight matrix as stored in the file: `rows` rows of `columns` elements, each row `rowBytes` bytes of
/// packed blocks. The pointer is into the model's read-only memory mapping; nothing is copied.
struct WeightMatrix: @unchecked Sendable {
    let name: String
    let type: GGMLType
    let base: UnsafeRawPointer
    let rows: Int
    let columns: Int
    let rowBytes: Int

    func row(_ index: Int) -> UnsafeRawPointer { base + index * rowBytes }
}

/// One transformer block's weights.
struct LayerWeights: Sendable {
    let attentionNorm: [Float]
    let query: WeightMatrix, key: WeightMatrix, value: WeightMatrix, output: WeightMatrix
    /// Present in `qwen2`.
    let queryBias: [Float]?, keyBias: [Float]?, valueBias: [Float]?
    let ffnNorm: [Float]
    let gate: WeightMatrix, up: WeightMatrix, down: WeightMatrix
}

/// A loaded `llama` or `qwen2` model: hyperparameters plus views of the weights in the mapped file.
///
/// Immutable after loading and shareable across sessions; each `InferenceSession` holds its own KV cache
/// and threads.
public final class LanguageModel: Sendable {
    public let file: GGUFFile
    public let hyperparameters: ModelHyperparameters
    let tokenEmbedding: WeightMatrix
    let layers: [LayerWeights]
    let outputNorm: [Float]
    /// `output.weight`, or the token embedding when the model ties them.
    let outputProjection: WeightMatrix

    public convenience init(path: String) throws {
        try self.init(file: GGUFFile(path: path))
    }

    public init(file: GGUFFile) throws {
        self.file = file
        let path = file.path
        guard let arch = file.architecture else { throw GGUFError.missingKey(path: path, key: "general.architecture") }
        guard arch == "llama" || arch == "qwen2" else {
            throw GGUFError.unsupportedArchitecture(path: path, architecture: arch)
        }
        func int(_ key: String) throws -> Int {
            guard let v = file.int("\(arch).\(key)"), v > 0 else { throw GGUFError.missingKey(path: path, key: "\(arch).\(key)") }
            return v
        }
        let dim = try int("embedding_length")
        let heads = try int("attention.head_count")
        let kvHeads = file.int("\(arch).attention.head_count_kv") ?? heads
        let headDim = file.int("\(arch).attention.key_length") ?? dim / heads
        guard kvHeads > 0, heads % kvHeads == 0, headDim > 0, headDim % 2 == 0, headDim <= 512 else {
            throw GGUFError.corrupt(path: path, reason: "\(heads) attention heads cannot share \(kvHeads) key/value heads of size \(headDim)")
        }

        func matrix(_ name: String, columns: Int, rows: Int?) throws -> WeightMatrix {
            guard let info = file.tensor(named: name) else { throw GGUFError.missingTensor(path: path, tensor: name) }
            let found = info.dimensions
            guard found.count <= 2, found[0] == columns, rows == nil || (found.count == 2 ? found[1] : 1) == rows else {
                throw GGUFError.unexpectedShape(path: path, tensor: name, expected: [columns, rows ?? -1], found: found)
            }
            guard qk_type_supported(Int32(info.type.rawValue)) != 0, columns % 32 == 0 || info.type.blockSize == 1 else {
                throw EngineError.unsupportedTensorType(path: path, tensor: name, type: info.type)
            }
            let data = file.data(for: info)
            guard let base = data.baseAddress else { throw GGUFError.missingTensor(path: path, tensor: name) }
            let rowCount = found.count == 2 ? found[1] : 1
            return WeightMatrix(
                name: name, type: info.type, base: base, rows: rowCount, columns: columns,
                rowBytes: data.count / rowCount)
        }
        func vector(_ name: String, count: Int) throws -> [Float] {
            let m = try matrix(name, columns: count, rows: 1)
            var out = [Float](repeating: 0, count: count)
            out.withUnsafeMutableBufferPointer { qk_dequantize_row(Int32(m.type.rawValue), m.base, Int32(count), $0.baseAddress) }
            return out
        }
        func optionalVector(_ name: String, count: Int) throws -> [Float]? {
            file.tensor(named: name) == nil ? nil : try vector(name, count: count)
        }

        let embedding = try matrix("token_embd.weight", columns: dim, rows: nil)
        let vocab = embedding.rows
        let ffn = try int("feed_forward_length")
        let qDim = heads * headDim, kvDim = kvHeads * headDim
        var layers: [LayerWeights] = []
        for i in 0..<(try int("block_count")) {
            let p = "blk.\(i)."
            layers.append(
                LayerWeights(
                    attentionNorm: try vector(p + "attn_norm.weight", count: dim),
                    query: try matrix(p + "attn_q.weight", columns: dim, rows: qDim),
                    key: try matrix(p + "attn_k.weight", columns: dim, rows: kvDim),
                    value: try matrix(p + "attn_v.weight", columns: dim, rows: kvDim),
                    output: try matrix(p + "attn_output.weight", columns: qDim, rows: dim),
                    queryBias: try optionalVector(p + "attn_q.bias", count: qDim),
                    keyBias: try optionalVector(p + "attn_k.bias", count: kvDim),
                    valueBias: try optionalVector(p + "attn_v.bias", count: kvDim),
                    ffnNorm: try vector(p + "ffn_norm.weight", count: dim),
                    gate: try matrix(p + "ffn_gate.weight", columns: dim, rows: ffn),
                    up: try matrix(p + "ffn_up.weight", columns: dim, rows: ffn),
                    down: try matrix(p + "ffn_down.weight", columns: ffn, rows: dim)))
        }
        self.layers = layers
        self.tokenEmbedding = embedding
        self.outputNorm = try vector("output_norm.weight", count: dim)
        self.outputProjection =
            file.tensor(named: "output.weight") == nil
            ? embedding : try matrix("output.weight", columns: dim, rows: vocab)

        let ropeDims = file.int("\(arch).rope.dimension_count") ?? headDim
        guard ropeDims <= headDim, ropeDims % 2 == 0 else {
            throw GGUFError.corrupt(path: path, reason: "rope.dimension_count \(ropeDims) does not fit heads of \(headDim)")
        }
        self.hyperparameters = ModelHyperparameters(
            architecture: arch, embeddingLength: dim, blockCount: layers.count, headCount: heads,
            headCountKV: kvHeads, headDimension: headDim, feedForwardLength: ffn, vocabularySize: vocab,
            contextLength: file.int("\(arch).context_length") ?? 2048,
            rmsEpsilon: Float(file.double("\(arch).attention.layer_norm_rms_epsilon") ?? 1e-5),
            ropeFrequencyBase: Float(file.double("\(arch).rope.freq_base") ?? 10000),
            ropeDimensions: ropeDims,
            ropeStyle: arch == "llama" ? .interleaved : .neox)
    }
}
