import ArgumentParser
import Assistant
import Foundation
import Index
import Inference
import Ingest

struct AskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Answer a question from your notes and mail, with citations.",
        discussion: """
            The answer streams as it is written; the sources follow as [n] path:lines (date) or
            [n] Subject — From, date <Message-ID>. When your data does not hold the answer, assist says so.

            Examples:
              assist ask "what did I decide about the sync database?"
              assist ask "who is the accessibility auditor?" --source notes
              assist ask "what did Priya say last week?" --model smollm2-135m
            """
    )

    @Argument(help: "Your question.") var question: String
    @Option(help: "Chat model (default: chat_model from the config).") var model: String?
    @Flag(help: "Print where the time went (loading, retrieval, prefill, decode) on stderr; --json always has it.")
    var timings = false
    @Flag(
        inversion: .prefixedNo,
        help: ArgumentHelp(
            "When the model replies NOT_FOUND, ask once more without that way out; the reply stands only if every check passes.",
            discussion: "Default: second_look from the config, else on for built-in models and off for ollama: and openai: "
                + "ones. Small models often say NOT_FOUND with the answer in front of them; a larger model's NOT_FOUND "
                + "is usually right."))
    var secondLook: Bool?
    @OptionGroup var filters: FilterOptions
    @OptionGroup var options: IndexOptions

    func run() async throws {
        var startup = PhaseClock.sinceProcessStart().map { [$0] } ?? []
        var clock = PhaseClock()
        let workspace = try options.workspace()
        // The chat model loads on the other core while the embedder loads and the index opens: the two
        // loads are independent, and each is a good part of a one-question process's wait.
        async let loading = workspace.makeGenerator(override: model)
        let embedder = try await workspace.makeSearchEmbedder()
        clock.lap("embedder_load")
        let store = try workspace.openStore(embedder: embedder, create: false)
        clock.lap("index_open")
        let generator = try await loading
        clock.lap("model_load")
        startup += clock.phases
        let asker = workspace.makeAsker(store: store, generator: generator, options: try askOptions(workspace))
        try await AskPresenter(json: options.json, showTimings: timings, startup: startup).present(asker.ask(question))
    }

    func askOptions(_ workspace: Workspace) throws -> AskOptions {
        let q = try filters.query(question, defaultLimit: 8)
        var options = workspace.askOptions(model: model)
        options.limit = q.limit
        options.filters = AskFilters(
            kind: q.kind, since: q.since, until: q.until, from: q.from, pathContains: q.pathContains, tag: q.tag)
        if let secondLook { options.secondLook = secondLook }
        return options
    }
}

/// Streams an answer to the terminal (or collects it for `--json`) and prints its sources.
struct AskPresenter {
    var json: Bool
    /// Print the timing table on stderr.
    var showTimings = false
    /// Phases before the question was asked (process start, model loads), put in front of the answer's own.
    var startup: [AskTimings.Phase] = []
    let terminal = Terminal()

    @discardableResult
    func present(_ events: AsyncThrowingStream<AskEvent, Error>) async throws -> AskResult {
        var streamed = false
        for try await event in events {
            switch event {
            case .retrieved:
                break
            case .token(let text):
                if !json {
                    terminal.out(text, terminator: "")
                    streamed = true
                }
            case .finished(var result):
                result.timings?.phases.insert(contentsOf: startup, at: 0)
                if json {
                    try JSONOutput.print(result)
                } else {
                    if streamed { terminal.out("") }
                    printSources(result)
                    if showTimings, let timings = result.timings { terminal.err(terminal.styled(timings.table, .dim, stderr: true)) }
                }
                return result
            }
        }
        throw CLIError.failed("the answer stream ended without a result")
    }

    private func printSources(_ result: AskResult) {
        if !result.found {
            if let declined = result.declined { terminal.out(terminal.styled("(\(declined.reason.explanation))", .dim)) }
            if result.sourceLines.isEmpty { return }
            terminal.out(terminal.styled("\nClosest sources:", .dim))
        } else if !result.sourceLines.isEmpty {
            terminal.out(terminal.styled("\nSources:", .bold))
        }
        for line in result.sourceLines { terminal.out("  " + terminal.styled(line, .cyan)) }
        let timing = result.firstTokenSeconds.map { String(format: "first token %.2f s, ", $0) } ?? ""
        terminal.err(terminal.styled(String(format: "\(result.model): \(timing)total %.2f s", result.seconds), .dim, stderr: true))
    }
}

struct SummarizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summarize",
        abstract: "Summarize each mail thread (decisions, action items, open questions) into a digest.",
        discussion: """
            Works on any mbox or Maildir, indexed or not; summaries are cached in the index by thread content, so a
            nightly re-run only summarizes threads that changed.

            Examples:
              assist summarize ~/mail/inbox.mbox --since 2026-10-01
              assist summarize ~/mail/inbox.mbox --thread '<abc@example.com>' --json
            """
    )

    @Argument(help: "mbox files, Maildir folders, .eml files, or folders holding mailboxes.") var mboxes: [String]
    @Option(help: "Only threads with messages on or after this day (YYYY-MM-DD).") var since: String?
    @Option(help: "Only the thread with this id (the Message-ID of its first message).") var thread: String?
    @Option(help: "Chat model (default: chat_model from the config).") var model: String?
    @Option(help: "Write the Markdown digest to this file as well.") var output: String?
    @OptionGroup var options: IndexOptions

    func run() async throws {
        let workspace = try options.workspace()
        let generator = try await workspace.makeGenerator(override: model)
        let cache: IndexStore? =
            FileManager.default.fileExists(atPath: workspace.config.db)
            ? try? workspace.openStore(embedder: nil, create: false) : nil
        let summarizer = Summarizer(
            generator: generator, prompts: .standard(), cache: cache,
            options: SummarizeOptions(
                since: try since.map { try CLIDate.parse($0, option: "--since", endOfDay: false) },
                threadID: thread.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "<> ")) },
                userAddress: workspace.config.userEmail, maxPromptTokens: workspace.config.contextTokens))
        let reading = try MailboxReader().read(mboxes)
        let terminal = Terminal()
        for skip in reading.skipped.prefix(20) {
            terminal.err(terminal.styled("skipped: ", .yellow, stderr: true) + "\(skip.path):\(skip.line): \(skip.error)")
        }
        if summarizer.select(reading.threads).isEmpty {
            if options.json { try JSONOutput.print(JSONValue.object(["threads": .array([])])) } else { terminal.out("No threads match.") }
            return
        }
        let bar = ProgressBar(enabled: !options.json && ProgressBar.stderrIsTerminal)
        let digest = try await summarizer.digest(reading.threads) { done, total, subject in
            bar.update(label: "summarizing", done: done, total: total, detail: subject)
        }
        bar.finish()
        if let output { try digest.markdown.write(toFile: output, atomically: true, encoding: .utf8) }
        if options.json { try JSONOutput.print(digest) } else { terminal.out(digest.markdown) }
    }
}
