import Foundation

/// Turns text into a model's token ids and back.
///
/// Implementations are immutable after loading and safe to share between threads.
public protocol TextTokenizer: Sendable {
    /// Number of token ids the model knows (rows of its embedding table).
    var vocabularySize: Int { get }
    /// Beginning-of-sequence token, if the vocabulary has one.
    var bosID: Int32? { get }
    /// End-of-sequence token, if the vocabulary has one.
    var eosID: Int32? { get }
    /// Tokens after which generation ends (EOS, end-of-turn markers such as `<|im_end|>`).
    var endOfGenerationIDs: Set<Int32> { get }
    /// Whether the model expects `bosID` at the start of every prompt (`tokenizer.ggml.add_bos_token`).
    var addsBOS: Bool { get }
    /// Token ids of `text`, without BOS. With `parseSpecial`, text such as `<|im_start|>` becomes the control
    /// token; without it, such text is tokenized like any other characters.
    func encode(_ text: String, parseSpecial: Bool) -> [Int32]
    /// The text of `ids`; control tokens produce no text, invalid UTF-8 becomes U+FFFD.
    func decode(_ ids: [Int32]) -> String
    /// The raw bytes one token stands for (possibly part of a UTF-8 sequence), for streaming output.
    /// Control and unknown ids produce no bytes.
    func tokenPiece(_ id: Int32) -> [UInt8]
}

/// The kind of a vocabulary entry, as stored in `tokenizer.ggml.token_type`.
public enum TokenKind: Int, Sendable {
    case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

/// Why a tokenizer could not be built from a model file.
public enum TokenizerError: Error, CustomStringConvertible, Sendable, Equatable {
    case missingKey(path: String, key: String)
    case unsupportedModel(path: String, model: String)
    case inconsistent(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingKey(let path, let key):
            "\(path): the tokenizer needs metadata key \(key), which the file lacks; re-convert the model with a current converter"
        case .unsupportedModel(let path, let model):
            "\(path): tokenizer type '\(model)' is not supported (gpt2-style byte-level BPE and llama SentencePiece are)"
        case .inconsistent(let path, let reason):
            "\(path): the tokenizer data is inconsistent: \(reason)"
        }
    }
}

/// Builds the tokenizer a GGUF model file describes (`tokenizer.ggml.model`).
public func makeTokenizer(from gguf: GGUFFile) throws -> any TextTokenizer {
    let vocabulary = try TokenizerVocabulary(gguf: gguf)
    guard let model = gguf.string("tokenizer.ggml.model") else {
        throw TokenizerError.missingKey(path: gguf.path, key: "tokenizer.ggml.model")
    }
    switch model {
    case "gpt2":
        guard let merges = gguf.stringArray("tokenizer.ggml.merges") else {
            throw TokenizerError.missingKey(path: gguf.path, key: "tokenizer.ggml.merges")
        }
        let pre = PreTokenizer(ggmlName: gguf.string("tokenizer.ggml.pre") ?? "default")
        return BPETokenizer(vocabulary: vocabulary, merges: merges, preTokenizer: pre)
    case "llama":
        guard let scores = gguf.metadata["tokenizer.ggml.scores"]?.arrayValue else {
            throw TokenizerError.missingKey(path: gguf.path, key: "tokenizer.ggml.scores")
        }
        let values = scores.map { Float($0.doubleValue ?? 0) }
        guard values.count == vocabulary.tokens.count else {
            throw TokenizerError.inconsistent(
                path: gguf.path, reason: "\(values.count) scores for \(vocabulary.tokens.count) tokens")
        }
        return SentencePieceTokenizer(
            vocabulary: vocabulary, scores: values,
            addSpacePrefix: gguf.bool("tokenizer.ggml.add_space_prefix") ?? true)
    default:
        throw TokenizerError.unsupportedModel(path: gguf.path, model: model)
    }
}

