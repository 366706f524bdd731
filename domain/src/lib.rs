//! portal's domain: value types that can only hold valid values, and the deciders that turn commands into events.
//!
//! Nothing here does I/O, awaits, or reads a clock: time is always an argument.

pub mod account;
pub mod activity;
pub mod appointment;
pub mod attendance;
pub mod care;
pub mod catalogue;
pub mod decider;
pub mod device;
pub mod ids;
pub mod lockout;
pub mod organization;
pub mod patient;
pub mod personal;
pub mod phones;
pub mod secret;
pub mod series;
pub mod session;
pub mod signup_request;
pub mod slot;
pub mod two_step;
pub mod values;
pub mod waitlist;

pub use decider::{Decider, DomainEvent, ErrorCode, UpcastError};
pub use ids::{
    AccountId, ActivityId, DeviceSessionId, OrganizationId, PatientId, SeriesId, SessionId,
};
pub use personal::Personal;
