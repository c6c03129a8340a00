// index-bench: measures the Index module on generated data, next to Python's standard library where a
// comparison makes sense. Build in release: `swift build -c release --product index-bench`.
//
// Prints: mbox parsing MB/s and messages/s on a generated ~200 MB mbox (and Python's `mailbox`+`email`
// on the same file), full mbox indexing speed, notes indexed per second, the wall time of a no-change
// re-index of 10,000 notes, vector search p50/p99 over 100k and 1M 384-d vectors, and index bytes per chunk.
//
// Options: --parse-only (stop after the mbox parse figures), --stream-gb G (only: stream a generated G GB mbox
// through split + parse and then through a full sync without embedder, printing peak and current RSS at each
// quarter so that flat memory shows; --stream-no-sync skips the sync), --mbox-mb N (default 200), --notes N (default 10000), --vectors 100000,1000000, --keep (leave the
// temp folder), --skip-python, --eval SAMPLE_DIR (only: retrieval recall@5/MRR per search mode over
// SAMPLE_DIR/notes + SAMPLE_DIR/inbox.mbox + SAMPLE_DIR/qa.jsonl with MiniLM from $ASSIST_MODELS), --crash-test (only: kill -9 a sync child process at random moments, check the
// database after each kill, then compare the finished index with a clean one).
import Foundation
import Index
import Inference
import Ingest

struct Arguments {
    var mboxMegabytes = 200
    var notes = 10_000
    var vectorCounts = [100_000, 1_000_000]
    var keep = false
    var skipPython = false
    var crashTest = false
    var evaluate: String?
    var parseOnly = false
    var streamGigabytes: Double?
    var streamSync = true

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--mbox-mb": mboxMegabytes = iterator.next().flatMap(Int.init) ?? mboxMegabytes
            case "--notes": notes = iterator.next().flatMap(Int.init) ?? notes
            case "--vectors": vectorCounts = iterator.next()?.split(separator: ",").compactMap { Int($0) } ?? vectorCounts
            case "--keep": keep = true
            case "--skip-python": skipPython = true
            case "--crash-test": crashTest = true
            case "--eval": evaluate = iterator.next()
            case "--parse-only": parseOnly = true
            case "--stream-gb": streamGigabytes = iterator.next().flatMap(Double.init) ?? 2
            case "--stream-no-sync": streamSync = false
            default:
                FileHandle.standardError.write(Data("unknown option \(argument)\n".utf8))
                exit(2)
            }
        }
    }
}

/// Deterministic pseudo-random numbers (SplitMix64) so every run generates the same data.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Generates text with a Zipf-like word distribution over a synthetic vocabulary.
struct TextGenerator {
    var random = SplitMix(state: 42)
    let vocabulary: [String]

    init() {
        var random = SplitMix(state: 7)
        let syllables = ["ka", "lo", "mi", "ren", "sa", "to", "vel", "dor", "an", "is", "ur", "pe", "qua", "ni", "ge", "bo", "ster", "lin"]
        var words = ["the", "a", "and", "of", "to", "in", "is", "we", "for", "that", "on", "with", "it", "be", "as"]
        while words.count < 3000 {
            let count = Int.random(in: 1...3, using: &random)
            words.append((0..<count).map { _ in syllables.randomElement(using: &random)! }.joined())
        }
        vocabulary = words
    }

    mutating func word() -> String {
        // Squaring a uniform number skews toward the front of the list: frequent words stay frequent.
        let u = Double(random.next() >> 11) / Double(1 << 53)
        return vocabulary[min(vocabulary.count - 1, Int(u * u * Double(vocabulary.count)))]
    }

    mutating func sentence() -> String {
        let count = Int.random(in: 6...18, using: &random)
        var words = (0..<count).map { _ in word() }
        words[0] = words[0].capitalized
        return words.joined(separator: " ") + "."
    }

