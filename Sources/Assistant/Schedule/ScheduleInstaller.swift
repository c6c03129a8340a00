import Foundation

/// Which scheduler runs the nightly re-index.
public enum Scheduler: String, Sendable, Equatable {
    /// A systemd user timer and service in `~/.config/systemd/user`.
    case systemd
    /// A line in the user's crontab, tagged with `ScheduleInstaller.cronMarker`.
    case cron
}

/// What `install` or `remove` did, in words for the user, including how to undo it or finish by hand.
public struct ScheduleReport: Sendable, Equatable, CustomStringConvertible {
    public var scheduler: Scheduler?
    /// Files written or deleted.
    public var files: [String]
    /// Commands the user still has to run because they could not be run here.
    public var manualCommands: [String]
    public var lines: [String]

    public var description: String { lines.joined(separator: "\n") }
}

/// What is installed now, for `assist schedule status`.
public struct ScheduleStatus: Sendable, Equatable, CustomStringConvertible {
    /// Unit files present in the systemd user directory.
    public var systemdUnits: [String]
    /// `systemctl --user is-enabled` for the timer, when systemctl could tell.
    public var timerState: String?
    /// When the timer fires next, as systemctl prints it, when it could tell.
    public var nextRun: String?
    /// Tagged lines in the user's crontab.
    public var cronLines: [String]
    public var logPath: String
    /// The end of the log of past runs.
    public var lastLogLines: [String]

    public var isInstalled: Bool { !systemdUnits.isEmpty || !cronLines.isEmpty }

    public var description: String {
        var lines: [String] = []
        if systemdUnits.isEmpty && cronLines.isEmpty { lines.append("No nightly re-index is installed (`assist schedule install --at 02:30 PATH…` sets one up).") }
        if !systemdUnits.isEmpty {
            lines.append("systemd user timer: " + (timerState ?? "state unknown (systemctl could not tell)"))
            lines += systemdUnits.map { "  \($0)" }
            if let nextRun { lines.append("next run: \(nextRun)") }
        }
        if !cronLines.isEmpty {
            lines.append("crontab entry:")
            lines += cronLines.map { "  \($0)" }
        }
        if lastLogLines.isEmpty {
            lines.append("log: \(logPath) (no runs logged yet)")
        } else {
            lines.append("last lines of \(logPath):")
            lines += lastLogLines.map { "  \($0)" }
        }
        return lines.joined(separator: "\n")
    }
}

/// Installs, removes and reports the nightly `assist index PATH…` run.
///
/// With systemd running as init, it writes a user service and timer (`assist-index.service`,
/// `assist-index.timer` in `$XDG_CONFIG_HOME/systemd/user`, else `~/.config/systemd/user`): the service runs
/// the index at low CPU and I/O priority (`Nice=10`, `IOSchedulingClass=idle`) and appends its output to
/// `<ASSIST_HOME>/logs/index.log`; the timer fires daily at the chosen time with up to five minutes of random
/// delay, and `Persistent=true` catches up on a run missed while the machine was off. Then it asks
/// `systemctl --user` to reload and enable the timer, and if that cannot be done here, says which commands
/// to run by hand. Without systemd it adds one line to the user's crontab, tagged with a marker comment so
/// `remove` finds it again.
///
/// The scheduled command gets `ASSIST_HOME` and the other `ASSIST_*` and XDG variables of the installing
/// environment (so it indexes into the same database with the same config), except secrets
/// (`ASSIST_OPENAI_API_KEY`, `ASSIST_SERVE_TOKEN`), which stay in the config file.
public struct ScheduleInstaller: Sendable {
    public enum Preference: Sendable {
        /// systemd when it is the running init, else cron.
        case automatic
        case systemd
        case cron
    }

    public static let serviceName = "assist-index.service"
    public static let timerName = "assist-index.timer"
    /// Ends the crontab line this installer owns.
    public static let cronMarker = "# assist-schedule:index"

