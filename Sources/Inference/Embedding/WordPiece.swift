import Foundation

/// What went wrong loading a WordPiece vocabulary.
public enum WordPieceError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read tokenizer file \(path): \(reason)"
        case .malformed(let path, let reason):
            return "tokenizer file \(path) is not a usable WordPiece tokenizer: \(reason); download the model again"
        }
    }
}

/// BERT's tokenizer: the `BertNormalizer` + `BertPreTokenizer` + `WordPiece` pipeline of HF `tokenizers`,
/// reproduced exactly so that token ids match the reference implementation.
///
/// 1. Clean: drop NUL, U+FFFD and control/format/unassigned/private-use characters (Unicode `C*`), turn
///    whitespace into spaces; put spaces around CJK ideographs; strip accents (NFD, then drop `Mn` marks);
///    lowercase character by character.
/// 2. Split on whitespace, and isolate every punctuation character (ASCII symbols plus Unicode `P*`).
/// 3. Each word becomes the longest vocabulary entries matching from its start, continuation pieces
///    spelled with `##`; a word with an unmatchable piece or over `maxInputCharsPerWord` characters is `[UNK]`.
///
/// Lookups walk a byte trie built once from the vocabulary, so encoding allocates no per-candidate strings.
public struct WordPieceTokenizer: Sendable {
    public struct Options: Sendable, Equatable {
        public var cleanText = true
        public var handleChineseChars = true
        /// `nil` follows `lowercase`, as in HF `tokenizers`.
        public var stripAccents: Bool? = nil
        public var lowercase = true
        public var continuingSubwordPrefix = "##"
        public var maxInputCharsPerWord = 100
        public init() {}
    }

    public let options: Options
    /// Token id by token text.
    public let vocabulary: [String: Int32]
    public let unknownID: Int32
    public let clsID: Int32
    public let sepID: Int32
    public let padID: Int32
    /// Tokens matched verbatim in the raw text before normalization (e.g. `[SEP]` typed in a note).
    public let addedTokens: [(text: String, id: Int32)]
    /// The model's window in tokens, specials included; `encode` truncates to it unless told otherwise.
    public let maxLength: Int

    private let trie: ByteTrie
    private let continuationRoot: Int32?
    private let addedTokenBytes: [([UInt8], Int32)]

    public init(
        vocabulary: [String: Int32], options: Options = Options(), unknownToken: String = "[UNK]",
        clsToken: String = "[CLS]", sepToken: String = "[SEP]", padToken: String = "[PAD]",
        addedTokens: [(text: String, id: Int32)] = [], maxLength: Int = 512, source: String = "vocabulary"
    ) throws {
        func id(_ token: String) throws -> Int32 {
            guard let id = vocabulary[token] else {
                throw WordPieceError.malformed(path: source, reason: "the vocabulary has no \(token) token")
            }
            return id
        }
        guard maxLength >= 2 else {
            throw WordPieceError.malformed(path: source, reason: "window of \(maxLength) tokens is too short")
        }
        self.options = options
        self.vocabulary = vocabulary
        self.unknownID = try id(unknownToken)
        self.clsID = try id(clsToken)
        self.sepID = try id(sepToken)
        self.padID = try id(padToken)
        self.addedTokens = addedTokens
        self.addedTokenBytes = addedTokens.filter { !$0.text.isEmpty }.map { (Array($0.text.utf8), $0.id) }
        self.maxLength = maxLength
        var trie = ByteTrie(expectedNodes: vocabulary.count * 4)
        for (token, id) in vocabulary { trie.insert(Array(token.utf8), id: id) }
        self.trie = trie
        self.continuationRoot = trie.walk(Array(options.continuingSubwordPrefix.utf8))
    }