    mutating func paragraph() -> String {
        (0..<Int.random(in: 2...5, using: &random)).map { _ in sentence() }.joined(separator: " ")
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func measure<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let clock = ContinuousClock()
    let start = clock.now
    let value = try body()
    return (value, seconds(clock.now - start))
}

/// CPU seconds used by the whole process so far (all threads): unlike wall time, it does not grow when
/// other processes compete for the cores.
func cpuSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

func format(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

/// Writes an mbox of about `megabytes` MB: plain, quoted-printable and multipart/alternative messages in
/// threads, as a mailing-list archive looks.
func generateMbox(at path: String, megabytes: Int) throws -> Int {
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    var text = TextGenerator()
    var buffer = ""
    var written = 0
    var count = 0
    let target = megabytes * 1_000_000
    let people = (0..<200).map { "Person \($0) <person\($0)@lists.example>" }
    while written < target {
        let id = "msg\(count)@lists.example"
        let day = 1 + count % 28
        let from = people[count % people.count]
        var headers = [
            "From: \(from)", "To: dev@lists.example", "Subject: \(count % 5 == 0 ? "" : "Re: ")Topic \(count / 5) \(text.word())",
            "Date: Tue, \(String(format: "%02d", day)) Mar 2026 \(String(format: "%02d", count % 24)):15:00 +0000",
            "Message-ID: <\(id)>", "List-Id: <dev.lists.example>", "MIME-Version: 1.0",
        ]
        if count % 5 != 0 {
            headers.append("In-Reply-To: <msg\(count - 1)@lists.example>")
            headers.append("References: <msg\(count - count % 5)@lists.example> <msg\(count - 1)@lists.example>")
        }
        let paragraphs = (0..<Int.random(in: 3...8, using: &text.random)).map { _ in text.paragraph() }
        var body: String
        switch count % 10 {
        case 0:
            headers.append("Content-Type: multipart/alternative; boundary=\"b\(count)\"")
            let plain = paragraphs.joined(separator: "\n\n")
            let html = "<html><body>" + paragraphs.map { "<p>\($0)</p>" }.joined() + "</body></html>"
            body = "--b\(count)\nContent-Type: text/plain; charset=utf-8\n\n\(plain)\n--b\(count)\nContent-Type: text/html; charset=utf-8\n\n\(html)\n--b\(count)--"
        case 1, 2:
            headers.append("Content-Type: text/plain; charset=utf-8")
            headers.append("Content-Transfer-Encoding: quoted-printable")
            body = paragraphs.map { paragraph in
                var lines: [String] = []
                var line = ""
                for word in paragraph.split(separator: " ") {
                    if line.count + word.count > 70 {
                        lines.append(line + " =")
                        line = ""
                    }
                    line += (line.isEmpty ? "" : " ") + (word.utf8.contains(0x3D) ? word.replacingOccurrences(of: "=", with: "=3D") : String(word))
                }
                lines.append(line)
                return lines.joined(separator: "\n")
            }.joined(separator: "\n\n")
        default:
            headers.append("Content-Type: text/plain; charset=utf-8")
            body = paragraphs.joined(separator: "\n\n")
            if count % 5 != 0 {
                body += "\n\nOn Tue, someone wrote:\n" + paragraphs.prefix(2).map { "> " + $0 }.joined(separator: "\n>\n")
            }
        }
        let message = "From person@lists.example Tue Mar  3 10:00:00 2026\n" + headers.joined(separator: "\n") + "\n\n" + body + "\n\n"
        buffer += message
        count += 1
        if buffer.utf8.count > 4 << 20 {
            let data = Data(buffer.utf8)
            try handle.write(contentsOf: data)
            written += data.count
            buffer = ""
        }
    }
    try handle.write(contentsOf: Data(buffer.utf8))
    return count
}

func generateNotes(in folder: String, count: Int) throws {
    var text = TextGenerator()
    for index in 0..<count {
        let sub = "\(folder)/area\(index % 20)"
        if index < 20 { try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true) }
        var note = "---\ntitle: Note \(index) \(text.word())\ntags: [t\(index % 13), project/p\(index % 7)]\ndate: 2026-0\(1 + index % 9)-1\(index % 10)\n---\n\n"
        note += "# \(text.sentence())\n\n\(text.paragraph())\n\n## Details\n\n\(text.paragraph())\n\n- \(text.sentence())\n- \(text.sentence())\n"
        try Data(note.utf8).write(to: URL(fileURLWithPath: "\(sub)/note-\(index).md"))
    }
}

func fileSize(_ path: String) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? 0
}

