//! API tests: the real app on a random port against a fresh database, driven over HTTP.

mod api {
    pub mod accounts;
    pub mod cli;
    pub mod graphql_http;
    pub mod health;
    pub mod lockout;
    pub mod password_reset;
    pub mod profile;
    pub mod sessions;
    pub mod support;
    pub mod texting;
}
