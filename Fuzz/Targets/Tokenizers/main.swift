// libFuzzer target: text through every tokenizer — byte-level BPE from the real SmolLM2 and Qwen2.5 GGUF
// metadata, WordPiece from MiniLM's tokenizer.json and vocab.txt, and SentencePiece on a small generated
// vocabulary — plus decoding of arbitrary ids and parsing of a fuzzed tokenizer.json.
//
// The first input byte picks the mode, the rest is the payload. Checked properties, besides "never traps":
// every id is inside the vocabulary, plain text never yields a control token, and byte-level BPE without
// special-token parsing round-trips its text.
// Models come from $ASSIST_MODELS (default /work/models, the layout `assist models pull` writes).
import Foundation
import Inference

#if canImport(Glibc)
    import Glibc
#endif

private let modelsFolder: String = {
    let value = ProcessInfo.processInfo.environment["ASSIST_MODELS"] ?? ""
    return value.isEmpty ? "/work/models" : value
}()

private func loadOrDie<T>(_ what: String, _ load: () throws -> T) -> T {
    do { return try load() } catch {
        fatalError("cannot load \(what) from \(modelsFolder) (set ASSIST_MODELS): \(error)")
    }
}

private let smolLM2 = loadOrDie("SmolLM2 tokenizer") {
    try makeTokenizer(from: GGUFFile(path: modelsFolder + "/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf"))
}
private let qwen = loadOrDie("Qwen2.5 tokenizer") {
    try makeTokenizer(from: GGUFFile(path: modelsFolder + "/qwen2.5-coder-0.5b/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"))
}
private let wordPieceJSON = loadOrDie("MiniLM tokenizer.json") {
    try WordPieceTokenizer(tokenizerJSON: URL(fileURLWithPath: modelsFolder + "/minilm-l6-v2/tokenizer.json"))
}
private let wordPieceTxt = loadOrDie("MiniLM vocab.txt") {
    try WordPieceTokenizer(vocabTxt: URL(fileURLWithPath: modelsFolder + "/minilm-l6-v2/vocab.txt"))
}

/// `<unk> <s> </s>`, the 256 byte-fallback tokens, a control token, then a few merges of "hello world".
private let sentencePiece: SentencePieceTokenizer = {
    var tokens = ["<unk>", "<s>", "</s>"]
    var kinds: [TokenKind] = [.unknown, .control, .control]
    var scores: [Float] = [0, 0, 0]
    for byte in 0..<256 {
        tokens.append(String(format: "<0x%02X>", byte))
        kinds.append(.byte)
        scores.append(0)
    }
    tokens.append("<|im_start|>")
    kinds.append(.control)
    scores.append(0)
    let pieces: [(String, Float)] = [
        ("▁", -1), ("h", -2), ("e", -2), ("l", -2), ("o", -2), ("w", -2), ("r", -2), ("d", -2), ("ll", -1.5),
        ("he", -1.6), ("hell", -1.7), ("llo", -1.8), ("hello", -1.9), ("▁hello", -2.0), ("▁w", -2.1), ("or", -2.2),
        ("▁wor", -2.3), ("▁world", -2.4), ("é", -3), ("▁▁", -2.5),
    ]
    for (piece, score) in pieces {
        tokens.append(piece)
        kinds.append(.normal)
        scores.append(score)
    }
    let vocabulary = TokenizerVocabulary(
        tokens: tokens, kinds: kinds, bosID: 1, eosID: 2, unknownID: 0, addsBOS: true)
    return SentencePieceTokenizer(vocabulary: vocabulary, scores: scores, addSpacePrefix: true)
}()

private let scratchJSON: String = {
    let folder = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    return "\(folder)/assist-fuzz-tokenizer-\(getpid()).json"
}()

/// GPT-2's byte-level alphabet: the character that spells each byte inside a vocabulary entry.
private let byteLevelScalars: [Unicode.Scalar] = {
    var scalars = [Unicode.Scalar](repeating: " ", count: 256)
    var next: UInt32 = 256
    for byte in 0..<256 {
        let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
        if printable {
            scalars[byte] = Unicode.Scalar(UInt32(byte))!
        } else {
            scalars[byte] = Unicode.Scalar(next)!
            next += 1
        }
    }
    return scalars
}()

/// Bytes a byte-level vocabulary can spell on their own. A text with another byte cannot round-trip: no
/// token stands for that byte (SmolLM2, for one, has no token for some control characters).
private func spellableBytes(_ tokenizer: any TextTokenizer) -> Set<UInt8> {
    guard let bpe = tokenizer as? BPETokenizer else { return [] }
    let texts = Set(bpe.vocabulary.tokens)
    return Set((0..<256).filter { texts.contains(String(byteLevelScalars[$0])) }.map { UInt8($0) })
}
private let smolLM2Bytes = spellableBytes(smolLM2)
private let qwenBytes = spellableBytes(qwen)