func databaseBytes(_ path: String) -> Int64 {
    fileSize(path) + fileSize(path + "-wal")
}

// MARK: - Run

// Child mode for the crash test: one sync, killed from outside at a random moment.
if CommandLine.arguments.count >= 3, CommandLine.arguments[1] == "--child-sync" {
    let store = try IndexStore(path: CommandLine.arguments[2])
    _ = try store.sync(Array(CommandLine.arguments.dropFirst(3)), options: SyncOptions(mailBatchSize: 200))
    exit(0)
}

/// Kills a syncing child process with SIGKILL at random moments, checks the database after every kill,
/// lets a final run finish and compares it with an index built without interruption.
func crashTest(in work: String) throws {
    let notesFolder = "\(work)/crash-notes"
    try generateNotes(in: notesFolder, count: 3000)
    let mboxPath = "\(work)/crash.mbox"
    let messages = try generateMbox(at: mboxPath, megabytes: 30)
    let database = "\(work)/crash.sqlite"
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    var random = SplitMix(state: 2026)
    var kills = 0
    var allIntact = true
    for round in 0..<10 {
        let child = Process()
        child.executableURL = executable
        // Alternate which source goes first so that kills land inside mbox batches as well as notes.
        child.arguments = ["--child-sync", database] + (round % 2 == 0 ? [mboxPath, notesFolder] : [notesFolder, mboxPath])
        try child.run()
        let delay = 0.2 + Double(random.next() % 1000) / 1000 * 2.5
        Thread.sleep(forTimeInterval: delay)
        if child.isRunning {
            kill(child.processIdentifier, SIGKILL)
            kills += 1
        }
        child.waitUntilExit()
        let store = try IndexStore(path: database)
        let problems = try store.integrityCheck()
        let status = try store.status()
        print("crash test round \(round + 1): killed after \(format(delay, 2)) s → integrity \(problems.isEmpty ? "ok" : "FAILED \(problems)"), \(status.notes) notes, \(status.mail) mail")
        allIntact = allIntact && problems.isEmpty
    }
    let store = try IndexStore(path: database)
    let final = try store.sync([notesFolder, mboxPath])
    let status = try store.status()
    let clean = try IndexStore(path: "\(work)/clean.sqlite")
    _ = try clean.sync([notesFolder, mboxPath])
    let cleanStatus = try clean.status()
    let same = status.notes == cleanStatus.notes && status.mail == cleanStatus.mail && status.chunks == cleanStatus.chunks
    print("crash test: \(kills) kills, every database intact: \(allIntact); final run added \(final.added); \(status.notes) notes / \(status.mail) mail (of \(messages)) / \(status.chunks) chunks vs clean \(cleanStatus.notes) / \(cleanStatus.mail) / \(cleanStatus.chunks): \(same ? "identical" : "DIFFERENT")")
    if !(allIntact && same) { exit(1) }
}

/// Peak resident set size of this process so far, in MB (`ru_maxrss` is in KiB on Linux).
func peakRSSMegabytes() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// Current resident set size in MB, from /proc/self/statm (0 where that file does not exist).
func currentRSSMegabytes() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}

/// Prints RSS once per quarter of a stream; shared with the sync progress callback, hence the lock.
final class QuarterReporter: @unchecked Sendable {
    private let lock = NSLock()
    private var nextQuarter = 1
    private let label: String

    init(label: String) { self.label = label }

    func update(done: Int, total: Int) {
        lock.lock()
        defer { lock.unlock() }
        while total > 0, nextQuarter <= 4, done * 4 >= total * nextQuarter {
            print("\(label) \(nextQuarter * 25) %: peak RSS \(format(peakRSSMegabytes())) MB, current RSS \(format(currentRSSMegabytes())) MB")
            nextQuarter += 1
        }
    }
}

