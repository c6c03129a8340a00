/// Splits text into the words that byte-level BPE merges within, following the regular expression each
/// model family was trained with (`tokenizer.ggml.pre`).
///
/// The expressions are evaluated by hand-written scanners rather than a regex engine: one pass over the
/// characters, no backtracking, so a multi-megabyte line splits in linear time. The patterns (as llama.cpp
/// and Hugging Face `tokenizers` define them):
///
/// - `gpt2`: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// - `smollm` (and StarCoder-like vocabularies): every `\p{N}` is first cut out on its own, then the
///   stretches between digits are split with the `gpt2` pattern.
/// - `llama3`: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
/// - `qwen2`: as `llama3` but numbers are single digits, `\p{N}`.
public enum PreTokenizer: Sendable, Equatable {
    case gpt2
    case smollm
    case llama3
    case qwen2

    /// The scanner for a `tokenizer.ggml.pre` value; unknown names fall back to `gpt2`, as llama.cpp does.
    public init(ggmlName: String) {
        switch ggmlName {
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b": self = .smollm
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "tekken": self = .llama3
        case "qwen2", "deepseek-r1-qwen", "stablelm2", "hunyuan": self = .qwen2
        default: self = .gpt2
        }
    }

    /// Calls `emit` with the byte range of each word of `bytes[range]`, in order, covering the range.
    /// `bytes` must be valid UTF-8 and `range` must start and end on character boundaries.
    func split(_ bytes: UnsafeBufferPointer<UInt8>, range: Range<Int>, emit: (Range<Int>) -> Void) {
        let text = ScalarText(bytes: bytes, range: range)
        switch self {
        case .gpt2:
            text.scanGPT2(0..<text.count, emit: emit)
        case .smollm:
            var start = 0
            for i in 0..<text.count where text.classes[i] & CharClass.number != 0 {
                if i > start { text.scanGPT2(start..<i, emit: emit) }
                emit(text.byteRange(i..<(i + 1)))
                start = i + 1
            }
            if start < text.count { text.scanGPT2(start..<text.count, emit: emit) }
        case .llama3:
            text.scanLlama3(0..<text.count, maxDigits: 3, emit: emit)
        case .qwen2:
            text.scanLlama3(0..<text.count, maxDigits: 1, emit: emit)
        }
    }
}

/// Character classes as bit flags, so one table lookup answers every question a pattern asks.
enum CharClass {
    static let letter: UInt8 = 1  // \p{L}
    static let number: UInt8 = 2  // \p{N}
    static let space: UInt8 = 4  // \s (Unicode White_Space)
    static let newline: UInt8 = 8  // \r or \n
    static let blank: UInt8 = 16  // the literal ' ' of ` ?`
    static let apostrophe: UInt8 = 32
    /// `[^\s\p{L}\p{N}]`
    static func isOther(_ c: UInt8) -> Bool { c & (letter | number | space) == 0 }

    private static let ascii: [UInt8] = (0..<128).map { classify(Unicode.Scalar(UInt8($0))) }

    static func of(_ scalar: Unicode.Scalar) -> UInt8 {
        scalar.value < 128 ? ascii[Int(scalar.value)] : classify(scalar)
    }

    private static func classify(_ scalar: Unicode.Scalar) -> UInt8 {
        var c: UInt8 = 0
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: c |= letter
        case .decimalNumber, .letterNumber, .otherNumber: c |= number
        default: break
        }
        if scalar.properties.isWhitespace { c |= space }
        switch scalar.value {
        case 0x0A, 0x0D: c |= newline
        case 0x20: c |= blank
        case 0x27: c |= apostrophe
        default: break
        }
        return c
    }
}

/// A fragment of UTF-8 decoded into characters, their classes and their byte offsets.
private struct ScalarText {
    var values: [UInt32] = []
    var classes: [UInt8] = []
    /// Byte offset of each character, plus one past the end.
    var offsets: [Int] = []
    var count: Int { values.count }

    init(bytes: UnsafeBufferPointer<UInt8>, range: Range<Int>) {
        values.reserveCapacity(range.count)
        classes.reserveCapacity(range.count)
        offsets.reserveCapacity(range.count + 1)
        var i = range.lowerBound
        while i < range.upperBound {
            let b0 = bytes[i]
            var length = 1
            var value = UInt32(b0)
            if b0 >= 0xF0, i + 3 < range.upperBound {
                length = 4
                value = (UInt32(b0 & 0x07) << 18) | (UInt32(bytes[i + 1] & 0x3F) << 12)
                    | (UInt32(bytes[i + 2] & 0x3F) << 6) | UInt32(bytes[i + 3] & 0x3F)
            } else if b0 >= 0xE0, i + 2 < range.upperBound {
                length = 3
                value = (UInt32(b0 & 0x0F) << 12) | (UInt32(bytes[i + 1] & 0x3F) << 6) | UInt32(bytes[i + 2] & 0x3F)
            } else if b0 >= 0xC0, i + 1 < range.upperBound {
                length = 2
                value = (UInt32(b0 & 0x1F) << 6) | UInt32(bytes[i + 1] & 0x3F)
            }
            let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
            values.append(value)
            classes.append(CharClass.of(scalar))
            offsets.append(i)
            i += length
        }
        offsets.append(range.upperBound)
    }

