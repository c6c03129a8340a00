import Assistant
import Foundation
import Index
import Ingest
import MCP

/// The tools `assist mcp` offers, their JSON Schemas, and how each call is answered.
///
/// Every answer has a readable text part (what most MCP clients show the model) and `structuredContent`
/// with the same data as JSON, in the shapes of `assist search --json` and `assist ask --json`. Bad
/// arguments and failures come back as tool errors (`isError: true`) with a message saying what to fix.
struct MCPTools: Sendable {
    let library: any DocumentLibrary
    let models: ModelPool?
    let ask: AskHandler

    /// Longest document text returned by `get_document`; longer bodies are cut with a note saying so.
    static let maxDocumentCharacters = 100_000

    enum Name {
        static let search = "search_notes_and_mail"
        static let ask = "ask"
        static let getDocument = "get_document"
        static let status = "index_status"
    }

    static var definitions: [Tool] {
        let filterProperties: [String: Value] = [
            "limit": .object([
                "type": "integer", "minimum": 1, "maximum": .int(FilterFields.maxLimit),
                "description": "How many results to return (default 8).",
            ]),
            "source": .object([
                "type": "string", "enum": ["notes", "mail"],
                "description": "Only notes or only mail; omit for both.",
            ]),
            "since": .object([
                "type": "string",
                "description": "Only documents dated on or after this: YYYY-MM-DD, ISO 8601, or 7d / 2w / 6m / 1y ago.",
            ]),
            "until": .object([
                "type": "string", "description": "Only documents dated on or before this (same forms as since).",
            ]),
            "from": .object(["type": "string", "description": "Mail only: part of the sender's name or address."]),
        ]
        var searchProperties = filterProperties
        searchProperties["query"] = .object([
            "type": "string", "description": "Words or a question to look for in the user's notes and mail.",
        ])
        var askProperties = filterProperties
        askProperties["question"] = .object([
            "type": "string", "description": "A question the user's notes and mail may answer.",
        ])
        let readOnly = Tool.Annotations(readOnlyHint: true, openWorldHint: false)
        return [
            Tool(
                name: Name.search, title: "Search notes and mail",
                description: "Hybrid (keyword + meaning) search over the user's indexed Markdown notes and email. "
                    + "Returns passages with their file path and line range (notes) or Message-ID (mail).",
                inputSchema: .object([
                    "type": "object", "properties": .object(searchProperties), "required": ["query"],
                    "additionalProperties": false,
                ]),
                annotations: readOnly),
            Tool(
                name: Name.ask, title: "Answer from notes and mail",
                description: "Answers a question using only the user's notes and mail, with numbered citations "
                    + "to path:line or Message-ID. Says so when the sources do not hold the answer.",
                inputSchema: .object([
                    "type": "object", "properties": .object(askProperties), "required": ["question"],
                    "additionalProperties": false,
                ]),
                annotations: readOnly),
            Tool(
                name: Name.getDocument, title: "Get a document",
                description: "The full text and metadata of one indexed note (by path) or email (by Message-ID).",
                inputSchema: .object([
                    "type": "object",
                    "properties": .object([
                        "path": .object(["type": "string", "description": "The note's path as search returned it."]),
                        "message_id": .object([
                            "type": "string", "description": "The email's Message-ID, angle brackets optional.",
                        ]),
                    ]),
                    "additionalProperties": false,
                ]),
                annotations: readOnly),
            Tool(
                name: Name.status, title: "Index status",
                description: "How many notes, emails and chunks are indexed, the embedding model, and when the "
                    + "index was last updated.",
                inputSchema: .object(["type": "object", "properties": .object([:]), "additionalProperties": false]),
                annotations: readOnly),
        ]
    }

