-- When each session was last used, for the idle timeout. Operational state, not a read model: it is written by
-- authentication (at most every 30 seconds per session), not folded from the log, and losing it only ends sessions
-- early (a missing row counts from the session's start).
CREATE TABLE session_activity (
    session_id    uuid PRIMARY KEY,
    last_seen_at  timestamptz NOT NULL
);