    /// Loads a HF `tokenizer.json` with a `WordPiece` model (and `BertNormalizer`, when present).
    public init(tokenizerJSON url: URL, maxLength: Int = 512) throws {
        let path = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw WordPieceError.unreadable(path: path, reason: error.localizedDescription)
        }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw WordPieceError.malformed(path: path, reason: "not a JSON object")
        }
        guard let model = root["model"] as? [String: Any], let vocab = model["vocab"] as? [String: Any] else {
            throw WordPieceError.malformed(path: path, reason: "no model.vocab")
        }
        if let type = model["type"] as? String, type != "WordPiece" {
            throw WordPieceError.malformed(path: path, reason: "model type is \(type), not WordPiece")
        }
        var vocabulary: [String: Int32] = [:]
        vocabulary.reserveCapacity(vocab.count)
        for (token, value) in vocab {
            guard let id = value as? Int, id >= 0, id <= Int(Int32.max) else {
                throw WordPieceError.malformed(path: path, reason: "token \(token) has no valid id")
            }
            vocabulary[token] = Int32(id)
        }
        var options = Options()
        if let prefix = model["continuing_subword_prefix"] as? String { options.continuingSubwordPrefix = prefix }
        if let limit = model["max_input_chars_per_word"] as? Int { options.maxInputCharsPerWord = limit }
        if let normalizer = root["normalizer"] as? [String: Any] {
            guard normalizer["type"] as? String == "BertNormalizer" else {
                throw WordPieceError.malformed(
                    path: path, reason: "normalizer \(normalizer["type"] ?? "?") is not supported (BertNormalizer is)")
            }
            if let value = normalizer["clean_text"] as? Bool { options.cleanText = value }
            if let value = normalizer["handle_chinese_chars"] as? Bool { options.handleChineseChars = value }
            if let value = normalizer["lowercase"] as? Bool { options.lowercase = value }
            options.stripAccents = normalizer["strip_accents"] as? Bool
        }
        var added: [(text: String, id: Int32)] = []
        for entry in root["added_tokens"] as? [[String: Any]] ?? [] {
            // Tokens marked `normalized` are matched after normalization; BERT's specials are not.
            guard let text = entry["content"] as? String, let id = entry["id"] as? Int,
                id >= 0, id <= Int(Int32.max), (entry["normalized"] as? Bool) != true
            else { continue }
            added.append((text, Int32(id)))
        }
        // Longest first, so that a token that prefixes another never shadows it.
        added.sort { $0.text.utf8.count > $1.text.utf8.count }
        let unknown = model["unk_token"] as? String ?? "[UNK]"
        try self.init(
            vocabulary: vocabulary, options: options, unknownToken: unknown, addedTokens: added,
            maxLength: maxLength, source: path)
    }

    /// Loads a BERT `vocab.txt` (one token per line, id = line number) with uncased-BERT defaults.
    public init(vocabTxt url: URL, options: Options = Options(), maxLength: Int = 512) throws {
        let path = url.path
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw WordPieceError.unreadable(path: path, reason: error.localizedDescription)
        }
        var vocabulary: [String: Int32] = [:]
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        for (index, line) in lines.enumerated() {
            let token = line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
            // A duplicated line keeps its first id, as BERT's loader does.
            if vocabulary[token] == nil { vocabulary[token] = Int32(index) }
        }
        let specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].compactMap { token in
            vocabulary[token].map { (text: token, id: $0) }
        }
        try self.init(
            vocabulary: vocabulary, options: options, addedTokens: specials, maxLength: maxLength, source: path)
    }

    // MARK: Encoding

    /// Token ids of `text`: `[CLS] … [SEP]` when `addSpecialTokens`, truncated to `maxLength` tokens (the
    /// window, specials included) keeping `[SEP]` last. Pass `maxLength: nil` to use `self.maxLength`, or
    /// `Int.max` not to truncate.
    public func encode(_ text: String, addSpecialTokens: Bool = true, maxLength: Int? = nil) -> [Int32] {
        let limit = maxLength ?? self.maxLength
        var ids: [Int32] = []
        if addSpecialTokens { ids.append(clsID) }
        let budget = addSpecialTokens ? max(0, limit - 2) : max(0, limit)
        var scratch = Scratch()
        appendTokens(of: text, to: &ids, limit: budget + (addSpecialTokens ? 1 : 0), scratch: &scratch)
        if addSpecialTokens {
            if limit >= 2 { ids.append(sepID) } else { ids = Array(ids.prefix(max(0, limit))) }
        }
        return ids
    }

    /// Tokens `text` takes, special tokens excluded and without truncation: what a chunker needs to keep
    /// chunks within `maxLength - 2`.
    public func countTokens(_ text: String) -> Int {
        var ids: [Int32] = []
        var scratch = Scratch()
        appendTokens(of: text, to: &ids, limit: Int.max, scratch: &scratch)
        return ids.count
    }

    /// Reusable buffers for one encoding.
    private struct Scratch {
        var scalars: [Unicode.Scalar] = []
        var word: [UInt8] = []
    }

    /// Appends the tokens of `text` until `ids` holds `limit` ids.
    private func appendTokens(of text: String, to ids: inout [Int32], limit: Int, scratch: inout Scratch) {
        guard ids.count < limit else { return }
        if addedTokenBytes.isEmpty {
            appendNormalTokens(of: Substring(text), to: &ids, limit: limit, scratch: &scratch)
            return
        }
        // Split the raw text around added tokens; the pieces between them are tokenized normally.
        let utf8 = Array(text.utf8)
        var pieceStart = 0
        var index = 0
        while index < utf8.count {
            var matched: ([UInt8], Int32)?
            for candidate in addedTokenBytes where candidate.0.first == utf8[index] {
                let end = index + candidate.0.count
                if end <= utf8.count && utf8[index..<end].elementsEqual(candidate.0) {
                    matched = candidate
                    break
                }
            }
            guard let (bytes, id) = matched else {
                index += 1
                continue
            }
            if pieceStart < index {
                let piece = String(decoding: utf8[pieceStart..<index], as: UTF8.self)
                appendNormalTokens(of: Substring(piece), to: &ids, limit: limit, scratch: &scratch)
            }
            guard ids.count < limit else { return }
            ids.append(id)
            index += bytes.count
            pieceStart = index
        }
        if pieceStart == 0 {
            appendNormalTokens(of: Substring(text), to: &ids, limit: limit, scratch: &scratch)
        } else if pieceStart < utf8.count {
            let piece = String(decoding: utf8[pieceStart...], as: UTF8.self)
            appendNormalTokens(of: Substring(piece), to: &ids, limit: limit, scratch: &scratch)
        }
    }

    private func appendNormalTokens(of text: Substring, to ids: inout [Int32], limit: Int, scratch: inout Scratch) {
        normalize(text, into: &scratch.scalars)
        // Pre-tokenize: whitespace separates words, each punctuation character is a word of its own.
        var word = scratch.word
        word.removeAll(keepingCapacity: true)
        var wordChars = 0
        for scalar in scratch.scalars {
            if ids.count >= limit { break }
            let value = scalar.value
            if Self.isWhitespace(scalar) {
                flushWord(&word, chars: &wordChars, into: &ids, limit: limit)
            } else if Self.isPunctuation(scalar) {
                flushWord(&word, chars: &wordChars, into: &ids, limit: limit)
                Self.appendUTF8(value, to: &word)
                wordChars = 1
                flushWord(&word, chars: &wordChars, into: &ids, limit: limit)
            } else {
                Self.appendUTF8(value, to: &word)
                wordChars += 1
            }
        }
        flushWord(&word, chars: &wordChars, into: &ids, limit: limit)
        scratch.word = word
    }

    /// WordPiece on one pre-tokenized word, given as UTF-8 bytes.
    private func flushWord(_ word: inout [UInt8], chars: inout Int, into ids: inout [Int32], limit: Int) {
        defer {
            word.removeAll(keepingCapacity: true)
            chars = 0
        }
        guard !word.isEmpty, ids.count < limit else { return }
        if chars > options.maxInputCharsPerWord {
            ids.append(unknownID)
            return
        }
        let mark = ids.count
        var start = 0
        while start < word.count {
            let root: Int32
            if start == 0 {
                root = 0
            } else if let continuation = continuationRoot {
                root = continuation
            } else {
                ids.removeSubrange(mark...)
                ids.append(unknownID)
                return
            }
            guard let (id, length) = trie.longestMatch(word, from: start, root: root) else {
                ids.removeSubrange(mark...)
                ids.append(unknownID)
                return
            }
            ids.append(id)
            start += length
        }
        if ids.count > limit { ids.removeSubrange(limit...) }
    }

    // MARK: Normalization

    /// `BertNormalizer`: the cleaned, CJK-spaced, accent-stripped, lowercased scalars of `text`.
    func normalize(_ text: Substring, into output: inout [Unicode.Scalar]) {
        output.removeAll(keepingCapacity: true)
        var sawNonASCII = false
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if options.cleanText {
                if value < 0x80 {
                    if value == 0x09 || value == 0x0A || value == 0x0D {
                        output.append(" ")
                        continue
                    }
                    if value < 0x20 || value == 0x7F { continue }
                } else {
                    if value == 0xFFFD || Self.isOther(scalar) { continue }
                    if scalar.properties.isWhitespace {
                        output.append(" ")
                        continue
                    }
                }
            }
            if value >= 0x80 { sawNonASCII = true }
            if options.handleChineseChars && Self.isChineseCharacter(value) {
                output.append(" ")
                output.append(scalar)
                output.append(" ")
            } else {
                output.append(scalar)
            }
        }
        if (options.stripAccents ?? options.lowercase) && sawNonASCII {
            // NFD over the whole text (so combining marks are canonically ordered), then drop `Mn` marks.
            var decomposed = String.UnicodeScalarView()
            decomposed.append(contentsOf: output)
            let nfd = String(decomposed).decomposedStringWithCanonicalMapping
            output.removeAll(keepingCapacity: true)
            for scalar in nfd.unicodeScalars where scalar.properties.generalCategory != .nonspacingMark {
                output.append(scalar)
            }
        }
        if options.lowercase {
            var lowered: [Unicode.Scalar] = []
            lowered.reserveCapacity(output.count)
            for scalar in output {
                let value = scalar.value
                if value < 0x80 {
                    lowered.append(value >= 0x41 && value <= 0x5A ? Unicode.Scalar(UInt8(value + 0x20)) : scalar)
                } else if scalar.properties.changesWhenLowercased {
                    // Character by character, as HF does (no context-dependent final sigma).
                    lowered.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
                } else {
                    lowered.append(scalar)
                }
            }
            output = lowered
        }
    }

    /// Unicode `C*`: control, format, unassigned, private use, surrogate.
    static func isOther(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .unassigned, .privateUse, .surrogate: return true
        default: return false
        }
    }

    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 { return value == 0x20 || (value >= 0x09 && value <= 0x0D) }
        return scalar.properties.isWhitespace
    }

    /// ASCII symbols count as punctuation for BERT even where Unicode calls them math or currency symbols.
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            return (value >= 33 && value <= 47) || (value >= 58 && value <= 64) || (value >= 91 && value <= 96)
                || (value >= 123 && value <= 126)
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// The CJK Unified Ideographs blocks BERT isolates (not Hiragana, Katakana or Hangul).
    static func isChineseCharacter(_ value: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(value) || (0x3400...0x4DBF).contains(value)
            || (0x20000...0x2A6DF).contains(value) || (0x2A700...0x2B73F).contains(value)
            || (0x2B740...0x2B81F).contains(value) || (0x2B920...0x2CEAF).contains(value)
            || (0xF900...0xFAFF).contains(value) || (0x2F800...0x2FA1F).contains(value)
    }

    static func appendUTF8(_ value: UInt32, to bytes: inout [UInt8]) {
        switch value {
        case 0..<0x80:
            bytes.append(UInt8(value))
        case 0x80..<0x800:
            bytes.append(UInt8(0xC0 | (value >> 6)))
            bytes.append(UInt8(0x80 | (value & 0x3F)))
        case 0x800..<0x10000:
            bytes.append(UInt8(0xE0 | (value >> 12)))
            bytes.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (value & 0x3F)))
        default:
            bytes.append(UInt8(0xF0 | (value >> 18)))
            bytes.append(UInt8(0x80 | ((value >> 12) & 0x3F)))
            bytes.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (value & 0x3F)))
        }
    }
}

