import Foundation
import Ingest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file found by `SourceScanner`, with what `stat` said about it.
struct ScannedFile: Sendable, Equatable {
    /// `message`: a file holding one mail message (a Maildir entry, an `.eml` file).
    enum Kind: String, Sendable { case note, mbox, message }
    var path: String
    var kind: Kind
    var size: Int64
    /// Modification time in nanoseconds since 1970.
    var mtime: Int64
    /// Where the bytes are read from when that is not `path`: a compressed archive's decompressed copy
    /// (`CompressedArchives`), whose size `size` then is.
    var contentPath: String? = nil
}

/// Expands the paths given to `sync` into files, opening none but those without an extension (for their
/// first line).
///
/// A folder yields every `*.md`/`*.markdown`/`*.org` below it as a note, and as mail every `*.eml` file,
/// every message of a Maildir (the files in `cur/` and `new/` of a folder holding both, Maildir++
/// `.Folder`s included; `tmp/` holds deliveries in progress, and messages flagged trashed are left out)
/// and every mailbox file: `*.mbox` or a list archive's `2026-September.txt.gz` (`isMailboxName`), or a
/// file without an extension that starts like an mbox (`startsLikeMbox`), as Thunderbird and Apple Mail
/// keep them. Other
/// dot-folders (`.git`, `.obsidian`, `.trash`) are skipped, symbolic links are followed but each real
/// folder is entered once (so link loops end), and FIFOs, sockets and devices are never opened (nothing
/// can block on them); those named like notes are reported as failed. A file path is a note or a message
/// by its extension or Maildir folder, and an mbox otherwise.
struct SourceScanner {
    struct Result {
        var files: [ScannedFile] = []
        var failed: [FailedSource] = []
        /// Folders scanned completely: indexed files below them that were not seen have vanished.
        var scannedFolders: [String] = []
        /// Paths that could not be scanned but may hold indexed files (kept, not removed).
        var unreadable: Set<String> = []
    }

    static let noteExtensions: Set<String> = ["md", "markdown", "org"]
    static let messageExtensions: Set<String> = ["eml"]
    /// Names of mail folders whose mail was thrown away, not kept.
    static let discardedMailFolders: Set<String> = [
        "trash", "bin", "junk", "spam", "deleted", "deleted messages", "deleted items", "junk e-mail", "junk email",
    ]

    /// Whether a Maildir or Maildir++ folder holds thrown-away mail, by its name: `Trash`, Gmail's
    /// `[Gmail]/Spam` and `[Gmail]/Bin` as mbsync or offlineimap lay them out, `.INBOX.Trash`, Outlook's
    /// `Deleted Items`. Maildir++ nests with dots, so the last part names the folder.
    static func isDiscardedMailFolder(_ name: String) -> Bool {
        let last = name.split(separator: ".").last.map(String.init) ?? name
        return discardedMailFolders.contains(last.lowercased())
    }

    /// What a file found in a folder is by its name, or nil when it is neither note nor message.
    private static func kind(ofFileNamed name: String, inMaildir: Bool) -> ScannedFile.Kind? {
        let ext = (name as NSString).pathExtension.lowercased()
        if noteExtensions.contains(ext) { return .note }
        if messageExtensions.contains(ext) { return .message }
        if !inMaildir, isMailboxName(name) { return .mbox }
        guard inMaildir else { return nil }
        // Maildir names end in ":2,FLAGS" (or "!2," where ':' is not allowed); T marks a message the mail
        // reader has thrown away but not yet expunged.
        if let info = name.range(of: ":2,") ?? name.range(of: "!2,"), name[info.upperBound...].contains("T") { return nil }
        return .message
    }

    /// Whether a file's name says it is a mailbox: `.mbox`/`.mbx` (compressed or not, as Google Takeout
    /// and list servers export them) or a pipermail archive month, `2026-September.txt` or `.txt.gz`.
    static func isMailboxName(_ name: String) -> Bool {
        var lowered = name.lowercased()
        if lowered.hasSuffix(".gz") { lowered.removeLast(3) }
        if lowered.hasSuffix(".mbox") || lowered.hasSuffix(".mbx") { return true }
        guard lowered.hasSuffix(".txt") else { return false }
        let month = lowered.dropLast(4).split(separator: "-", omittingEmptySubsequences: false)
        return month.count == 2 && month[0].count == 4 && month[0].allSatisfy(\.isNumber)
            && pipermailMonths.contains(String(month[1]))
    }