    func byteRange(_ r: Range<Int>) -> Range<Int> { offsets[r.lowerBound]..<offsets[r.upperBound] }

    /// ASCII-lowercased character at `i` (for the case-insensitive contractions), or 0 past `end`.
    private func lower(_ i: Int, _ end: Int, caseInsensitive: Bool) -> UInt32 {
        guard i < end else { return 0 }
        let v = values[i]
        return caseInsensitive && v >= 65 && v <= 90 ? v + 32 : v
    }

    /// Length of a contraction (`'s`, `'ll`…) starting at `i`, or 0.
    private func contraction(at i: Int, _ end: Int, caseInsensitive: Bool) -> Int {
        guard classes[i] & CharClass.apostrophe != 0 else { return 0 }
        let a = lower(i + 1, end, caseInsensitive: caseInsensitive)
        let b = lower(i + 2, end, caseInsensitive: caseInsensitive)
        switch (a, b) {
        case (0x72, 0x65), (0x76, 0x65), (0x6C, 0x6C): return 3  // re ve ll
        default: break
        }
        switch a {
        case 0x73, 0x74, 0x6D, 0x64: return 2  // s t m d
        default: return 0
        }
    }

    private func run(from i: Int, _ end: Int, while flag: UInt8) -> Int {
        var j = i
        while j < end && classes[j] & flag != 0 { j += 1 }
        return j
    }

    private func runOfOther(from i: Int, _ end: Int) -> Int {
        var j = i
        while j < end && CharClass.isOther(classes[j]) { j += 1 }
        return j
    }

    /// End of a whitespace word starting at `i` under `\s+(?!\S)|\s+`.
    private func whitespaceEnd(from i: Int, _ end: Int) -> Int {
        let runEnd = run(from: i, end, while: CharClass.space)
        if runEnd == end || runEnd - i == 1 { return runEnd }
        return runEnd - 1  // leave the last blank to lead the next word
    }

    func scanGPT2(_ range: Range<Int>, emit: (Range<Int>) -> Void) {
        let end = range.upperBound
        var i = range.lowerBound
        while i < end {
            let c = classes[i]
            var j: Int
            let next: UInt8 = i + 1 < end ? classes[i + 1] : 0
            let contractionLength = contraction(at: i, end, caseInsensitive: false)
            if contractionLength > 0 {
                j = i + contractionLength
            } else if c & CharClass.letter != 0 || (c & CharClass.blank != 0 && next & CharClass.letter != 0) {
                j = run(from: c & CharClass.letter != 0 ? i : i + 1, end, while: CharClass.letter)
            } else if c & CharClass.number != 0 || (c & CharClass.blank != 0 && next & CharClass.number != 0) {
                j = run(from: c & CharClass.number != 0 ? i : i + 1, end, while: CharClass.number)
            } else if CharClass.isOther(c)
                || (c & CharClass.blank != 0 && i + 1 < end && CharClass.isOther(next))
            {
                j = runOfOther(from: CharClass.isOther(c) ? i : i + 1, end)
            } else {
                j = whitespaceEnd(from: i, end)
            }
            emit(byteRange(i..<j))
            i = j
        }
    }

    func scanLlama3(_ range: Range<Int>, maxDigits: Int, emit: (Range<Int>) -> Void) {
        let end = range.upperBound
        var i = range.lowerBound
        while i < end {
            let c = classes[i]
            var j: Int
            let next: UInt8 = i + 1 < end ? classes[i + 1] : 0
            let contractionLength = contraction(at: i, end, caseInsensitive: true)
            if contractionLength > 0 {
                j = i + contractionLength
            } else if c & CharClass.letter != 0
                || (c & (CharClass.newline | CharClass.number) == 0 && next & CharClass.letter != 0)
            {
                // [^\r\n\p{L}\p{N}]?\p{L}+
                j = run(from: c & CharClass.letter != 0 ? i : i + 1, end, while: CharClass.letter)
            } else if c & CharClass.number != 0 {
                j = i + 1
                while j < end && j - i < maxDigits && classes[j] & CharClass.number != 0 { j += 1 }
            } else if CharClass.isOther(c)
                || (c & CharClass.blank != 0 && i + 1 < end && CharClass.isOther(next))
            {
                // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
                j = runOfOther(from: CharClass.isOther(c) ? i : i + 1, end)
                j = run(from: j, end, while: CharClass.newline)
            } else {
                // `\s*[\r\n]+` ends after the last line break of the blank run; otherwise `\s+(?!\S)|\s+`.
                let runEnd = run(from: i, end, while: CharClass.space)
                var lastBreak = -1
                var k = runEnd - 1
                while k >= i {
                    if classes[k] & CharClass.newline != 0 {
                        lastBreak = k
                        break
                    }
                    k -= 1
                }
                j = lastBreak >= 0 ? lastBreak + 1 : whitespaceEnd(from: i, end)
            }
            emit(byteRange(i..<j))
            i = j
        }
    }
}
