//! Integration tests of the read side against a real PostgreSQL (one database per test).

mod projections {
    pub mod runner;
    pub mod support;
}
