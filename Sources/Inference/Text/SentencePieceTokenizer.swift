import Foundation

/// SentencePiece-style BPE over characters with per-token scores (`tokenizer.ggml.model = llama`), as used
/// by Llama 1/2, Mistral and Gemma GGUF files.
///
/// Spaces are written as `▁` (U+2581) and, with `addSpacePrefix`, text after the start or a special token
/// gets a leading space. Adjacent pieces are merged highest score first while the merged text is a
/// vocabulary entry; characters the vocabulary lacks fall back to byte tokens `<0xXX>` (or the unknown id).
public final class SentencePieceTokenizer: TextTokenizer {
    public let vocabulary: TokenizerVocabulary
    public let addSpacePrefix: Bool
    private let scores: [Float]
    private let idOfText: [String: Int32]
    private let byteTokens: [Int32]
    private let pieces: [[UInt8]]
    private let specials: SpecialTokenSplitter

    public var vocabularySize: Int { vocabulary.tokens.count }
    public var bosID: Int32? { vocabulary.bosID }
    public var eosID: Int32? { vocabulary.eosID }
    public var endOfGenerationIDs: Set<Int32> { vocabulary.endOfGenerationIDs }
    public var addsBOS: Bool { vocabulary.addsBOS }

    public init(vocabulary: TokenizerVocabulary, scores: [Float], addSpacePrefix: Bool) {
        self.vocabulary = vocabulary
        self.addSpacePrefix = addSpacePrefix
        self.scores = scores
        var idOfText: [String: Int32] = [:]
        var byteTokens = [Int32](repeating: -1, count: 256)
        var pieces: [[UInt8]] = []
        pieces.reserveCapacity(vocabulary.tokens.count)
        for (i, text) in vocabulary.tokens.enumerated() {
            switch vocabulary.kinds[i] {
            case .normal, .userDefined:
                if idOfText[text] == nil { idOfText[text] = Int32(i) }
                pieces.append(Array(text.replacingOccurrences(of: "\u{2581}", with: " ").utf8))
            case .byte:
                if let b = Self.byteValue(of: text) {
                    byteTokens[Int(b)] = Int32(i)
                    pieces.append([b])
                } else {
                    pieces.append([])
                }
            case .control, .unknown, .unused:
                pieces.append([])
            }
        }
        self.idOfText = idOfText
        self.byteTokens = byteTokens
        self.pieces = pieces
        self.specials = SpecialTokenSplitter(tokens: vocabulary.tokens, kinds: vocabulary.kinds)
    }

    /// The byte of a `<0xAB>` token.
    static func byteValue(of text: String) -> UInt8? {
        guard text.count == 6, text.hasPrefix("<0x"), text.hasSuffix(">") else { return nil }
        return UInt8(text.dropFirst(3).prefix(2), radix: 16)
    }

    public func encode(_ text: String, parseSpecial: Bool) -> [Int32] {
        let bytes = Array(text.utf8)
        var out: [Int32] = []
        var afterSpecial = true
        for fragment in specials.split(bytes, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id):
                out.append(id)
                afterSpecial = true
            case .text(let range):
                var piece = String(decoding: bytes[range], as: UTF8.self)
                if addSpacePrefix && afterSpecial { piece = " " + piece }
                encodeText(piece.replacingOccurrences(of: " ", with: "\u{2581}"), into: &out)
                afterSpecial = false
            }
        }
        return out
    }

    public func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        for id in ids { bytes.append(contentsOf: tokenPiece(id)) }
        if addSpacePrefix, bytes.first == UInt8(ascii: " ") { bytes.removeFirst() }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func tokenPiece(_ id: Int32) -> [UInt8] {
        guard vocabulary.contains(id) else { return [] }
        return pieces[Int(id)]
    }

    private struct Symbol {
        var text: Substring
        var prev: Int
        var next: Int
    }

    private struct Candidate {
        var score: Float
        var left: Int
        var right: Int
        var length: Int
        func precedes(_ o: Candidate) -> Bool { score != o.score ? score > o.score : left < o.left }
    }

    private func encodeText(_ text: String, into out: inout [Int32]) {
        var symbols: [Symbol] = []
        var index = text.startIndex
        while index < text.endIndex {
            let end = text.unicodeScalars.index(after: index)
            symbols.append(Symbol(text: text[index..<end], prev: symbols.count - 1, next: symbols.count + 1))
            index = end
        }
        guard !symbols.isEmpty else { return }
        symbols[symbols.count - 1].next = -1

        var queue: [Candidate] = []
        func consider(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let joined = String(symbols[left].text) + String(symbols[right].text)
            guard let id = idOfText[joined] else { return }
            queue.append(
                Candidate(score: scores[Int(id)], left: left, right: right, length: joined.utf8.count))
            var i = queue.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard queue[i].precedes(queue[parent]) else { break }
                queue.swapAt(i, parent)
                i = parent
            }
        }
        func pop() -> Candidate? {
            guard let first = queue.first else { return nil }
            let last = queue.removeLast()
            if !queue.isEmpty {
                queue[0] = last
                var i = 0
                while true {
                    let l = 2 * i + 1
                    var best = i
                    if l < queue.count && queue[l].precedes(queue[best]) { best = l }
                    if l + 1 < queue.count && queue[l + 1].precedes(queue[best]) { best = l + 1 }
                    if best == i { break }
                    queue.swapAt(i, best)
                    i = best
                }
            }
            return first
        }
        for i in 1..<symbols.count { consider(i - 1, i) }

        while let c = pop() {
            let l = symbols[c.left]
            let r = symbols[c.right]
            // Stale when either side has been merged into something else since the candidate was queued.
            guard !l.text.isEmpty, !r.text.isEmpty, l.next == c.right,
                l.text.utf8.count + r.text.utf8.count == c.length
            else { continue }
            symbols[c.left].text = text[l.text.startIndex..<r.text.endIndex]
            symbols[c.left].next = r.next
            symbols[c.right].text = text[r.text.endIndex..<r.text.endIndex]
            if r.next >= 0 { symbols[r.next].prev = c.left }
            consider(l.prev, c.left)
            consider(c.left, r.next)
        }

        var i = 0
        while i >= 0 {
            let piece = String(symbols[i].text)
            if let id = idOfText[piece] {
                out.append(id)
            } else {
                for b in piece.utf8 {
                    let id = byteTokens[Int(b)]
                    if id >= 0 {
                        out.append(id)
                    } else if let unknown = vocabulary.unknownID {
                        out.append(unknown)
                    }
                }
            }
            i = symbols[i].next
        }
    }
}
