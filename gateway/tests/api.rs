//! API tests: the real app on a random port against a fresh database, driven over HTTP.

mod api {
    pub mod accounts;
    pub mod attendance;
    pub mod audit;
    pub mod caches;
    pub mod calendar;
    pub mod care;
    pub mod cli;
    pub mod delivery;
    pub mod devices;
    pub mod fuzzing;
    pub mod graphql_http;
    pub mod health;
    pub mod lockout;
    pub mod names;
    pub mod observability;
    pub mod operations;
    pub mod password_reset;
    pub mod patients;
    pub mod payment_processor;
    pub mod payments;
    pub mod phones;
    pub mod profile;
    pub mod reporting;
    pub mod scheduling;
    pub mod security;
    pub mod seed_words;
    pub mod sessions;
    pub mod shutdown;
    pub mod sms_provider;
    pub mod smtp_server;
    pub mod support;
    pub mod texting;
    pub mod web;
}
