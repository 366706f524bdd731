//! Accounts: a person registers, activates from the e-mailed link, and signs in.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::values::{EmailAddress, PasswordHash, PersonName, TokenHash};
use crate::{AccountId, Decider, DomainEvent, ErrorCode, OrganizationId, Personal, SessionId};

/// How long an activation link works.
pub const ACTIVATION_TTL: Duration = Duration::hours(72);
/// How long a session lasts after sign-in.
pub const SESSION_TTL: Duration = Duration::hours(8);
/// How many activation links may be outstanding at once; resending past this drops the oldest.
pub const MAX_OUTSTANDING_ACTIVATIONS: usize = 5;

/// What an account may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A clinician earning continuing-education credit.
    Learner,
    /// A coordinator of the organization.
    Staff,
}

impl Role {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Learner => "learner",
            Role::Staff => "staff",
        }
    }
}

/// The account aggregate.
pub struct Account;

/// An activation link that was sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Activation {
    /// Hash of the token in the link.
    pub token_hash: TokenHash,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

/// What every registered account has.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// The account.
    pub id: AccountId,
    /// Its organization.
    pub organization: OrganizationId,
    /// Its role.
    pub role: Role,
    /// The person's name.
    pub name: Personal<PersonName>,
    /// The sign-in address.
    pub email: Personal<EmailAddress>,
    /// The password hash.
    pub password_hash: Personal<PasswordHash>,
    /// Activation links sent, oldest first (kept after activation to tell a used link from an unknown one).
    pub activations: Vec<Activation>,
}

/// The lifecycle of an account.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum AccountState {
    /// Nothing recorded.
    #[default]
    Unregistered,
    /// Registered, waiting for the activation link to be followed.
    Pending(Profile),
    /// Activated.
    Active(Profile),
}

/// The outcome of checking a password against the stored hash, done by the caller (hashing is not pure).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordCheck {
    /// The password matched the hash.
    Matched,
    /// It did not.
    Mismatched,
}

/// A new account's details, already parsed and hashed.
#[derive(Clone, Debug)]
pub struct Registration {
    /// The new account's id.
    pub id: AccountId,
    /// Its organization.
    pub organization: OrganizationId,
    /// Its role.
    pub role: Role,
    /// The person's name.
    pub name: PersonName,
    /// The sign-in address.
    pub email: EmailAddress,
    /// argon2id hash of the password.
    pub password_hash: PasswordHash,
    /// Hash of the token in the first activation link.
    pub activation: TokenHash,
}

/// Commands on an account.
#[derive(Clone, Debug)]
pub enum AccountCommand {
    /// Registers a new account and sends the first activation link.
    Register(Registration),
    /// Follows an activation link.
    Activate {
        /// Hash of the token in the link.
        token_hash: TokenHash,
    },
    /// Sends a new activation link.
    ResendActivation {
        /// Hash of the new token.
        token_hash: TokenHash,
    },
    /// Records that someone tried to register this account's address again.
    NoteRepeatedRegistration,
    /// Signs in with a password already checked against the hash.
    SignIn {
        /// The check's outcome.
        password: PasswordCheck,
        /// The session to open on success.
        session: SessionId,
    },
}

/// Events of an account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum AccountEvent {
    /// See [`AccountRegistered`].
    AccountRegistered(AccountRegistered),
    /// See [`ActivationIssued`].
    ActivationIssued(ActivationIssued),
    /// See [`AccountActivated`].
    AccountActivated(AccountActivated),
    /// See [`RegistrationRepeated`].
    RegistrationRepeated(RegistrationRepeated),
    /// See [`SignInSucceeded`].
    SignInSucceeded(SignInSucceeded),
    /// See [`SignInFailed`].
    SignInFailed(SignInFailed),
}

