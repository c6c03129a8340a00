import Foundation

/// The markup a note is written in, which decides what its headings and code blocks look like.
public enum NoteSyntax: String, Sendable, Equatable {
    case markdown
    /// Emacs Org mode (`* Heading`, `#+TITLE:`, `#+begin_src`), as kept by org-roam and Denote users.
    case org

    /// The syntax a note file's extension names: `.org` is Org, everything else Markdown.
    public init(path: String) {
        self = (path as NSString).pathExtension.lowercased() == "org" ? .org : .markdown
    }
}

/// Reads a note in the syntax its file name says.
public enum NoteParser {
    public static func parse(_ data: Data, path: String, modified: Date) throws(IngestError) -> Document {
        switch NoteSyntax(path: path) {
        case .markdown: try MarkdownNoteParser.parse(data, path: path, modified: modified)
        case .org: try OrgNoteParser.parse(data, path: path, modified: modified)
        }
    }
}

/// Parses one Org mode note: `#+TITLE:`, `#+FILETAGS:` and heading tags, `#+DATE:`, `[[links]]`.
///
/// Org keeps its settings as `#+KEYWORD:` lines among the text, so the whole file is the body and line
/// numbers are the file's own.
public enum OrgNoteParser {
    public static func parse(_ data: Data, path: String, modified: Date) throws(IngestError) -> Document {
        let decoded = try MarkdownNoteParser.decodeText(data, path: path)
        let text = EmbeddedData.withoutPayloads(decoded.text)
        var title: String?
        var firstHeading: String?
        var date: Date?
        var tags: [String] = []
        var links: [String] = []
        var seenTags = Set<String>()
        var seenLinks = Set<String>()
        var aliases: [String] = []
        func addTags(_ found: [String]) {
            for tag in found where !tag.isEmpty && seenTags.insert(tag.lowercased()).inserted { tags.append(tag) }
        }
        var inBlock = false
        for line in TextScan.lines(text) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let lower = trimmed.lowercased()
            if lower.hasPrefix("#+begin_") { inBlock = true; continue }
            if lower.hasPrefix("#+end_") { inBlock = false; continue }
            if inBlock { continue }
            if let value = keyword("#+title:", in: trimmed, lower), title == nil, !value.isEmpty {
                title = value
            } else if let value = keyword("#+filetags:", in: trimmed, lower) {
                addTags(value.split(whereSeparator: { $0 == ":" || $0 == " " }).map(String.init))
            } else if let value = keyword("#+date:", in: trimmed, lower), date == nil {
                date = parseDate(value)
            } else if let value = keyword(":roam_aliases:", in: trimmed, lower) {
                aliases += quotedWords(value)
            } else if let heading = OrgHeading(line) {
                if firstHeading == nil, heading.level == 1 { firstHeading = heading.title }
                addTags(heading.tags)
            }
            for target in linkTargets(in: line) where seenLinks.insert(target).inserted { links.append(target) }
        }
        let fileName = (path as NSString).lastPathComponent
        let baseName = (fileName as NSString).deletingPathExtension
        let statedDate = date ?? DateParsing.dateInFileName(baseName)
        var document = Document(
            kind: .note, path: path, title: title ?? firstHeading ?? (baseName.isEmpty ? fileName : baseName),
            date: statedDate ?? modified, dateIsFileTime: statedDate == nil, tags: tags, links: links,
            aliases: aliases, body: text, bodyLineOffset: 1, noteSyntax: .org)
        document.warnings = decoded.warning.map { [$0] } ?? []
        return document
    }

    private static func keyword(_ name: String, in line: String, _ lower: String) -> String? {
        guard lower.hasPrefix(name) else { return nil }
        return String(line.dropFirst(name.count)).trimmingCharacters(in: .whitespaces)
    }

    /// org-roam's alias list: words, or phrases in double quotes (`"Boiler notes" heating`).
    private static func quotedWords(_ value: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        for character in value {
            if character == "\"" {
                if quoted, !current.isEmpty { words.append(current); current = "" }
                quoted.toggle()
            } else if character == " ", !quoted {
                if !current.isEmpty { words.append(current); current = "" }
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Org timestamps: `<2026-03-14 Sat>`, `[2026-03-14 Sat 10:00]`.
    private static func parseDate(_ value: String) -> Date? {
        let inner = value.trimmingCharacters(in: CharacterSet(charactersIn: "<>[] "))
        let parts = inner.split(separator: " ")
        guard let day = parts.first else { return nil }
        if parts.count >= 3, parts[2].contains(":"), let withTime = DateParsing.parse("\(day)T\(parts[2])") { return withTime }
        return DateParsing.parse(String(day))
    }

    /// Targets of `[[target]]` and `[[target][description]]` links to other notes: `file:` paths without
    /// their `.org`, and plain names; web and `id:` links lead to no note by name.
    static func linkTargets(in line: Substring) -> [String] {
        var targets: [String] = []
        var rest = line[...]
        while let open = rest.range(of: "[[") {
            guard let close = rest.range(of: "]", range: open.upperBound..<rest.endIndex) else { break }
            var target = String(rest[open.upperBound..<close.lowerBound])
            rest = rest[close.upperBound...]
            if target.hasPrefix("file:") { target.removeFirst(5) }
            if let search = target.range(of: "::") { target = String(target[..<search.lowerBound]) }
            if target.lowercased().hasSuffix(".org") { target.removeLast(4) }
            let scheme = target.prefix { $0.isLetter }
            if target.dropFirst(scheme.count).hasPrefix(":") { continue }
            target = target.trimmingCharacters(in: .whitespaces)
            if !target.isEmpty { targets.append(target) }
        }
        return targets
    }
}

/// An Org heading line: `** TODO [#A] Title   :tag1:tag2:`, stars from the first column.
struct OrgHeading {
    var level: Int
    var title: String
    var tags: [String]

    static let todoKeywords: Set<String> = ["TODO", "DONE", "NEXT", "WAITING", "WAIT", "HOLD", "CANCELLED", "CANCELED"]

    init?<Line: StringProtocol>(_ line: Line) {
        let stars = line.prefix { $0 == "*" }.count
        let rest = line.dropFirst(stars)
        guard stars > 0, rest.first == " " else { return nil }
        var words = rest.split(separator: " ", omittingEmptySubsequences: true).map { String($0) }
        var tags: [String] = []
        if let last = words.last, last.count > 2, last.hasPrefix(":"), last.hasSuffix(":") {
            tags = last.split(separator: ":").map(String.init)
            words.removeLast()
        }
        if let first = words.first, Self.todoKeywords.contains(first) { words.removeFirst() }
        if let first = words.first, first.hasPrefix("[#"), first.hasSuffix("]"), first.count == 4 { words.removeFirst() }
        level = stars
        title = words.joined(separator: " ")
        self.tags = tags
    }
}
