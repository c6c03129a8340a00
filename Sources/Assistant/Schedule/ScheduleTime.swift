import Foundation

/// A time of day for the nightly run, from `--at HH:MM` (24-hour clock, local time).
public struct ScheduleTime: Sendable, Equatable, CustomStringConvertible {
    public let hour: Int
    public let minute: Int

    public init(hour: Int, minute: Int) throws(ScheduleError) {
        guard (0...23).contains(hour), (0...59).contains(minute) else {
            throw ScheduleError.invalidTime("\(hour):\(minute)")
        }
        self.hour = hour
        self.minute = minute
    }

    /// Parses `HH:MM` or `H:MM`, e.g. `02:30` or `2:30`.
    public init(parsing text: String) throws(ScheduleError) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let hour = Int(parts[0]), let minute = Int(parts[1]), (0...23).contains(hour), (0...59).contains(minute)
        else { throw ScheduleError.invalidTime(text) }
        self.hour = hour
        self.minute = minute
    }

    /// `HH:MM`.
    public var description: String { String(format: "%02d:%02d", hour, minute) }
    /// systemd's calendar form, every day: `*-*-* 02:30:00`.
    public var onCalendar: String { String(format: "*-*-* %02d:%02d:00", hour, minute) }
    /// The first five crontab fields, every day: `30 2 * * *`.
    public var cronFields: String { "\(minute) \(hour) * * *" }
}

/// What went wrong installing, removing or inspecting the nightly schedule.
public enum ScheduleError: Error, CustomStringConvertible, Equatable {
    case invalidTime(String)
    case noPaths
    case missingPath(String)
    case unsupportedPath(String)
    case executableNotFound(String)
    case writeFailed(path: String, reason: String)
    case commandFailed(command: String, status: Int32, output: String)
    case noScheduler

    public var description: String {
        switch self {
        case .invalidTime(let text):
            return "'\(text)' is not a time of day: give --at HH:MM on the 24-hour clock, e.g. --at 02:30"
        case .noPaths:
            return "nothing to index: give the notes folders and mbox files, e.g. `assist schedule install ~/notes ~/mail/inbox.mbox`"
        case .missingPath(let path):
            return "\(path) does not exist: the nightly run would fail; check the path"
        case .unsupportedPath(let path):
            return "\(path.debugDescription) contains a line break or control character, which a schedule cannot carry; rename it"
        case .executableNotFound(let path):
            return "the assist program \(path) is not an executable file; install assist first or give its full path"
        case .writeFailed(let path, let reason):
            return "cannot write \(path): \(reason)"
        case .commandFailed(let command, let status, let output):
            return "`\(command)` failed (exit \(status))" + (output.isEmpty ? "" : ": \(output)")
        case .noScheduler:
            return "neither systemd (as the running init) nor crontab is available here: install cron"
                + " (e.g. the `cron` package) or run `assist index PATH…` from your own scheduler"
        }
    }
}
