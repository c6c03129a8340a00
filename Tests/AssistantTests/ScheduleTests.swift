import Assistant
import Foundation
import Testing

/// Stands in for `systemctl` and `crontab`, so tests never touch the real user's timers or crontab.
final class FakeScheduler: CommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var log: [[String]] = []
    private var table: String?
    let systemctlWorks: Bool
    let hasCrontab: Bool

    init(systemctlWorks: Bool = true, hasCrontab: Bool = true, crontab: String? = nil) {
        self.systemctlWorks = systemctlWorks
        self.hasCrontab = hasCrontab
        self.table = crontab
    }

    var commands: [[String]] { lock.withLock { log } }
    var crontab: String? { lock.withLock { table } }

    func run(_ arguments: [String], input: String?) -> CommandResult {
        lock.withLock {
            log.append(arguments)
            switch arguments.first {
            case "systemctl":
                guard systemctlWorks else {
                    return CommandResult(status: 1, error: "Failed to connect to bus: No medium found")
                }
                if arguments.contains("is-enabled") { return CommandResult(status: 0, output: "enabled\n") }
                if arguments.contains("show") { return CommandResult(status: 0, output: "Thu 2026-11-26 02:30:00 UTC\n") }
                return CommandResult(status: 0)
            case "crontab":
                guard hasCrontab else { return CommandResult(status: 127, error: "crontab: command not found") }
                if arguments.contains("-l") {
                    guard let table else { return CommandResult(status: 1, error: "no crontab for tester") }
                    return CommandResult(status: 0, output: table)
                }
                table = input ?? ""
                return CommandResult(status: 0)
            default:
                return CommandResult(status: 127)
            }
        }
    }
}

/// A temporary HOME with an `assist` program and folders whose names need quoting.
final class ScheduleSandbox {
    let root: String
    let executable: String
    let notes: String
    let mbox: String

    init() throws {
        root = NSTemporaryDirectory() + "assist-schedule-test-" + UUID().uuidString
        let manager = FileManager.default
        try manager.createDirectory(atPath: root + "/my tools", withIntermediateDirectories: true)
        executable = root + "/my tools/assist"
        // Prints each argument on its own line, then the data directory it was given.
        let script = "#!/bin/sh\nfor a in \"$@\"; do printf '<%s>\\n' \"$a\"; done\nprintf 'ASSIST_HOME=%s\\n' \"$ASSIST_HOME\"\n"
        try script.write(toFile: executable, atomically: true, encoding: .utf8)
        try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: executable)
        notes = root + "/My Notes 100% \"real\" $HOME"
        try manager.createDirectory(atPath: notes, withIntermediateDirectories: true)
        mbox = root + "/it's mail.mbox"
        try "".write(toFile: mbox, atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    var dataHome: String { root + "/data home" }
    var environment: [String: String] {
        ["HOME": root, "ASSIST_MODELS": "/models dir", "ASSIST_OPENAI_API_KEY": "sk-secret", "PATH": "/usr/bin:/bin"]
    }
    var unitDirectory: String { root + "/.config/systemd/user" }
    var servicePath: String { unitDirectory + "/assist-index.service" }
    var timerPath: String { unitDirectory + "/assist-index.timer" }

    func install(_ installer: ScheduleInstaller, at time: String = "02:30") throws -> ScheduleReport {
        try installer.install(
            at: time, paths: [notes, mbox], executable: executable, home: dataHome, environment: environment,
            currentDirectory: root)
    }
}

@Suite struct ScheduleTests {
    @Test func timesAreValidated() throws {
        #expect(try ScheduleTime(parsing: "02:30").onCalendar == "*-*-* 02:30:00")
        #expect(try ScheduleTime(parsing: "2:30").cronFields == "30 2 * * *")
        #expect(try ScheduleTime(parsing: "23:59").description == "23:59")
        #expect(try ScheduleTime(parsing: "00:00").cronFields == "0 0 * * *")
        for bad in ["24:00", "2:3", "02:60", "0230", "ab:cd", "", "-1:30", "02:30:00", "٠٢:٣٠", "+2:30"] {
            #expect(throws: ScheduleError.invalidTime(bad)) { try ScheduleTime(parsing: bad) }
        }
    }

