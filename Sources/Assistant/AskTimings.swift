import Foundation
import Inference

/// Where the time of one answer went, phase by phase, for `assist ask --timings` and `--json`.
///
/// Each phase has its wall time and the process's CPU time over the same span (all threads): on a busy
/// machine wall time mostly measures the other processes, CPU time what the phase itself costs.
public struct AskTimings: Sendable, Equatable, Encodable {
    public struct Phase: Sendable, Equatable, Encodable {
        public var name: String
        public var seconds: Double
        public var cpuSeconds: Double

        public init(name: String, seconds: Double, cpuSeconds: Double) {
            self.name = name
            self.seconds = seconds
            self.cpuSeconds = cpuSeconds
        }

        enum CodingKeys: String, CodingKey { case name, seconds, cpuSeconds = "cpu_seconds" }
    }

    /// In order: what the command did before asking (`process_start`, model loads), then `retrieval`,
    /// `relevance`, `prompt`, `prefill` (up to the first token) and `decode`, and after a reply that was
    /// the model's `NOT_FOUND`, `second_look` (the second reply, shown only once it is complete and checked).
    public var phases: [Phase]
    /// The prompt's size in the model's tokens (chat template included when the engine reports it).
    public var promptTokens: Int?
    /// Prompt tokens taken from a KV cache instead of being computed (nil when the backend does not say).
    public var reusedPromptTokens: Int?
    /// Of those, tokens restored from the prompt-prefix cache on disk.
    public var restoredPromptTokens: Int?
    /// Answer pieces generated.
    public var answerPieces: Int

    public init(
        phases: [Phase] = [], promptTokens: Int? = nil, reusedPromptTokens: Int? = nil,
        restoredPromptTokens: Int? = nil, answerPieces: Int = 0
    ) {
        self.phases = phases
        self.promptTokens = promptTokens
        self.reusedPromptTokens = reusedPromptTokens
        self.restoredPromptTokens = restoredPromptTokens
        self.answerPieces = answerPieces
    }

    /// The phase of a second look (`AskOptions.secondLook`).
    public static let secondLookPhase = "second_look"

    /// Wall time of all phases up to and including `prefill`, or after a second look up to and including
    /// it: what a user waits for the first word shown (the first reply, the sentinel, never is).
    public var firstTokenSeconds: Double {
        let shown = phases.lastIndex { $0.name == "prefill" || $0.name == Self.secondLookPhase } ?? phases.count - 1
        return phases.prefix(shown + 1).reduce(0) { $0 + $1.seconds }
    }

    enum CodingKeys: String, CodingKey {
        case phases, promptTokens = "prompt_tokens", reusedPromptTokens = "reused_prompt_tokens"
        case restoredPromptTokens = "restored_prompt_tokens", answerPieces = "answer_pieces"
        case firstTokenSeconds = "first_token_seconds"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(phases, forKey: .phases)
        try c.encode(promptTokens, forKey: .promptTokens)
        try c.encode(reusedPromptTokens, forKey: .reusedPromptTokens)
        try c.encode(restoredPromptTokens, forKey: .restoredPromptTokens)
        try c.encode(answerPieces, forKey: .answerPieces)
        try c.encode(firstTokenSeconds, forKey: .firstTokenSeconds)
    }

    /// One line per phase, aligned, then the token counts: for `--timings` on stderr.
    public var table: String {
        let width = phases.reduce(14) { max($0, $1.name.count + 1) }
        var lines = phases.map { p in
            p.name.padding(toLength: width, withPad: " ", startingAt: 0)
                + String(format: "%8.3f s wall %8.3f s cpu", p.seconds, p.cpuSeconds)
        }
        lines.append("first token".padding(toLength: width, withPad: " ", startingAt: 0)
            + String(format: "%8.3f s wall (the phases until the first word shown)", firstTokenSeconds))
        if let promptTokens {
            var line = "prompt tokens \(promptTokens)"
            if let reusedPromptTokens { line += ", \(reusedPromptTokens) reused" }
            if let restoredPromptTokens, restoredPromptTokens > 0 { line += " (\(restoredPromptTokens) from the prefix cache on disk)" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

/// Laps wall and process CPU time into `AskTimings.Phase`s.
public struct PhaseClock: Sendable {
    private var wall: ContinuousClock.Instant
    private var cpu: Double
    public private(set) var phases: [AskTimings.Phase] = []

    public init() {
        wall = ContinuousClock.now
        cpu = Self.processCPUSeconds()
    }

    /// Ends the current phase as `name` and starts the next.
    public mutating func lap(_ name: String) {
        let now = ContinuousClock.now
        let nowCPU = Self.processCPUSeconds()
        phases.append(AskTimings.Phase(name: name, seconds: Self.seconds(now - wall), cpuSeconds: max(0, nowCPU - cpu)))
        wall = now
        cpu = nowCPU
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    /// User plus system CPU time of the whole process so far.
    public static func processCPUSeconds() -> Double {
        var usage = rusage()
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Wall and CPU time from the process's start to now (Linux: `/proc/self/stat`), as a `process_start`
    /// phase; nil where the system does not say.
    public static func sinceProcessStart() -> AskTimings.Phase? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let uptimeText = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
            let uptime = Double(uptimeText.split(separator: " ").first ?? ""),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name: state is field 3; starttime is field 22, in clock ticks since boot.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard hertz > 0 else { return nil }
        return AskTimings.Phase(
            name: "process_start", seconds: max(0, uptime - ticks / hertz), cpuSeconds: processCPUSeconds())
    }
}
