//! Building a log with accounts in it, and comparing a read model with a rebuild.

use portal_commands::accounts::{self, NewAccount};
use portal_commands::credentials::BreachedPasswords;
use portal_commands::handler::CommandContext;
use portal_commands::log::PgEventLog;
use portal_commands::organizations::{self, OrganizationSummary};
use portal_commands::testing::{pg_store, TestDatabase};
use portal_commands::Store;
use portal_domain::account::Role;
use portal_domain::values::{
    EmailAddress, NamePart, OrganizationCode, OrganizationName, Password, PersonName,
};
use portal_projections::Source;

pub struct World {
    pub database: TestDatabase,
    pub store: Store<PgEventLog>,
    pub organization: OrganizationSummary,
}

impl World {
    pub async fn new() -> Self {
        let database = TestDatabase::migrated().await;
        let store = pg_store(&database);
        let code = OrganizationCode::parse("umncpd").unwrap();
        organizations::create(
            &store,
            code.clone(),
            OrganizationName::parse("UMN CPD").unwrap(),
            &CommandContext::system(),
        )
        .await
        .unwrap();
        let organization = organizations::find_by_code(&store, &code)
            .await
            .unwrap()
            .unwrap();
        Self {
            database,
            store,
            organization,
        }
    }

    pub fn source(&self) -> Source {
        Source {
            log: self.store.log.clone(),
            keys: self.store.keys.clone(),
        }
    }

    /// Registers an account and, for even `n`, activates it; returns the last position written.
    pub async fn account(&self, n: usize) -> i64 {
        let input = NewAccount {
            name: PersonName {
                title: None,
                first: NamePart::parse(&format!("Learner{n}")).unwrap(),
                middle: None,
                last: NamePart::parse("Example").unwrap(),
            },
            email: EmailAddress::parse(&format!("learner{n}@example.org")).unwrap(),
            password: Password::parse("violet tractor sings at noon", &BreachedPasswords).unwrap(),
            role: Role::Learner,
        };
        let registered = accounts::register(
            &self.store,
            &self.organization,
            input,
            &CommandContext::system(),
        )
        .await
        .unwrap();
        if n.is_multiple_of(2) {
            let token = registered.activation_token.unwrap();
            accounts::activate(&self.store, &token, &CommandContext::system())
                .await
                .unwrap()
                .1
        } else {
            registered.last_position.unwrap()
        }
    }

    pub async fn rows(&self, table: &str) -> Vec<String> {
        let client = self.database.pool.get().await.unwrap();
        client
            .query(
                &format!("SELECT row_to_json(t)::text FROM {table} t ORDER BY 1"),
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    }
}
