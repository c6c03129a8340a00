import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes human output: colour only on a terminal and only when `NO_COLOR` is unset.
struct Terminal: Sendable {
    let colorOut: Bool
    let colorErr: Bool

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let allowed = environment["NO_COLOR"].map(\.isEmpty) ?? true
        let dumb = environment["TERM"] == "dumb"
        colorOut = allowed && !dumb && isatty(STDOUT_FILENO) == 1
        colorErr = allowed && !dumb && isatty(STDERR_FILENO) == 1
    }

    enum Style: String {
        case bold = "1"
        case dim = "2"
        case red = "31"
        case green = "32"
        case yellow = "33"
        case cyan = "36"
    }

    func styled(_ text: String, _ style: Style, stderr: Bool = false) -> String {
        (stderr ? colorErr : colorOut) ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text
    }

    func out(_ text: String, terminator: String = "\n") {
        FileHandle.standardOutput.write(Data((text + terminator).utf8))
    }

    func err(_ text: String, terminator: String = "\n") {
        FileHandle.standardError.write(Data((text + terminator).utf8))
    }
}

/// A one-line progress bar with counts and an ETA on stderr, redrawn at most ten times a second.
///
/// It draws nothing when stderr is not a terminal, so logs from the nightly timer stay clean.
final class ProgressBar: @unchecked Sendable {
    // @unchecked: all mutable state is guarded by `lock`; progress arrives from worker threads.
    private let lock = NSLock()
    private let enabled: Bool
    private let started = Date()
    private var lastDraw = Date.distantPast
    private var drewSomething = false

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    init(enabled: Bool = ProgressBar.stderrIsTerminal) {
        self.enabled = enabled
    }

    func update(label: String, done: Int, total: Int, detail: String = "") {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.1 || done == total else { return }
        lastDraw = now
        let width = 24
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        var eta = ""
        let elapsed = now.timeIntervalSince(started)
        if done > 0, total > done, elapsed > 1 {
            eta = " ETA " + Self.duration(elapsed / Double(done) * Double(total - done))
        }
        let tail = detail.isEmpty ? "" : "  " + String(detail.suffix(40))
        let line = "\r\u{1B}[2K\(label) \(bar) \(done)/\(total)\(eta)\(tail)"
        FileHandle.standardError.write(Data(line.utf8))
        drewSomething = true
    }

    func finish() {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        if drewSomething { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        drewSomething = false
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\((s % 3600) / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