/// Streams a generated mbox of `gigabytes` GB through split + parse, then (unless `sync` is false) through
/// a full sync without embedder, reporting RSS at every quarter. Memory that stays flat from 25 % to 100 %
/// is memory bounded by the largest message and batch, not by the file.
func streamTest(in work: String, gigabytes: Double, sync: Bool) throws {
    let mboxPath = "\(work)/stream.mbox"
    print("stream test: RSS before generating \(format(currentRSSMegabytes())) MB")
    let (messages, generateSeconds) = try measure { try generateMbox(at: mboxPath, megabytes: Int(gigabytes * 1000)) }
    let bytes = Int(fileSize(mboxPath))
    print("stream test: generated \(messages) messages, \(format(Double(bytes) / 1e6)) MB in \(format(generateSeconds)) s; peak RSS so far \(format(peakRSSMegabytes())) MB")

    let reporter = QuarterReporter(label: "stream split+parse")
    let cpuStart = cpuSeconds()
    let (parsed, parseSeconds) = try measure { () throws -> Int in
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: mboxPath))
        defer { try? handle.close() }
        var splitter = MboxSplitter()
        var parsed = 0
        var read = 0
        while let block = try handle.read(upToCount: 4 << 20), !block.isEmpty {
            read += block.count
            for raw in splitter.append(block) where (try? MailParser.parse(raw, mboxPath: mboxPath)) != nil { parsed += 1 }
            reporter.update(done: read, total: bytes)
        }
        for raw in splitter.finish() where (try? MailParser.parse(raw, mboxPath: mboxPath)) != nil { parsed += 1 }
        return parsed
    }
    print("stream split+parse: \(parsed) messages in \(format(parseSeconds)) s = \(format(Double(bytes) / 1e6 / parseSeconds)) MB/s (\(format(Double(bytes) / 1e6 / (cpuSeconds() - cpuStart))) MB per CPU second)")

    if sync {
        let database = "\(work)/stream.sqlite"
        let store = try IndexStore(path: database)
        let syncReporter = QuarterReporter(label: "stream sync (parse + chunk + SQLite + FTS5)")
        let (report, syncSeconds) = try measure {
            try store.sync([mboxPath]) { progress in
                if progress.phase == .mail { syncReporter.update(done: progress.done, total: progress.total) }
            }
        }
        print("stream sync: \(report.added) messages, \(report.chunks) chunks, \(report.failed.count) failed in \(format(syncSeconds)) s = \(format(Double(bytes) / 1e6 / syncSeconds)) MB/s; after threading: peak RSS \(format(peakRSSMegabytes())) MB, current RSS \(format(currentRSSMegabytes())) MB; database \(format(Double(databaseBytes(database)) / 1e6)) MB")
    }
    try? FileManager.default.removeItem(atPath: mboxPath)
}

