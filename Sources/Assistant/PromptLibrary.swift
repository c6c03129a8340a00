import Foundation

/// A prompt template: plain text with `{{name}}` placeholders.
///
/// Substitution is a single pass over the template, so a value that itself contains `{{…}}` (a retrieved
/// note, say) is inserted literally and never expanded. Placeholders without a value stay visible, which makes
/// a template/code mismatch obvious instead of silently producing a prompt with holes.
public struct PromptTemplate: Sendable, Equatable {
    public var name: String
    public var text: String
    /// Where the template was loaded from; nil for templates built in code (tests).
    public var source: String?

    public init(name: String, text: String, source: String? = nil) {
        self.name = name
        self.text = text
        self.source = source
    }

    /// The placeholder names used in the template, in order of first appearance.
    public var placeholders: [String] {
        var seen: [String] = []
        for segment in Self.segments(of: text) {
            if case let .placeholder(name, _) = segment, !seen.contains(name) { seen.append(name) }
        }
        return seen
    }

    /// The template with every placeholder that has a value replaced by it.
    public func render(_ values: [String: String]) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for segment in Self.segments(of: text) {
            switch segment {
            case let .literal(piece): out += piece
            case let .placeholder(name, raw): out += values[name] ?? String(raw)
            }
        }
        return out
    }

    /// The template without its lines that use `placeholder`. The second look (`AskOptions.secondLook`) is
    /// `ask-system` without the line offering `{{not_found}}`, so a user's edited system prompt keeps its
    /// other instructions there too.
    public func removingLines(using placeholder: String) -> PromptTemplate {
        let kept = text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            !PromptTemplate(name: name, text: String(line)).placeholders.contains(placeholder)
        }
        return PromptTemplate(name: name, text: kept.joined(separator: "\n"), source: source)
    }

    /// Placeholders that `values` leaves unfilled.
    public func missingPlaceholders(_ values: [String: String]) -> [String] {
        placeholders.filter { values[$0] == nil }
    }

    private enum Segment {
        case literal(Substring)
        case placeholder(name: String, raw: Substring)
    }

    /// Splits the template into literal text and `{{identifier}}` placeholders (letters, digits, `_`, `-`).
    private static func segments(of text: String) -> [Segment] {
        var result: [Segment] = []
        var literalStart = text.startIndex
        var index = text.startIndex
        while let open = text.range(of: "{{", range: index..<text.endIndex) {
            guard let close = text.range(of: "}}", range: open.upperBound..<text.endIndex) else { break }
            let inner = text[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            let isIdentifier = !inner.isEmpty
                && inner.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-" }
            if isIdentifier {
                if literalStart < open.lowerBound { result.append(.literal(text[literalStart..<open.lowerBound])) }
                result.append(.placeholder(name: inner, raw: text[open.lowerBound..<close.upperBound]))
                literalStart = close.upperBound
                index = close.upperBound
            } else {
                index = text.index(after: open.lowerBound)
            }
        }
        if literalStart < text.endIndex { result.append(.literal(text[literalStart..<text.endIndex])) }
        return result
    }
}

/// Finds prompt templates by name: the user's override folder first, then the packaged `Prompts/` folder.
///
/// Users customise prompts by copying a file from `Prompts/` to `$XDG_CONFIG_HOME/assist/prompts/`
/// (else `~/.config/assist/prompts/`) and editing it; a missing override falls back to the packaged file.
public struct PromptLibrary: Sendable {
    /// The names of the templates the assistant uses.
    public enum Name {
        public static let askSystem = "ask-system"
        public static let askUser = "ask-user"
        public static let summarizeThread = "summarize-thread"
        public static let summarizeSegment = "summarize-segment"
        public static let summarizeMerge = "summarize-merge"
        public static let all = [askSystem, askUser, summarizeThread, summarizeSegment, summarizeMerge]
    }

    /// Folders searched in order; the first one holding `<name>.txt` wins.
    public var folders: [String]

    public init(folders: [String]) {
        self.folders = folders
    }

    /// The standard search order: user override folder, then the packaged folder.
    ///
    /// The packaged folder is `ASSIST_PROMPTS` when set; otherwise the first `Prompts/` folder holding
    /// `ask-system.txt` found walking up from the executable's directory, then from the current directory.
    public static func standard(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executablePath: String? = CommandLine.arguments.first,
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) -> PromptLibrary {
        var folders = [userFolder(environment: environment)]
        if let packaged = environment["ASSIST_PROMPTS"], !packaged.isEmpty {
            folders.append(packaged)
        } else {
            var starts: [URL] = []
            if let executablePath, !executablePath.isEmpty {
                let url = URL(fileURLWithPath: executablePath, relativeTo: URL(fileURLWithPath: currentDirectory))
                starts.append(url.resolvingSymlinksInPath().deletingLastPathComponent())
            }
            starts.append(URL(fileURLWithPath: currentDirectory))
            for start in starts {
                if let found = findPackagedFolder(from: start), !folders.contains(found) {
                    folders.append(found)
                    break
                }
            }
        }
        return PromptLibrary(folders: folders)
    }

    /// `$XDG_CONFIG_HOME/assist/prompts`, else `~/.config/assist/prompts`.
    public static func userFolder(environment: [String: String]) -> String {
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("assist/prompts").path
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".config/assist/prompts").path
    }

    /// Walks up from `start` looking for `Prompts/ask-system.txt`.
    static func findPackagedFolder(from start: URL) -> String? {
        var directory = start.standardizedFileURL
        for _ in 0..<32 {
            let candidate = directory.appendingPathComponent("Prompts")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("ask-system.txt").path) {
                return candidate.path
            }
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { break }
            directory = parent
        }
        return nil
    }

    /// Loads `<name>.txt` from the first folder that has it.
    public func template(named name: String) throws -> PromptTemplate {
        var searched: [String] = []
        for folder in folders {
            let path = URL(fileURLWithPath: folder).appendingPathComponent(name + ".txt").path
            searched.append(path)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw AssistantError.promptUnreadable(path: path, reason: "cannot open the file")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw AssistantError.promptUnreadable(path: path, reason: "not valid UTF-8")
            }
            return PromptTemplate(name: name, text: text, source: path)
        }
        throw AssistantError.promptNotFound(name: name, searched: searched)
    }

    /// Loads and renders a template in one step.
    public func render(_ name: String, _ values: [String: String]) throws -> String {
        try template(named: name).render(values)
    }
}
