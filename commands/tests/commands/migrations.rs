//! Migrations: applied once, in order, safely from several instances at once, and never edited after the fact.

use portal_commands::db::{self, DbError, MIGRATIONS};
use portal_commands::testing::TestDatabase;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_apply_each_migration_once() {
    let database = TestDatabase::empty().await;
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let pool = database.pool.clone();
            tokio::spawn(async move { db::migrate(&pool).await.unwrap() })
        })
        .collect();
    let mut applied = Vec::new();
    for run in runs {
        applied.extend(run.await.unwrap());
    }
    assert_eq!(
        applied.len(),
        MIGRATIONS.len(),
        "each migration applied by exactly one instance"
    );
    assert!(db::migrate(&database.pool).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_applied_migration_that_was_edited_is_refused() {
    let database = TestDatabase::migrated().await;
    let client = database.pool.get().await.unwrap();
    client
        .execute(
            "UPDATE schema_migrations SET checksum = 'edited' WHERE name = $1",
            &[&MIGRATIONS[0].0],
        )
        .await
        .unwrap();
    match db::migrate(&database.pool).await {
        Err(DbError::MigrationChanged { name, .. }) => assert_eq!(name, MIGRATIONS[0].0),
        other => panic!("expected the edit to be refused, got {other:?}"),
    }
}

#[test]
fn every_file_in_the_migrations_folder_is_compiled_in_in_order() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut files: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".sql"))
        .collect();
    files.sort();
    let compiled: Vec<String> = MIGRATIONS
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    assert_eq!(compiled, files);
}
