import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a CLI test could not run or what it saw instead of what it expected.
struct CLITestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A scratch folder for one test (removed at the end, even if a test made parts of it read-only).
final class Scratch: @unchecked Sendable {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("cli-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit {
        // chmod 000 files and 0500 folders must not make the cleanup fail.
        if let walker = FileManager.default.enumerator(atPath: root) {
            for case let relative as String in walker { chmod(root + "/" + relative, 0o700) }
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    var db: String { root + "/home/index.sqlite" }

    func path(_ relative: String) -> String { root + "/" + relative }

    @discardableResult
    func write(_ relative: String, _ bytes: some Sequence<UInt8>) throws -> String {
        let full = path(relative)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: full, contents: Data(bytes)) else {
            throw CLITestError("cannot write \(full)")
        }
        return full
    }

    @discardableResult
    func write(_ relative: String, text: String) throws -> String { try write(relative, Array(text.utf8)) }
}

/// What one run of the `assist` binary did.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Killed by a signal (a trap shows up here, as SIGILL or SIGTRAP) rather than exiting.
    var signal: Int32?
    var timedOut: Bool

    /// The `--json` document on stdout.
    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] else {
            throw CLITestError("stdout is not a JSON object: \(stdout.prefix(500))")
        }
        return object
    }

    var summary: String {
        "status \(status)\(signal.map { " signal \($0)" } ?? "")\(timedOut ? " (timed out)" : "")\n"
            + "stderr: \(stderr.suffix(2000))\nstdout: \(stdout.prefix(1000))"
    }
}

/// Runs the real `assist` executable the way a person would, each run in its own environment: the index
/// and the config live in the test's scratch folder; models come from `ASSIST_MODELS` (or /work/models).
struct AssistCLI {
    let executable: String
    let scratch: Scratch

    init(_ scratch: Scratch) throws {
        self.scratch = scratch
        executable = try Self.binary()
    }

    /// The `assist` binary built next to the test bundle (`swift build` puts all products in one folder).
    static func binary() throws -> String {
        let bundleFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let here = FileManager.default.currentDirectoryPath
        let candidates = [bundleFolder + "/assist", here + "/.build/release/assist", here + "/.build/debug/assist"]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw CLITestError("assist is not built (looked in \(candidates)): run `swift build` first")
        }
        return found
    }

    /// The models folder the CLI should use, or nil when the real models are not installed.
    static var modelsFolder: String? {
        let env = ProcessInfo.processInfo.environment
        let candidates = [env["ASSIST_MODELS"], "/work/models"].compactMap { $0 }.filter { !$0.isEmpty }
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf") }
    }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["ASSIST_HOME"] = scratch.path("home")
        env["XDG_CONFIG_HOME"] = scratch.path("config")
        env["XDG_DATA_HOME"] = scratch.path("data")
        env["NO_COLOR"] = "1"
        env["ASSIST_MODELS"] = Self.modelsFolder ?? scratch.path("no-models")
        return env
    }

    /// Starts `assist ARGS` (optionally through a wrapper such as `unshare -n` or a shell that sets a
    /// ulimit first) and returns at once.
    func start(_ arguments: [String], wrapper: [String] = [], environment extra: [String: String] = [:]) throws -> RunningCLI {
        let process = Process()
        let command = wrapper + [executable] + arguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = environment.merging(extra) { _, new in new }
        let id = UUID().uuidString
        let outPath = scratch.path("run-\(id).out")
        let errPath = scratch.path("run-\(id).err")
        guard FileManager.default.createFile(atPath: outPath, contents: nil),
            FileManager.default.createFile(atPath: errPath, contents: nil)
        else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: scratch.path("")]) }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return RunningCLI(process: process, outPath: outPath, errPath: errPath)
    }

    /// Runs `assist ARGS` to its end; a run longer than `timeout` seconds is killed and reported as hung.
    func run(
        _ arguments: [String], wrapper: [String] = [], environment extra: [String: String] = [:], timeout: Double = 600
    ) throws -> CLIResult {
        try start(arguments, wrapper: wrapper, environment: extra).wait(timeout: timeout)
    }
}

/// An `assist` process in flight.
final class RunningCLI {
    let process: Process
    let outPath: String
    let errPath: String

    init(process: Process, outPath: String, errPath: String) {
        self.process = process
        self.outPath = outPath
        self.errPath = errPath
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Waits for the process (killing it after `timeout` seconds: a hang guard, not a speed check).
    func wait(timeout: Double = 600) throws -> CLIResult {
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(20_000)
        }
        process.waitUntilExit()
        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        let signaled = process.terminationReason == .uncaughtSignal
        return CLIResult(
            status: signaled ? -1 : process.terminationStatus, stdout: stdout, stderr: stderr,
            signal: signaled ? process.terminationStatus : nil, timedOut: timedOut)
    }
}

/// A fixed pseudo-random sequence, so generated hostile files are the same on every run.
struct SeededBytes {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 11
    }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

/// Whether this process may create user+mount or network namespaces (`unshare`), and the wrapper to use.
enum Namespaces {
    static func wrapper(_ flags: String) -> [String]? {
        for candidate in ["/usr/bin/unshare", "/bin/unshare"] where FileManager.default.isExecutableFile(atPath: candidate) {
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: candidate)
            probe.arguments = [flags, "/bin/true"]
            probe.standardError = FileHandle.nullDevice
            probe.standardOutput = FileHandle.nullDevice
            guard (try? probe.run()) != nil else { return nil }
            probe.waitUntilExit()
            return probe.terminationStatus == 0 ? [candidate, flags] : nil
        }
        return nil
    }
}
