import Foundation
import Ingest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Gzip-compressed mail archives (Mailman's `2024-January.txt.gz`, HyperKitty's `list.mbox.gz`), indexed
/// through a decompressed copy kept next to the index.
///
/// The archive stays the source: documents, citations and `sources` carry its path, and line numbers count
/// lines of its decompressed text (`zless +LINE archive.txt.gz`). The copy exists so that the mbox code can
/// stream and re-read it like any mbox; it takes the archive's modification time, so an unchanged archive
/// is neither decompressed nor opened again, and an archive that only grew (a list's current month) yields
/// a copy that only grew, which is parsed from where the last run stopped. Copies are written to a temporary
/// name and renamed, readable by the owner only, and deleted with their archive's documents.
struct CompressedArchives {
    /// `<index folder>/archives`.
    let folder: String

    /// Larger archives are refused: the compressed bytes are held in memory while decompressing (the
    /// output streams to disk).
    static let maxCompressedBytes = 2 << 30
    static let maxDecompressedBytes = 64 << 30

    init(indexPath: String) {
        folder = (indexPath as NSString).deletingLastPathComponent + "/archives"
    }

    /// Whether `path` names a gzip archive (by its extension, so that unchanged files need not be opened).
    static func isCompressed(_ path: String) -> Bool { path.lowercased().hasSuffix(".gz") }

    /// Where the decompressed copy of the archive at `path` lives: one per archive path, its name kept
    /// recognisable.
    func copyPath(for path: String) -> String {
        let name = String((path as NSString).lastPathComponent.dropLast(3))
        return folder + "/" + ContentHasher.hash(path) + "-" + name
    }

    /// `archive` as an mbox to read: its decompressed copy, made now if missing or older than the archive.
    func unpacked(_ archive: ScannedFile) throws -> ScannedFile {
        let copy = copyPath(for: archive.path)
        var info = stat()
        if stat(copy, &info) == 0, SourceScanner.mtimeNanoseconds(info) == archive.mtime {
            return ScannedFile(path: archive.path, kind: .mbox, size: Int64(info.st_size), mtime: archive.mtime, contentPath: copy)
        }
        let compressed = try SafeFile.readAll(archive.path, limit: Self.maxCompressedBytes, purpose: "a mail archive")
        guard Gzip.isGzip(compressed) else {
            throw SafeFile.ReadFailure(description: "named .gz but not gzip-compressed; rename it if it is a plain mbox")
        }
        let size = try unpack(compressed, to: copy, modified: archive.mtime)
        return ScannedFile(path: archive.path, kind: .mbox, size: size, mtime: archive.mtime, contentPath: copy)
    }

    /// How many copies there are and how much space they take.
    func copies() -> IndexStatus.ArchiveCopies {
        var result = IndexStatus.ArchiveCopies(folder: folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names where !name.hasSuffix(".partial") {
            var info = stat()
            guard stat(folder + "/" + name, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            result.count += 1
            result.bytes += Int64(info.st_size)
        }
        return result
    }

    /// Deletes the copy of the archive at `path`, if there is one.
    func removeCopy(of path: String) {
        unlink(copyPath(for: path))
    }

    /// Decompresses `compressed` into `path` (through a temporary file renamed into place) and gives the
    /// file the archive's modification time; returns the decompressed size.
    private func unpack(_ compressed: Data, to path: String, modified: Int64) throws -> Int64 {
        if mkdir(folder, 0o700) != 0 && errno != EEXIST {
            throw SafeFile.ReadFailure(description: "cannot create \(folder) for its decompressed copy: \(String(cString: strerror(errno)))")
        }
        let temporary = path + ".partial"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw SafeFile.ReadFailure(description: "cannot write its decompressed copy \(temporary): \(String(cString: strerror(errno)))")
        }
        var size: Int64 = 0
        do {
            defer { close(fd) }
            try Gzip.decompress(compressed, limit: Self.maxDecompressedBytes) { piece in
                var offset = 0
                while offset < piece.count {
                    let written = write(fd, piece.baseAddress! + offset, piece.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw SafeFile.ReadFailure(description: "cannot write its decompressed copy \(temporary): \(String(cString: strerror(errno)))")
                    }
                    offset += written
                }
                size += Int64(piece.count)
            }
            // The copy carries the archive's time: equal times mean the copy is current.
            let time = timespec(tv_sec: Int(modified / 1_000_000_000), tv_nsec: Int(modified % 1_000_000_000))
            var times = [time, time]
            guard futimens(fd, &times) == 0, rename(temporary, path) == 0 else {
                throw SafeFile.ReadFailure(description: "cannot write its decompressed copy \(path): \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(temporary)
            throw error
        }
        return size
    }
}
