/// Cuts text into plain-text stretches and special tokens written out literally (`<|im_start|>`).
///
/// Candidates are tried longest first, each splitting what earlier ones left as text — the order llama.cpp
/// uses — so `<|im_start|>` is never split into `<|im_start` + `|>` by a shorter token that is a prefix of it.
struct SpecialTokenSplitter: Sendable {
    enum Fragment: Equatable {
        case text(Range<Int>)
        case token(Int32)
    }

    private let alwaysParsed: [(bytes: [UInt8], id: Int32)]
    private let parsedOnRequest: [(bytes: [UInt8], id: Int32)]

    /// User-defined tokens are always matched (they are ordinary words the vocabulary keeps whole, as in
    /// llama.cpp); control tokens only when the caller asks for special-token parsing.
    init(tokens: [String], kinds: [TokenKind]) {
        var always: [(bytes: [UInt8], id: Int32)] = []
        var onRequest: [(bytes: [UInt8], id: Int32)] = []
        for (i, kind) in kinds.enumerated() {
            let bytes = Array(tokens[i].utf8)
            guard !bytes.isEmpty else { continue }
            switch kind {
            case .userDefined: always.append((bytes, Int32(i)))
            case .control: onRequest.append((bytes, Int32(i)))
            default: continue
            }
        }
        alwaysParsed = always
        parsedOnRequest = onRequest
    }

    func split(_ bytes: [UInt8], parseSpecial: Bool) -> [Fragment] {
        var candidates = alwaysParsed
        if parseSpecial { candidates += parsedOnRequest }
        candidates.sort { $0.bytes.count != $1.bytes.count ? $0.bytes.count > $1.bytes.count : $0.id < $1.id }
        var fragments: [Fragment] = bytes.isEmpty ? [] : [.text(0..<bytes.count)]
        for candidate in candidates {
            var next: [Fragment] = []
            next.reserveCapacity(fragments.count)
            for fragment in fragments {
                guard case .text(let range) = fragment else {
                    next.append(fragment)
                    continue
                }
                var start = range.lowerBound
                var position = range.lowerBound
                while let found = Self.find(candidate.bytes, in: bytes, from: position, before: range.upperBound) {
                    if found > start { next.append(.text(start..<found)) }
                    next.append(.token(candidate.id))
                    position = found + candidate.bytes.count
                    start = position
                }
                if start < range.upperBound { next.append(.text(start..<range.upperBound)) }
            }
            fragments = next
        }
        return fragments
    }

    /// First index ≥ `from` where `needle` occurs entirely before `end`.
    private static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int, before end: Int) -> Int? {
        guard let first = needle.first, end - from >= needle.count else { return nil }
        return haystack.withUnsafeBufferPointer { hay in
            needle.withUnsafeBufferPointer { ndl in
                var i = from
                let last = end - ndl.count
                while i <= last {
                    if hay[i] == first {
                        var j = 1
                        while j < ndl.count && hay[i + j] == ndl[j] { j += 1 }
                        if j == ndl.count { return i }
                    }
                    i += 1
                }
                return nil
            }
        }
    }
}