let arguments = Arguments(CommandLine.arguments)
let work = FileManager.default.temporaryDirectory.appendingPathComponent("index-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer { if !arguments.keep { try? FileManager.default.removeItem(atPath: work) } }
print("index-bench: working in \(work)")
var load = [Double](repeating: 0, count: 3)
if getloadavg(&load, 3) > 0 { print("load average at start: \(format(load[0], 2)) on \(ProcessInfo.processInfo.activeProcessorCount) cores (wall times stretch when it exceeds the core count)") }
if let sample = arguments.evaluate {
    let models = ProcessInfo.processInfo.environment["ASSIST_MODELS"] ?? (NSHomeDirectory() + "/.local/share/assist/models")
    let embedder = try BertEmbedder(directory: URL(fileURLWithPath: models).appendingPathComponent("minilm-l6-v2"))
    struct Counter: TokenCounting {
        let embedder: BertEmbedder
        func countTokens(_ text: String) -> Int { embedder.countTokens(text) }
    }
    let store = try IndexStore(path: "\(work)/eval.sqlite", embedder: embedder)
    let (report, elapsed) = try measure {
        try store.sync(["\(sample)/notes", "\(sample)/inbox.mbox"], options: SyncOptions(tokenCounter: Counter(embedder: embedder), maxChunkTokens: 200))
    }
    print("indexed \(report.added) documents, \(report.chunks) chunks, \(report.embedded) embedded in \(format(elapsed)) s; failed: \(report.failed)")
    let evaluation = try RetrievalEvaluation(store: store, sampleRoot: sample, qaPath: "\(sample)/qa.jsonl")
    let now = ProcessInfo.processInfo.environment["ASSIST_EVAL_NOW"].flatMap { ISO8601DateFormatter().date(from: $0) } ?? Date()
    for score in try evaluation.run(now: now).modes {
        print("\(score.mode.rawValue): recall@5 \(format(score.recallAtK, 3)), MRR \(format(score.mrr, 3)) over \(score.questions) questions; missed \(score.missed)")
    }
    try? FileManager.default.removeItem(atPath: work)
    exit(0)
}
if let gigabytes = arguments.streamGigabytes {
    try streamTest(in: work, gigabytes: gigabytes, sync: arguments.streamSync)
    if !arguments.keep { try? FileManager.default.removeItem(atPath: work) }
    exit(0)
}
if arguments.crashTest {
    try crashTest(in: work)
    if !arguments.keep { try? FileManager.default.removeItem(atPath: work) }
    exit(0)
}

// 1. mbox
let mboxPath = "\(work)/archive.mbox"
let (messageCount, generateSeconds) = try measure { try generateMbox(at: mboxPath, megabytes: arguments.mboxMegabytes) }
let mboxBytes = Double(fileSize(mboxPath))
print("generated mbox: \(messageCount) messages, \(format(mboxBytes / 1e6)) MB in \(format(generateSeconds)) s")

let parseCPUStart = cpuSeconds()
let ((parsedCount, parseFailures), parseSeconds) = try measure { () throws -> (Int, Int) in
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: mboxPath))
    var splitter = MboxSplitter()
    var parsed = 0
    var failures = 0
    func handleMessages(_ messages: [RawMessage]) {
        for raw in messages {
            do {
                _ = try MailParser.parse(raw, mboxPath: mboxPath)
                parsed += 1
            } catch {
                failures += 1
            }
        }
    }
    while let block = try handle.read(upToCount: 4 << 20), !block.isEmpty {
        handleMessages(splitter.append(block))
    }
    handleMessages(splitter.finish())
    return (parsed, failures)
}
let parseCPUSeconds = cpuSeconds() - parseCPUStart
let swiftMBps = mboxBytes / 1e6 / parseSeconds
print("mbox parse (split + MIME decode), Swift: \(format(swiftMBps)) MB/s, \(format(Double(parsedCount) / parseSeconds, 0)) messages/s (\(parsedCount) parsed, \(parseFailures) failed); per CPU second: \(format(mboxBytes / 1e6 / parseCPUSeconds)) MB, \(format(Double(parsedCount) / parseCPUSeconds, 0)) messages")

if !arguments.skipPython {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("mbox_python.py").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script, mboxPath]
    let pipe = Pipe()
    process.standardOutput = pipe
    do {
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == 0,
            let json = try JSONSerialization.jsonObject(with: output) as? [String: Any],
            let pythonSeconds = json["seconds"] as? Double, let pythonMessages = json["messages"] as? Int
        {
            let pythonMBps = mboxBytes / 1e6 / pythonSeconds
            print("mbox parse, Python mailbox+email: \(format(pythonMBps)) MB/s, \(format(Double(pythonMessages) / pythonSeconds, 0)) messages/s (\(pythonMessages) messages) → Swift is \(format(swiftMBps / pythonMBps))× faster")
        } else {
            print("mbox parse, Python: skipped (python3 failed with status \(process.terminationStatus))")
        }
    } catch {
        print("mbox parse, Python: skipped (no python3: \(error))")
    }
}

if arguments.parseOnly {
    try? FileManager.default.removeItem(atPath: work)
    exit(0)
}

