//! Test support: a fresh PostgreSQL database per test, dropped afterwards, and ready-made stores.
//!
//! The server comes from `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`); `scripts/test`
//! starts the local cluster when it is down. A test never skips for want of a server: it fails and says why.

use std::sync::Arc;

use deadpool_postgres::Pool;
use tokio_postgres::{Config, NoTls};
use uuid::Uuid;

use crate::credentials::PasswordHasher;
use crate::db;
use crate::log::{MemoryEventLog, PgEventLog};
use crate::personal_data::KeyRing;
use crate::secrets::{MasterKey, Secrets};
use crate::store::Store;

/// The admin URL of the test server.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database of its own for one test, dropped when the value is dropped.
pub struct TestDatabase {
    /// The database's name.
    pub name: String,
    /// Connection settings for it.
    pub config: Config,
    /// Its URL.
    pub url: String,
    /// A pool on it.
    pub pool: Pool,
}

impl TestDatabase {
    /// A new database with all migrations applied.
    pub async fn migrated() -> Self {
        let database = Self::empty().await;
        db::migrate(&database.pool)
            .await
            .expect("migrations apply to a fresh database");
        database
    }

    /// A name, URL and pool for a database that does not exist yet (for code that must create it), dropped all
    /// the same when the value is dropped.
    pub fn not_yet_created() -> Self {
        let admin_url = admin_url();
        let admin: Config = admin_url.parse().expect("TEST_DATABASE_URL parses");
        let name = format!("portal_test_{}", Uuid::new_v4().simple());
        let mut config = admin;
        config.dbname(&name);
        let url = replace_database(&admin_url, &name);
        let pool = db::pool(config.clone(), 4).expect("pool builds");
        Self {
            name,
            config,
            url,
            pool,
        }
    }

    /// A new database with nothing in it.
    pub async fn empty() -> Self {
        let admin_url = admin_url();
        let admin: Config = admin_url.parse().expect("TEST_DATABASE_URL parses");
        let (client, connection) = admin.connect(NoTls).await.unwrap_or_else(|error| {
            panic!(
                "PostgreSQL is not reachable at {admin_url} ({error}). Run the tests with scripts/test, which starts \
                 the local cluster, or set TEST_DATABASE_URL to a server where the user may create databases."
            )
        });
        tokio::spawn(connection);
        let name = format!("portal_test_{}", Uuid::new_v4().simple());
        client
            .batch_execute(&format!("CREATE DATABASE {}", db::quote_identifier(&name)))
            .await
            .expect("the test user may create databases");
        let mut config = admin.clone();
        config.dbname(&name);
        let url = replace_database(&admin_url, &name);
        let pool = db::pool(config.clone(), 32).expect("pool builds");
        Self {
            name,
            config,
            url,
            pool,
        }
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let base = match base.rfind('/') {
        Some(slash) if slash > "postgres://".len() => &base[..slash],
        _ => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        self.pool.close();
        if let Ok(admin) = admin_url().parse::<Config>() {
            drop_database_now(admin, self.name.clone());
        }
    }
}

/// Drops database `name` (its connections too) from synchronous code: Drop cannot await, so a short-lived thread
/// with its own runtime does it, and this waits for it.
fn drop_database_now(admin: Config, name: String) {
    let cleanup = std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async move {
            if let Ok((client, connection)) = admin.connect(NoTls).await {
                tokio::spawn(connection);
                let _ = client
                    .batch_execute(&format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        db::quote_identifier(&name)
                    ))
                    .await;
            }
        });
    });
    let _ = cleanup.join();
}

/// A hasher shared by all tests of a process (building one hashes a dummy password).
pub fn hasher() -> Arc<PasswordHasher> {
    static HASHER: std::sync::OnceLock<Arc<PasswordHasher>> = std::sync::OnceLock::new();
    HASHER
        .get_or_init(|| Arc::new(PasswordHasher::new().expect("argon2 parameters are valid")))
        .clone()
}

/// A store on a test database, with a random master key.
pub fn pg_store(database: &TestDatabase) -> Store<PgEventLog> {
    pg_store_on(&database.pool)
}

/// A store over any pool (a bench's database), with a random master key.
pub fn pg_store_on(pool: &deadpool_postgres::Pool) -> Store<PgEventLog> {
    let secrets = Secrets::derive(&MasterKey::generate());
    Store {
        log: PgEventLog::new(pool.clone()),
        keys: KeyRing::postgres(pool.clone(), secrets.clone()),
        secrets,
        passwords: hasher(),
        activity: crate::session_activity::SessionActivity::Postgres(pool.clone()),
        aggregates: crate::aggregates::AggregateCache::default(),
        public_url: "http://portal.test".to_owned(),
    }
}

