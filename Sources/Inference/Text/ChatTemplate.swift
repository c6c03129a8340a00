import Foundation

/// The conversation formats assist knows how to write.
public enum ChatTemplateFamily: String, Sendable, CaseIterable {
    /// `<|im_start|>role\n…<|im_end|>` — Qwen, SmolLM, many fine-tunes.
    case chatML = "chatml"
    /// `<|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|>` — Llama 3.
    case llama3
    /// `<start_of_turn>user\n…<end_of_turn>` — Gemma (no system role; it is folded into the first turn).
    case gemma
    /// `[INST] <<SYS>>…<</SYS>> … [/INST]` — Llama 2, Mistral.
    case llama2
    /// `<|user|>\n…<|end|>` — Phi-3.
    case phi3
    /// `User: …` / `Assistant: …` for models without a known format.
    case plain
}

/// How a model wants a conversation written, recognised from its `tokenizer.chat_template`.
///
/// Jinja is not evaluated: the template source is matched against the markers of known families and the
/// family's layout is reproduced. `renderTokens` is what generation should use: it tokenizes the markers
/// as special tokens and the messages' content as plain text, so text in a note or an email that happens
/// to read `<|im_end|>` can never act as a control token.
public struct ChatTemplate: Sendable, Equatable {
    public var family: ChatTemplateFamily
    /// The system message the model's own template writes when a conversation has none (Qwen's "You are
    /// Qwen, created by Alibaba Cloud…", SmolLM's "You are a helpful AI assistant named SmolLM…"), if any.
    public var defaultSystemPrompt: String?
    /// Whether `render` writes `defaultSystemPrompt` when no system message is given. Off by default, the
    /// way llama.cpp's built-in ChatML formatting (and so the reference fixtures) behaves; turn it on to
    /// reproduce the Jinja template exactly.
    public var appliesDefaultSystemPrompt: Bool
    /// Why the family was guessed rather than recognised, or nil when the template was recognised.
    public var fallbackReason: String?

    public init(
        family: ChatTemplateFamily, defaultSystemPrompt: String? = nil, appliesDefaultSystemPrompt: Bool = false,
        fallbackReason: String? = nil
    ) {
        self.family = family
        self.defaultSystemPrompt = defaultSystemPrompt
        self.appliesDefaultSystemPrompt = appliesDefaultSystemPrompt
        self.fallbackReason = fallbackReason
    }

    /// Recognises the family from a template's source; falls back to ChatML when the vocabulary has
    /// `<|im_start|>`, else to the plain form, and says why in `fallbackReason`.
    public init(templateSource: String?, vocabulary: [String]) {
        let hasChatMLTokens = vocabulary.contains("<|im_start|>")
        guard let source = templateSource, !source.isEmpty else {
            self.init(
                family: hasChatMLTokens ? .chatML : .plain,
                fallbackReason: hasChatMLTokens
                    ? "the model has no chat template; its vocabulary has <|im_start|>, so ChatML is used"
                    : "the model has no chat template and no known chat tokens; a plain User:/Assistant: form is used")
            return
        }
        let markers: [(String, ChatTemplateFamily)] = [
            ("<|start_header_id|>", .llama3), ("<start_of_turn>", .gemma), ("<|im_start|>", .chatML),
            ("<|user|>", .phi3), ("[INST]", .llama2),
        ]
        if let found = markers.first(where: { source.contains($0.0) }) {
            self.init(family: found.1, defaultSystemPrompt: Self.defaultSystemPrompt(in: source, family: found.1))
        } else {
            self.init(
                family: hasChatMLTokens ? .chatML : .plain,
                fallbackReason: hasChatMLTokens
                    ? "the chat template is not one assist recognises; its vocabulary has <|im_start|>, so ChatML is used"
                    : "the chat template is not one assist recognises; a plain User:/Assistant: form is used")
        }
    }

    /// The template of a GGUF model file.
    public init(gguf: GGUFFile) {
        self.init(
            templateSource: gguf.string("tokenizer.chat_template"),
            vocabulary: gguf.stringArray("tokenizer.ggml.tokens") ?? [])
    }

    /// Strings that end the assistant's turn when they appear in generated text.
    public var stopStrings: [String] {
        switch family {
        case .chatML: ["<|im_end|>", "<|endoftext|>", "<|im_start|>"]
        case .llama3: ["<|eot_id|>", "<|end_of_text|>", "<|start_header_id|>"]
        case .gemma: ["<end_of_turn>", "<start_of_turn>"]
        case .llama2: ["</s>", "[INST]"]
        case .phi3: ["<|end|>", "<|endoftext|>", "<|user|>"]
        case .plain: ["\nUser:", "\nSystem:"]
        }
    }

