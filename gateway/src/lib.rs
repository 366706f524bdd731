//! The `portal` server: configuration, the axum router, the GraphQL API, health and metrics endpoints, and the background
//! tasks (projectors, message delivery) that run beside it.

pub mod access;
pub mod app;
pub mod care_timers;
pub mod cli;
pub mod cookies;
pub mod delivery;
pub mod demo;
pub mod exports;
pub mod graphiql;
pub mod graphql;
pub mod health;
pub mod ical;
pub mod metrics;
pub mod payments;
pub mod request;
pub mod retention;
pub mod sms;
pub mod staff;
pub mod throttle;
pub mod web;
pub mod ws;
