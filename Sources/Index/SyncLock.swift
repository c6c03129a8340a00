import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock on `<db>.lock`, held for the whole of a sync so that two `assist index`
/// runs never interleave their writes. The holder's pid is written into the file so the loser can say who
/// is running. The kernel releases `flock` locks when the process dies, so a `kill -9` never leaves a
/// stale lock behind.
final class SyncLock {
    private let descriptor: Int32
    let path: String

    init(databasePath: String) throws(StoreError) {
        path = databasePath + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw .notWritable(path: path, detail: String(cString: strerror(errno)))
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = Self.readPID(fd)
            close(fd)
            throw .indexBusy(path: databasePath, pid: holder)
        }
        descriptor = fd
        let pidText = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pidText.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 31, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    deinit {
        _ = ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