/// An account was registered (v1). Name, e-mail and password hash are personal data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountRegistered {
    /// The account.
    pub account_id: AccountId,
    /// Its organization.
    pub organization_id: OrganizationId,
    /// Its role.
    pub role: Role,
    /// The person's name.
    pub name: Personal<PersonName>,
    /// The sign-in address.
    pub email: Personal<EmailAddress>,
    /// argon2id hash of the password.
    pub password_hash: Personal<PasswordHash>,
    /// When.
    pub registered_at: DateTime<Utc>,
}

/// An activation link was issued (v1). Only the token's hash is recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivationIssued {
    /// SHA-256 of the token.
    pub token_hash: TokenHash,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// The account was activated (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountActivated {
    /// When.
    pub activated_at: DateTime<Utc>,
}

/// Someone tried to register this account's address again (v1); the owner is told by e-mail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegistrationRepeated {
    /// When.
    pub at: DateTime<Utc>,
}

/// A sign-in succeeded and opened a session (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignInSucceeded {
    /// The session opened.
    pub session_id: SessionId,
    /// When.
    pub at: DateTime<Utc>,
    /// When the session ends at the latest.
    pub session_expires_at: DateTime<Utc>,
}

/// Why a sign-in failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInFailure {
    /// The password did not match.
    WrongPassword,
}

/// A sign-in failed (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignInFailed {
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: SignInFailure,
}

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> &'static str {
        match self {
            AccountEvent::AccountRegistered(_) => "AccountRegistered",
            AccountEvent::ActivationIssued(_) => "ActivationIssued",
            AccountEvent::AccountActivated(_) => "AccountActivated",
            AccountEvent::RegistrationRepeated(_) => "RegistrationRepeated",
            AccountEvent::SignInSucceeded(_) => "SignInSucceeded",
            AccountEvent::SignInFailed(_) => "SignInFailed",
        }
    }
}

/// Why an account command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// Register on an account that exists.
    #[error("this account is registered already")]
    AlreadyRegistered,
    /// The account does not exist.
    #[error("no such account")]
    NotFound,
    /// No activation link with this token was ever issued.
    #[error("this activation link is not valid")]
    ActivationTokenInvalid,
    /// The link was issued but has expired.
    #[error("this activation link has expired; ask for a new one")]
    ActivationTokenExpired,
    /// The account was activated already.
    #[error("this activation link was used already; sign in")]
    ActivationTokenUsed,
    /// Resend on an account that is active.
    #[error("this account is active already")]
    AlreadyActive,
    /// Unknown address or wrong password: the two are never told apart.
    #[error("the e-mail address or password is not correct")]
    InvalidCredentials,
    /// The right password, but the account is not activated yet.
    #[error("this account is not activated yet; follow the link in the activation e-mail")]
    NotActivated,
}

impl ErrorCode for AccountError {
    fn code(&self) -> &'static str {
        match self {
            AccountError::AlreadyRegistered => "ACCOUNT_EXISTS",
            AccountError::NotFound => "ACCOUNT_NOT_FOUND",
            AccountError::ActivationTokenInvalid => "ACTIVATION_TOKEN_INVALID",
            AccountError::ActivationTokenExpired => "ACTIVATION_TOKEN_EXPIRED",
            AccountError::ActivationTokenUsed => "ACTIVATION_TOKEN_USED",
            AccountError::AlreadyActive => "ACCOUNT_ALREADY_ACTIVE",
            AccountError::InvalidCredentials => "INVALID_CREDENTIALS",
            AccountError::NotActivated => "ACCOUNT_NOT_ACTIVATED",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            AccountError::ActivationTokenInvalid
            | AccountError::ActivationTokenExpired
            | AccountError::ActivationTokenUsed => Some("token"),
            _ => None,
        }
    }
}

fn issue(token_hash: TokenHash, now: DateTime<Utc>) -> AccountEvent {
    AccountEvent::ActivationIssued(ActivationIssued {
        token_hash,
        issued_at: now,
        expires_at: now + ACTIVATION_TTL,
    })
}

