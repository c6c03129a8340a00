import Foundation

/// Helpers the HTTP backends share: the token estimate and vector normalisation.
enum RemoteText {
    /// `texts` in consecutive slices of at most `size`, the request size of the embedding endpoints.
    static func batches(_ texts: [String], size: Int) -> [[String]] {
        stride(from: 0, to: texts.count, by: max(1, size)).map { Array(texts[$0..<min($0 + max(1, size), texts.count)]) }
    }

    /// Remote servers do not expose their tokenizer over a stable API, so token counts are estimated as
    /// one token per four characters (rounded up), the usual rule of thumb for English text with BPE
    /// vocabularies. It errs on the generous side for prose and is only used to pack context.
    static func estimatedTokens(_ text: String) -> Int {
        (text.count + 3) / 4
    }

    /// `vector` scaled to unit length; a zero vector stays zero.
    static func normalized(_ vector: [Float]) -> [Float] {
        var sum: Float = 0
        for value in vector { sum += value * value }
        guard sum > 0, sum.isFinite else { return vector }
        let scale = 1 / sum.squareRoot()
        return vector.map { $0 * scale }
    }

    /// Parses a JSON array of numbers into floats, or nil if anything else is in it.
    static func floats(_ value: Any?) -> [Float]? {
        guard let array = value as? [Any] else { return nil }
        var result: [Float] = []
        result.reserveCapacity(array.count)
        for element in array {
            // (On Linux a JSON 0 or 1 also casts to Bool, so booleans cannot be told apart here; harmless.)
            guard let number = element as? NSNumber else { return nil }
            result.append(number.floatValue)
        }
        return result
    }

    /// The wire form of a chat message: `{"role": …, "content": …}`.
    static func messagePayload(_ messages: [ChatMessage]) -> [[String: String]] {
        messages.map { ["role": $0.role.rawValue, "content": $0.content] }
    }
}
