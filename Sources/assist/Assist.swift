import ArgumentParser
import Foundation

@main
struct Assist: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assist",
        abstract: "A private assistant for your notes and email, running on this machine.",
        version: "0.1.0",
        subcommands: []
    )
}
