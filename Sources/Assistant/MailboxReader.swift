import Foundation
import Index
import Ingest

/// Reads mbox files and Maildir folders straight into thread transcripts, without an index.
///
/// Each file is read in blocks (memory stays bounded by the largest message), split with `MboxSplitter`,
/// parsed with `MailParser`, threaded across all files with `MailThreader`, and cleaned to each sender's own
/// words with `ReplyCleaner`. Messages that fail to parse are skipped and reported in `skipped`, so one bad
/// message never stops a digest.
public struct MailboxReader: Sendable {
    /// Bytes read per block.
    public var blockSize: Int

    public init(blockSize: Int = 1 << 20) {
        self.blockSize = max(4096, blockSize)
    }

    /// The result of reading: threads (newest activity first) and the messages that could not be parsed.
    public struct Result: Sendable {
        public var threads: [ThreadTranscript]
        public var skipped: [(path: String, line: Int, error: String)]
    }

    public func read(_ paths: [String]) throws -> Result {
        var documents: [Document] = []
        var skipped: [(path: String, line: Int, error: String)] = []
        for path in paths {
            let parsed = try parse(path)
            documents += parsed.documents
            skipped += parsed.skipped
        }
        return Result(threads: Self.threads(from: documents), skipped: skipped)
    }

    /// Groups parsed mail documents into transcripts, using `MailThreader`'s thread order.
    public static func threads(from documents: [Document]) -> [ThreadTranscript] {
        let mail = documents.filter { $0.kind == .mail }
        var byID: [String: Document] = [:]
        for document in mail {
            guard let id = document.messageID, byID[id] == nil else { continue }
            byID[id] = document
        }
        let threads = MailThreader.thread(mail.map(ThreadableMessage.init))
        return threads.map { thread in
            let messages = thread.messageIDs.compactMap { id -> TranscriptMessage? in
                guard let document = byID[id] else { return nil }
                return TranscriptMessage(
                    messageID: id, from: document.from ?? "unknown sender", to: document.to, date: document.date,
                    text: ReplyCleaner.ownWords(document.body), isAutomated: document.isAutomated,
                    inReplyTo: document.references.last)
            }
            return ThreadTranscript(threadID: thread.id, subject: thread.subject, messages: messages)
        }.filter { !$0.messages.isEmpty }
    }

    private func parse(_ path: String) throws -> (documents: [Document], skipped: [(path: String, line: Int, error: String)]) {
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
        let found: (messages: [String], mailboxes: [String]) = exists ? MessageFiles.mail(at: path) : ([], [])
        let messageFiles = found.messages
        if isFolder.boolValue || !messageFiles.isEmpty {
            let mailboxes = isFolder.boolValue ? found.mailboxes : []
            guard !messageFiles.isEmpty || !mailboxes.isEmpty else {
                throw AssistantError.mailboxUnreadable(path: path, reason: "the folder holds no mailboxes, Maildir messages or .eml files")
            }
            var parsed = parseMessageFiles(messageFiles)
            for mailbox in mailboxes {
                // One unreadable mailbox in the folder is reported; the others still make the digest.
                do {
                    let more = try parseMailbox(mailbox)
                    parsed.documents += more.documents
                    parsed.skipped += more.skipped
                } catch {
                    parsed.skipped.append((mailbox, 1, "\(error)"))
                }
            }
            return parsed
        }
        return try parseMailbox(path)
    }

    /// The messages of one mbox file (gzip-compressed or not).
    private func parseMailbox(_ path: String) throws -> (documents: [Document], skipped: [(path: String, line: Int, error: String)]) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw AssistantError.mailboxUnreadable(path: path, reason: "cannot open the file")
        }
        defer { try? handle.close() }
        var splitter = MboxSplitter()
        var documents: [Document] = []
        var skipped: [(path: String, line: Int, error: String)] = []
        func take(_ raws: [RawMessage]) {
            for raw in raws {
                do {
                    // Spam and trash (a Gmail Takeout keeps them in the same mbox) are no threads to summarize.
                    let document = try MailParser.parse(raw, mboxPath: path)
                    if !document.isDiscarded { documents.append(document) }
                } catch {
                    skipped.append((path, raw.lineNumber, error.description))
                }
            }
        }
        var isFirstBlock = true
        while true {
            let block: Data
            do {
                block = try handle.read(upToCount: blockSize) ?? Data()
            } catch {
                throw AssistantError.mailboxUnreadable(path: path, reason: "\(error)")
            }
            if block.isEmpty { break }
            if isFirstBlock && Gzip.isGzip(block) {
                // A compressed archive is read whole and decompressed; its messages are split from that.
                take(splitter.append(try decompressed(block, rest: handle, path: path)))
                break
            }
            isFirstBlock = false
            take(splitter.append(block))
        }
        take(splitter.finish())
        return (documents, skipped)
    }

    /// Files holding one message each (Maildir, `.eml`); one that cannot be read or parsed is skipped.
    private func parseMessageFiles(_ paths: [String]) -> (documents: [Document], skipped: [(path: String, line: Int, error: String)]) {
        var documents: [Document] = []
        var skipped: [(path: String, line: Int, error: String)] = []
        for path in paths {
            do {
                let data = try MessageFiles.read(path)
                let received = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? Date()
                documents.append(try MailParser.parse(messageFile: data, path: path, received: received))
            } catch let error as IngestError {
                skipped.append((path, 1, error.description))
            } catch {
                skipped.append((path, 1, "\(error)"))
            }
        }
        return (documents, skipped)
    }

    private func decompressed(_ first: Data, rest handle: FileHandle, path: String) throws -> Data {
        do {
            var compressed = first
            while let block = try handle.read(upToCount: 1 << 24), !block.isEmpty { compressed.append(block) }
            return try Gzip.decompress(compressed)
        } catch {
            throw AssistantError.mailboxUnreadable(path: path, reason: "\(error)")
        }
    }
}

extension Summarizer {
    /// Reads `paths` (mbox files), summarizes the selected threads and orders them into a digest.
    public func digest(mboxPaths paths: [String]) async throws -> SummaryDigest {
        let threads = try MailboxReader().read(paths).threads
        return try await digest(threads)
    }
}