let mailDB = "\(work)/mail.sqlite"
let mailStore = try IndexStore(path: mailDB)
let (mailReport, mailSeconds) = try measure { try mailStore.sync([mboxPath]) }
print("mbox full index (parse + chunk + SQLite + FTS5, no embedder): \(format(mboxBytes / 1e6 / mailSeconds)) MB/s, \(format(Double(mailReport.added) / mailSeconds, 0)) messages/s, \(mailReport.chunks) chunks, \(mailReport.failed.count) failed")
let appendText = String(decoding: try Data(contentsOf: URL(fileURLWithPath: mboxPath)).suffix(200_000), as: UTF8.self)
if let start = appendText.range(of: "\nFrom person@") {
    let tail = String(appendText[start.upperBound...]).replacingOccurrences(of: "@lists.example>", with: "@append.example>")
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: mboxPath))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(("From person@" + tail).utf8))
    try handle.close()
    let (appendReport, appendSeconds) = try measure { try mailStore.sync([mboxPath]) }
    print("mbox append of \(appendReport.added) messages: \(format(appendSeconds, 3)) s, \(appendReport.bytesParsed) bytes read of \(Int(fileSize(mboxPath)))")
}
let mailStatus = try mailStore.status()
print("mail index: \(format(Double(databaseBytes(mailDB)) / Double(max(1, mailStatus.chunks)), 0)) bytes per chunk (\(mailStatus.chunks) chunks, no vectors)")
try? FileManager.default.removeItem(atPath: mboxPath)

// 2. notes
let notesFolder = "\(work)/notes"
try generateNotes(in: notesFolder, count: arguments.notes)
let notesDB = "\(work)/notes.sqlite"
let notesStore = try IndexStore(path: notesDB)
let (notesReport, notesSeconds) = try measure { try notesStore.sync([notesFolder]) }
print("notes index: \(notesReport.added) notes in \(format(notesSeconds, 2)) s = \(format(Double(notesReport.added) / notesSeconds, 0)) notes/s (\(notesReport.chunks) chunks)")
var noChange: [Double] = []
for _ in 0..<5 {
    let (report, elapsed) = try measure { try notesStore.sync([notesFolder]) }
    precondition(report.unchanged == arguments.notes && report.bytesParsed == 0, "no-change run changed something: \(report)")
    noChange.append(elapsed)
}
noChange.sort()
print("no-change re-index of \(arguments.notes) notes: median \(format(noChange[2], 3)) s (min \(format(noChange[0], 3)), max \(format(noChange[4], 3)))")
let notesStatus = try notesStore.status()
print("notes index: \(format(Double(databaseBytes(notesDB)) / Double(max(1, notesStatus.chunks)), 0)) bytes per chunk without vectors; a 384-d Float32 vector adds 1536 bytes + row overhead")

// 3. vector search
for count in arguments.vectorCounts {
    let dimensions = 384
    var random = SplitMix(state: UInt64(count))
    var builder = VectorMatrixBuilder(dimensions: dimensions, capacity: count)
    var row = [Float](repeating: 0, count: dimensions)
    let (_, buildSeconds) = measure {
        for id in 0..<count {
            for index in 0..<dimensions { row[index] = Float(Int64(bitPattern: random.next()) >> 40) }
            row.withUnsafeBufferPointer { builder.append(chunkID: Int64(id), vector: $0) }
        }
    }
    let matrix = builder.build()
    var latencies: [Double] = []
    var cpu: [Double] = []
    for _ in 0..<60 {
        let query = (0..<dimensions).map { _ in Float(Int64(bitPattern: random.next()) >> 40) }
        let cpuStart = cpuSeconds()
        let (_, elapsed) = measure { matrix.nearest(to: query, limit: 50) }
        cpu.append((cpuSeconds() - cpuStart) * 1000)
        latencies.append(elapsed * 1000)
    }
    cpu = Array(cpu.dropFirst(10)).sorted()
    latencies = Array(latencies.dropFirst(10)).sorted()
    let p50 = latencies[latencies.count / 2]
    let p99 = latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.99))]
    print("vector search over \(count) × \(dimensions): p50 \(format(p50, 2)) ms, p99 \(format(p99, 2)) ms, CPU per query p50 \(format(cpu[cpu.count / 2], 2)) ms (Int8 scan [\(VectorMatrix.scanInstructionSet)] on 2 threads + Float32 rescore of the best 400; matrix built in \(format(buildSeconds)) s)")
}