    /// Answers one tool call; never throws: every failure becomes a tool error.
    func call(_ name: String, arguments: [String: Value]) async -> CallTool.Result {
        do {
            let arguments = ToolArguments(values: arguments)
            switch name {
            case Name.search: return try search(arguments)
            case Name.ask: return try await answer(arguments)
            case Name.getDocument: return try document(arguments)
            case Name.status: return try status()
            default:
                let known = Self.definitions.map(\.name).joined(separator: ", ")
                return Self.failure("unknown tool '\(name)'; the tools are \(known)")
            }
        } catch let error as ToolArguments.Invalid {
            return Self.failure(error.description)
        } catch let error as FilterError {
            return Self.failure(error.description)
        } catch {
            return Self.failure("\(name) failed: \(error)")
        }
    }

    static func failure(_ message: String) -> CallTool.Result {
        CallTool.Result(content: [.text(text: message, annotations: nil, _meta: nil)], isError: true)
    }

    static func success(text: String, structured: some Encodable) throws -> CallTool.Result {
        let value = try JSONDecoder().decode(Value.self, from: JSONEncoder().encode(structured))
        return try CallTool.Result(
            content: [.text(text: text, annotations: nil, _meta: nil)], structuredContent: value, isError: false)
    }

    // MARK: Tools

    private func filters(_ arguments: ToolArguments) throws -> FilterFields {
        FilterFields(
            limit: try arguments.integer("limit"), source: try arguments.string("source"),
            since: try arguments.string("since"), until: try arguments.string("until"),
            from: try arguments.string("from"))
    }

    func search(_ arguments: ToolArguments) throws -> CallTool.Result {
        let query = try arguments.requiredText("query")
        let hits = try library.search(try filters(arguments).searchQuery(text: query, fallbackLimit: 8))
        let text = hits.isEmpty
            ? "No notes or mail matched '\(query)'."
            : hits.enumerated().map { Self.describe($0.element, number: $0.offset + 1) }.joined(separator: "\n\n")
        return try Self.success(text: text, structured: SearchResultsJSON(hits))
    }

    func answer(_ arguments: ToolArguments) async throws -> CallTool.Result {
        let question = try arguments.requiredText("question")
        let fields = try filters(arguments)
        let request = AskRequest(
            question: question, limit: fields.limit == nil ? nil : try fields.checkedLimit(fallback: 8),
            filters: try fields.askFilters())
        guard let models else {
            return Self.failure("no chat model is configured: set chat_model in ~/.config/assist/config.toml")
        }
        let generator = try await models.generator(for: nil)
        let result = try await Asker.result(of: ask(request, generator))
        var text = result.answer
        let sources = result.sourceLines
        if !sources.isEmpty {
            text += "\n\n" + (result.found ? "Sources:\n" : "Closest sources:\n") + sources.joined(separator: "\n")
        }
        return try Self.success(text: text, structured: result)
    }

    func document(_ arguments: ToolArguments) throws -> CallTool.Result {
        let path = try arguments.string("path").flatMap { $0.isEmpty ? nil : $0 }
        let messageID = try arguments.string("message_id").flatMap { $0.isEmpty ? nil : $0 }
        let stored: StoredDocument?
        switch (path, messageID) {
        case (let path?, nil): stored = try library.document(path: path)
        case (nil, let messageID?): stored = try library.document(messageID: messageID)
        case (nil, nil): throw ToolArguments.Invalid("give either path (a note) or message_id (an email)")
        case (.some, .some): throw ToolArguments.Invalid("give only one of path and message_id")
        }
        guard let stored else {
            return Self.failure(
                path.map { "no indexed note at \($0): check the path from search results, or run `assist index`" }
                    ?? "no indexed email with Message-ID \(messageID ?? ""): check the id from search results")
        }
        let json = DocumentJSON(stored, limit: Self.maxDocumentCharacters)
        return try Self.success(text: json.readable, structured: json)
    }