    private static let pipermailMonths: Set<String> = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december",
    ]

    /// Whether a file without an extension is an mbox, by its first line as the mbox splitter reads one
    /// (`MboxSplitter.startsWithFromLine`). Thunderbird's folders (`Inbox`, `Sent`) and Apple Mail's
    /// exports (`X.mbox/mbox`) have no extension; a text that happens to begin with "From the river…"
    /// has no date there. Reads at most 512 bytes of a regular file, which cannot block.
    static func startsLikeMbox(_ path: String) -> Bool {
        guard let handle = try? SafeFile.openRegular(path), let head = try? handle.read(upToCount: 512) else { return false }
        return MboxSplitter.startsWithFromLine(prefix: head)
    }

    /// Whether `folder` is a Maildir: it holds both `cur` and `new`.
    private static func isMaildir(_ folder: String) -> Bool {
        isDirectory(folder + "/cur") && isDirectory(folder + "/new")
    }

    /// Whether `folder` is a Maildir's `cur` or `new`.
    private static func isMaildirMessageFolder(_ folder: String) -> Bool {
        let name = (folder as NSString).lastPathComponent
        return (name == "cur" || name == "new") && isMaildir((folder as NSString).deletingLastPathComponent)
    }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    static func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        return URL(fileURLWithPath: expanded).standardizedFileURL.path
    }

    static func scan(_ roots: [String]) -> Result {
        var result = Result()
        var seen = Set<String>()
        for root in roots.map(absolute) {
            var info = stat()
            guard stat(root, &info) == 0 else {
                result.failed.append(FailedSource(path: root, error: "cannot read it: \(String(cString: strerror(errno)))"))
                result.unreadable.insert(root)
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                walk(root, into: &result, seen: &seen)
                result.scannedFolders.append(root)
            case S_IFREG:
                guard seen.insert(root).inserted else { continue }
                let inMaildir = isMaildirMessageFolder((root as NSString).deletingLastPathComponent)
                let kind = kind(ofFileNamed: (root as NSString).lastPathComponent, inMaildir: inMaildir) ?? .mbox
                result.files.append(ScannedFile(path: root, kind: kind, size: Int64(info.st_size), mtime: mtimeNanoseconds(info)))
            default:
                result.failed.append(FailedSource(
                    path: root, error: "not a regular file or folder (\(fileTypeName(info.st_mode))); skipped without opening it"))
            }
        }
        return result
    }

    private struct FolderID: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    private static func walk(_ root: String, into result: inout Result, seen: inout Set<String>) {
        var visited = Set<FolderID>()
        var stack = [root]
        var rootInfo = stat()
        if stat(root, &rootInfo) == 0 {
            visited.insert(FolderID(device: UInt64(rootInfo.st_dev), inode: UInt64(rootInfo.st_ino)))
        }
        while let folder = stack.popLast() {
            guard let directory = opendir(folder) else {
                result.failed.append(FailedSource(path: folder, error: "cannot list the folder: \(String(cString: strerror(errno)))"))
                result.unreadable.insert(folder)
                continue
            }
            var subfolders: [String] = []
            var dotFolders: [String] = []
            let inMaildir = isMaildirMessageFolder(folder)
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String? in
                    let bytes = raw.prefix(while: { $0 != 0 })
                    return String(validating: bytes, as: UTF8.self)
                }
                guard let name else {
                    result.failed.append(FailedSource(path: folder + "/…", error: "a file name in this folder is not valid UTF-8; skipped"))
                    continue
                }
                let child = folder == "/" ? "/" + name : folder + "/" + name
                if name.hasPrefix(".") {
                    if name != ".", name != "..", !isDiscardedMailFolder(name) { dotFolders.append(child) }
                    continue
                }
                // A Maildir's tmp/ holds messages still being written.
                if name == "tmp", isMaildir(folder) { continue }
                var info = stat()
                guard lstat(child, &info) == 0 else { continue }
                if info.st_mode & S_IFMT == S_IFLNK {
                    // Follow the link to see what it is; a dangling link is simply not a note.
                    guard stat(child, &info) == 0 else { continue }
                }
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    // Only a Maildir named Trash is thrown-away mail; a notes folder called "bin" is kept.
                    if isDiscardedMailFolder(name), isMaildir(child) { continue }
                    let id = FolderID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
                    if visited.insert(id).inserted { subfolders.append(child) }
                case S_IFREG:
                    let byName = kind(ofFileNamed: name, inMaildir: inMaildir)
                    let unnamed = byName == nil && !name.contains(".") && startsLikeMbox(child)
                    guard let kind = byName ?? (unnamed ? .mbox : nil) else { continue }
                    guard seen.insert(child).inserted else { continue }
                    result.files.append(ScannedFile(path: child, kind: kind, size: Int64(info.st_size), mtime: mtimeNanoseconds(info)))
                default:
                    // A pipe, socket or device named like a note or message: never opened (a FIFO would
                    // block), but reported, so the person knows why it is missing from the index.
                    guard kind(ofFileNamed: name, inMaildir: inMaildir) != nil else { continue }
                    result.failed.append(FailedSource(
                        path: child, error: "not a regular file (\(fileTypeName(info.st_mode))); skipped without opening it"))
                }
            }
            closedir(directory)
            // Maildir++ keeps its folders (.Sent, .Lists.rust) as dot-folders of the Maildir itself; any
            // other dot-folder is tool state.
            if !dotFolders.isEmpty, isMaildir(folder) {
                for child in dotFolders where isMaildir(child) {
                    var info = stat()
                    guard stat(child, &info) == 0 else { continue }
                    if visited.insert(FolderID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))).inserted {
                        subfolders.append(child)
                    }
                }
            }
            // Depth-first in name order keeps runs reproducible.
            stack.append(contentsOf: subfolders.sorted(by: >))
        }
    }

    /// What kind of special file `mode` describes, for messages.
    static func fileTypeName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: return "a named pipe (FIFO)"
        case S_IFSOCK: return "a socket"
        case S_IFCHR, S_IFBLK: return "a device"
        default: return "a special file"
        }
    }

    static func mtimeNanoseconds(_ info: stat) -> Int64 {
        #if canImport(Darwin)
        return Int64(info.st_mtimespec.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtimespec.tv_nsec)
        #else
        return Int64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtim.tv_nsec)
        #endif
    }
}