/// A store on the in-memory log.
pub fn memory_store() -> Store<MemoryEventLog> {
    let secrets = Secrets::derive(&MasterKey::generate());
    Store {
        log: MemoryEventLog::new(),
        keys: KeyRing::memory(secrets.clone()),
        secrets,
        passwords: hasher(),
        activity: crate::session_activity::SessionActivity::memory(),
        aggregates: crate::aggregates::AggregateCache::default(),
        public_url: "http://portal.test".to_owned(),
    }
}

/// Benchmark support: whether `cargo bench` runs the target (`cargo test --benches` only builds it), a fresh
/// migrated database, and where results go.
pub mod bench {
    use std::path::PathBuf;

    use deadpool_postgres::Pool;
    use tokio_postgres::{Config, NoTls};
    use uuid::Uuid;

    use crate::db;

    /// True under `cargo bench` (which passes `--bench`); under `cargo test --benches` a bench only builds.
    pub fn measuring() -> bool {
        std::env::args().any(|a| a == "--bench")
    }

    /// A number from the environment, or `default`.
    pub fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    }

    /// The value at fraction `p` (0.5: the median) of sorted measurements; 0 when there are none.
    pub fn percentile(sorted: &[f64], p: f64) -> f64 {
        if sorted.is_empty() {
            return 0.0;
        }
        sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
    }

    /// A comma-separated list of numbers from the environment (`BENCH_WRITERS=1,16`), or `default`.
    pub fn list(name: &str, default: &[usize]) -> Vec<usize> {
        std::env::var(name)
            .ok()
            .and_then(|s| s.split(',').map(|n| n.trim().parse().ok()).collect())
            .unwrap_or_else(|| default.to_vec())
    }

    /// A fresh, migrated database on `BENCH_DATABASE_URL` (default the local server), dropped by
    /// [`BenchDatabase::drop_database`].
    pub struct BenchDatabase {
        admin: Config,
        name: String,
        /// Its URL, for processes started by the bench.
        pub url: String,
        /// Its connection settings.
        pub config: Config,
        /// A pool of `size` connections.
        pub pool: Pool,
    }

    impl BenchDatabase {
        /// Creates and migrates the database; panics with the reason when the server refuses (benches only).
        pub async fn create(size: usize) -> Self {
            let url = std::env::var("BENCH_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let admin_config: Config = url.parse().expect("BENCH_DATABASE_URL parses");
            let name = format!("portal_bench_{}", Uuid::new_v4().simple());
            let (client, connection) = admin_config
                .connect(NoTls)
                .await
                .expect("PostgreSQL reachable at BENCH_DATABASE_URL");
            tokio::spawn(connection);
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create database");
            let mut config = admin_config.clone();
            config.dbname(&name);
            let pool = db::pool(config.clone(), size).expect("pool");
            db::migrate(&pool).await.expect("migrate");
            let base = url.split('?').next().unwrap_or(&url);
            let url = match base.rsplit_once('/') {
                Some((server, _)) if server.contains("://") && !server.ends_with('/') => {
                    format!("{server}/{name}")
                }
                _ => format!("{base}/{name}"),
            };
            Self {
                admin: admin_config,
                name,
                url,
                config,
                pool,
            }
        }

        /// Drops the database (its connections too); a bench that panics drops it too, when it unwinds.
        pub async fn drop_database(self) {
            drop(self);
        }
    }

    impl Drop for BenchDatabase {
        fn drop(&mut self) {
            self.pool.close();
            super::drop_database_now(self.admin.clone(), self.name.clone());
        }
    }

    /// Writes a benchmark's results as JSON into the target directory (`$CARGO_TARGET_DIR` or `target/`); returns
    /// the file's path.
    pub fn write_results(file: &str, results: &serde_json::Value) -> PathBuf {
        let directory = std::env::var("CARGO_TARGET_DIR").map_or_else(
            |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
            PathBuf::from,
        );
        std::fs::create_dir_all(&directory).expect("target directory");
        let target = directory.join(file);
        std::fs::write(
            &target,
            serde_json::to_string_pretty(results).expect("json"),
        )
        .expect("write results");
        target
    }
}