    func status() throws -> CallTool.Result {
        let status = try library.status()
        var lines = [
            "Index: \(status.db)",
            "Notes: \(status.notes), emails: \(status.mail), chunks: \(status.chunks) (\(status.embedded) embedded)",
        ]
        lines.append("Embedding model: \(status.embeddingModel ?? "none")")
        lines.append("Last indexed: \(status.lastIndex.map(DateLabel.iso) ?? "never")")
        return try Self.success(text: lines.joined(separator: "\n"), structured: status)
    }

    /// One hit as a few readable lines: where it is, what it is, and its text.
    static func describe(_ hit: SearchHit, number: Int) -> String {
        let date = hit.date.map(DateLabel.day) ?? "undated"
        var head: String
        switch hit.kind {
        case .note:
            head = "\(number). \(hit.path):\(hit.lineStart)-\(hit.lineEnd) — \(hit.title)"
            if let heading = hit.heading, !heading.isEmpty { head += " › \(heading)" }
            head += " (note, \(date))"
        case .mail:
            head = "\(number). Message-ID <\(hit.messageID ?? "unknown")> — \(hit.title)"
            head += " (mail from \(hit.from ?? "unknown"), \(date); \(hit.path):\(hit.lineStart)-\(hit.lineEnd))"
        }
        return head + "\n" + hit.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A whole document for `get_document`: metadata and text.
struct DocumentJSON: Encodable {
    var kind: String
    var path: String
    var messageID: String?
    var title: String
    var from: String?
    var to: [String]
    var date: String?
    var tags: [String]
    var threadID: String?
    var lineStart: Int
    var text: String
    var truncated: Bool

    init(_ stored: StoredDocument, limit: Int) {
        let document = stored.document
        kind = document.kind.rawValue
        path = document.path
        messageID = document.messageID
        title = document.title
        from = document.from
        to = document.to
        date = document.date.map(DateLabel.iso)
        tags = document.tags
        threadID = stored.threadID
        lineStart = document.bodyLineOffset
        truncated = document.body.count > limit
        text = truncated ? String(document.body.prefix(limit)) : document.body
    }

    enum CodingKeys: String, CodingKey {
        case kind, path, messageID = "message_id", title, from, to, date, tags, threadID = "thread_id"
        case lineStart = "line_start", text, truncated
    }

    /// Headers like an email's, a blank line, then the text.
    var readable: String {
        var lines = ["Title: \(title)", "Kind: \(kind)", "Path: \(path)"]
        if let messageID { lines.append("Message-ID: <\(messageID)>") }
        if let from { lines.append("From: \(from)") }
        if !to.isEmpty { lines.append("To: \(to.joined(separator: ", "))") }
        lines.append("Date: \(date ?? "undated")")
        if !tags.isEmpty { lines.append("Tags: \(tags.joined(separator: ", "))") }
        lines.append("Text starts at line: \(lineStart)")
        var output = lines.joined(separator: "\n") + "\n\n" + text
        if truncated {
            output += "\n\n[cut at \(MCPTools.maxDocumentCharacters) characters; the file has the rest]"
        }
        return output
    }
}

/// Typed access to a tool call's arguments, with messages naming the argument at fault.
struct ToolArguments {
    let values: [String: Value]

    struct Invalid: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    func string(_ name: String) throws -> String? {
        switch values[name] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw Invalid("argument '\(name)' must be a string")
        }
    }

    func requiredText(_ name: String) throws -> String {
        guard let text = try string(name)?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else {
            throw Invalid("argument '\(name)' is required and must be a non-empty string")
        }
        return text
    }

    /// Accepts JSON integers, whole doubles and numeric strings (some clients send all arguments as text).
    func integer(_ name: String) throws -> Int? {
        switch values[name] {
        case nil, .null?: return nil
        case .int(let number)?: return number
        case .double(let number)? where number.rounded() == number && abs(number) < 1e9: return Int(number)
        case .string(let text)? where Int(text) != nil: return Int(text)
        default: throw Invalid("argument '\(name)' must be an integer")
        }
    }
}
