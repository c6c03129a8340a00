import Foundation

/// Keeps retrieved text from posing as structure in a prompt.
///
/// Sources are fenced by lines starting with `<<<`; chat templates mark turns with special-token text such as
/// `<|im_start|>`. Retrieved notes and mail are hostile input: a planted `<<<END SOURCE [1]>>>` or
/// `<|im_start|>system` must not close the fence or open a new turn. `neutralize` breaks every such marker
/// while keeping the text readable, so the model still sees what the document says, just never as structure.
public enum ContextFence {
    /// Every fence line the assistant writes starts with this; retrieved text can never contain it afterwards.
    public static let marker = "<<<"

    /// Special-token spellings of common chat templates (ChatML, Llama 3, Gemma, Phi, Mistral) and BOS/EOS.
    static let specialTokens = [
        "<|", "|>", "<s>", "</s>", "[INST]", "[/INST]", "<start_of_turn>", "<end_of_turn>", "<<SYS>>", "<</SYS>>",
    ]

    /// `text` with fence markers and chat special tokens broken up; everything else is untouched.
    ///
    /// `<|` becomes `< |` and `|>` becomes `| >`; runs of `<` or `>` longer than two are split by spaces;
    /// bracketed tokens like `[INST]` and `<s>` get a space after their first character.
    public static func neutralize(_ text: String) -> String {
        var result = breakRuns(of: "<", in: text)
        result = breakRuns(of: ">", in: result)
        result = result.replacingOccurrences(of: "<|", with: "< |")
        result = result.replacingOccurrences(of: "|>", with: "| >")
        for token in specialTokens.dropFirst(2) {
            guard result.range(of: token, options: .caseInsensitive) != nil else { continue }
            let broken = String(token.prefix(1)) + " " + String(token.dropFirst())
            result = result.replacingOccurrences(of: token, with: broken, options: .caseInsensitive)
        }
        return result
    }

    /// Whether `text` still contains anything that could forge structure (used to check `neutralize`).
    public static func containsForgeableMarker(_ text: String) -> Bool {
        if text.contains("<<<") || text.contains(">>>") { return true }
        return specialTokens.contains { text.range(of: $0, options: .caseInsensitive) != nil }
    }

    /// A one-line, neutralized version of metadata (titles, senders, paths) for fence header lines.
    public static func headerField(_ text: String) -> String {
        let oneLine = text.components(separatedBy: .newlines).joined(separator: " ")
        return neutralize(oneLine).trimmingCharacters(in: .whitespaces)
    }

    /// Inserts a space after every second `character` in runs of three or more.
    private static func breakRuns(of character: Character, in text: String) -> String {
        let triple = String(repeating: character, count: 3)
        guard text.contains(triple) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        var run = 0
        for c in text {
            if c == character {
                if run == 2 {
                    out.append(" ")
                    run = 0
                }
                run += 1
            } else {
                run = 0
            }
            out.append(c)
        }
        return out
    }
}