/// Opens a file for reading without ever blocking on a FIFO, and checks it is still a regular file.
enum SafeFile {
    static func openRegular(_ path: String) throws(ReadFailure) -> FileHandle {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw ReadFailure(description: "cannot open it: \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw ReadFailure(description: "not a regular file")
        }
        // Regular files never block; clear O_NONBLOCK so reads behave normally.
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    /// Reads a whole (small) file, refusing anything larger than `limit` bytes as not being `purpose`.
    static func readAll(_ path: String, limit: Int, purpose: String = "a note") throws -> Data {
        let handle = try openRegular(path)
        var data = Data()
        while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty {
            data.append(block)
            if data.count > limit {
                throw ReadFailure(description: "larger than \(limit >> 20) MiB; not treated as \(purpose)")
            }
        }
        return data
    }

    /// Why a source file could not be read; lands in `SyncReport.failed`.
    struct ReadFailure: Error, CustomStringConvertible {
        var description: String
    }
}

/// Finds mail kept one message per file, the way `assist index` does, for readers that take such mail
/// without an index (`assist summarize ~/Maildir`).
public enum MessageFiles {
    /// The mail at `path` as `assist index` would read it, from one scan: Maildir entries and `.eml`
    /// files, and (below a folder) mailbox files (`*.mbox`, list archives, Thunderbird's and Apple Mail's
    /// files), each in name order. A file path that is neither a message nor a folder comes back as a
    /// mailbox.
    public static func mail(at path: String) -> (messages: [String], mailboxes: [String]) {
        let files = SourceScanner.scan([path]).files
        return (files.filter { $0.kind == .message }.map(\.path), files.filter { $0.kind == .mbox }.map(\.path))
    }

    /// The bytes of one message file, read as `assist index` reads it: never blocking on a FIFO, and
    /// refusing a file larger than any mail message could be.
    public static func read(_ path: String) throws -> Data {
        try SafeFile.readAll(path, limit: MboxSplitter.defaultMaxMessageBytes, purpose: "a mail message")
    }
}
