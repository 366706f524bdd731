//! Integration tests of the write side against a real PostgreSQL (one database per test) and the memory log.

mod commands {
    pub mod accounts;
    pub mod aggregates;
    pub mod attendance;
    pub mod group_commit;
    pub mod integrity;
    pub mod log_conformance;
    pub mod log_postgres;
    pub mod migrations;
}
