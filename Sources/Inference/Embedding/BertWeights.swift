import CKernels
import Foundation

/// A `Linear` layer with its weight matrix packed for the GEMM kernel in the chosen precision.
struct BertLinear: Sendable {
    let inputs: Int
    let outputs: Int
    let bias: [Float]
    private let weights: PackedWeights

    /// The weight matrix in the layout of one precision's kernel.
    private enum PackedWeights: Sendable {
        case float32([Float])
        case bfloat16([UInt16])
        case int16(values: [Int16], scales: [Float])
    }

    /// `weight` is PyTorch's [outputs][inputs] layout.
    init(weight: [Float], bias: [Float], outputs: Int, inputs: Int, precision: BertPrecision) {
        self.inputs = inputs
        self.outputs = outputs
        self.bias = bias
        let n = Int32(outputs), k = Int32(inputs)
        switch precision {
        case .float32:
            var packed = [Float](repeating: 0, count: bert_packed_f32_count(n, k))
            bert_pack_f32(weight, n, k, &packed)
            weights = .float32(packed)
        case .bfloat16:
            var packed = [UInt16](repeating: 0, count: bert_packed_bf16_count(n, k))
            bert_pack_bf16(weight, n, k, &packed)
            weights = .bfloat16(packed)
        case .int16:
            var values = [Int16](repeating: 0, count: bert_packed_i16_count(n, k))
            var scales = [Float](repeating: 0, count: bert_packed_i16_scale_count(n, k))
            bert_pack_i16(weight, n, k, &values, &scales)
            weights = .int16(values: values, scales: scales)
        }
    }

    /// Bytes of scratch `apply` needs for `rows` rows in `precision` (the GEMM's quantized input).
    static func scratchBytes(rows: Int, inputs: Int, precision: BertPrecision) -> Int {
        switch precision {
        case .float32: 0
        case .bfloat16: bert_gemm_bf16_scratch_count(Int32(rows), Int32(inputs)) * MemoryLayout<UInt16>.stride
        case .int16: bert_gemm_i16_scratch_size(Int32(rows), Int32(inputs))
        }
    }

    /// y[rows][outputs] = x[rows][inputs] · Wᵀ + b, with GELU when asked. `scratch` holds at least
    /// `scratchBytes(rows:inputs:precision:)` bytes.
    func apply(
        _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, gelu: Bool, isa: Int32,
        scratch: UnsafeMutableRawPointer
    ) {
        guard rows > 0 else { return }
        let m = Int32(rows), k = Int32(inputs), n = Int32(outputs), g: Int32 = gelu ? 1 : 0
        switch weights {
        case .float32(let packed):
            bert_gemm_f32(x, m, k, packed, n, bias, y, g, isa)
        case .bfloat16(let packed):
            bert_gemm_bf16(x, m, k, packed, n, bias, y, g, scratch.assumingMemoryBound(to: UInt16.self))
        case .int16(let values, let scales):
            bert_gemm_i16(x, m, k, values, scales, n, bias, y, g, scratch)
        }
    }
}

struct BertLayerNorm: Sendable {
    let gamma: [Float]
    let beta: [Float]

    /// x = LayerNorm(x + residual), row by row.
    func apply(
        _ x: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, rows: Int, cols: Int, eps: Float, isa: Int32
    ) {
        guard rows > 0 else { return }
        bert_add_layernorm(x, residual, gamma, beta, Int32(rows), Int32(cols), eps, isa)
    }
}

struct BertLayer: Sendable {
    /// Query, key and value projections fused into one [3·hidden × hidden] matrix.
    let qkv: BertLinear
    let output: BertLinear
    let attentionNorm: BertLayerNorm
    let intermediate: BertLinear
    let down: BertLinear
    let outputNorm: BertLayerNorm
}

/// All weights of a BERT encoder, read from safetensors and converted once for the kernels.
struct BertWeights: Sendable {
    let wordEmbeddings: [Float]
    let positionEmbeddings: [Float]
    /// Row 0 of the token-type table: single-sentence inputs are all type 0.
    let tokenTypeEmbeddings: [Float]
    let embeddingNorm: BertLayerNorm
    let layers: [BertLayer]

