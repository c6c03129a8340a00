import Foundation
import Index

/// What the MCP tools read from the user's index: search, whole documents, and counts.
///
/// `IndexStore` is the real one; the protocol keeps the MCP adapter to the four calls it needs.
public protocol DocumentLibrary: Retriever {
    func status() throws -> IndexStatus
    /// The note at this path (for an mbox path, its first message).
    func document(path: String) throws -> StoredDocument?
    /// The message with this Message-ID, angle brackets optional.
    func document(messageID: String) throws -> StoredDocument?
}

extension IndexStore: DocumentLibrary {}
