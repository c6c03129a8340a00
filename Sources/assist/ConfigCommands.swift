import ArgumentParser
import Assistant
import Foundation

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show or change settings (config.toml; ASSIST_<KEY> variables override it).",
        subcommands: [Show.self, Path.self, Set.self, Unset.self],
        defaultSubcommand: Show.self
    )

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every setting and where it comes from.")
        func run() throws {
            Terminal().out(try ConfigLoader().show(), terminator: "")
        }
    }

    struct Path: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the config file's path.")
        func run() throws {
            Terminal().out(ConfigLoader().path)
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set KEY to VALUE in config.toml.",
            discussion: "Example: assist config set chat_backend ollama")
        @Argument(help: "A setting such as chat_model, embed_backend, ollama_url, threads.") var key: String
        @Argument var value: String
        func run() throws {
            Terminal().out(try ConfigLoader().set(key, value))
        }
    }

    struct Unset: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove KEY from config.toml (back to its default).")
        @Argument var key: String
        func run() throws {
            Terminal().out(try ConfigLoader().unset(key))
        }
    }
}

struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Re-index nightly with a systemd user timer (or cron where systemd is absent).",
        subcommands: [Install.self, Remove.self, Status.self],
        defaultSubcommand: Status.self
    )

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install the nightly index job.",
            discussion: "Example: assist schedule install --at 02:30 ~/notes ~/mail/inbox.mbox")
        @Option(help: "Time of day, HH:MM (24 h).") var at = "02:30"
        @Argument(help: "Notes folders and mbox files to index.") var paths: [String]
        func run() throws {
            let config = try ConfigLoader.load()
            let report = try ScheduleInstaller().install(
                at: at, paths: paths, executable: ScheduleInstaller.runningExecutable(), home: config.home)
            Terminal().out(report.description)
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove the nightly index job.")
        func run() throws {
            Terminal().out(try ScheduleInstaller().remove().description)
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the nightly job and its last log lines.")
        func run() throws {
            let config = try ConfigLoader.load()
            Terminal().out(ScheduleInstaller().status(home: config.home).description)
        }
    }
}
