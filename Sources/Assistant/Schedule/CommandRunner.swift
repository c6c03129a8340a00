import Foundation

/// What a finished external command returned.
public struct CommandResult: Sendable, Equatable {
    public var status: Int32
    public var output: String
    public var error: String

    public init(status: Int32, output: String = "", error: String = "") {
        self.status = status
        self.output = output
        self.error = error
    }

    public var succeeded: Bool { status == 0 }
}

/// Runs external programs (`systemctl`, `crontab`). Injected so that tests never touch the real user's
/// timers or crontab.
public protocol CommandRunner: Sendable {
    /// Runs `arguments[0]` (looked up in `PATH`) with the rest as its arguments, feeding `input` to its
    /// standard input, and waits for it.
    func run(_ arguments: [String], input: String?) -> CommandResult
}

/// Runs commands as child processes, looking the program up in the given `PATH`.
public struct ProcessCommandRunner: CommandRunner {
    public var searchPath: String

    public init(searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin") {
        self.searchPath = searchPath
    }

    /// The absolute path of `program` in `searchPath`, if it is there and executable.
    public func locate(_ program: String) -> String? {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        for directory in searchPath.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    public func run(_ arguments: [String], input: String?) -> CommandResult {
        guard let program = arguments.first, let path = locate(program) else {
            return CommandResult(status: 127, error: "\(arguments.first ?? "(nothing)"): command not found")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = Array(arguments.dropFirst())
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        // Only programs that are given input get a pipe; the rest read nothing.
        let standardInput = input.map { _ in Pipe() }
        process.standardInput = standardInput ?? FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return CommandResult(status: 126, error: "\(program): \(error.localizedDescription)")
        }
        // Read both pipes concurrently with writing, so a chatty child cannot block on a full pipe.
        let collected = OutputCollector()
        let group = DispatchGroup()
        for (pipe, isError) in [(output, false), (error, true)] {
            group.enter()
            DispatchQueue.global().async {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                collected.store(data, isError: isError)
                group.leave()
            }
        }
        if let input, let standardInput {
            try? standardInput.fileHandleForWriting.write(contentsOf: Data(input.utf8))
            try? standardInput.fileHandleForWriting.close()
        }
        group.wait()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, output: collected.output, error: collected.error)
    }
}

private final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var outputData = Data(), errorData = Data()
    func store(_ data: Data, isError: Bool) {
        lock.withLock {
            if isError { errorData = data } else { outputData = data }
        }
    }
    var output: String { lock.withLock { String(decoding: outputData, as: UTF8.self) } }
    var error: String { lock.withLock { String(decoding: errorData, as: UTF8.self) } }
}