    public var runner: any CommandRunner
    public var preference: Preference
    /// Whether systemd is the running init (`/run/systemd/system` exists); injectable for tests.
    public var systemdIsRunning: @Sendable () -> Bool

    public init(
        runner: any CommandRunner = ProcessCommandRunner(), preference: Preference = .automatic,
        systemdIsRunning: @escaping @Sendable () -> Bool = { FileManager.default.fileExists(atPath: "/run/systemd/system") }
    ) {
        self.runner = runner
        self.preference = preference
        self.systemdIsRunning = systemdIsRunning
    }

    // MARK: - Install

    /// Schedules `executable index PATHS…` daily at `time` (`HH:MM`). `home` is the data directory
    /// (`ASSIST_HOME`) whose `logs/index.log` receives the output. Relative paths are taken from
    /// `currentDirectory`; every path must exist. Installing again replaces the previous schedule.
    public func install(
        at time: String, paths: [String], executable: String, home: String,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) throws -> ScheduleReport {
        let when = try ScheduleTime(parsing: time)
        let userHome = Self.userHome(environment)
        guard !paths.isEmpty else { throw ScheduleError.noPaths }
        let targets = try paths.map { try Self.absolute($0, userHome: userHome, currentDirectory: currentDirectory) }
        for target in targets where !FileManager.default.fileExists(atPath: target) {
            throw ScheduleError.missingPath(target)
        }
        let program = try Self.absolute(executable, userHome: userHome, currentDirectory: currentDirectory)
        guard FileManager.default.isExecutableFile(atPath: program) else { throw ScheduleError.executableNotFound(program) }
        let dataHome = try Self.absolute(home, userHome: userHome, currentDirectory: currentDirectory)
        let job = Job(
            time: when, executable: program, paths: targets, home: dataHome,
            environment: Self.jobEnvironment(environment, home: dataHome))
        try createDirectory(job.logDirectory)

        switch try chosenScheduler() {
        case .systemd: return try installSystemd(job, environment: environment)
        case .cron: return try installCron(job, environment: environment)
        }
    }

    private func chosenScheduler() throws -> Scheduler {
        switch preference {
        case .systemd: return .systemd
        case .cron: return .cron
        case .automatic:
            if systemdIsRunning() { return .systemd }
            if runner.run(["crontab", "-l"], input: nil).status != 127 { return .cron }
            throw ScheduleError.noScheduler
        }
    }

    private func installSystemd(_ job: Job, environment: [String: String]) throws -> ScheduleReport {
        let directory = Self.unitDirectory(environment)
        try createDirectory(directory)
        let service = directory + "/" + Self.serviceName, timer = directory + "/" + Self.timerName
        try writeFile(service, Self.serviceUnit(job))
        try writeFile(timer, Self.timerUnit(job.time))
        var lines = [
            "Installed a systemd user timer: `assist index` runs daily at \(job.time) (up to 5 min later at random;"
                + " a run missed while the machine was off happens at next boot).",
            "  \(service)", "  \(timer)",
            "  runs: \(job.commandLine)",
            "  log:  \(job.logPath)",
        ]
        let activation = [["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", Self.timerName]]
        var manual: [String] = []
        for (index, command) in activation.enumerated() {
            let result = runner.run(command, input: nil)
            if result.succeeded {
                lines.append("Ran `\(command.joined(separator: " "))`.")
                continue
            }
            let why = [result.error, result.output].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                .first { !$0.isEmpty } ?? "exit \(result.status)"
            lines.append("Could not run `\(command.joined(separator: " "))`: \(why)")
            manual = activation[index...].map { $0.joined(separator: " ") }
            lines.append("The timer is NOT active yet. Run by hand, in your login session:")
            lines += manual.map { "  \($0)" }
            break
        }
        if (try? removeCronLine()) == true { lines.append("Removed the earlier crontab entry, so the index does not run twice.") }
        lines.append("To keep it running while you are logged out: loginctl enable-linger \"$USER\"")
        lines.append("Remove with: assist schedule remove")
        return ScheduleReport(scheduler: .systemd, files: [service, timer], manualCommands: manual, lines: lines)
    }

