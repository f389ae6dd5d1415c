/// The store's schema, as numbered migrations recorded in `PRAGMA user_version`.
enum StoreSchema {
    static let migrations: [String] = [
        // 1: boots and their console logs.
        """
        CREATE TABLE boots (
            id TEXT PRIMARY KEY,
            lab TEXT NOT NULL,
            board TEXT NOT NULL,
            board_type TEXT NOT NULL,
            arch TEXT NOT NULL DEFAULT '',
            defconfig TEXT NOT NULL DEFAULT '',
            compiler TEXT NOT NULL DEFAULT '',
            tree TEXT NOT NULL DEFAULT '',
            branch TEXT NOT NULL DEFAULT '',
            "commit" TEXT NOT NULL DEFAULT '',
            describe TEXT NOT NULL DEFAULT '',
            commit_time TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'error', 'canceled')),
            stage TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            boot_time_s REAL,
            warnings INTEGER NOT NULL DEFAULT 0,
            kernel_image_size INTEGER,
            energy_j REAL,
            avg_power_w REAL,
            peak_power_w REAL,
            stage_times TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX boots_by_revision ON boots (tree, branch, describe);
        CREATE INDEX boots_by_board ON boots (board, started_at);
        CREATE TABLE boot_logs (
            boot_id TEXT PRIMARY KEY REFERENCES boots (id) ON DELETE CASCADE,
            log BLOB NOT NULL,
            line_times BLOB NOT NULL
        );
        """,
        // 2: revisions of each tree/branch, ordered by commit time, and the keys reports look up.
        """
        CREATE TABLE revisions (
            tree TEXT NOT NULL,
            branch TEXT NOT NULL,
            describe TEXT NOT NULL,
            "commit" TEXT NOT NULL DEFAULT '',
            commit_time TEXT,
            first_seen TEXT NOT NULL,
            PRIMARY KEY (tree, branch, describe)
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO revisions (tree, branch, describe, "commit", commit_time, first_seen)
            SELECT tree, branch, describe, "commit", commit_time, min(started_at) FROM boots GROUP BY tree, branch, describe;
        CREATE INDEX boots_by_key ON boots (lab, board, tree, branch);
        """,
        // 3: the same boots table without the CHECK on status: every writer validates the status
        // already, and SQLite evaluating it per row doubled the cost of bulk imports.
        """
        CREATE TABLE boots_new (
            id TEXT PRIMARY KEY,
            lab TEXT NOT NULL,
            board TEXT NOT NULL,
            board_type TEXT NOT NULL,
            arch TEXT NOT NULL DEFAULT '',
            defconfig TEXT NOT NULL DEFAULT '',
            compiler TEXT NOT NULL DEFAULT '',
            tree TEXT NOT NULL DEFAULT '',
            branch TEXT NOT NULL DEFAULT '',
            "commit" TEXT NOT NULL DEFAULT '',
            describe TEXT NOT NULL DEFAULT '',
            commit_time TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            stage TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            boot_time_s REAL,
            warnings INTEGER NOT NULL DEFAULT 0,
            kernel_image_size INTEGER,
            energy_j REAL,
            avg_power_w REAL,
            peak_power_w REAL,
            stage_times TEXT NOT NULL DEFAULT '{}'
        );
        INSERT INTO boots_new SELECT * FROM boots ORDER BY rowid;
        DROP TABLE boots;
        ALTER TABLE boots_new RENAME TO boots;
        CREATE INDEX boots_by_revision ON boots (tree, branch, describe);
        CREATE INDEX boots_by_board ON boots (board, started_at);
        CREATE INDEX boots_by_key ON boots (lab, board, tree, branch);
        """,
        // 4: the power meter's trace of a boot, packed, with the energy of each stage.
        """
        CREATE TABLE boot_power (
            boot_id TEXT PRIMARY KEY REFERENCES boots (id) ON DELETE CASCADE,
            trace BLOB NOT NULL,
            stage_energy TEXT NOT NULL DEFAULT '{}',
            lost_samples INTEGER NOT NULL DEFAULT 0,
            warnings TEXT NOT NULL DEFAULT ''
        );
        """,
        // 5: the agent's job queue, its boards' states, test results, and which boot attempts a
        // retry replaced (kept, but not counted by reports).
        """
        ALTER TABLE boots ADD COLUMN job_id INTEGER;
        ALTER TABLE boots ADD COLUMN attempt INTEGER;
        ALTER TABLE boots ADD COLUMN superseded INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX boots_by_job ON boots (job_id) WHERE job_id IS NOT NULL;
        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            lab TEXT NOT NULL,
            board TEXT,
            board_type TEXT NOT NULL,
            priority INTEGER NOT NULL DEFAULT 0,
            spec TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'queued',
            submitted_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            running_on TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            errors INTEGER NOT NULL DEFAULT 0,
            avoid_board TEXT,
            result TEXT,
            summary TEXT NOT NULL DEFAULT '',
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX jobs_by_state ON jobs (lab, state, priority DESC, id);
        CREATE TABLE board_states (
            lab TEXT NOT NULL,
            board TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'idle',
            health TEXT NOT NULL DEFAULT 'unknown',
            health_failures INTEGER NOT NULL DEFAULT 0,
            current_job INTEGER,
            powered_since TEXT,
            note TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL,
            PRIMARY KEY (lab, board)
        ) WITHOUT ROWID;
        CREATE TABLE boot_tests (
            boot_id TEXT NOT NULL REFERENCES boots (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            result TEXT NOT NULL,
            measurement REAL,
            units TEXT,
            output TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (boot_id, position)
        ) WITHOUT ROWID;
        CREATE TABLE agents (
            lab TEXT PRIMARY KEY,
            pid INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            heartbeat TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
        // 6: the server's API tokens (only a SHA-256 hash of each secret) and the index that
        // pages through boots newest first.
        """
        CREATE INDEX boots_by_start ON boots (started_at, id);
        CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            secret_sha256 TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            lab TEXT,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        """,
        // 7: the outbox: boots waiting to be uploaded to a results server, and those it refused
        // for good ('rejected'). Deleted with their boot; a row leaves when the server has it.
        """
        CREATE TABLE outbox (
            boot_id TEXT NOT NULL REFERENCES boots (id) ON DELETE CASCADE,
            server TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            queued_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_attempt_at TEXT,
            last_error TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (boot_id, server)
        );
        CREATE INDEX outbox_in_line ON outbox (server, state, queued_at);
        CREATE INDEX outbox_by_next_attempt ON outbox (server, state, next_attempt_at);
        """,
        // 8: one row per board with its boot count and newest boot, kept by triggers, so that
        // listing boards and labs does not read every boot.
        """
        CREATE TABLE board_summary (
            lab TEXT NOT NULL,
            board TEXT NOT NULL,
            board_type TEXT NOT NULL,
            boots INTEGER NOT NULL,
            last_started_at TEXT NOT NULL,
            last_status TEXT NOT NULL,
            last_boot_id TEXT NOT NULL,
            PRIMARY KEY (lab, board)
        ) WITHOUT ROWID;
        """ + boardSummaryRebuildSQL + boardSummaryTriggersSQL,
        // 9: (lab, started_at) instead of (lab, board, tree, branch). Reports read boots by
        // revision and histories by board (boots_by_board); what looks boots up by lab (lists
        // filtered by lab, newest first; a lab's backfill into the outbox, oldest first) wants
        // them in time order; and the narrower key is cheaper to build after a bulk import.
        // The board summary's triggers are made anew: they look a board up with `+lab`, so that
        // SQLite reads the board's boots, not the whole lab's.
        """
        DROP INDEX IF EXISTS boots_by_key;
        CREATE INDEX boots_by_lab ON boots (lab, started_at);
        """ + dropBoardSummaryTriggersSQL + boardSummaryTriggersSQL,
    ]

    /// Fills `board_summary` from `boots` (after a bulk import that ran without its triggers).
    static let boardSummaryRebuildSQL = """
        DELETE FROM board_summary;
        INSERT INTO board_summary (lab, board, board_type, boots, last_started_at, last_status, last_boot_id)
        SELECT lab, board, board_type, boots, started_at, status, id FROM (
            -- The one max() makes the bare columns those of the newest boot (ties: the larger id).
            SELECT lab, board, board_type, count(*) AS boots, started_at, status, id, max(started_at || ' ' || id) FROM boots
            WHERE superseded = 0 GROUP BY lab, board);
        """

    /// The triggers that keep `board_summary` up to date as boots are written, replaced, marked
    /// superseded and deleted. A row counts when it is not superseded. (A change here needs a
    /// migration that makes them anew, as migration 9 does.)
    static let boardSummaryTriggersSQL = """
        CREATE TRIGGER board_summary_add AFTER INSERT ON boots WHEN NEW.superseded = 0 BEGIN
            \(summaryAdd)
        END;
        CREATE TRIGGER board_summary_remove AFTER DELETE ON boots WHEN OLD.superseded = 0 BEGIN
            \(summaryRemove)
        END;
        CREATE TRIGGER board_summary_update_remove AFTER UPDATE OF lab, board, board_type, started_at, status, superseded ON boots
        WHEN OLD.superseded = 0 BEGIN
            \(summaryRemove)
        END;
        CREATE TRIGGER board_summary_update_add AFTER UPDATE OF lab, board, board_type, started_at, status, superseded ON boots
        WHEN NEW.superseded = 0 BEGIN
            \(summaryAdd)
        END;
        """

    static let boardSummaryTriggers = [
        "board_summary_add", "board_summary_remove", "board_summary_update_remove", "board_summary_update_add",
    ]

    private static let summaryAdd = """
        INSERT INTO board_summary (lab, board, board_type, boots, last_started_at, last_status, last_boot_id)
            VALUES (NEW.lab, NEW.board, NEW.board_type, 1, NEW.started_at, NEW.status, NEW.id)
            ON CONFLICT (lab, board) DO UPDATE SET boots = boots + 1,
                board_type = CASE WHEN \(newer) THEN excluded.board_type ELSE board_type END,
                last_status = CASE WHEN \(newer) THEN excluded.last_status ELSE last_status END,
                last_boot_id = CASE WHEN \(newer) THEN excluded.last_boot_id ELSE last_boot_id END,
                last_started_at = CASE WHEN \(newer) THEN excluded.last_started_at ELSE last_started_at END;
        """

    /// The boot being added is the board's newest: later start, or the same start and a larger id.
    private static let newer = "(excluded.last_started_at, excluded.last_boot_id) >= (last_started_at, last_boot_id)"

    private static let summaryRemove = """
        UPDATE board_summary SET boots = boots - 1 WHERE lab = OLD.lab AND board = OLD.board;
            DELETE FROM board_summary WHERE lab = OLD.lab AND board = OLD.board AND boots <= 0;
            UPDATE board_summary SET (board_type, last_started_at, last_status, last_boot_id) = (
                SELECT board_type, started_at, status, id FROM boots WHERE board = OLD.board AND +lab = OLD.lab AND superseded = 0
                ORDER BY started_at DESC, id DESC LIMIT 1)
            WHERE lab = OLD.lab AND board = OLD.board AND last_boot_id = OLD.id;
        """

    static let dropBoardSummaryTriggersSQL = boardSummaryTriggers.map { "DROP TRIGGER IF EXISTS \($0);\n" }.joined()

    static func dropBoardSummaryTriggers(_ database: SQLiteDatabase) throws(StoreError) {
        try database.execute(dropBoardSummaryTriggersSQL)
    }

    static func restoreBoardSummary(_ database: SQLiteDatabase) throws(StoreError) {
        try database.execute(boardSummaryRebuildSQL)
        try database.execute(boardSummaryTriggersSQL)
    }

    /// The secondary indexes of `boots` in the current schema (name, definition).
    static let secondaryIndexes = [
        ("boots_by_revision", "boots (tree, branch, describe)"),
        ("boots_by_board", "boots (board, started_at)"),
        ("boots_by_start", "boots (started_at, id)"),
        ("boots_by_lab", "boots (lab, started_at)"),
    ]

    static func dropSecondaryIndexes(_ database: SQLiteDatabase) throws(StoreError) {
        for (name, _) in secondaryIndexes { try database.execute("DROP INDEX IF EXISTS \(name)") }
    }

    static func createSecondaryIndexes(_ database: SQLiteDatabase) throws(StoreError) {
        for (name, definition) in secondaryIndexes { try database.execute("CREATE INDEX IF NOT EXISTS \(name) ON \(definition)") }
    }

    static func migrate(_ database: SQLiteDatabase) throws(StoreError) {
        let current = try database.userVersion
        guard current <= migrations.count else {
            throw .newerSchema(path: database.path, found: current, supported: migrations.count)
        }
        guard current < migrations.count else { return }
        // Table rebuilds must not cascade into the logs: foreign keys are off while migrating
        // (the pragma cannot change inside a transaction) and checked once afterwards.
        try database.execute("PRAGMA foreign_keys = OFF")
        defer { try? database.execute("PRAGMA foreign_keys = ON") }
        for version in current..<migrations.count {
            try database.transaction { () throws(StoreError) in
                // Another process may have migrated between our read and this (locked) transaction.
                guard try database.userVersion == version else { return }
                try database.execute(migrations[version])
                try database.execute("PRAGMA user_version = \(version + 1)")
                let check = try database.prepare("PRAGMA foreign_key_check")
                if try check.step() {
                    throw .sqlite(
                        code: 0, message: "migration \(version + 1) left log rows without their boot", sql: "PRAGMA foreign_key_check")
                }
            }
        }
    }
}
