import Foundation
import Yams

/// The fields of a note's YAML front matter that `assist` uses.
struct FrontMatter: Sendable, Equatable {
    var title: String?
    var tags: [String] = []
    var date: Date?
    var aliases: [String] = []

    /// Largest front matter block accepted, in bytes.
    static let maxBytes = 64 * 1024
    /// Most YAML nodes the composed document may expand to (aliases count each time they are used).
    static let maxExpandedNodes = 20_000
    /// Deepest indentation (in columns) and flow-collection nesting accepted before handing text to YAML.
    static let maxIndentColumns = 128
    static let maxFlowDepth = 32

    /// Parses front matter YAML. `firstLine` is the 1-based file line of the YAML's first line, for errors.
    static func parse(_ yaml: String, path: String, firstLine: Int) throws(IngestError) -> FrontMatter {
        let size = yaml.utf8.count
        guard size <= maxBytes else { throw .frontMatterTooLarge(path: path, bytes: size, limit: maxBytes) }
        try checkShape(yaml, path: path, firstLine: firstLine)
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw .badFrontMatter(path: path, line: line(of: error).map { $0 + firstLine - 1 },
                                  reason: reason(of: error))
        } catch {
            throw .badFrontMatter(path: path, line: nil, reason: "\(error)")
        }
        guard let node else { return FrontMatter() }
        try checkExpansion(node, path: path)
        guard let mapping = node.mapping else {
            // A scalar or list is not front matter we understand; treat as empty rather than fail the note.
            return FrontMatter()
        }
        var result = FrontMatter()
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string.lowercased() else { continue }
            switch key {
            case "title":
                if let s = value.scalar?.string.trimmingCharacters(in: .whitespacesAndNewlines), !s.isEmpty {
                    result.title = s
                }
            case "tags", "tag", "keywords":
                result.tags += stringList(value).map { $0.hasPrefix("#") ? String($0.dropFirst()) : $0 }
                    .filter { !$0.isEmpty }
            case "aliases", "alias":
                result.aliases += stringList(value, splitOnSpaces: false)
            case "date", "created", "created_at", "published":
                // `date` wins over `created`/`published`; among those, the first in file order.
                if result.date == nil || key == "date", let s = value.scalar?.string, let d = DateParsing.parse(s) {
                    result.date = d
                }
            default:
                continue
            }
        }
        return result
    }

    /// The fields of a front matter block that is not valid YAML, read line by line: `key: value` at the
    /// start of a line, the value being everything after the first colon (`title: Meeting: Q3 plan`),
    /// unquoted if quoted; lists as `[a, b]`, comma lists, or `- item` lines under the key. Linear in
    /// the block's size, whatever it holds.
    static func plainLines(_ yaml: String) -> FrontMatter {
        var result = FrontMatter()
        var listKey: String?
        func unquoted(_ text: some StringProtocol) -> String {
            var value = text.trimmingCharacters(in: .whitespaces)
            for quote in ["\"", "'"] where value.hasPrefix(quote) {
                value.removeFirst()
                if value.hasSuffix(quote) { value.removeLast() }
            }
            return value.trimmingCharacters(in: .whitespaces)
        }
        func add(_ key: String, _ items: [String]) {
            switch key {
            case "tags", "tag", "keywords":
                result.tags += items.flatMap { $0.split(separator: " ").map(String.init) }
                    .map { $0.hasPrefix("#") ? String($0.dropFirst()) : $0 }.filter { !$0.isEmpty }
            case "aliases", "alias": result.aliases += items.filter { !$0.isEmpty }
            default: break
            }
        }
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if let key = listKey, trimmed.hasPrefix("- ") {
                add(key, [unquoted(trimmed.dropFirst(2))])
                continue
            }
            listKey = nil
            guard let first = line.first, first.isLetter, let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].lowercased()
            guard key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else { continue }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if value.isEmpty {
                listKey = key
                continue
            }
            switch key {
            case "title": result.title = unquoted(value)
            case "date", "created", "created_at", "published":
                if result.date == nil || key == "date", let date = DateParsing.parse(unquoted(value)) { result.date = date }
            default:
                let list = value.hasPrefix("[") ? String(value.dropFirst().prefix { $0 != "]" }) : value
                add(key, list.split(separator: ",").map(unquoted))
            }
        }
        if result.title?.isEmpty == true { result.title = nil }
        return result
    }

    /// Logseq's page properties: `key:: value` lines at the very top of a page, where other tools put
    /// YAML. Values are comma lists whose items may be written `[[page]]` or `#tag`. Reads the keys YAML
    /// front matter would give (title, tags, alias, date); `lines` are the note's first lines.
    static func pageProperties<Lines: Sequence>(_ lines: Lines) -> FrontMatter where Lines.Element: StringProtocol {
        var result = FrontMatter()
        for line in lines {
            guard let separator = line.range(of: ":: ") ?? (line.hasSuffix("::") ? line.range(of: "::", options: .backwards) : nil)
            else { break }
            let key = line[..<separator.lowerBound]
            guard let first = key.first, first.isLetter,
                key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            else { break }
            let value = line[separator.upperBound...].trimmingCharacters(in: .whitespaces)
            let items = value.split(separator: ",").map { item -> String in
                var item = item.trimmingCharacters(in: .whitespaces)
                if item.hasPrefix("[["), item.hasSuffix("]]") { item = String(item.dropFirst(2).dropLast(2)) }
                if item.hasPrefix("#") { item = String(item.dropFirst()) }
                return item.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty }
            switch key.lowercased() {
            case "title": if !value.isEmpty { result.title = value }
            case "tags", "tag": result.tags += items
            case "alias", "aliases": result.aliases += items
            case "date", "created":
                let unlinked = value.hasPrefix("[[") && value.hasSuffix("]]") ? String(value.dropFirst(2).dropLast(2)) : value
                if result.date == nil || key.lowercased() == "date", let date = DateParsing.parse(unlinked) { result.date = date }
            default: continue
            }
        }
        return result
    }

    /// A YAML list of strings, or one string split on commas (and on spaces for tags).
    private static func stringList(_ node: Node, splitOnSpaces: Bool = true) -> [String] {
        if let seq = node.sequence {
            return seq.compactMap { $0.scalar?.string.trimmingCharacters(in: .whitespacesAndNewlines) }
                .filter { !$0.isEmpty }
        }
        guard let s = node.scalar?.string else { return [] }
        return s.split(whereSeparator: { $0 == "," || (splitOnSpaces && ($0 == " " || $0 == "\t")) })
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
    }

    /// Refuses YAML nested so deeply that the recursive composer could exhaust the stack.
    ///
    /// Counts block nesting by leading spaces and `- `/`? ` indicators, and flow nesting by brackets
    /// outside quoted scalars. A quote only opens a scalar where one can start (after `[ { , :`, a space,
    /// or at a line start), so the apostrophe in `it's` cannot hide brackets from the count.
    private static func checkShape(_ yaml: String, path: String, firstLine: Int) throws(IngestError) {
        var lineNumber = firstLine
        var column = 0
        var atLineStart = true
        var flowDepth = 0
        var quote: UInt8 = 0
        var escaped = false
        var previous: UInt8 = 0x0A
        for b in yaml.utf8 {
            defer { previous = b }
            if quote != 0 {
                if b == 0x0A { lineNumber += 1 }
                if escaped { escaped = false; continue }
                if quote == 0x22, b == 0x5C { escaped = true; continue }
                if b == quote { quote = 0 }
                continue
            }
            if b == 0x0A { lineNumber += 1; column = 0; atLineStart = true; continue }
            if atLineStart {
                if b == 0x20 || b == 0x2D || b == 0x3F { column += 1 } else { atLineStart = false }
                if column > maxIndentColumns {
                    throw .badFrontMatter(path: path, line: lineNumber, reason: "nesting is too deep")
                }
            }
            switch b {
            case 0x22, 0x27:
                if [0x5B, 0x7B, 0x2C, 0x3A, 0x20, 0x09, 0x0A, 0x2D, 0x3F].contains(previous) { quote = b }
            case 0x23 where previous == 0x20 || previous == 0x09 || previous == 0x0A:
                // A comment: brackets in it do not nest. Skip to the end of the line.
                quote = 0x0A
            case 0x5B, 0x7B:
                flowDepth += 1
                if flowDepth > maxFlowDepth {
                    throw .badFrontMatter(path: path, line: lineNumber, reason: "nesting is too deep")
                }
            case 0x5D, 0x7D: flowDepth = max(0, flowDepth - 1)
            default: break
            }
        }
    }

    /// Walks the composed tree with a node budget, so an alias bomb ("billion laughs") fails at once
    /// instead of being expanded by whoever reads the values.
    private static func checkExpansion(_ root: Node, path: String) throws(IngestError) {
        var stack = [root]
        var visited = 0
        while let node = stack.popLast() {
            visited += 1
            if visited > maxExpandedNodes {
                throw .badFrontMatter(path: path, line: nil,
                                      reason: "anchors/aliases expand to more than \(maxExpandedNodes) values")
            }
            switch node {
            case .mapping(let m):
                for (k, v) in m { stack.append(k); stack.append(v) }
            case .sequence(let s):
                stack.append(contentsOf: s)
            default:
                continue
            }
        }
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }

    private static func reason(of error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
             .composer(let context, let problem, _, _):
            if let context { return "\(context.text) \(problem)" }
            return problem
        default:
            return "\(error)"
        }
    }
}
