/// Why the built-in engine could not run a request.
public enum EngineError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The session's KV cache holds `limit` positions and the request needs `requested`.
    case contextFull(limit: Int, requested: Int)
    /// A token id outside the model's vocabulary.
    case tokenOutOfRange(token: Int32, vocabularySize: Int)
    /// Prefill was asked to run on no tokens.
    case emptyInput
    /// The model file uses a tensor type the kernels cannot read.
    case unsupportedTensorType(path: String, tensor: String, type: GGMLType)
    /// A saved KV-cache prefix does not have the size this model and position count need.
    case invalidCache(expectedBytes: Int, foundBytes: Int)
    /// Asked to save more positions than the session has processed.
    case prefixBeyondCache(requested: Int, cached: Int)

    public var description: String {
        switch self {
        case .contextFull(let limit, let requested):
            "the conversation needs \(requested) tokens but the context holds \(limit); shorten the prompt or lower --max-tokens"
        case .tokenOutOfRange(let token, let vocabularySize):
            "token id \(token) is outside the model's vocabulary of \(vocabularySize); the tokenizer and model do not match"
        case .invalidCache(let expected, let found):
            "a saved prompt prefix holds \(found) bytes where this model needs \(expected); it is ignored and recomputed"
        case .prefixBeyondCache(let requested, let cached):
            "cannot save \(requested) positions of a KV cache that holds \(cached)"
        case .emptyInput: "no input tokens to process; the prompt must encode to at least one token"
        case .unsupportedTensorType(let path, let tensor, let type):
            "\(path): tensor \(tensor) is stored as \(type), which the built-in engine cannot run; use a Q4_0/Q4_1/Q5_0/Q5_1/Q8_0/Q4_K/Q5_K/Q6_K/F16/BF16/F32 file"
        }
    }
}