    /// The prompt as text, markers written out (encode it with `parseSpecial: true`). Prefer
    /// `renderTokens` for generation: it keeps message content from being read as markers.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> String {
        segments(messages, addGenerationPrompt: addGenerationPrompt).map(\.text).joined()
    }

    /// The prompt as token ids: markers parsed as special tokens, message content never. BOS is not added;
    /// prepend `tokenizer.bosID` when `tokenizer.addsBOS`.
    public func renderTokens(
        _ messages: [ChatMessage], tokenizer: any TextTokenizer, addGenerationPrompt: Bool = true
    ) -> [Int32] {
        // Plain text is gathered across marker/content boundaries and tokenized in one go, exactly as the
        // whole rendered string would be between its special tokens.
        var ids: [Int32] = []
        var plain = ""
        for segment in segments(messages, addGenerationPrompt: addGenerationPrompt) {
            switch segment {
            case .special(let marker):
                ids += tokenizer.encode(plain, parseSpecial: false)
                plain = ""
                ids += tokenizer.encode(marker, parseSpecial: true)
            case .text(let text):
                plain += text
            }
        }
        ids += tokenizer.encode(plain, parseSpecial: false)
        return ids
    }

    /// The whole prompt for generation: `renderTokens` with BOS in front when the model expects one.
    public func promptTokens(_ messages: [ChatMessage], tokenizer: any TextTokenizer) -> [Int32] {
        let body = renderTokens(messages, tokenizer: tokenizer)
        guard tokenizer.addsBOS, let bos = tokenizer.bosID, body.first != bos else { return body }
        return [bos] + body
    }

    /// A piece of the rendered prompt: a control marker, or plain text (template literals and content).
    enum Segment {
        case special(String)
        case text(String)
        var text: String {
            switch self {
            case .special(let s), .text(let s): s
            }
        }
    }

    func segments(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> [Segment] {
        var messages = messages
        if appliesDefaultSystemPrompt, let system = defaultSystemPrompt, messages.first?.role != .system {
            messages.insert(ChatMessage(role: .system, content: system), at: 0)
        }
        var out: [Segment] = []
        switch family {
        case .chatML:
            for m in messages {
                out += [.special("<|im_start|>"), .text(m.role.rawValue + "\n" + m.content), .special("<|im_end|>"), .text("\n")]
            }
            if addGenerationPrompt { out += [.special("<|im_start|>"), .text("assistant\n")] }
        case .llama3:
            for m in messages {
                out += [
                    .special("<|start_header_id|>"), .text(m.role.rawValue), .special("<|end_header_id|>"),
                    .text("\n\n" + m.content.trimmingWhitespace()), .special("<|eot_id|>"),
                ]
            }
            if addGenerationPrompt {
                out += [.special("<|start_header_id|>"), .text("assistant"), .special("<|end_header_id|>"), .text("\n\n")]
            }
        case .gemma:
            var pendingSystem: String?
            for m in messages {
                if m.role == .system {
                    pendingSystem = (pendingSystem.map { $0 + "\n\n" } ?? "") + m.content
                    continue
                }
                var content = m.content.trimmingWhitespace()
                if m.role == .user, let system = pendingSystem {
                    content = system + "\n\n" + content
                    pendingSystem = nil
                }
                let role = m.role == .assistant ? "model" : "user"
                out += [.special("<start_of_turn>"), .text(role + "\n" + content), .special("<end_of_turn>"), .text("\n")]
            }
            if let system = pendingSystem {
                out += [.special("<start_of_turn>"), .text("user\n" + system), .special("<end_of_turn>"), .text("\n")]
            }
            if addGenerationPrompt { out += [.special("<start_of_turn>"), .text("model\n")] }
        case .llama2:
            var system: String?
            var first = true
            for m in messages {
                switch m.role {
                case .system:
                    system = (system.map { $0 + "\n\n" } ?? "") + m.content
                case .user:
                    if !first { out.append(.special("<s>")) }
                    var text = "[INST] "
                    if let s = system {
                        text += "<<SYS>>\n" + s + "\n<</SYS>>\n\n"
                        system = nil
                    }
                    out.append(.text(text + m.content.trimmingWhitespace() + " [/INST]"))
                    first = false
                case .assistant:
                    out += [.text(" " + m.content.trimmingWhitespace() + " "), .special("</s>")]
                    first = false
                }
            }
        case .phi3:
            for m in messages {
                out += [.special("<|\(m.role.rawValue)|>"), .text("\n" + m.content), .special("<|end|>"), .text("\n")]
            }
            if addGenerationPrompt { out += [.special("<|assistant|>"), .text("\n")] }
        case .plain:
            for m in messages {
                let label = m.role == .system ? "System" : m.role == .user ? "User" : "Assistant"
                out.append(.text(label + ": " + m.content + "\n\n"))
            }
            if addGenerationPrompt { out.append(.text("Assistant:")) }
        }
        return out
    }

    /// The literal default system message in a ChatML template: the text of a string literal
    /// `'<|im_start|>system\n…<|im_end|>'` (or a literal `'You are …'` written in the system branch).
    static func defaultSystemPrompt(in source: String, family: ChatTemplateFamily) -> String? {
        guard family == .chatML else { return nil }
        for opener in ["<|im_start|>system\\n", "<|im_start|>system\n"] {
            var rest = Substring(source)
            while let start = rest.range(of: opener) {
                rest = rest[start.upperBound...]
                guard let end = rest.range(of: "<|im_end|>") else { break }
                let literal = rest[..<end.lowerBound]
                // A literal default, not an expression splicing in messages[0]['content'].
                if !literal.isEmpty, !literal.contains(where: { "'\"{}+".contains($0) }) {
                    return literal.replacingOccurrences(of: "\\n", with: "\n")
                }
            }
        }
        return nil
    }
}

extension String {
    /// The string without leading and trailing whitespace and newlines (Jinja's `trim`).
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
