/// Turns a stream of token ids into text pieces that are always whole UTF-8 characters.
///
/// A byte-level token can end in the middle of a multi-byte character (an emoji often spans two or three
/// tokens). Bytes of an unfinished character are held back until the token that completes it arrives;
/// bytes that can never form a character come out as U+FFFD.
public struct TokenTextDecoder: Sendable {
    public let tokenizer: any TextTokenizer
    private var pending: [UInt8] = []

    public init(tokenizer: any TextTokenizer) {
        self.tokenizer = tokenizer
    }

    /// The text that token `id` completes; may be empty while a character is unfinished.
    public mutating func append(_ id: Int32) -> String {
        pending.append(contentsOf: tokenizer.tokenPiece(id))
        let cut = Self.completePrefixLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Whatever is still held back, with unfinished characters replaced by U+FFFD.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the longest prefix that does not end inside a character that may still be completed.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        // A character is at most 4 bytes, so only the last 3 can belong to an unfinished one.
        var i = n - 1
        while i >= 0 && i >= n - 4 {
            let b = bytes[i]
            if b & 0xC0 != 0x80 {  // lead byte or ASCII
                let needed: Int
                switch b {
                case 0xC2...0xDF: needed = 2
                case 0xE0...0xEF: needed = 3
                case 0xF0...0xF4: needed = 4
                default: needed = 1
                }
                return n - i < needed ? i : n
            }
            i -= 1
        }
        return n
    }
}
