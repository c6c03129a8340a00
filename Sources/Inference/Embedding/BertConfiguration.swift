import Foundation

/// What went wrong loading an embedding model folder.
public enum EmbeddingModelError: Error, CustomStringConvertible, Equatable {
    case missingFile(path: String, what: String)
    case badConfiguration(path: String, reason: String)
    case unsupported(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let path, let what):
            return "embedding model is incomplete: \(path) (\(what)) is missing; run `assist models pull` again"
        case .badConfiguration(let path, let reason):
            return "embedding model configuration \(path) is invalid: \(reason)"
        case .unsupported(let path, let reason):
            return "embedding model \(path) is not supported: \(reason)"
        }
    }
}

/// The hyper-parameters of a BERT encoder, from the Hugging Face `config.json`.
public struct BertConfiguration: Sendable, Equatable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var layerNormEpsilon: Float
    public var maxPositions: Int
    public var tokenTypeCount: Int

    public var headDimension: Int { hiddenSize / headCount }

    public init(
        vocabularySize: Int, hiddenSize: Int, layerCount: Int, headCount: Int, intermediateSize: Int,
        layerNormEpsilon: Float, maxPositions: Int, tokenTypeCount: Int
    ) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.intermediateSize = intermediateSize
        self.layerNormEpsilon = layerNormEpsilon
        self.maxPositions = maxPositions
        self.tokenTypeCount = tokenTypeCount
    }

    /// Reads and validates `config.json`; sizes are bounded so a hostile file cannot ask for absurd buffers.
    public init(contentsOf url: URL) throws {
        let path = url.path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EmbeddingModelError.missingFile(path: path, what: "model configuration")
        }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw EmbeddingModelError.badConfiguration(path: path, reason: "not a JSON object")
        }
        func integer(_ key: String, default fallback: Int? = nil, range: ClosedRange<Int>) throws -> Int {
            guard let value = (json[key] as? Int) ?? fallback else {
                throw EmbeddingModelError.badConfiguration(path: path, reason: "\(key) is missing")
            }
            guard range.contains(value) else {
                throw EmbeddingModelError.badConfiguration(path: path, reason: "\(key) = \(value) is outside \(range)")
            }
            return value
        }
        if let type = json["model_type"] as? String, type != "bert" {
            throw EmbeddingModelError.unsupported(path: path, reason: "model_type \(type) (only bert is)")
        }
        let activation = json["hidden_act"] as? String ?? "gelu"
        guard activation == "gelu" else {
            throw EmbeddingModelError.unsupported(path: path, reason: "hidden_act \(activation) (only exact gelu is)")
        }
        if let embedding = json["position_embedding_type"] as? String, embedding != "absolute" {
            throw EmbeddingModelError.unsupported(path: path, reason: "position_embedding_type \(embedding)")
        }
        vocabularySize = try integer("vocab_size", range: 1...1_000_000)
        hiddenSize = try integer("hidden_size", range: 1...8192)
        layerCount = try integer("num_hidden_layers", range: 1...256)
        headCount = try integer("num_attention_heads", range: 1...256)
        intermediateSize = try integer("intermediate_size", range: 1...65536)
        maxPositions = try integer("max_position_embeddings", range: 2...65536)
        tokenTypeCount = try integer("type_vocab_size", default: 2, range: 1...16)
        let epsilon = (json["layer_norm_eps"] as? Double) ?? 1e-12
        guard epsilon > 0, epsilon < 1 else {
            throw EmbeddingModelError.badConfiguration(path: path, reason: "layer_norm_eps = \(epsilon)")
        }
        layerNormEpsilon = Float(epsilon)
        try validate(path: path)
    }

    /// Checks sizes are positive, bounded (so a hostile file cannot ask for absurd buffers) and consistent.
    func validate(path: String) throws {
        let bounds: [(String, Int, ClosedRange<Int>)] = [
            ("vocabulary size", vocabularySize, 1...1_000_000), ("hidden size", hiddenSize, 1...8192),
            ("layer count", layerCount, 1...256), ("head count", headCount, 1...256),
            ("intermediate size", intermediateSize, 1...65536), ("position count", maxPositions, 2...65536),
            ("token type count", tokenTypeCount, 1...16),
        ]
        for (what, value, range) in bounds where !range.contains(value) {
            throw EmbeddingModelError.badConfiguration(path: path, reason: "\(what) \(value) is outside \(range)")
        }
        guard hiddenSize % headCount == 0 else {
            throw EmbeddingModelError.badConfiguration(
                path: path, reason: "hidden size \(hiddenSize) is not a multiple of the head count \(headCount)")
        }
        guard layerNormEpsilon > 0, layerNormEpsilon < 1 else {
            throw EmbeddingModelError.badConfiguration(path: path, reason: "layer norm epsilon \(layerNormEpsilon)")
        }
    }
}

/// How token vectors become one sentence vector (sentence-transformers `1_Pooling/config.json`).
public enum BertPooling: String, Sendable, Equatable {
    case mean, cls, max, meanSqrtLength

    /// Reads the pooling configuration; a folder without one pools by mean, as sentence-transformers does.
    init(contentsOf url: URL) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            self = .mean
            return
        }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw EmbeddingModelError.badConfiguration(path: url.path, reason: "not a JSON object")
        }
        let modes: [(String, BertPooling)] = [
            ("pooling_mode_mean_tokens", .mean), ("pooling_mode_cls_token", .cls),
            ("pooling_mode_max_tokens", .max), ("pooling_mode_mean_sqrt_len_tokens", .meanSqrtLength),
        ]
        let chosen = modes.filter { json[$0.0] as? Bool == true }
        guard chosen.count == 1 else {
            throw EmbeddingModelError.unsupported(
                path: url.path, reason: "exactly one pooling mode must be enabled, found \(chosen.map(\.0))")
        }
        self = chosen[0].1
    }
}
