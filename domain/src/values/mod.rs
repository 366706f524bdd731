//! Value types ("parse, don't validate"): each can only hold a valid value and is built once, at the edge.

mod activity;
mod board;
mod care;
mod device;
mod email;
mod help;
mod messaging;
mod organization;
mod password;
mod patient;
pub mod person_name;
mod phone;
mod profile;
mod token;

#[cfg(test)]
mod fuzz;

pub use activity::{
    ActivityCode, ActivitySchedule, ActivityTitle, AttendanceWindow, Audience, CreditAmount,
    CreditOffer, CreditType, Credits, FieldError, Location, Recurrence, SeriesKind, Specialty,
    TimeZone, WindowMiss, MAX_ACTIVITY_DAYS, MAX_OCCURRENCES,
};
pub use board::{BoardReporting, CertifyingBoard};
pub use care::{
    AttachmentRef, ConversationSubject, Instructions, LineDescription, MedicationName, MessageBody,
    Money, ProcessorApiKey, ProcessorReference, Reason, ReferenceRange, ResultFlag, ResultReport,
    TestCode, TestName, WebhookSigningSecret,
};
pub use device::{DeviceName, DeviceNameError};
pub use email::{EmailAddress, EmailError};
pub use help::{HelpContacts, HelpContactsInput};
pub use messaging::{
    Channel, MailSender, MessageKind, MessageTemplate, SmsAccountId, TextingHours,
    MAX_SUBJECT_CHARS, MAX_TEMPLATE_CHARS,
};
pub use organization::{OrganizationCode, OrganizationName, OrganizationValueError};
pub use password::{
    Password, PasswordBlocklist, PasswordError, PasswordHash, MAX_PASSWORD_CHARS,
    MIN_PASSWORD_CHARS,
};
pub use patient::{ActivationCode, ClinicNumber, Username};
pub use person_name::{NameError, NamePart, PersonName, Title};
pub use phone::{PhoneNumber, PhoneNumberError};
pub use profile::{
    AddressType, CreditEligibility, DateOfBirth, EnrollmentType, PostalAddress, Prefix,
    ProfileDetails, ProfileValueError, SpecialNeed, SpecialNeeds, StateLicense,
};
pub use token::TokenHash;
