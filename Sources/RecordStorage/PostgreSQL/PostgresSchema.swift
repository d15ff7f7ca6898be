/// The PostgreSQL schema, one named step at a time, as for SQLite. Never change a released
/// migration; add one. Text columns that are compared or ordered use the "C" collation, so that
/// rows come back in the byte order SQLite gives and both engines print the same report.
///
/// Growing to a billion rows (written down, not yet done): `records` would be partitioned by month
/// of `time_us` (`PARTITION BY RANGE`), which needs the time in every unique key. The id then
/// moves into a narrow table of its own, `record_ids (id PRIMARY KEY, time_us)`, inserted first
/// in the same transaction with `ON CONFLICT DO NOTHING`: exactly-once stays one unique index,
/// while reads by time touch only the months they need and old months detach for archiving.
enum PostgresSchema {
    struct Migration {
        var name: String
        var statements: [String]
    }

    /// The table of applied migrations, made before any of them.
    static let ledger = """
        CREATE TABLE IF NOT EXISTS meetmeter_migrations (
            name text COLLATE "C" PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """

    /// Several aggregators may start at once against a fresh database: the first migrates, the
    /// others wait on this transaction-scoped lock and then find nothing left to do.
    static let lockKey: Int64 = 0x6D65_6574_6D74 // "meetmt"

    static let migrations: [Migration] = [
        Migration(name: "v1-records", statements: [
            """
            CREATE TABLE records (
                id text COLLATE "C" PRIMARY KEY,
                kind text COLLATE "C" NOT NULL,
                time_us bigint NOT NULL,
                host text COLLATE "C" NOT NULL,
                meeting text COLLATE "C",
                received_us bigint NOT NULL,
                line text NOT NULL
            )
            """,
            // The queries billing makes: by time, by meeting, by host; and by arrival, for what
            // came after a period closed.
            "CREATE INDEX records_time ON records (time_us)",
            "CREATE INDEX records_meeting ON records (meeting, time_us) WHERE meeting IS NOT NULL",
            "CREATE INDEX records_host ON records (host, time_us)",
            "CREATE INDEX records_received ON records (received_us)",
        ]),
        // A record that arrived with the id of a held record and other content: kept as evidence,
        // once per distinct line. A line may be longer than a btree entry can be, so the unique
        // key holds its digest.
        Migration(name: "v2-conflicts", statements: [
            """
            CREATE TABLE conflicts (
                id text COLLATE "C" NOT NULL,
                host text COLLATE "C" NOT NULL,
                time_us bigint NOT NULL,
                received_us bigint NOT NULL,
                last_received_us bigint NOT NULL,
                count bigint NOT NULL,
                line text COLLATE "C" NOT NULL,
                line_md5 text GENERATED ALWAYS AS (md5(line)) STORED,
                UNIQUE (id, line_md5)
            )
            """,
            "CREATE INDEX conflicts_received ON conflicts (last_received_us)",
            "CREATE INDEX conflicts_time ON conflicts (time_us)",
        ]),
    ]
}
