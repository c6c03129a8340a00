import Synchronization

/// Byte-level BPE as in GPT-2, Llama 3, Qwen 2 and SmolLM (`tokenizer.ggml.model = gpt2`).
///
/// Encoding: special tokens are cut out first, the rest is split into words by the model's pre-tokenizer,
/// and each word's bytes start as single-byte tokens that are merged pairwise, lowest merge rank first
/// (leftmost first among equal ranks), until no listed merge applies.
public final class BPETokenizer: TextTokenizer {
    public let vocabulary: TokenizerVocabulary
    public let preTokenizer: PreTokenizer
    /// For each byte, the token that stands for that byte alone.
    private let byteTokens: [Int32]
    /// (left id << 32 | right id) → (rank, merged id).
    private let merges: [UInt64: MergeResult]
    /// Raw bytes of every token, for decoding.
    private let pieces: [[UInt8]]
    /// Words spelled by one vocabulary entry, for pre-tokenizers whose models skip merging such words.
    private let wholeWords: [[UInt8]: Int32]
    private let specials: SpecialTokenSplitter
    private let cache = Mutex(WordCache())

    struct MergeResult {
        var rank: Int32
        var merged: Int32
    }

    /// FNV-1a over `bytes`: stable, allocation-free, and spread well enough for a table checked on every hit.
    private static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0100_0000_01b3 }
        return h
    }

    private struct WordCache {
        var entries: [[UInt8]: [Int32]] = [:]
        static let capacity = 65_536
        static let longestCachedWord = 48
    }

    public var vocabularySize: Int { vocabulary.tokens.count }
    public var bosID: Int32? { vocabulary.bosID }
    public var eosID: Int32? { vocabulary.eosID }
    public var endOfGenerationIDs: Set<Int32> { vocabulary.endOfGenerationIDs }
    public var addsBOS: Bool { vocabulary.addsBOS }

    /// `merges` are `"left right"` pairs written in the byte-level alphabet, highest priority first.
    /// Merges naming tokens that are not in the vocabulary are ignored.
    public init(vocabulary: TokenizerVocabulary, merges mergeList: [String], preTokenizer: PreTokenizer) {
        self.vocabulary = vocabulary
        self.preTokenizer = preTokenizer
        // Token texts are looked up by a 64-bit hash of their UTF-8 bytes, checked against the text on a hit.
        // String keys made building these tables most of a model's load time (151k tokens and merges for
        // Qwen 2): String hashing normalizes Unicode and every key is a separate allocation. Tokens are byte
        // strings anyway, so two canonically equivalent spellings stay different tokens, as in llama.cpp.
        var idOfHash: [UInt64: Int32] = [:]
        idOfHash.reserveCapacity(vocabulary.tokens.count)
        var pieces: [[UInt8]] = []
        pieces.reserveCapacity(vocabulary.tokens.count)
        var distinctTokenIDs: [Int32] = []  // the first id of each spelling
        for (i, text) in vocabulary.tokens.enumerated() {
            let kind = vocabulary.kinds[i]
            switch kind {
            case .normal, .byte:
                let hash = Self.hash(text.utf8)
                if idOfHash[hash] == nil {
                    idOfHash[hash] = Int32(i)
                    distinctTokenIDs.append(Int32(i))
                }
                pieces.append(ByteLevelAlphabet.bytes(ofToken: text))
            case .userDefined:
                pieces.append(Array(text.utf8))
            case .control, .unknown, .unused:
                pieces.append([])
            }
        }
        self.pieces = pieces
        let tokens = vocabulary.tokens
        func id<Bytes: Collection<UInt8>>(of bytes: Bytes) -> Int32? {
            guard let id = idOfHash[Self.hash(bytes)], tokens[Int(id)].utf8.elementsEqual(bytes) else { return nil }
            return id
        }

        var byteTokens = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            byteTokens[b] = id(of: String(ByteLevelAlphabet.scalarForByte[b]).utf8) ?? vocabulary.unknownID ?? -1
        }
        self.byteTokens = byteTokens

        var table: [UInt64: MergeResult] = [:]
        table.reserveCapacity(mergeList.count)
        var joined: [UInt8] = []
        for (rank, line) in mergeList.enumerated() {
            var line = line
            let entry: (key: UInt64, result: MergeResult)? = line.withUTF8 { bytes in
                // The separator is the first space after the first byte (a left part may itself be a space).
                guard bytes.count > 2, let space = bytes[1...].firstIndex(of: UInt8(ascii: " ")),
                    let l = id(of: bytes[..<space]), let r = id(of: bytes[(space + 1)...])
                else { return nil }
                joined.removeAll(keepingCapacity: true)
                joined += bytes[..<space]
                joined += bytes[(space + 1)...]
                guard let m = id(of: joined) else { return nil }
                let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
                return table[key] == nil ? (key, MergeResult(rank: Int32(rank), merged: m)) : nil
            }
            if let entry { table[entry.key] = entry.result }
        }
        self.merges = table

        var whole: [[UInt8]: Int32] = [:]
        if preTokenizer == .llama3 {
            // Llama 3's tokenizer ignores merges when a whole word is itself a vocabulary entry.
            for id in distinctTokenIDs { whole[pieces[Int(id)]] = id }
        }
        self.wholeWords = whole
        self.specials = SpecialTokenSplitter(tokens: vocabulary.tokens, kinds: vocabulary.kinds)
    }

    public func encode(_ text: String, parseSpecial: Bool) -> [Int32] {
        let bytes = Array(text.utf8)
        var out: [Int32] = []
        out.reserveCapacity(bytes.count / 3 + 1)
        let fragments = specials.split(bytes, parseSpecial: parseSpecial)
        bytes.withUnsafeBufferPointer { buffer in
            for fragment in fragments {
                switch fragment {
                case .token(let id):
                    out.append(id)
                case .text(let range):
                    preTokenizer.split(buffer, range: range) { word in
                        encodeWord(UnsafeBufferPointer(rebasing: buffer[word]), into: &out)
                    }
                }
            }
        }
        return out
    }

    public func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        for id in ids { bytes.append(contentsOf: tokenPiece(id)) }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func tokenPiece(_ id: Int32) -> [UInt8] {
        guard vocabulary.contains(id) else { return [] }
        return pieces[Int(id)]
    }

    /// Appends the tokens of one pre-tokenized word.
    private func encodeWord(_ word: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) {
        if word.isEmpty { return }
        if word.count == 1 {
            appendValid(byteTokens[Int(word[0])], to: &out)
            return
        }
        let cacheable = word.count <= WordCache.longestCachedWord
        let key = cacheable ? Array(word) : []
        if cacheable, let hit = cache.withLock({ $0.entries[key] }) {
            out.append(contentsOf: hit)
            return
        }
        var ids: [Int32]
        if !wholeWords.isEmpty, let whole = wholeWords[cacheable ? key : Array(word)] {
            ids = [whole]
        } else {
            // Bytes the vocabulary cannot spell come out as -1; drop them before the cache keeps them.
            ids = merge(word).filter { $0 >= 0 }
        }
        if cacheable {
            cache.withLock { cache in
                if cache.entries.count >= WordCache.capacity { cache.entries.removeAll(keepingCapacity: true) }
                cache.entries[key] = ids
            }
        }
        out.append(contentsOf: ids)
    }

    private func appendValid(_ id: Int32, to out: inout [Int32]) {
        if id >= 0 { out.append(id) }
    }

    /// Applies merges to a word's bytes with a heap of candidate pairs over a linked list of symbols:
    /// O(n log n) in the word length, so pathological words (a megabyte without spaces) stay fast.
    private func merge(_ word: UnsafeBufferPointer<UInt8>) -> [Int32] {
        let n = word.count
        var ids = word.map { byteTokens[Int($0)] }
        var prev = Array(-1..<(n - 1))
        var next = Array(1...n)
        next[n - 1] = -1
        var alive = [Bool](repeating: true, count: n)
        func candidate(_ left: Int) -> PairHeap.Entry? {
            let right = next[left]
            guard left >= 0, right >= 0 else { return nil }
            let key = UInt64(UInt32(bitPattern: ids[left])) << 32 | UInt64(UInt32(bitPattern: ids[right]))
            guard let m = merges[key] else { return nil }
            return PairHeap.Entry(rank: m.rank, left: Int32(left), leftID: ids[left], rightID: ids[right], merged: m.merged)
        }
        var heap = PairHeap(unordered: (0..<(n - 1)).compactMap(candidate))
        func consider(_ left: Int) {
            if let c = candidate(left) { heap.push(c) }
        }

        while let top = heap.pop() {
            let left = Int(top.left)
            // Skip entries made stale by an earlier merge of either symbol.
            guard alive[left], ids[left] == top.leftID else { continue }
            let right = next[left]
            guard right >= 0, ids[right] == top.rightID else { continue }
            ids[left] = top.merged
            alive[right] = false
            next[left] = next[right]
            if next[right] >= 0 { prev[next[right]] = left }
            if prev[left] >= 0 { consider(prev[left]) }
            consider(left)
        }
        var result: [Int32] = []
        var i = 0
        while i >= 0 {
            result.append(ids[i])
            i = next[i]
        }
        return result
    }
}

/// A binary min-heap of merge candidates ordered by rank, then by position.
private struct PairHeap {
    struct Entry {
        var rank: Int32
        var left: Int32
        var leftID: Int32
        var rightID: Int32
        var merged: Int32
        func precedes(_ o: Entry) -> Bool { rank != o.rank ? rank < o.rank : left < o.left }
    }
    private var items: [Entry]

    /// Builds the heap bottom-up in linear time.
    init(unordered: [Entry]) {
        items = unordered
        var i = items.count / 2 - 1
        while i >= 0 {
            siftDown(i)
            i -= 1
        }
    }

    mutating func push(_ e: Entry) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].precedes(items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            siftDown(0)
        }
        return first
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var best = i
            if l < items.count && items[l].precedes(items[best]) { best = l }
            if r < items.count && items[r].precedes(items[best]) { best = r }
            if best == i { return }
            items.swapAt(i, best)
            i = best
        }
    }
}
