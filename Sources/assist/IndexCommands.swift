import ArgumentParser
import Assistant
import Foundation
import Index
import Inference
import Ingest
import Server

struct IndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Index notes folders, mbox files and Maildirs; re-runs only read what changed.",
        discussion: """
            Markdown and Org notes (*.md, *.markdown, *.org) are found recursively in folders; any other file
            is read as an mbox. Files that vanished from a given folder leave the index. Bad files are reported and skipped.

            Examples:
              assist index ~/notes ~/mail/inbox.mbox
              assist index --json ~/notes
            """
    )

    @Argument(help: "Notes folders, single notes, mbox files, Maildir folders, .eml files, and folders of mailboxes.") var paths: [String]
    @OptionGroup var options: IndexOptions
    @Flag(help: "Move a corrupt index aside and build a fresh one.") var rebuild = false
    @Flag(help: "Store text and full-text index only; skip embeddings (search falls back to BM25).")
    var noEmbed = false

    func run() async throws {
        let terminal = Terminal()
        let workspace = try options.workspace()
        if rebuild, let moved = try IndexStore.rebuild(path: workspace.config.db) {
            terminal.err("moved the old index to \(moved)")
        }
        let embedder: (any Embedder)? = noEmbed ? nil : try await workspace.makeEmbedder()
        let store = try workspace.openStore(embedder: embedder, create: true)
        let bar = ProgressBar(enabled: !options.json && ProgressBar.stderrIsTerminal)
        let report = try store.sync(paths, options: workspace.syncOptions(for: embedder)) { progress in
            bar.update(
                label: progress.phase.rawValue, done: progress.done, total: progress.total,
                detail: progress.currentPath.map { ($0 as NSString).lastPathComponent } ?? "")
        }
        bar.finish()
        if options.json {
            try JSONOutput.print(report)
        } else {
            var line = "\(report.added) added, \(report.updated) updated, \(report.removed) removed, "
            if report.moved > 0 { line += "\(report.moved) moved, " }
            line += "\(report.unchanged) unchanged; \(report.chunks) chunks"
            if report.embedded > 0 { line += ", \(report.embedded) embedded" }
            line += String(format: " in %.2f s", report.seconds)
            terminal.out(line)
            for notice in report.notices { terminal.err(terminal.styled("note: ", .yellow, stderr: true) + notice) }
            for failure in report.failed {
                terminal.err(terminal.styled("failed: ", .red, stderr: true) + "\(failure.path): \(failure.error)")
            }
        }
        // Some files failing is normal on real data; only a run where nothing could be read failed.
        let touched = report.added + report.updated + report.unchanged + report.removed + report.moved
        if !report.failed.isEmpty && touched == 0 { throw ExitCode(1) }
    }
}

struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find passages in your notes and mail (hybrid BM25 + vectors, no LLM).",
        discussion: """
            Examples:
              assist search "database decision" --source notes
              assist search "invoice" --source mail --since 2026-06-01 --from fernweh
            """
    )

    @Argument(help: "What to look for.") var query: String
    @OptionGroup var filters: FilterOptions
    @OptionGroup var options: IndexOptions
    @Option(help: "hybrid, bm25 or vector.") var mode: String = "hybrid"

    func run() async throws {
        let workspace = try options.workspace()
        guard let searchMode = SearchMode(rawValue: mode) else {
            throw ValidationError("--mode is one of \(SearchMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let embedder: (any Embedder)? = searchMode == .bm25 ? nil : try await workspace.makeSearchEmbedder()
        let store = try workspace.openStore(embedder: embedder, create: false)
        let hits = try store.search(try filters.query(query, defaultLimit: 10), mode: searchMode)
        if options.json {
            try JSONOutput.print(SearchResultsJSON(hits))
            return
        }
        let terminal = Terminal()
        if hits.isEmpty { terminal.out("No matches.") }
        for (i, hit) in hits.enumerated() {
            terminal.out(terminal.styled("[\(i + 1)] ", .bold) + terminal.styled(HitLocation.location(hit), .cyan))
            let snippet = hit.text.split(whereSeparator: \.isNewline).prefix(4).joined(separator: "\n    ")
            terminal.out("    " + snippet + "\n")
        }
    }
}

/// `assist status --json`: the index's own status (`IndexStatus`, zeros before the first index) with the
/// chat model and the installed models beside it.
struct StatusJSON: Encodable {
    var index: IndexStatus
    var chatModel: String
    var models: [ModelRecord]

    private enum CodingKeys: String, CodingKey { case chatModel = "chat_model", models }
    private struct Model: Encodable { var name: String; var path: String; var source: String }

    func encode(to encoder: any Encoder) throws {
        try index.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(chatModel, forKey: .chatModel)
        try container.encode(models.map { Model(name: $0.name, path: $0.path, source: $0.source) }, forKey: .models)
    }
}

/// How a hit is shown to people: one line that says where it is.
enum HitLocation {
    static func location(_ hit: SearchHit) -> String {
        let date = CLIDate.format(hit.date).map { " (\($0))" } ?? ""
        switch hit.kind {
        case .note:
            let heading = hit.heading.map { " § \($0)" } ?? ""
            return "\(hit.path):\(hit.lineStart)-\(hit.lineEnd)\(date)\(heading)"
        case .mail:
            let from = hit.from.map { " — \($0)" } ?? ""
            let id = hit.messageID.map { " <\($0)>" } ?? ""
            return "\(hit.title)\(from)\(date)\(id)"
        }
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show what is indexed and which models are installed.")

    @OptionGroup var options: IndexOptions

    func run() async throws {
        let workspace = try options.workspace()
        let models = (try? workspace.models.list()) ?? []
        let exists = FileManager.default.fileExists(atPath: workspace.config.db)
        let status = exists ? try workspace.openStore(embedder: nil, create: false).status() : nil
        if options.json {
            let index = status ?? IndexStatus(
                db: workspace.config.db, notes: 0, mail: 0, chunks: 0, embedded: 0, embeddingModel: nil, lastIndex: nil)
            try JSONOutput.print(StatusJSON(index: index, chatModel: workspace.config.chatChoice().description, models: models))
            return
        }
        let t = Terminal()
        t.out(t.styled("index ", .bold) + workspace.config.db)
        if let status {
            t.out("  \(status.notes) notes, \(status.mail) messages, \(status.chunks) chunks, \(status.embedded) embedded")
            t.out("  embedding model: \(status.embeddingModel ?? "none")")
            t.out("  last indexed: \(CLIDate.iso(status.lastIndex) ?? "never")")
            let copies = status.archiveCopies
            if copies.count > 0 {
                let size = ByteCountFormatter.string(fromByteCount: copies.bytes, countStyle: .file)
                t.out("  decompressed mail archives: \(copies.count) (\(size)) in \(copies.folder)")
            }
            if !status.warnings.isEmpty {
                t.out("  indexed with warnings: \(status.warnings.count) (fix the files; the next index run reads them again)")
                for item in status.warnings.prefix(10) { t.out("    \(item.path): \(item.warning)") }
                if status.warnings.count > 10 { t.out("    … \(status.warnings.count - 10) more in `assist status --json`") }
            }
        } else {
            t.out("  not created yet: run `assist index ~/notes ~/mail/inbox.mbox`")
        }
        t.out(t.styled("chat model ", .bold) + workspace.config.chatChoice().description)
        t.out(t.styled("models ", .bold) + workspace.models.root)
        if models.isEmpty { t.out("  none: run `assist models pull qwen2.5-coder-0.5b` and `assist models pull minilm-l6-v2`") }
        for m in models { t.out("  \(m.name)  \(m.source)") }
    }
}