/// The parts of a vocabulary every tokenizer family shares: token texts, kinds and the special ids.
public struct TokenizerVocabulary: Sendable {
    public var tokens: [String]
    public var kinds: [TokenKind]
    public var bosID: Int32?
    public var eosID: Int32?
    /// The token for text the vocabulary cannot spell; never a control token (such an id is dropped).
    public var unknownID: Int32?
    public var addsBOS: Bool
    public var endOfGenerationIDs: Set<Int32>

    /// Token texts that end a turn in the chat formats we know; llama.cpp stops on these too.
    static let endOfTurnTexts: Set<String> = [
        "<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<end_of_turn>", "<|end|>", "</s>",
        "<|end_of_text|>", "<|END_OF_TURN_TOKEN|>",
    ]

    public init(
        tokens: [String], kinds: [TokenKind], bosID: Int32?, eosID: Int32?, unknownID: Int32? = nil,
        addsBOS: Bool, extraEndOfGenerationIDs: [Int32] = []
    ) {
        self.tokens = tokens
        self.kinds = kinds
        let valid = { (id: Int32?) -> Int32? in
            guard let id, id >= 0, Int(id) < tokens.count else { return nil }
            return id
        }
        self.bosID = valid(bosID)
        self.eosID = valid(eosID)
        // Text that falls back to the unknown token must never become a control token: SmolLM2 names
        // `<|endoftext|>` as its unknown token, so a stray control byte in a mail would end the prompt.
        self.unknownID = valid(unknownID).flatMap { id in
            kinds.indices.contains(Int(id)) && kinds[Int(id)] == .control ? nil : id
        }
        self.addsBOS = addsBOS && self.bosID != nil
        var eog = Set(extraEndOfGenerationIDs.compactMap(valid))
        if let eos = self.eosID { eog.insert(eos) }
        for (i, kind) in kinds.enumerated() where kind == .control && Self.endOfTurnTexts.contains(tokens[i]) {
            eog.insert(Int32(i))
        }
        self.endOfGenerationIDs = eog
    }

    init(gguf: GGUFFile) throws {
        guard let tokens = gguf.stringArray("tokenizer.ggml.tokens") else {
            throw TokenizerError.missingKey(path: gguf.path, key: "tokenizer.ggml.tokens")
        }
        guard !tokens.isEmpty, tokens.count < Int(Int32.max) else {
            throw TokenizerError.inconsistent(path: gguf.path, reason: "the vocabulary has \(tokens.count) tokens")
        }
        var kinds = [TokenKind](repeating: .normal, count: tokens.count)
        if let types = gguf.intArray("tokenizer.ggml.token_type") {
            guard types.count == tokens.count else {
                throw TokenizerError.inconsistent(
                    path: gguf.path, reason: "\(types.count) token types for \(tokens.count) tokens")
            }
            for (i, t) in types.enumerated() { kinds[i] = TokenKind(rawValue: t) ?? .normal }
        }
        let id = { (key: String) -> Int32? in gguf.int(key).flatMap { Int32(exactly: $0) } }
        let model = gguf.string("tokenizer.ggml.model")
        self.init(
            tokens: tokens, kinds: kinds, bosID: id("tokenizer.ggml.bos_token_id"),
            eosID: id("tokenizer.ggml.eos_token_id"), unknownID: id("tokenizer.ggml.unknown_token_id"),
            // SentencePiece models add BOS unless told otherwise; byte-level BPE models do not.
            addsBOS: gguf.bool("tokenizer.ggml.add_bos_token") ?? (model == "llama"),
            extraEndOfGenerationIDs: [id("tokenizer.ggml.eot_token_id"), id("tokenizer.ggml.eom_token_id")]
                .compactMap { $0 })
    }

    /// Whether `id` names an entry of this vocabulary.
    func contains(_ id: Int32) -> Bool { id >= 0 && Int(id) < tokens.count }
}