    private func installCron(_ job: Job, environment: [String: String]) throws -> ScheduleReport {
        guard let current = try readCrontab() else { throw ScheduleError.noScheduler }
        let line = Self.cronLine(job)
        var kept = current.filter { !$0.contains(Self.cronMarker) }
        kept.append(line)
        try writeCrontab(kept)
        // A systemd timer from an earlier install would run the index a second time.
        let earlier = try removeSystemdUnits(environment)
        return ScheduleReport(
            scheduler: .cron, files: [], manualCommands: earlier?.manual ?? [],
            lines: (earlier?.lines ?? []) + [
                "Installed a crontab entry: `assist index` runs daily at \(job.time) (cron's time zone).",
                "  \(line)",
                "  log: \(job.logPath)",
                "Remove with: assist schedule remove (or delete the line tagged \(Self.cronMarker) with `crontab -e`)",
            ])
    }

    // MARK: - Remove and status

    /// Removes whatever this installer set up: the systemd units (disabling the timer first) and the tagged
    /// crontab line. Reports what was removed, or that nothing was installed.
    public func remove(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ScheduleReport {
        let systemd = try removeSystemdUnits(environment)
        let cron = try removeCronLine()
        var lines = systemd?.lines ?? []
        if cron { lines.append("Removed the crontab entry tagged \(Self.cronMarker).") }
        if lines.isEmpty { lines.append("No nightly re-index was installed; nothing to remove.") }
        return ScheduleReport(
            scheduler: systemd != nil ? .systemd : (cron ? .cron : nil), files: systemd?.files ?? [],
            manualCommands: systemd?.manual ?? [], lines: lines)
    }

    /// Disables and deletes the systemd units if they exist; nil when there were none.
    private func removeSystemdUnits(_ environment: [String: String]) throws -> (lines: [String], files: [String], manual: [String])? {
        let directory = Self.unitDirectory(environment)
        let units = [Self.timerName, Self.serviceName].map { directory + "/" + $0 }
            .filter { FileManager.default.fileExists(atPath: $0) }
        guard !units.isEmpty else { return nil }
        var lines: [String] = []
        let disable = ["systemctl", "--user", "disable", "--now", Self.timerName]
        let disabled = runner.run(disable, input: nil).succeeded
        for unit in units {
            do {
                try FileManager.default.removeItem(atPath: unit)
            } catch {
                throw ScheduleError.writeFailed(path: unit, reason: error.localizedDescription)
            }
            lines.append("Removed \(unit)")
        }
        let reload = ["systemctl", "--user", "daemon-reload"]
        var manual: [String] = []
        if disabled && runner.run(reload, input: nil).succeeded {
            lines.append("Stopped and disabled \(Self.timerName).")
        } else {
            manual = [disable, reload].map { $0.joined(separator: " ") }
            lines.append("systemctl could not be reached here; if the timer was active, run by hand:")
            lines += manual.map { "  \($0)" }
        }
        return (lines, units, manual)
    }

    /// Deletes the tagged crontab line; false when there was none (or no crontab program).
    private func removeCronLine() throws -> Bool {
        guard let current = try readCrontab() else { return false }
        let kept = current.filter { !$0.contains(Self.cronMarker) }
        guard kept.count != current.count else { return false }
        try writeCrontab(kept)
        return true
    }

    /// What is installed, when it runs next (if systemctl can tell), and the last lines of its log.
    public func status(home: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> ScheduleStatus {
        let directory = Self.unitDirectory(environment)
        let units = [Self.serviceName, Self.timerName].map { directory + "/" + $0 }
            .filter { FileManager.default.fileExists(atPath: $0) }
        var state: String?, next: String?
        if !units.isEmpty {
            let enabled = runner.run(["systemctl", "--user", "is-enabled", Self.timerName], input: nil)
            let word = enabled.output.trimmingCharacters(in: .whitespacesAndNewlines)
            if enabled.status != 127, !word.isEmpty { state = word }
            let shown = runner.run(
                ["systemctl", "--user", "show", Self.timerName, "--property=NextElapseUSecRealtime", "--value"], input: nil)
            let value = shown.output.trimmingCharacters(in: .whitespacesAndNewlines)
            if shown.succeeded, !value.isEmpty { next = value }
        }
        var cron: [String] = []
        let listing = runner.run(["crontab", "-l"], input: nil)
        if listing.succeeded {
            cron = listing.output.split(separator: "\n").map(String.init).filter { $0.contains(Self.cronMarker) }
        }
        let userHome = Self.userHome(environment)
        let dataHome = (try? Self.absolute(home, userHome: userHome, currentDirectory: FileManager.default.currentDirectoryPath)) ?? home
        let log = dataHome + "/logs/index.log"
        return ScheduleStatus(
            systemdUnits: units, timerState: state, nextRun: next, cronLines: cron, logPath: log,
            lastLogLines: Self.lastLines(of: log, count: 10))
    }

    // MARK: - Rendering

    /// One scheduled run, resolved.
    struct Job {
        var time: ScheduleTime
        var executable: String
        var paths: [String]
        var home: String
        /// Sorted variable assignments the run gets.
        var environment: [(String, String)]

        var logDirectory: String { home + "/logs" }
        var logPath: String { logDirectory + "/index.log" }
        var commandLine: String { ([executable, "index"] + paths).map(ScheduleInstaller.shellQuoted).joined(separator: " ") }
    }

    /// The service unit: runs the index once, politely, logging to the data directory.
    static func serviceUnit(_ job: Job) -> String {
        let command = ([job.executable, "index"] + job.paths).map { systemdQuoted($0, inCommand: true) }
        var lines = [
            "# Written by `assist schedule install`; remove with `assist schedule remove`.",
            "[Unit]",
            "Description=assist: re-index notes and mail",
            "",
            "[Service]",
            "Type=oneshot",
            "ExecStart=" + command.joined(separator: " "),
        ]
        lines += job.environment.map { "Environment=" + systemdQuoted("\($0.0)=\($0.1)", inCommand: false) }
        lines += [
            "Nice=10",
            "IOSchedulingClass=idle",
            "StandardOutput=append:" + systemdSpecifierEscaped(job.logPath),
            "StandardError=append:" + systemdSpecifierEscaped(job.logPath),
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The timer unit: daily at `time`, catching up on missed runs.
    static func timerUnit(_ time: ScheduleTime) -> String {
        [
            "# Written by `assist schedule install`; remove with `assist schedule remove`.",
            "[Unit]",
            "Description=assist: nightly re-index at \(time)",
            "",
            "[Timer]",
            "OnCalendar=\(time.onCalendar)",
            "Persistent=true",
            "RandomizedDelaySec=5min",
            "Unit=\(serviceName)",
            "",
            "[Install]",
            "WantedBy=timers.target",
        ].joined(separator: "\n") + "\n"
    }

    /// The crontab line: environment assignments, then the command at lower priority, output appended to
    /// the log, and the marker. `%` is escaped because cron turns a bare `%` into a newline.
    static func cronLine(_ job: Job) -> String {
        let assignments = job.environment.map { "\($0.0)=\(shellQuoted($0.1))" }
        let command = assignments + ["nice", "-n", "10", job.commandLine, ">>", shellQuoted(job.logPath), "2>&1"]
        let text = "\(job.time.cronFields) " + command.joined(separator: " ")
        return text.replacingOccurrences(of: "%", with: "\\%") + " " + cronMarker
    }

    /// A word in systemd's double-quoted syntax: `\` and `"` escaped, `%` doubled (specifiers), and in
    /// command lines `$` doubled (variable expansion).
    static func systemdQuoted(_ word: String, inCommand: Bool) -> String {
        var out = "\""
        for character in word {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "%": out += "%%"
            case "$" where inCommand: out += "$$"
            default: out.append(character)
            }
        }
        return out + "\""
    }

    /// A path for a systemd setting that is not split into words (`StandardOutput=append:`): only `%` escaped.
    static func systemdSpecifierEscaped(_ path: String) -> String {
        path.replacingOccurrences(of: "%", with: "%%")
    }

    /// A word for `/bin/sh`: single-quoted, with `'` written as `'\''`.
    static func shellQuoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    // MARK: - Helpers

    /// The absolute path of the program now running (`/proc/self/exe` on Linux, else the first argument
    /// made absolute): what `install` should schedule when called from the `assist` command itself.
    public static func runningExecutable(currentDirectory: String = FileManager.default.currentDirectoryPath) -> String {
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"), resolved.hasPrefix("/") {
            return resolved
        }
        let first = CommandLine.arguments.first ?? "assist"
        return first.hasPrefix("/") ? first : ((currentDirectory as NSString).appendingPathComponent(first) as NSString).standardizingPath
    }

    static func userHome(_ environment: [String: String]) -> String {
        if let home = environment["HOME"], home.hasPrefix("/") { return home }
        return NSHomeDirectory()
    }

    /// `$XDG_CONFIG_HOME/systemd/user`, else `~/.config/systemd/user`.
    public static func unitDirectory(_ environment: [String: String]) -> String {
        if let base = environment["XDG_CONFIG_HOME"], base.hasPrefix("/") { return base + "/systemd/user" }
        return userHome(environment) + "/.config/systemd/user"
    }

    static func absolute(_ path: String, userHome: String, currentDirectory: String) throws -> String {
        guard !path.isEmpty, !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw ScheduleError.unsupportedPath(path)
        }
        var result = path
        if result == "~" {
            result = userHome
        } else if result.hasPrefix("~/") {
            result = userHome + "/" + result.dropFirst(2)
        } else if !result.hasPrefix("/") {
            result = currentDirectory + "/" + result
        }
        return (result as NSString).standardizingPath
    }

    /// The variables the scheduled run gets: `ASSIST_HOME`, other non-secret `ASSIST_*`, and the XDG bases.
    static func jobEnvironment(_ environment: [String: String], home: String) -> [(String, String)] {
        let secrets: Set<String> = ["ASSIST_OPENAI_API_KEY", "ASSIST_SERVE_TOKEN"]
        var chosen = ["ASSIST_HOME": home]
        for (name, value) in environment where !value.isEmpty && !secrets.contains(name) && name != "ASSIST_HOME" {
            if name.hasPrefix("ASSIST_") || name == "XDG_CONFIG_HOME" || name == "XDG_DATA_HOME" {
                guard !value.unicodeScalars.contains(where: { $0.value < 0x20 }) else { continue }
                chosen[name] = value
            }
        }
        return chosen.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    private func createDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ScheduleError.writeFailed(path: path, reason: error.localizedDescription)
        }
    }

    private func writeFile(_ path: String, _ text: String) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ScheduleError.writeFailed(path: path, reason: error.localizedDescription)
        }
    }

    /// The user's crontab lines (empty when there is none yet), or nil when `crontab` is not installed.
    private func readCrontab() throws -> [String]? {
        let listing = runner.run(["crontab", "-l"], input: nil)
        if listing.status == 127 { return nil }
        if listing.succeeded {
            var lines = listing.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            while lines.last == "" { lines.removeLast() }
            return lines
        }
        if listing.error.lowercased().contains("no crontab") { return [] }
        throw ScheduleError.commandFailed(command: "crontab -l", status: listing.status, output: listing.error)
    }

    private func writeCrontab(_ lines: [String]) throws {
        let text = lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
        let result = runner.run(["crontab", "-"], input: text)
        guard result.succeeded else {
            throw ScheduleError.commandFailed(command: "crontab -", status: result.status, output: result.error)
        }
    }

    static func lastLines(of path: String, count: Int) -> [String] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let window: UInt64 = 64 << 10
        try? handle.seek(toOffset: size > window ? size - window : 0)
        let data = (try? handle.readToEnd()) ?? Data()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        return Array(lines.suffix(count))
    }
}
