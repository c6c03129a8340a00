import Foundation

extension BertEmbedder {
    /// Loads a resolved embedding model: a `bert` GGUF file, or a sentence-transformers folder.
    public convenience init(model: ResolvedModel, threads: Int? = nil, precision: BertPrecision? = nil) throws {
        if model.path.lowercased().hasSuffix(".gguf") {
            try self.init(gguf: URL(fileURLWithPath: model.path), threads: threads, precision: precision)
        } else {
            try self.init(directory: URL(fileURLWithPath: model.directory), threads: threads, precision: precision)
        }
    }

    /// Loads a BERT embedding model from a GGUF file in llama.cpp's `bert` layout (F32, F16 or BF16 tensors;
    /// quantized BERT files are refused with a message).
    ///
    /// GGUF keeps the WordPiece vocabulary in "phantom space" form: word-initial pieces carry a leading
    /// `▁` and continuation pieces lose their `##`; control tokens such as `[CLS]` are kept as they are. The
    /// original spelling is restored here, and the uncased BERT normalizer is used, as llama.cpp does.
    ///
    /// - Parameter name: the model's name in `modelID`; defaults to the file name without `.gguf`.
    public convenience init(
        gguf url: URL, name: String? = nil, threads: Int? = nil, precision: BertPrecision? = nil
    ) throws {
        let path = url.path
        let file = try GGUFFile(path: path)
        guard file.architecture == "bert" else {
            throw EmbeddingModelError.unsupported(
                path: path, reason: "architecture \(file.architecture ?? "unknown") (only bert is)")
        }
        func required(_ key: String) throws -> Int {
            guard let value = file.int(key) else {
                throw EmbeddingModelError.badConfiguration(path: path, reason: "metadata \(key) is missing")
            }
            return value
        }
        guard let pieces = file.stringArray("tokenizer.ggml.tokens"), !pieces.isEmpty else {
            throw EmbeddingModelError.badConfiguration(path: path, reason: "tokenizer.ggml.tokens is missing")
        }
        guard let typeTable = file.tensor(named: "token_types.weight"), typeTable.dimensions.count == 2 else {
            throw EmbeddingModelError.badConfiguration(path: path, reason: "tensor token_types.weight is missing")
        }
        let configuration = BertConfiguration(
            vocabularySize: pieces.count, hiddenSize: try required("bert.embedding_length"),
            layerCount: try required("bert.block_count"), headCount: try required("bert.attention.head_count"),
            intermediateSize: try required("bert.feed_forward_length"),
            layerNormEpsilon: Float(file.double("bert.attention.layer_norm_epsilon") ?? 1e-12),
            maxPositions: try required("bert.context_length"), tokenTypeCount: typeTable.dimensions[1])
        try configuration.validate(path: path)

        let pooling: BertPooling
        switch file.int("bert.pooling_type") {
        case nil, 1: pooling = .mean
        case 2: pooling = .cls
        case let other?:
            throw EmbeddingModelError.unsupported(path: path, reason: "pooling type \(other) (mean and CLS are)")
        }
        let tokenizer = try Self.ggufTokenizer(
            file: file, pieces: pieces, maxLength: min(Self.defaultMaxSequenceLength, configuration.maxPositions))
        let stem = url.deletingPathExtension().lastPathComponent
        let fingerprint = contentFingerprint(
            file.mapping.bytes, headerLength: file.tensors.map(\.offset).min() ?? file.mapping.count)
        try self.init(
            source: GGUFBertSource(file: file), path: path, configuration: configuration, tokenizer: tokenizer,
            pooling: pooling, modelID: "\(name ?? stem)@\(fingerprint)", threads: threads, precision: precision)
    }