private func checkIDs(_ ids: [Int32], _ size: Int, _ name: String) {
    for id in ids where id < 0 || Int(id) >= size { fatalError("\(name) produced id \(id) outside 0..<\(size)") }
}

/// Encodes and decodes with a GGUF tokenizer; byte-level BPE must give back exactly the text it was given.
private func exercise(
    _ tokenizer: any TextTokenizer, _ text: String, parseSpecial: Bool, spellable: Set<UInt8>?, _ name: String
) {
    let ids = tokenizer.encode(text, parseSpecial: parseSpecial)
    checkIDs(ids, tokenizer.vocabularySize, name)
    // Typed text is data: without special-token parsing it must never yield a control token.
    let kinds = (tokenizer as? BPETokenizer)?.vocabulary.kinds ?? (tokenizer as? SentencePieceTokenizer)?.vocabulary.kinds
    if let kinds, !parseSpecial, let control = ids.first(where: { kinds[Int($0)] == .control }) {
        fatalError("\(name) turned plain text \(Array(text.utf8)) into control token \(control)")
    }
    let decoded = tokenizer.decode(ids)
    if let spellable, !parseSpecial, text.utf8.allSatisfy(spellable.contains), decoded != text {
        fatalError("\(name) does not round-trip: \(Array(text.utf8)) → \(ids) → \(Array(decoded.utf8))")
    }
    var bytes: [UInt8] = []
    for id in ids { bytes += tokenizer.tokenPiece(id) }
    _ = bytes
}

/// Loads every tokenizer before fuzzing starts, so the seconds this takes are not charged to the first input
/// (under a loaded machine they exceeded the per-input timeout).
@_cdecl("LLVMFuzzerInitialize")
public func initializeTokenizers(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    let missing = (0..<256).filter { !smolLM2Bytes.contains(UInt8($0)) }
    FileHandle.standardError.write(Data("SmolLM2 has no token for bytes \(missing); Qwen2.5 lacks \(256 - qwenBytes.count)\n".utf8))
    _ = wordPieceJSON.maxLength + wordPieceTxt.maxLength + sentencePiece.vocabularySize
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizers(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let mode = data[0]
    let payload = UnsafeBufferPointer(start: data + 1, count: count - 1)
    let text = String(decoding: payload, as: UTF8.self)
    let parseSpecial = mode & 0x80 != 0
    switch (mode & 0x7F) % 7 {
    case 0: exercise(smolLM2, text, parseSpecial: parseSpecial, spellable: smolLM2Bytes, "SmolLM2")
    case 1: exercise(qwen, text, parseSpecial: parseSpecial, spellable: qwenBytes, "Qwen2.5")
    case 2: exercise(sentencePiece, text, parseSpecial: parseSpecial, spellable: nil, "SentencePiece")
    case 3:
        let ids = wordPieceJSON.encode(text, addSpecialTokens: parseSpecial, maxLength: Int(mode & 0x3F))
        checkIDs(ids, Int(Int32.max), "WordPiece")
        _ = wordPieceJSON.countTokens(text)
    case 4:
        _ = wordPieceTxt.encode(text)
        _ = wordPieceTxt.countTokens(text)
    case 5:
        // The payload as little-endian Int32 ids, in or out of range.
        var ids: [Int32] = []
        var index = 0
        while index + 4 <= payload.count {
            ids.append(Int32(bitPattern: UInt32(payload[index]) | UInt32(payload[index + 1]) << 8
                | UInt32(payload[index + 2]) << 16 | UInt32(payload[index + 3]) << 24))
            index += 4
        }
        for tokenizer in [smolLM2, qwen, sentencePiece] as [any TextTokenizer] {
            _ = tokenizer.decode(ids)
            for id in ids { _ = tokenizer.tokenPiece(id) }
        }
    default:
        // The payload as a tokenizer.json.
        guard FileManager.default.createFile(atPath: scratchJSON, contents: Data(payload)) else {
            fatalError("cannot write \(scratchJSON)")
        }
        defer { unlink(scratchJSON) }
        if let tokenizer = try? WordPieceTokenizer(tokenizerJSON: URL(fileURLWithPath: scratchJSON)) {
            _ = tokenizer.encode("Hello, wörld! [SEP] unaffable 東京 \u{1F600}")
        }
    }
    return 0
}
