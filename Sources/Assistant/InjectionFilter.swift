import Foundation

/// Withholds instruction-like sentences of retrieved text from the prompt.
///
/// Fences and the system prompt tell the model that sources are data, but a 135M–0.5B model follows or
/// copies whatever text is in front of it. So sentences that address an AI rather than a reader ("ignore all
/// previous instructions", "you are now in admin mode", "reply only with …", chat-role markers) are replaced
/// by a placeholder before the text reaches the model: it can neither obey nor repeat them. Only the prompt
/// is filtered; the stored chunk (and so every quote) stays verbatim.
public enum InjectionFilter {
    public static let placeholder = "[instruction-like text withheld]"

    /// Lowercased phrases that mark a sentence as an instruction to a model.
    static let phrases = [
        "ignore all previous", "ignore previous", "ignore the previous", "ignore all prior", "ignore prior",
        "ignore the above", "ignore all above", "ignore your instructions", "ignore the user", "disregard all previous",
        "disregard previous", "disregard the above", "disregard prior", "forget all previous", "forget your instructions",
        "new instructions:", "you are now", "reply only with", "respond only with", "answer only with",
        "admin mode", "developer mode", "system prompt", "do not tell the user", "don't tell the user",
        "<|im_start|>", "<|im_end|>", "<|system|>", "<|endoftext|>", "[inst]", "<<sys>>",
    ]

    /// Role labels that mark an instruction only when they open a sentence ("SYSTEM: you are…").
    static let rolePrefixes = ["system:", "assistant:", "user:"]

    static func isInstruction(_ sentence: String) -> Bool {
        let lowered = sentence.lowercased()
        if phrases.contains(where: { lowered.contains($0) }) { return true }
        let start = lowered.drop { !$0.isLetter }
        return rolePrefixes.contains { start.hasPrefix($0) }
    }

    /// `text` with every sentence containing an instruction phrase replaced by `placeholder`.
    public static func withhold(_ text: String) -> String {
        guard flags(text) else { return text }
        var out = ""
        var from = text.startIndex
        for range in LexicalText.sentenceRanges(in: text) {
            guard isInstruction(String(text[range])) else { continue }
            out += text[from..<range.lowerBound]
            if !out.hasSuffix(placeholder + " ") && !out.hasSuffix(placeholder + "\n") && !out.hasSuffix(placeholder) {
                out += placeholder
            }
            from = range.upperBound
        }
        return out + text[from...]
    }

    /// Whether `text` contains anything `withhold` would remove.
    public static func flags(_ text: String) -> Bool {
        LexicalText.sentenceRanges(in: text).contains { isInstruction(String(text[$0])) }
    }
}
