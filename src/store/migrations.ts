/**
 * Versioned schema migrations, applied in order inside one transaction each, with foreign keys
 * off (so a table can be rebuilt under the tables that refer to it; checked after). PRAGMA
 * user_version holds the version reached. Never edit a shipped migration: add the next one.
 */
export interface Migration {
  version: number
  description: string
  sql: string
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'events and workspace metadata',
    sql: `
      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;

      CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        source TEXT NOT NULL,
        type TEXT NOT NULL,
        event TEXT,
        user_id TEXT,
        anonymous_id TEXT,
        timestamp TEXT NOT NULL,
        received_at TEXT NOT NULL,
        raw TEXT NOT NULL,
        message TEXT NOT NULL
      ) STRICT;

      -- One row per messageId and source: a retried message is stored once. Also serves source filters.
      CREATE UNIQUE INDEX events_source_message_id ON events (source, message_id);
      CREATE INDEX events_timestamp ON events (timestamp);
      CREATE INDEX events_type ON events (type);
      CREATE INDEX events_event ON events (event) WHERE event IS NOT NULL;
      CREATE INDEX events_user_id ON events (user_id) WHERE user_id IS NOT NULL;
      CREATE INDEX events_anonymous_id ON events (anonymous_id) WHERE anonymous_id IS NOT NULL;
    `,
  },
  {
    version: 2,
    description: 'tracking plan validation: events.valid and violations',
    sql: `
      -- NULL: no plan applied to the event; 1: it follows the plan; 0: it has violations.
      ALTER TABLE events ADD COLUMN valid INTEGER;

      CREATE TABLE violations (
        id INTEGER PRIMARY KEY,
        event_seq INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
        message_id TEXT NOT NULL,
        source TEXT NOT NULL,
        type TEXT NOT NULL,
        event TEXT,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        expected TEXT NOT NULL,
        actual TEXT NOT NULL,
        message TEXT NOT NULL,
        received_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX violations_event_seq ON violations (event_seq);
      CREATE INDEX violations_kind ON violations (kind);
      CREATE INDEX violations_event ON violations (event) WHERE event IS NOT NULL;
    `,
  },
  {
    version: 3,
    description: 'Protocols policy outcome per event',
    sql: `
      -- NULL: stored and forwarded as is; 'blocked': quarantined, never forwarded;
      -- 'omitted': forwarded with the offending values removed (raw keeps them).
      ALTER TABLE events ADD COLUMN policy TEXT CHECK (policy IN ('blocked', 'omitted'));
    `,
  },
  {
    version: 4,
    description: 'delivery to destinations: a cursor per destination and a record per event off the happy path',
    sql: `
      -- The outbox is the events table itself: every event with seq > cursor that matches the
      -- destination's filter is queued for it. Storing an event therefore queues it in the same
      -- transaction, at no extra write; the cursor moves only after the destination accepted.
      CREATE TABLE destinations (
        name TEXT PRIMARY KEY,
        cursor INTEGER NOT NULL,
        -- The cursor when the destination first appeared: older events were never meant for it.
        first_seq INTEGER NOT NULL,
        delivered INTEGER NOT NULL DEFAULT 0,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        -- Latency histogram (received → delivered), JSON: {bucket: count}.
        latency TEXT NOT NULL DEFAULT '{}',
        last_delivered_at TEXT
      ) STRICT;

      -- Events that left the cursor's path: retrying after a failure, waiting behind an earlier
      -- event of the same user that is retrying ('pending'), dead-lettered, or delivered after retries.
      CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        destination TEXT NOT NULL,
        event_seq INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
        user_key TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'retrying', 'dead', 'delivered')),
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        last_status INTEGER,
        last_error TEXT,
        history TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (destination, event_seq)
      ) STRICT;
      CREATE INDEX deliveries_status ON deliveries (destination, status, event_seq);
      CREATE INDEX deliveries_event_seq ON deliveries (event_seq);
    `,
  },
  {
    version: 5,
    description: 'user functions: the records of runs worth reading again, and a count of every run',
    sql: `
      -- Kept only for runs with console lines, errors, drops and source functions' requests, and
      -- only the newest (the run log's flush deletes older ones): a successful run is just counted.
      CREATE TABLE function_runs (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        function TEXT NOT NULL,
        kind TEXT NOT NULL,
        stage TEXT NOT NULL,
        target TEXT NOT NULL,
        message_id TEXT,
        result TEXT NOT NULL,
        error_class TEXT,
        message TEXT,
        -- The console lines, JSON: [{level, message, eventIndex?}].
        console TEXT NOT NULL,
        ms REAL NOT NULL
      ) STRICT;
      -- cdp fn logs NAME: the newest of one function.
      CREATE INDEX function_runs_function ON function_runs (function, id);

      CREATE TABLE function_counts (
        function TEXT NOT NULL,
        stage TEXT NOT NULL,
        target TEXT NOT NULL,
        result TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (function, stage, target, result)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 6,
    description: 'cdp replay: a record per replay (selection, status, counts, checkpoint) and its events off the happy path',
    sql: `
      -- One per \`cdp replay\`: derived state, like a destination's cursor, but over the reader's
      -- positions (store seqs, or archive lines counted across the files).
      CREATE TABLE replays (
        id TEXT PRIMARY KEY,
        destination TEXT NOT NULL,
        -- The ReplaySelection, JSON.
        selection TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'interrupted', 'completed', 'failed')),
        -- A replay of the store reads events up to the newest when it began (so it ends while
        -- cdp dev stores more); NULL for archives.
        through_seq INTEGER,
        selected INTEGER,
        sent INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        skipped INTEGER NOT NULL DEFAULT 0,
        corrupt INTEGER NOT NULL DEFAULT 0,
        -- The reader's position up to which everything is settled: a resumed replay reads after it.
        checkpoint INTEGER NOT NULL DEFAULT 0,
        -- Latency histogram (handed out → confirmed), JSON: {bucket: count}.
        latency TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT,
        last_error TEXT
      ) STRICT;
      CREATE INDEX replays_created_at ON replays (created_at);

      -- A replay's events that left its cursor's path (as deliveries for live traffic). The message
      -- is kept whole: an archive's events are not in the events table, and it is the JSON sent
      -- (integrations already rewritten to the replay's destination).
      CREATE TABLE replay_deliveries (
        id INTEGER PRIMARY KEY,
        replay_id TEXT NOT NULL REFERENCES replays (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        message_id TEXT NOT NULL,
        source TEXT NOT NULL,
        type TEXT NOT NULL,
        event TEXT,
        user_id TEXT,
        anonymous_id TEXT,
        message TEXT NOT NULL,
        user_key TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'retrying', 'dead', 'delivered')),
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        last_status INTEGER,
        last_error TEXT,
        history TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (replay_id, seq)
      ) STRICT;
      -- Open records of a replay in order (openDeliveries, heldUsers), and by when they are due (nextRetryAt).
      CREATE INDEX replay_deliveries_open ON replay_deliveries (replay_id, seq) WHERE status IN ('pending', 'retrying');
      CREATE INDEX replay_deliveries_due ON replay_deliveries (replay_id, next_attempt_at) WHERE status IN ('pending', 'retrying');
    `,
  },
  {
    version: 7,
    description: 'write less per event: one stored copy of the message, users indexed behind ingest, a flag for unplanned events',
    sql: `
      -- Rebuilt (SQLite cannot make a column nullable in place): raw becomes nullable and moves
      -- after message; unplanned is new. Everything stored is kept, seqs included.
      CREATE TABLE events_v7 (
        seq INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        source TEXT NOT NULL,
        type TEXT NOT NULL,
        event TEXT,
        user_id TEXT,
        anonymous_id TEXT,
        timestamp TEXT NOT NULL,
        received_at TEXT NOT NULL,
        message TEXT NOT NULL,
        -- The message as received, only when the stored message does not hold all of it: a source's
        -- transformations or insert function changed it, or the plan's policy omitted values.
        -- NULL: the message is what was received, normalised (rows stored before schema 7 keep theirs).
        raw TEXT,
        valid INTEGER,
        policy TEXT CHECK (policy IN ('blocked', 'omitted')),
        -- 1: a track event the plan did not have (its violation is rebuilt on read, not stored
        -- as a row: in a new workspace that is every event).
        unplanned INTEGER CHECK (unplanned = 1)
      ) STRICT;
      INSERT INTO events_v7 (seq, message_id, source, type, event, user_id, anonymous_id, timestamp, received_at, message, raw, valid, policy, unplanned)
        SELECT seq, message_id, source, type, event, user_id, anonymous_id, timestamp, received_at, message, raw, valid, policy,
          CASE WHEN EXISTS (SELECT 1 FROM violations v WHERE v.event_seq = events.seq AND v.kind = 'unplanned_event') THEN 1 END
        FROM events ORDER BY seq;
      DELETE FROM violations WHERE kind = 'unplanned_event';
      DROP TABLE events;
      ALTER TABLE events_v7 RENAME TO events;

      -- One row per messageId and source: a retried message is stored once. Also serves source filters.
      CREATE UNIQUE INDEX events_source_message_id ON events (source, message_id);
      -- cdp events --type, --event, replay --event: without them a rare value (an alias, a name
      -- sent once) scans the whole table (12.5 s on a store of a million events, measured); each
      -- answers newest-first in its own order. Timestamp lost its index: the queries, newest
      -- first along seq, never used it (docs/PERFORMANCE.md has each index's cost).
      CREATE INDEX events_type ON events (type);
      CREATE INDEX events_event ON events (event) WHERE event IS NOT NULL;
      -- A user's events (cdp events --user, replay --user, profiles): userId and anonymousId, filled
      -- behind ingest in sorted slices up to the mark meta.event_users_through, instead of two
      -- indexes on events that every insert wrote at random places (src/store/user-index.ts). It
      -- starts empty: the daemon indexes the events already stored.
      CREATE TABLE event_users (
        user TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (user, seq)
      ) STRICT, WITHOUT ROWID;
      -- cdp violations: the unplanned events, newest first, without a scan where they are rare.
      CREATE INDEX events_unplanned ON events (seq) WHERE unplanned = 1;
    `,
  },
]

export const latestSchemaVersion = migrations[migrations.length - 1].version