impl AccountState {
    /// The profile, once registered.
    pub fn profile(&self) -> Option<&Profile> {
        match self {
            AccountState::Unregistered => None,
            AccountState::Pending(profile) | AccountState::Active(profile) => Some(profile),
        }
    }
}

impl Decider for Account {
    type State = AccountState;
    type Command = AccountCommand;
    type Event = AccountEvent;
    type Error = AccountError;
    const CATEGORY: &'static str = "account";

    fn decide(
        state: &Self::State,
        command: Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        use AccountCommand as C;
        use AccountState as S;
        match (state, command) {
            (S::Unregistered, C::Register(r)) => Ok(vec![
                AccountEvent::AccountRegistered(AccountRegistered {
                    account_id: r.id,
                    organization_id: r.organization,
                    role: r.role,
                    name: Personal::Known(r.name),
                    email: Personal::Known(r.email),
                    password_hash: Personal::Known(r.password_hash),
                    registered_at: now,
                }),
                issue(r.activation, now),
            ]),
            (_, C::Register(_)) => Err(AccountError::AlreadyRegistered),

            (S::Unregistered, _) => Err(AccountError::NotFound),

            (S::Pending(profile), C::Activate { token_hash }) => {
                let activation = profile
                    .activations
                    .iter()
                    .find(|a| a.token_hash.ct_eq(&token_hash))
                    .ok_or(AccountError::ActivationTokenInvalid)?;
                if now >= activation.expires_at {
                    return Err(AccountError::ActivationTokenExpired);
                }
                Ok(vec![AccountEvent::AccountActivated(AccountActivated {
                    activated_at: now,
                })])
            }
            (S::Active(profile), C::Activate { token_hash }) => {
                if profile
                    .activations
                    .iter()
                    .any(|a| a.token_hash.ct_eq(&token_hash))
                {
                    Err(AccountError::ActivationTokenUsed)
                } else {
                    Err(AccountError::ActivationTokenInvalid)
                }
            }

            (S::Pending(_), C::ResendActivation { token_hash }) => Ok(vec![issue(token_hash, now)]),
            (S::Active(_), C::ResendActivation { .. }) => Err(AccountError::AlreadyActive),

            (S::Pending(_) | S::Active(_), C::NoteRepeatedRegistration) => {
                Ok(vec![AccountEvent::RegistrationRepeated(
                    RegistrationRepeated { at: now },
                )])
            }

            (
                S::Pending(_) | S::Active(_),
                C::SignIn {
                    password: PasswordCheck::Mismatched,
                    ..
                },
            ) => Ok(vec![AccountEvent::SignInFailed(SignInFailed {
                at: now,
                reason: SignInFailure::WrongPassword,
            })]),
            (
                S::Pending(_),
                C::SignIn {
                    password: PasswordCheck::Matched,
                    ..
                },
            ) => Err(AccountError::NotActivated),
            (
                S::Active(_),
                C::SignIn {
                    password: PasswordCheck::Matched,
                    session,
                },
            ) => Ok(vec![AccountEvent::SignInSucceeded(SignInSucceeded {
                session_id: session,
                at: now,
                session_expires_at: now + SESSION_TTL,
            })]),
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        use AccountEvent as E;
        use AccountState as S;
        match (state, event) {
            (S::Unregistered, E::AccountRegistered(e)) => S::Pending(Profile {
                id: e.account_id,
                organization: e.organization_id,
                role: e.role,
                name: e.name.clone(),
                email: e.email.clone(),
                password_hash: e.password_hash.clone(),
                activations: Vec::new(),
            }),
            (S::Pending(mut profile), E::ActivationIssued(e)) => {
                profile.activations.push(Activation {
                    token_hash: e.token_hash,
                    expires_at: e.expires_at,
                });
                if profile.activations.len() > MAX_OUTSTANDING_ACTIVATIONS {
                    profile.activations.remove(0);
                }
                S::Pending(profile)
            }
            (S::Pending(profile), E::AccountActivated(_)) => S::Active(profile),
            // Sign-in history and repeated registrations do not change what the account may do (yet).
            (state, _) => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decider::testing::given;
    use crate::values::{NamePart, Title};
    use chrono::TimeZone;
    use uuid::Uuid;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
    }

    fn token(n: u8) -> TokenHash {
        TokenHash([n; 32])
    }

    fn registration() -> Registration {
        Registration {
            id: AccountId(Uuid::from_u128(7)),
            organization: OrganizationId(Uuid::from_u128(1)),
            role: Role::Learner,
            name: PersonName {
                title: Some(Title::parse("Dr.").unwrap()),
                first: NamePart::parse("Ada").unwrap(),
                middle: None,
                last: NamePart::parse("Lovelace").unwrap(),
            },
            email: EmailAddress::parse("ada@example.org").unwrap(),
            password_hash: PasswordHash::from_phc(
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            ),
            activation: token(1),
        }
    }

    fn registered() -> Vec<AccountEvent> {
        Account::decide(
            &AccountState::Unregistered,
            AccountCommand::Register(registration()),
            t0(),
        )
        .unwrap()
    }

    fn activated() -> Vec<AccountEvent> {
        let mut events = registered();
        events.push(AccountEvent::AccountActivated(AccountActivated {
            activated_at: t0(),
        }));
        events
    }

    #[test]
    fn registering_records_the_account_and_issues_an_activation_link_valid_72_hours() {
        let r = registration();
        given::<Account>([])
            .when(AccountCommand::Register(r.clone()), t0())
            .then(vec![
                AccountEvent::AccountRegistered(AccountRegistered {
                    account_id: r.id,
                    organization_id: r.organization,
                    role: Role::Learner,
                    name: Personal::Known(r.name),
                    email: Personal::Known(r.email),
                    password_hash: Personal::Known(r.password_hash),
                    registered_at: t0(),
                }),
                AccountEvent::ActivationIssued(ActivationIssued {
                    token_hash: token(1),
                    issued_at: t0(),
                    expires_at: t0() + Duration::hours(72),
                }),
            ]);
    }

    #[test]
    fn registering_twice_is_refused() {
        given::<Account>(registered())
            .when(AccountCommand::Register(registration()), t0())
            .then_error(AccountError::AlreadyRegistered);
    }

    #[test]
    fn a_valid_activation_link_activates_the_account() {
        given::<Account>(registered())
            .when(
                AccountCommand::Activate {
                    token_hash: token(1),
                },
                t0() + Duration::hours(71),
            )
            .then(vec![AccountEvent::AccountActivated(AccountActivated {
                activated_at: t0() + Duration::hours(71),
            })]);
    }

    #[test]
    fn an_expired_activation_link_is_refused() {
        given::<Account>(registered())
            .when(
                AccountCommand::Activate {
                    token_hash: token(1),
                },
                t0() + Duration::hours(73),
            )
            .then_error(AccountError::ActivationTokenExpired);
    }

    #[test]
    fn an_unknown_activation_link_is_refused() {
        given::<Account>(registered())
            .when(
                AccountCommand::Activate {
                    token_hash: token(9),
                },
                t0(),
            )
            .then_error(AccountError::ActivationTokenInvalid);
    }

    #[test]
    fn a_used_activation_link_is_refused() {
        given::<Account>(activated())
            .when(
                AccountCommand::Activate {
                    token_hash: token(1),
                },
                t0(),
            )
            .then_error(AccountError::ActivationTokenUsed);
    }

    #[test]
    fn activating_an_unregistered_account_is_refused() {
        given::<Account>([])
            .when(
                AccountCommand::Activate {
                    token_hash: token(1),
                },
                t0(),
            )
            .then_error(AccountError::NotFound);
    }

    #[test]
    fn a_resent_link_works_alongside_the_first() {
        let mut events = registered();
        events.extend(
            Account::decide(
                &Account::fold(events.iter()),
                AccountCommand::ResendActivation {
                    token_hash: token(2),
                },
                t0(),
            )
            .unwrap(),
        );
        given::<Account>(events.clone())
            .when(
                AccountCommand::Activate {
                    token_hash: token(2),
                },
                t0(),
            )
            .then(vec![AccountEvent::AccountActivated(AccountActivated {
                activated_at: t0(),
            })]);
        given::<Account>(events)
            .when(
                AccountCommand::Activate {
                    token_hash: token(1),
                },
                t0(),
            )
            .then(vec![AccountEvent::AccountActivated(AccountActivated {
                activated_at: t0(),
            })]);
    }

    #[test]
    fn resending_to_an_active_account_is_refused() {
        given::<Account>(activated())
            .when(
                AccountCommand::ResendActivation {
                    token_hash: token(2),
                },
                t0(),
            )
            .then_error(AccountError::AlreadyActive);
    }

    #[test]
    fn only_the_last_five_links_are_kept() {
        let mut events = registered();
        for n in 2..=6 {
            events.push(issue(token(n), t0()));
        }
        given::<Account>(events)
            .when(
                AccountCommand::Activate {
                    token_hash: token(1),
                },
                t0(),
            )
            .then_error(AccountError::ActivationTokenInvalid);
    }

    #[test]
    fn signing_in_to_an_active_account_opens_a_session_for_eight_hours() {
        let session = SessionId(Uuid::from_u128(99));
        given::<Account>(activated())
            .when(
                AccountCommand::SignIn {
                    password: PasswordCheck::Matched,
                    session,
                },
                t0(),
            )
            .then(vec![AccountEvent::SignInSucceeded(SignInSucceeded {
                session_id: session,
                at: t0(),
                session_expires_at: t0() + Duration::hours(8),
            })]);
    }

    #[test]
    fn a_wrong_password_is_recorded_as_a_failed_sign_in() {
        given::<Account>(activated())
            .when(
                AccountCommand::SignIn {
                    password: PasswordCheck::Mismatched,
                    session: SessionId(Uuid::nil()),
                },
                t0(),
            )
            .then(vec![AccountEvent::SignInFailed(SignInFailed {
                at: t0(),
                reason: SignInFailure::WrongPassword,
            })]);
    }

    #[test]
    fn signing_in_before_activation_is_refused_with_its_own_code() {
        given::<Account>(registered())
            .when(
                AccountCommand::SignIn {
                    password: PasswordCheck::Matched,
                    session: SessionId(Uuid::nil()),
                },
                t0(),
            )
            .then_error(AccountError::NotActivated);
        assert_eq!(AccountError::NotActivated.code(), "ACCOUNT_NOT_ACTIVATED");
    }

    #[test]
    fn a_wrong_password_before_activation_does_not_reveal_the_pending_account() {
        given::<Account>(registered())
            .when(
                AccountCommand::SignIn {
                    password: PasswordCheck::Mismatched,
                    session: SessionId(Uuid::nil()),
                },
                t0(),
            )
            .then(vec![AccountEvent::SignInFailed(SignInFailed {
                at: t0(),
                reason: SignInFailure::WrongPassword,
            })]);
    }

    #[test]
    fn a_repeated_registration_is_noted_on_the_existing_account() {
        given::<Account>(activated())
            .when(AccountCommand::NoteRepeatedRegistration, t0())
            .then(vec![AccountEvent::RegistrationRepeated(
                RegistrationRepeated { at: t0() },
            )]);
    }

    #[test]
    fn events_round_trip_through_json_adjacently_tagged() {
        for event in activated() {
            let json = serde_json::to_value(&event).unwrap();
            assert_eq!(json["type"], event.event_type());
            let back: AccountEvent = serde_json::from_value(json).unwrap();
            assert_eq!(back, event);
        }
    }
}