/// A trie over the UTF-8 bytes of vocabulary entries, its edges in one open-addressing hash table keyed by
/// (node, byte). Node 0 is the root.
struct ByteTrie: Sendable {
    private var keys: [UInt64]
    private var children: [Int32]
    private var mask: Int
    private var used = 0
    /// Token id ending at each node, or -1.
    private(set) var tokenIDs: [Int32] = [-1]

    init(expectedNodes: Int) {
        var capacity = 1024
        while capacity < expectedNodes * 2 { capacity <<= 1 }
        keys = Array(repeating: 0, count: capacity)
        children = Array(repeating: -1, count: capacity)
        mask = capacity - 1
    }

    @inline(__always)
    private static func key(_ node: Int32, _ byte: UInt8) -> UInt64 {
        // +1 keeps 0 free as the empty-slot marker.
        (UInt64(UInt32(bitPattern: node)) << 8 | UInt64(byte)) &+ 1
    }

    @inline(__always)
    private func slot(for key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    func child(_ node: Int32, _ byte: UInt8) -> Int32? {
        let key = Self.key(node, byte)
        var index = slot(for: key)
        while true {
            let found = keys[index]
            if found == key { return children[index] }
            if found == 0 { return nil }
            index = (index + 1) & mask
        }
    }

    mutating func insert(_ bytes: [UInt8], id: Int32) {
        var node: Int32 = 0
        for byte in bytes {
            if let next = child(node, byte) {
                node = next
                continue
            }
            if (used + 1) * 2 > keys.count { grow() }
            let next = Int32(tokenIDs.count)
            tokenIDs.append(-1)
            let key = Self.key(node, byte)
            var index = slot(for: key)
            while keys[index] != 0 { index = (index + 1) & mask }
            keys[index] = key
            children[index] = next
            used += 1
            node = next
        }
        // The first id wins for duplicate spellings.
        if tokenIDs[Int(node)] < 0 { tokenIDs[Int(node)] = id }
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldChildren = children
        keys = Array(repeating: 0, count: oldKeys.count * 2)
        children = Array(repeating: -1, count: oldKeys.count * 2)
        mask = keys.count - 1
        for (index, key) in oldKeys.enumerated() where key != 0 {
            var slot = slot(for: key)
            while keys[slot] != 0 { slot = (slot + 1) & mask }
            keys[slot] = key
            children[slot] = oldChildren[index]
        }
    }

    /// The node reached by `bytes` from the root, if any.
    func walk(_ bytes: [UInt8]) -> Int32? {
        var node: Int32 = 0
        for byte in bytes {
            guard let next = child(node, byte) else { return nil }
            node = next
        }
        return node
    }

    /// The longest vocabulary entry spelled by `bytes[start...]`'s prefix, starting at `root`: its id and
    /// length in bytes. Entries are valid UTF-8, so a match always ends on a character boundary.
    func longestMatch(_ bytes: [UInt8], from start: Int, root: Int32) -> (id: Int32, length: Int)? {
        var node = root
        var best: (Int32, Int)?
        var index = start
        while index < bytes.count, let next = child(node, bytes[index]) {
            node = next
            index += 1
            let id = tokenIDs[Int(node)]
            if id >= 0 { best = (id, index - start) }
        }
        return best
    }
}
