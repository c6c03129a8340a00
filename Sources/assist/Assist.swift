import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@main
struct Assist: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assist",
        abstract: "A private assistant for your notes and email, running entirely on this machine.",
        discussion: """
            Examples:
              assist models pull qwen2.5-coder-0.5b     fetch the default answer model
              assist index ~/notes ~/mail/inbox.mbox    index (re-run nightly: only changes are read)
              assist ask "what did I decide about the database?"
              assist summarize ~/mail/inbox.mbox --since 2026-10-01
            """,
        version: "0.1.0",
        subcommands: [
            IndexCommand.self, SearchCommand.self, AskCommand.self, SummarizeCommand.self, StatusCommand.self,
            RunCommand.self, ChatCommand.self, EmbedCommand.self, TokenizeCommand.self, BenchCommand.self,
            ModelsCommand.self, EvalCommand.self, ServeCommand.self, MCPCommand.self, ConfigCommand.self, ScheduleCommand.self,
        ]
    )

    /// Runs the command and maps failures onto the exit codes of the CLI contract:
    /// 1 the work failed, 2 bad usage, 3 a needed model or index is missing.
    static func main() async {
        // A file-size limit (`ulimit -f`, quotas) must surface as a write error SQLite reports and rolls
        // back, not as SIGXFSZ killing the process mid-transaction without a word.
        signal(SIGXFSZ, SIG_IGN)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            Terminal().err(Terminal().styled("error: ", .red, stderr: true) + error.message)
            Foundation.exit(error.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success || code == ExitCode(0) {
                exit(withError: error)
            }
            if code == .validationFailure || error is ValidationError {
                // ArgumentParser prints usage with its own message; our contract says 2 for bad usage.
                let text = fullMessage(for: error)
                if !text.isEmpty { Terminal().err(text) }
                Foundation.exit(2)
            }
            if error is ExitCode || error is CleanExit {
                exit(withError: error)
            }
            Terminal().err(Terminal().styled("error: ", .red, stderr: true) + "\(error)")
            Foundation.exit(CLIError.exitCode(for: error))
        }
    }
}
