import Foundation

/// Everything that can go wrong in `ask` and `summarize`, each with the file or thing involved and what to do.
public enum AssistantError: Error, CustomStringConvertible, Equatable {
    /// No prompt template with this name in any searched folder.
    case promptNotFound(name: String, searched: [String])
    /// A template file exists but could not be read as UTF-8 text.
    case promptUnreadable(path: String, reason: String)
    /// The model's window cannot hold even the instructions plus the reserved answer.
    case contextTooSmall(model: String, contextLength: Int, needed: Int)
    /// An mbox file could not be opened or read.
    case mailboxUnreadable(path: String, reason: String)
    /// A line of an evaluation file is not a valid question record.
    case evaluationFileInvalid(path: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case let .promptNotFound(name, searched):
            let list = searched.isEmpty ? "(no folders)" : searched.joined(separator: ", ")
            return "Prompt template '\(name)' was not found. Searched: \(list). "
                + "Set ASSIST_PROMPTS to the project's Prompts folder, or copy the templates to "
                + "~/.config/assist/prompts/."
        case let .promptUnreadable(path, reason):
            return "Prompt template \(path) could not be read (\(reason)). Make it a UTF-8 text file or delete it "
                + "to use the packaged one."
        case let .contextTooSmall(model, contextLength, needed):
            return "Model \(model) has a context of \(contextLength) tokens, but the prompt needs at least \(needed). "
                + "Use a model with a larger context or lower the answer reserve."
        case let .mailboxUnreadable(path, reason):
            return "Mailbox \(path) could not be read (\(reason)). Check that the path names an mbox file or Maildir folder you can read."
        case let .evaluationFileInvalid(path, line, reason):
            return "\(path):\(line) is not a valid question record (\(reason)). Each line must be a JSON object with "
                + "id, question, answer_sources, key_facts and answerable."
        }
    }
}