    /// Rebuilds the WordPiece vocabulary from GGUF's phantom-space pieces.
    private static func ggufTokenizer(file: GGUFFile, pieces: [String], maxLength: Int) throws -> WordPieceTokenizer {
        let control = 3
        let types = file.intArray("tokenizer.ggml.token_type") ?? []
        var vocabulary: [String: Int32] = [:]
        var specials: [(text: String, id: Int32)] = []
        for (index, piece) in pieces.enumerated() {
            let token: String
            if index < types.count && types[index] == control {
                token = piece
                specials.append((piece, Int32(index)))
            } else if piece.hasPrefix("\u{2581}") {
                token = String(piece.dropFirst())
            } else {
                token = "##" + piece
            }
            if vocabulary[token] == nil { vocabulary[token] = Int32(index) }
        }
        func special(_ key: String, fallback: String) throws -> String {
            guard let id = file.int(key) else { return fallback }
            guard pieces.indices.contains(id) else {
                throw EmbeddingModelError.badConfiguration(path: file.path, reason: "\(key) \(id) is not a token")
            }
            return pieces[id]
        }
        specials.sort { $0.text.utf8.count > $1.text.utf8.count }
        return try WordPieceTokenizer(
            vocabulary: vocabulary, unknownToken: try special("tokenizer.ggml.unknown_token_id", fallback: "[UNK]"),
            clsToken: try special("tokenizer.ggml.bos_token_id", fallback: "[CLS]"),
            sepToken: try special("tokenizer.ggml.seperator_token_id", fallback: "[SEP]"),
            padToken: try special("tokenizer.ggml.padding_token_id", fallback: "[PAD]"),
            addedTokens: specials, maxLength: maxLength, source: file.path)
    }
}

/// Tensors of a llama.cpp `bert` GGUF, addressed by their Hugging Face names.
struct GGUFBertSource: BertTensorSource {
    let file: GGUFFile

    private static let embeddingNames = [
        "embeddings.word_embeddings.weight": "token_embd.weight",
        "embeddings.position_embeddings.weight": "position_embd.weight",
        "embeddings.token_type_embeddings.weight": "token_types.weight",
        "embeddings.LayerNorm.weight": "token_embd_norm.weight",
        "embeddings.LayerNorm.bias": "token_embd_norm.bias",
    ]
    private static let layerNames = [
        "attention.self.query": "attn_q", "attention.self.key": "attn_k", "attention.self.value": "attn_v",
        "attention.self.qkv": "attn_qkv", "attention.output.dense": "attn_output",
        "attention.output.LayerNorm": "attn_output_norm", "intermediate.dense": "ffn_up",
        "output.dense": "ffn_down", "output.LayerNorm": "layer_output_norm",
    ]

    /// `encoder.layer.3.intermediate.dense.weight` → `blk.3.ffn_up.weight`.
    static func ggufName(_ name: String) -> String? {
        if let fixed = embeddingNames[name] { return fixed }
        let prefix = "encoder.layer."
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]) else { return nil }
        let tail = rest[rest.index(after: dot)...]
        guard let last = tail.lastIndex(of: ".") else { return nil }
        let suffix = tail[tail.index(after: last)...]
        guard suffix == "weight" || suffix == "bias", let mapped = layerNames[String(tail[..<last])] else { return nil }
        return "blk.\(layer).\(mapped).\(suffix)"
    }

    func contains(_ name: String) -> Bool {
        Self.ggufName(name).flatMap { file.tensor(named: $0) } != nil
    }

    func floats(_ name: String, shape: [Int]) throws -> [Float] {
        guard let mapped = Self.ggufName(name), let info = file.tensor(named: mapped) else {
            throw EmbeddingModelError.badConfiguration(
                path: file.path, reason: "tensor \(Self.ggufName(name) ?? name) is missing")
        }
        // ggml lists the fastest-varying dimension first.
        guard Array(info.dimensions.reversed()) == shape else {
            throw EmbeddingModelError.badConfiguration(
                path: file.path, reason: "tensor \(mapped) has dimensions \(info.dimensions), expected \(Array(shape.reversed()))")
        }
        let raw = file.data(for: info)
        let count = info.elementCount
        switch info.type {
        case .f32:
            guard raw.count >= count * 4 else { break }
            return (0..<count).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian) }
        case .f16:
            guard raw.count >= count * 2 else { break }
            return (0..<count).map { halfToFloat(raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self).littleEndian) }
        case .bf16:
            guard raw.count >= count * 2 else { break }
            return (0..<count).map {
                Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self).littleEndian) << 16)
            }
        default:
            throw EmbeddingModelError.unsupported(
                path: file.path, reason: "tensor \(mapped) is \(info.type); BERT GGUFs must be F32, F16 or BF16")
        }
        throw EmbeddingModelError.badConfiguration(path: file.path, reason: "tensor \(mapped) is truncated")
    }
}