    @Test func systemdInstallWritesQuotedUnitsAndEnablesTheTimer() throws {
        let sandbox = try ScheduleSandbox()
        let fake = FakeScheduler()
        let report = try sandbox.install(ScheduleInstaller(runner: fake, preference: .systemd))
        #expect(report.scheduler == .systemd)
        #expect(report.files == [sandbox.servicePath, sandbox.timerPath])
        #expect(report.manualCommands.isEmpty)
        #expect(report.description.contains("Remove with: assist schedule remove"))
        #expect(fake.commands.filter { $0.first == "systemctl" } == [
            ["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", "assist-index.timer"],
        ])
        #expect(fake.crontab == nil)  // no crontab entry existed, so none was written

        let service = try String(contentsOfFile: sandbox.servicePath, encoding: .utf8)
        let root = sandbox.root
        let lines = service.split(separator: "\n").map(String.init)
        #expect(lines.contains(
            "ExecStart=\"\(root)/my tools/assist\" \"index\" \"\(root)/My Notes 100%% \\\"real\\\" $$HOME\" \"\(root)/it's mail.mbox\""))
        #expect(lines.contains("Environment=\"ASSIST_HOME=\(root)/data home\""))
        #expect(lines.contains("Environment=\"ASSIST_MODELS=/models dir\""))
        #expect(!service.contains("sk-secret"))
        #expect(lines.contains("Nice=10"))
        #expect(lines.contains("IOSchedulingClass=idle"))
        #expect(lines.contains("Type=oneshot"))
        #expect(lines.contains("StandardOutput=append:\(root)/data home/logs/index.log"))
        #expect(lines.contains("StandardError=append:\(root)/data home/logs/index.log"))

        let timer = try String(contentsOfFile: sandbox.timerPath, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(timer.contains("OnCalendar=*-*-* 02:30:00"))
        #expect(timer.contains("Persistent=true"))
        #expect(timer.contains("RandomizedDelaySec=5min"))
        #expect(timer.contains("WantedBy=timers.target"))
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: sandbox.dataHome + "/logs", isDirectory: &isDirectory) && isDirectory.boolValue)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze")))
    func systemdAnalyzeVerifiesTheGeneratedUnits_skippedOnlyWhereSystemdAnalyzeIsAbsent() throws {
        let sandbox = try ScheduleSandbox()
        _ = try sandbox.install(ScheduleInstaller(runner: FakeScheduler(), preference: .systemd))
        let result = ProcessCommandRunner(searchPath: "/usr/bin:/bin").run(
            ["systemd-analyze", "verify", sandbox.servicePath, sandbox.timerPath], input: nil)
        #expect(result.status == 0, "systemd-analyze verify: \(result.error)\(result.output)")
        #expect(result.error.isEmpty && result.output.isEmpty, "warnings: \(result.error)\(result.output)")
    }

    @Test func whenSystemctlCannotRunTheReportGivesTheCommandsToRunByHand() throws {
        let sandbox = try ScheduleSandbox()
        let report = try sandbox.install(ScheduleInstaller(runner: FakeScheduler(systemctlWorks: false), preference: .systemd))
        #expect(report.manualCommands == ["systemctl --user daemon-reload", "systemctl --user enable --now assist-index.timer"])
        #expect(report.description.contains("Failed to connect to bus"))
        #expect(report.description.contains("NOT active"))
        #expect(FileManager.default.fileExists(atPath: sandbox.timerPath))
    }

    @Test func removeDisablesAndDeletesTheUnits() throws {
        let sandbox = try ScheduleSandbox()
        let fake = FakeScheduler()
        let installer = ScheduleInstaller(runner: fake, preference: .systemd)
        _ = try sandbox.install(installer)
        let report = try installer.remove(environment: sandbox.environment)
        #expect(report.scheduler == .systemd)
        #expect(!FileManager.default.fileExists(atPath: sandbox.servicePath))
        #expect(!FileManager.default.fileExists(atPath: sandbox.timerPath))
        let systemctl = fake.commands.filter { $0.first == "systemctl" }.suffix(2)
        #expect(Array(systemctl) == [
            ["systemctl", "--user", "disable", "--now", "assist-index.timer"], ["systemctl", "--user", "daemon-reload"],
        ])
        let again = try installer.remove(environment: sandbox.environment)
        #expect(again.description.contains("nothing to remove"))
    }

    @Test func statusShowsTheTimerNextRunAndLastLogLines() throws {
        let sandbox = try ScheduleSandbox()
        let installer = ScheduleInstaller(runner: FakeScheduler(), preference: .systemd)
        let before = installer.status(home: sandbox.dataHome, environment: sandbox.environment)
        #expect(!before.isInstalled)
        _ = try sandbox.install(installer)
        let log = (1...12).map { "run \($0)" }.joined(separator: "\n") + "\n"
        try log.write(toFile: sandbox.dataHome + "/logs/index.log", atomically: true, encoding: .utf8)
        let status = installer.status(home: sandbox.dataHome, environment: sandbox.environment)
        #expect(status.isInstalled)
        #expect(status.timerState == "enabled")
        #expect(status.nextRun == "Thu 2026-11-26 02:30:00 UTC")
        #expect(status.lastLogLines == (3...12).map { "run \($0)" })
        #expect(status.description.contains("next run: Thu 2026-11-26 02:30:00 UTC"))
    }

    @Test func cronInstallAddsOneTaggedLineKeepingTheUsersOwn() throws {
        let sandbox = try ScheduleSandbox()
        let fake = FakeScheduler(crontab: "MAILTO=me@example.org\n0 * * * * /usr/bin/backup\n")
        let installer = ScheduleInstaller(runner: fake, preference: .cron)
        let report = try sandbox.install(installer)
        #expect(report.scheduler == .cron)
        let lines = try #require(fake.crontab).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0] == "MAILTO=me@example.org" && lines[1] == "0 * * * * /usr/bin/backup")
        let root = sandbox.root
        #expect(lines[2] == "30 2 * * * ASSIST_HOME='\(root)/data home' ASSIST_MODELS='/models dir' nice -n 10 "
            + "'\(root)/my tools/assist' 'index' '\(root)/My Notes 100\\% \"real\" $HOME' '\(root)/it'\\''s mail.mbox' "
            + ">> '\(root)/data home/logs/index.log' 2>&1 # assist-schedule:index")
        #expect(report.description.contains(lines[2]))

        // Installing again replaces the line rather than adding a second one.
        _ = try sandbox.install(installer, at: "4:05")
        let replaced = try #require(fake.crontab).split(separator: "\n").map(String.init)
        #expect(replaced.count == 3)
        #expect(replaced[2].hasPrefix("5 4 * * * "))

        let removal = try installer.remove(environment: sandbox.environment)
        #expect(removal.scheduler == .cron)
        #expect(fake.crontab == "MAILTO=me@example.org\n0 * * * * /usr/bin/backup\n")
    }

    @Test func switchingSchedulersRemovesTheOtherEntry() throws {
        let sandbox = try ScheduleSandbox()
        let fake = FakeScheduler(crontab: "0 * * * * /usr/bin/backup\n")
        _ = try sandbox.install(ScheduleInstaller(runner: fake, preference: .systemd))
        let toCron = try sandbox.install(ScheduleInstaller(runner: fake, preference: .cron))
        #expect(!FileManager.default.fileExists(atPath: sandbox.servicePath))
        #expect(!FileManager.default.fileExists(atPath: sandbox.timerPath))
        #expect(toCron.description.contains("Removed \(sandbox.timerPath)"))
        #expect(fake.crontab?.contains(ScheduleInstaller.cronMarker) == true)

        let toSystemd = try sandbox.install(ScheduleInstaller(runner: fake, preference: .systemd))
        #expect(fake.crontab == "0 * * * * /usr/bin/backup\n")
        #expect(toSystemd.description.contains("Removed the earlier crontab entry"))
        #expect(FileManager.default.fileExists(atPath: sandbox.timerPath))
    }

    @Test func theCronCommandRunsUnderShWithEveryArgumentIntact() throws {
        let sandbox = try ScheduleSandbox()
        let fake = FakeScheduler()
        _ = try sandbox.install(ScheduleInstaller(runner: fake, preference: .cron))
        let line = try #require(fake.crontab?.split(separator: "\n").first.map(String.init))
        // What cron hands to /bin/sh: the line after the five time fields, with `\%` turned back into `%`.
        let command = line.split(separator: " ", maxSplits: 5).last.map(String.init)?
            .replacingOccurrences(of: "\\%", with: "%") ?? ""
        let result = ProcessCommandRunner(searchPath: "/usr/bin:/bin").run(["sh", "-c", command], input: nil)
        #expect(result.status == 0, "\(result.error)")
        let log = try String(contentsOfFile: sandbox.dataHome + "/logs/index.log", encoding: .utf8)
        #expect(log == "<index>\n<\(sandbox.notes)>\n<\(sandbox.mbox)>\nASSIST_HOME=\(sandbox.dataHome)\n")
    }

    @Test func automaticChoiceFallsBackToCronAndFailsClearlyWithNeither() throws {
        let sandbox = try ScheduleSandbox()
        let cron = FakeScheduler()
        let report = try sandbox.install(ScheduleInstaller(runner: cron, preference: .automatic, systemdIsRunning: { false }))
        #expect(report.scheduler == .cron)
        #expect(!FileManager.default.fileExists(atPath: sandbox.servicePath))

        let neither = ScheduleInstaller(runner: FakeScheduler(hasCrontab: false), preference: .automatic, systemdIsRunning: { false })
        #expect(throws: ScheduleError.noScheduler) { try sandbox.install(neither) }

        let systemd = try sandbox.install(ScheduleInstaller(runner: FakeScheduler(), systemdIsRunning: { true }))
        #expect(systemd.scheduler == .systemd)
    }

    @Test func theProcessRunnerFeedsInputAndReportsMissingPrograms() {
        let runner = ProcessCommandRunner(searchPath: "/usr/bin:/bin")
        #expect(runner.run(["cat"], input: "line one\nline two\n") == CommandResult(status: 0, output: "line one\nline two\n"))
        #expect(runner.run(["sh", "-c", "echo oops >&2; exit 3"], input: nil) == CommandResult(status: 3, error: "oops\n"))
        #expect(runner.run(["no-such-program-here"], input: nil).status == 127)
    }

    @Test func installChecksItsInputs() throws {
        let sandbox = try ScheduleSandbox()
        let installer = ScheduleInstaller(runner: FakeScheduler(), preference: .cron)
        #expect(throws: ScheduleError.invalidTime("25:00")) { try sandbox.install(installer, at: "25:00") }
        #expect(throws: ScheduleError.noPaths) {
            try installer.install(at: "02:30", paths: [], executable: sandbox.executable, home: sandbox.dataHome, environment: sandbox.environment)
        }
        #expect(throws: ScheduleError.missingPath(sandbox.root + "/nowhere")) {
            try installer.install(
                at: "02:30", paths: ["nowhere"], executable: sandbox.executable, home: sandbox.dataHome,
                environment: sandbox.environment, currentDirectory: sandbox.root)
        }
        #expect(throws: ScheduleError.executableNotFound(sandbox.mbox)) {
            try installer.install(at: "02:30", paths: [sandbox.notes], executable: sandbox.mbox, home: sandbox.dataHome, environment: sandbox.environment)
        }
        #expect(throws: ScheduleError.unsupportedPath("/tmp/a\nb")) {
            try installer.install(at: "02:30", paths: ["/tmp/a\nb"], executable: sandbox.executable, home: sandbox.dataHome, environment: sandbox.environment)
        }
    }
}
