import Foundation
import GRDB

/// The database layout, as an ordered list of migrations. A migration that has run is never edited:
/// later changes are new migrations, so an index written by an older `assist` upgrades in place.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: documents, sources, chunks, fts, vectors, summaries, meta") { db in
            try db.execute(sql: version1)
        }
        migrator.registerMigration("v2: sources of kind 'message' (Maildir entries, .eml files)") { db in
            try db.execute(sql: version2)
        }
        migrator.registerMigration("v3: documents.date_is_file_time") { db in
            try db.execute(sql: version3)
        }
        migrator.registerMigration("v4: documents.warnings") { db in
            try db.execute(sql: version4)
        }
        return migrator
    }

    /// Dates are REAL seconds since 1970 (UTC) so range filters are plain comparisons; file modification
    /// times are INTEGER nanoseconds so that "unchanged" is an exact comparison with `stat`.
    /// Lists (recipients, tags, links, aliases, attachments, references) are JSON arrays of strings.
    private static let version1 = """
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('note', 'mail')),
            path TEXT NOT NULL,
            mbox_offset INTEGER,
            mbox_length INTEGER,
            message_id TEXT,
            thread_id TEXT,
            title TEXT NOT NULL,
            from_addr TEXT,
            to_addrs TEXT NOT NULL DEFAULT '[]',
            date REAL,
            tags TEXT NOT NULL DEFAULT '[]',
            links TEXT NOT NULL DEFAULT '[]',
            aliases TEXT NOT NULL DEFAULT '[]',
            attachments TEXT NOT NULL DEFAULT '[]',
            "references" TEXT NOT NULL DEFAULT '[]',
            body TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            mtime INTEGER,
            size INTEGER,
            line_offset INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX documents_path ON documents(path, mbox_offset);
        CREATE INDEX documents_message_id ON documents(message_id);
        CREATE INDEX documents_thread_id ON documents(thread_id);
        CREATE INDEX documents_date ON documents(date);

        -- One row per file seen. For an mbox, bytes_indexed/lines_indexed say how far it has been parsed
        -- and tail_hash fingerprints the tail_length bytes before bytes_indexed, so that a file which only
        -- grew can be recognised and parsed from where the last run stopped.
        CREATE TABLE sources (
            path TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('note', 'mbox')),
            size INTEGER NOT NULL,
            mtime INTEGER NOT NULL,
            content_hash TEXT,
            bytes_indexed INTEGER NOT NULL DEFAULT 0,
            lines_indexed INTEGER NOT NULL DEFAULT 1,
            tail_hash TEXT,
            tail_length INTEGER NOT NULL DEFAULT 0,
            complete INTEGER NOT NULL DEFAULT 1
        ) WITHOUT ROWID;

        CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            text TEXT NOT NULL,
            heading TEXT,
            line_start INTEGER NOT NULL,
            line_end INTEGER NOT NULL,
            text_hash TEXT NOT NULL,
            UNIQUE (document_id, ordinal)
        );

        -- The full-text index reads its column values through this view (external content), so the
        -- document title is searchable in every chunk without being copied into each row.
        CREATE VIEW chunk_fts_source AS
            SELECT chunks.id AS id, chunks.text AS text, documents.title AS title, chunks.heading AS heading
            FROM chunks JOIN documents ON documents.id = chunks.document_id;

        CREATE VIRTUAL TABLE chunk_fts USING fts5(
            text, title, heading,
            content = 'chunk_fts_source', content_rowid = 'id',
            tokenize = 'porter unicode61 remove_diacritics 2'
        );

        -- External-content FTS needs the old values to delete a row, so chunks must go before their
        -- document (the cascade would otherwise run after the title is gone).
        CREATE TRIGGER documents_before_delete BEFORE DELETE ON documents BEGIN
            DELETE FROM chunks WHERE document_id = old.id;
        END;
        CREATE TRIGGER chunks_after_insert AFTER INSERT ON chunks BEGIN
            INSERT INTO chunk_fts(rowid, text, title, heading)
            VALUES (new.id, new.text, (SELECT title FROM documents WHERE id = new.document_id), new.heading);
        END;
        CREATE TRIGGER chunks_after_delete AFTER DELETE ON chunks BEGIN
            INSERT INTO chunk_fts(chunk_fts, rowid, text, title, heading)
            VALUES ('delete', old.id, old.text, (SELECT title FROM documents WHERE id = old.document_id), old.heading);
        END;
        CREATE TRIGGER documents_title_update AFTER UPDATE OF title ON documents BEGIN
            INSERT INTO chunk_fts(chunk_fts, rowid, text, title, heading)
                SELECT 'delete', id, text, old.title, heading FROM chunks WHERE document_id = new.id;
            INSERT INTO chunk_fts(rowid, text, title, heading)
                SELECT id, text, new.title, heading FROM chunks WHERE document_id = new.id;
        END;

        -- One vector per chunk for the current embedding model: Float32 little-endian, `dims` of them.
        CREATE TABLE vectors (
            chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            dims INTEGER NOT NULL,
            vector BLOB NOT NULL
        );
        CREATE INDEX vectors_model ON vectors(model);

        CREATE TABLE embedding_models (
            model TEXT PRIMARY KEY,
            dims INTEGER NOT NULL,
            first_used REAL NOT NULL
        );

        -- The Assistant's cache of thread summaries, keyed by what was summarised and by which model.
        CREATE TABLE summaries (
            thread_id TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            model TEXT NOT NULL,
            summary TEXT NOT NULL,
            created REAL NOT NULL,
            PRIMARY KEY (thread_id, content_hash, model)
        );

        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        INSERT INTO meta(key, value) VALUES ('generation', '0');
        """

    /// SQLite cannot change a CHECK constraint in place, so `sources` is copied into a table whose check
    /// admits files that hold one mail message.
    private static let version2 = """
        CREATE TABLE sources_v2 (
            path TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('note', 'mbox', 'message')),
            size INTEGER NOT NULL,
            mtime INTEGER NOT NULL,
            content_hash TEXT,
            bytes_indexed INTEGER NOT NULL DEFAULT 0,
            lines_indexed INTEGER NOT NULL DEFAULT 1,
            tail_hash TEXT,
            tail_length INTEGER NOT NULL DEFAULT 0,
            complete INTEGER NOT NULL DEFAULT 1
        ) WITHOUT ROWID;
        INSERT INTO sources_v2 SELECT path, kind, size, mtime, content_hash, bytes_indexed, lines_indexed, tail_hash,
            tail_length, complete FROM sources;
        DROP TABLE sources;
        ALTER TABLE sources_v2 RENAME TO sources;
        """

    /// Which note dates are only the file's modification time (`Document.dateIsFileTime`). An existing index
    /// learns it from the stored values: such a date was stored as the file's mtime, so the two are equal
    /// unless the file was touched since without changing.
    private static let version3 = """
        ALTER TABLE documents ADD COLUMN date_is_file_time INTEGER NOT NULL DEFAULT 0;
        UPDATE documents SET date_is_file_time = 1
            WHERE kind = 'note' AND date IS NOT NULL AND mtime IS NOT NULL AND abs(date - mtime / 1e9) < 0.001;
        """

    /// What the parser worked around in a document (`Document.warnings`), a JSON array; NULL for none.
    /// Kept so that `assist status` can still list them after the run that printed them.
    private static let version4 = """
        ALTER TABLE documents ADD COLUMN warnings TEXT;
        """
}
