//! Connecting to PostgreSQL: the pool, creating the database when missing, and applying migrations.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use sha2::{Digest, Sha256};
use tokio_postgres::{Config, NoTls};

/// The numbered SQL files of `migrations/`, in order, compiled into the binary.
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_event_log.sql",
        include_str!("../../migrations/0001_event_log.sql"),
    ),
    (
        "0002_projections.sql",
        include_str!("../../migrations/0002_projections.sql"),
    ),
    (
        "0003_append_function.sql",
        include_str!("../../migrations/0003_append_function.sql"),
    ),
    (
        "0004_lockout.sql",
        include_str!("../../migrations/0004_lockout.sql"),
    ),
    (
        "0005_session_activity.sql",
        include_str!("../../migrations/0005_session_activity.sql"),
    ),
    (
        "0006_profiles.sql",
        include_str!("../../migrations/0006_profiles.sql"),
    ),
    (
        "0007_continuing_education.sql",
        include_str!("../../migrations/0007_continuing_education.sql"),
    ),
    (
        "0008_patients.sql",
        include_str!("../../migrations/0008_patients.sql"),
    ),
    (
        "0009_outbox_withdrawal.sql",
        include_str!("../../migrations/0009_outbox_withdrawal.sql"),
    ),
    (
        "0010_schedule.sql",
        include_str!("../../migrations/0010_schedule.sql"),
    ),
    (
        "0011_tamper_evidence.sql",
        include_str!("../../migrations/0011_tamper_evidence.sql"),
    ),
    (
        "0012_auditors_and_analysts.sql",
        include_str!("../../migrations/0012_auditors_and_analysts.sql"),
    ),
    (
        "0013_group_commit.sql",
        include_str!("../../migrations/0013_group_commit.sql"),
    ),
    (
        "0014_delivery.sql",
        include_str!("../../migrations/0014_delivery.sql"),
    ),
    (
        "0015_care.sql",
        include_str!("../../migrations/0015_care.sql"),
    ),
    (
        "0016_app_role.sql",
        include_str!("../../migrations/0016_app_role.sql"),
    ),
    (
        "0017_two_step_requirement.sql",
        include_str!("../../migrations/0017_two_step_requirement.sql"),
    ),
    (
        "0018_help_contacts.sql",
        include_str!("../../migrations/0018_help_contacts.sql"),
    ),
    (
        "0019_public_calendar.sql",
        include_str!("../../migrations/0019_public_calendar.sql"),
    ),
    (
        "0020_online_payments.sql",
        include_str!("../../migrations/0020_online_payments.sql"),
    ),
    (
        "0021_name_changes.sql",
        include_str!("../../migrations/0021_name_changes.sql"),
    ),
];

/// Advisory lock key held while migrating, so that instances starting together take turns.
pub const MIGRATION_LOCK: i64 = 0x706f_7274_616c_0001;

/// Why the database could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL does not parse.
    #[error("invalid DATABASE_URL: {0}")]
    InvalidUrl(String),
    /// The server refused or failed.
    #[error("database error: {0}")]
    Database(#[from] tokio_postgres::Error),
    /// No connection could be had from the pool.
    #[error("connection pool error: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// The pool could not be built.
    #[error("connection pool setup failed: {0}")]
    PoolSetup(String),
    /// An applied migration file was edited afterwards.
    #[error("migration {name} was changed after it was applied (checksum {applied} in the database, {current} now)")]
    MigrationChanged {
        /// The file.
        name: String,
        /// Checksum recorded when applied.
        applied: String,
        /// Checksum of the file now.
        current: String,
    },
}

/// Parses a PostgreSQL URL.
pub fn parse_url(url: &str) -> Result<Config, DbError> {
    url.parse::<Config>()
        .map_err(|e| DbError::InvalidUrl(e.to_string()))
}

/// The longest a new connection, or a pooled connection's health check, may take.
pub const POOL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The longest a caller waits for a free connection when all are in use.
pub const POOL_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A connection pool of at most `max_size` connections.
pub fn pool(mut config: Config, max_size: usize) -> Result<Pool, DbError> {
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(POOL_TIMEOUT);
    }
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    // Bounded waits: while the database is away a request fails within seconds (and is answered 503) instead of
    // queueing until the client gives up.
    Pool::builder(manager)
        .max_size(max_size)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(POOL_TIMEOUT))
        .recycle_timeout(Some(POOL_TIMEOUT))
        .build()
        .map_err(|e| DbError::PoolSetup(e.to_string()))
}

/// Creates the database named in `config` when it does not exist, connecting to the `postgres` database to do so.
pub async fn create_database_if_missing(config: &Config) -> Result<bool, DbError> {
    let name = config.get_dbname().unwrap_or("postgres").to_owned();
    let mut admin = config.clone();
    admin.dbname("postgres");
    let (client, connection) = admin.connect(NoTls).await?;
    let driver = tokio::spawn(connection);
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await?
        .is_some();
    let mut created = false;
    if !exists {
        let statement = format!("CREATE DATABASE {}", quote_identifier(&name));
        match client.batch_execute(&statement).await {
            Ok(()) => created = true,
            // Another instance created it between our check and our CREATE.
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE) => {}
            Err(e) => return Err(e.into()),
        }
    }
    drop(client);
    let _ = driver.await;
    Ok(created)
}

/// Quotes an SQL identifier.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn checksum(sql: &str) -> String {
    Sha256::digest(sql.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Applies the migrations not yet applied, each in its own transaction, under an advisory lock; refuses to run
/// when an applied file has changed since. Returns the names applied now.
pub async fn migrate(pool: &Pool) -> Result<Vec<String>, DbError> {
    let mut client = pool.get().await?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let result = apply_pending(&mut client).await;
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    let applied = result?;
    unlocked?;
    Ok(applied)
}

async fn apply_pending(client: &mut deadpool_postgres::Object) -> Result<Vec<String>, DbError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 name text PRIMARY KEY,
                 checksum text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await?;
    let mut applied_now = Vec::new();
    for (name, sql) in MIGRATIONS {
        let current = checksum(sql);
        let recorded = client
            .query_opt(
                "SELECT checksum FROM schema_migrations WHERE name = $1",
                &[name],
            )
            .await?;
        match recorded {
            Some(row) => {
                let applied: String = row.get(0);
                if applied != current {
                    return Err(DbError::MigrationChanged {
                        name: (*name).to_owned(),
                        applied,
                        current,
                    });
                }
            }
            None => {
                let tx = client.transaction().await?;
                tx.batch_execute(sql).await?;
                tx.execute(
                    "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                    &[name, &current],
                )
                .await?;
                tx.commit().await?;
                tracing::info!(migration = name, "applied migration");
                applied_now.push((*name).to_owned());
            }
        }
    }
    // Tables a later migration adds are the application's to use too (the audit trail's stay append-only).
    let granted = client
        .query_opt(
            "SELECT 1 FROM pg_proc WHERE proname = 'portal_grant_app'",
            &[],
        )
        .await?;
    if granted.is_some() {
        client.batch_execute("SELECT portal_grant_app()").await?;
    }
    Ok(applied_now)
}

/// The database role the server's connections act as (see migrations/0016_app_role.sql).
pub const APP_ROLE: &str = "portal_app";

/// The owner's connection settings made to act as the application's role from the first statement on.
pub fn as_app(config: &Config) -> Config {
    let mut config = config.clone();
    config.options(format!("-c role={APP_ROLE}"));
    config
}