    /// Reads the weights through `source`, which resolves Hugging Face tensor names (without a `bert.`
    /// prefix) to its own file's names.
    init(source: some BertTensorSource, configuration config: BertConfiguration, precision: BertPrecision) throws {
        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] {
            try source.floats(name, shape: shape)
        }
        /// LayerNorm parameters are `weight`/`bias`, or `gamma`/`beta` in old TensorFlow conversions.
        func norm(_ name: String) throws -> BertLayerNorm {
            let shape = [config.hiddenSize]
            if source.contains(name + ".gamma") {
                return BertLayerNorm(gamma: try tensor(name + ".gamma", shape), beta: try tensor(name + ".beta", shape))
            }
            return BertLayerNorm(gamma: try tensor(name + ".weight", shape), beta: try tensor(name + ".bias", shape))
        }
        func linear(_ name: String, outputs: Int, inputs: Int) throws -> BertLinear {
            BertLinear(
                weight: try tensor(name + ".weight", [outputs, inputs]), bias: try tensor(name + ".bias", [outputs]),
                outputs: outputs, inputs: inputs, precision: precision)
        }
        let hidden = config.hiddenSize
        wordEmbeddings = try tensor("embeddings.word_embeddings.weight", [config.vocabularySize, hidden])
        positionEmbeddings = try tensor("embeddings.position_embeddings.weight", [config.maxPositions, hidden])
        tokenTypeEmbeddings = Array(
            try tensor("embeddings.token_type_embeddings.weight", [config.tokenTypeCount, hidden]).prefix(hidden))
        embeddingNorm = try norm("embeddings.LayerNorm")
        layers = try (0..<config.layerCount).map { index in
            let base = "encoder.layer.\(index)."
            let attention = base + "attention.self."
            var qkvWeight: [Float] = []
            var qkvBias: [Float] = []
            if source.contains(attention + "qkv.weight") {
                // Some converters store the three projections fused, query rows first.
                qkvWeight = try tensor(attention + "qkv.weight", [3 * hidden, hidden])
                qkvBias = try tensor(attention + "qkv.bias", [3 * hidden])
            } else {
                for part in ["query", "key", "value"] {
                    qkvWeight += try tensor(attention + part + ".weight", [hidden, hidden])
                    qkvBias += try tensor(attention + part + ".bias", [hidden])
                }
            }
            return BertLayer(
                qkv: BertLinear(weight: qkvWeight, bias: qkvBias, outputs: 3 * hidden, inputs: hidden, precision: precision),
                output: try linear(base + "attention.output.dense", outputs: hidden, inputs: hidden),
                attentionNorm: try norm(base + "attention.output.LayerNorm"),
                intermediate: try linear(base + "intermediate.dense", outputs: config.intermediateSize, inputs: hidden),
                down: try linear(base + "output.dense", outputs: hidden, inputs: config.intermediateSize),
                outputNorm: try norm(base + "output.LayerNorm"))
        }
    }
}

/// Where BERT weights come from, addressed by Hugging Face tensor names.
protocol BertTensorSource {
    func contains(_ name: String) -> Bool
    /// The tensor as `Float`s in row-major order, after checking it has `shape` (outermost first).
    func floats(_ name: String, shape: [Int]) throws -> [Float]
}

/// A sentence-transformers `model.safetensors`; checkpoints exported from `BertForMaskedLM` and friends
/// carry a `bert.` prefix, `BertModel` exports do not.
struct SafetensorsBertSource: BertTensorSource {
    let file: SafetensorsFile
    let prefix: String

    init(file: SafetensorsFile) {
        self.file = file
        self.prefix = file.tensors["embeddings.word_embeddings.weight"] != nil ? "" : "bert."
    }

    func contains(_ name: String) -> Bool { file.tensors[prefix + name] != nil }

    func floats(_ name: String, shape: [Int]) throws -> [Float] {
        try file.floats(prefix + name, expectedShape: shape)
    }
}
