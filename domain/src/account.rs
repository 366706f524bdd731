//! Accounts: a person registers, activates from the e-mailed link, and signs in.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::lockout::{Lock, LockKind, SignInGuard};
use crate::organization::SecurityPolicy;
use crate::values::{EmailAddress, PasswordHash, PersonName, ProfileDetails, TokenHash};
use crate::{AccountId, Decider, DomainEvent, ErrorCode, OrganizationId, Personal, SessionId};

/// How long an activation link works.
pub const ACTIVATION_TTL: Duration = Duration::hours(72);
/// How long a password-reset link works.
pub const RESET_TTL: Duration = Duration::hours(1);
/// How long the link that confirms a new e-mail address works.
pub const EMAIL_CHANGE_TTL: Duration = Duration::hours(24);
/// How long the link of an invitation to choose a password works.
pub const INVITATION_TTL: Duration = Duration::hours(72);

/// Why a link to set the password is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetPurpose {
    /// The person forgot their password (valid one hour).
    Forgotten,
    /// Staff invited a new staff member, who chooses a password (valid 72 hours); following it activates the account.
    Invitation,
}
/// How many reset links may be outstanding, and how many used ones are remembered.
pub const MAX_RESET_LINKS: usize = 5;
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
    /// A patient of a clinic, signed up from their patient record.
    Patient,
    /// Reads the organization's history as it was written, and who read patients' data; changes nothing.
    Auditor,
    /// A clinician of the clinic: answers patients' messages, releases results, decides renewals.
    Provider,
}

impl Role {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Learner => "learner",
            Role::Staff => "staff",
            Role::Patient => "patient",
            Role::Auditor => "auditor",
            Role::Provider => "provider",
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
    /// Failed sign-ins and the lock they imposed.
    pub guard: SignInGuard,
    /// Sessions opened and not revoked through this account (some may have ended or expired since).
    pub sessions: Vec<OpenSession>,
    /// Device sessions of apps, open or at their end of life but still renewable.
    pub devices: Vec<crate::device::DeviceSession>,
    /// Password-reset links outstanding, oldest first.
    pub resets: Vec<Activation>,
    /// Hashes of reset links already used (the last few), to tell a used link from an unknown one.
    pub used_resets: Vec<TokenHash>,
    /// A change of sign-in address waiting for the new address to be confirmed.
    pub pending_email: Option<PendingEmail>,
    /// The professional profile (address, date of birth, license, ...).
    pub details: Personal<ProfileDetails>,
    /// Staff disabled the account: nobody signs in to it until staff enable it again.
    pub disabled: bool,
    /// Mobile numbers, paired or being verified.
    pub phones: Vec<crate::phones::PhoneEntry>,
    /// The consent to report completions to a board, if given.
    pub board_reporting: Option<Personal<crate::values::BoardReporting>>,
    /// The sign-in name (patients).
    pub username: Option<Personal<crate::values::Username>>,
    /// Hash of the token of the learner's own calendar feed (the activities they attended), if one was issued.
    pub calendar_feed: Option<TokenHash>,
    /// The version of the organization's terms last accepted.
    pub terms_accepted: Option<u32>,
    /// Two-step verification, when on.
    pub two_step: Option<crate::two_step::TwoStep>,
    /// An authenticator app being set up.
    pub totp_enrollment: Option<Personal<crate::two_step::TotpSecret>>,
    /// Passwords accepted, waiting for the second step.
    pub challenges: Vec<crate::two_step::Challenge>,
    /// The person's data was erased: the account stays in the log, disabled for good, without personal data.
    pub erased: bool,
}

/// A new sign-in address, waiting for the link sent to it.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingEmail {
    /// The new address.
    pub email: Personal<EmailAddress>,
    /// Hash of the token in the link.
    pub token_hash: TokenHash,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

/// A session opened by a sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenSession {
    /// The session.
    pub id: SessionId,
    /// When it ends at the latest.
    pub expires_at: DateTime<Utc>,
}

impl Profile {
    /// Whether a password-reset link works now: it is one of the account's, unused and not expired. Callers check
    /// it before hashing the new password, so that a wrong link costs no argon2id work.
    pub fn check_reset_link(
        &self,
        token_hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let Some(link) = self.resets.iter().find(|r| r.token_hash.ct_eq(token_hash)) else {
            return Err(
                if self.used_resets.iter().any(|used| used.ct_eq(token_hash)) {
                    AccountError::ResetTokenUsed
                } else {
                    AccountError::ResetTokenInvalid
                },
            );
        };
        if now >= link.expires_at {
            return Err(AccountError::ResetTokenExpired);
        }
        Ok(())
    }

    /// Sessions that may still be open at `now`.
    pub fn open_sessions(&self, now: DateTime<Utc>) -> Vec<SessionId> {
        self.sessions
            .iter()
            .filter(|s| s.expires_at > now)
            .map(|s| s.id)
            .collect()
    }
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
        /// Hash of the challenge token to issue when two-step verification is on.
        challenge: TokenHash,
        /// Keyed hash of the code to send when the second step is a code by e-mail or text.
        code: TokenHash,
        /// The session to open on success.
        session: SessionId,
        /// The organization's lockout and session rules.
        policy: SecurityPolicy,
        /// The device session to open with it, when the sign-in comes from an app.
        device: Option<crate::device::DeviceRequest>,
    },
    /// Records a wrong current password given to confirm a change (of the password, the address, two-step
    /// verification): it counts towards the lockout like a wrong password at sign-in.
    RefuseCurrentPassword {
        /// What the password was to confirm.
        during: PasswordConfirmation,
        /// The organization's lockout and session rules.
        policy: SecurityPolicy,
    },
    /// Sends a password-reset link.
    RequestPasswordReset {
        /// Hash of the token in the link.
        token_hash: TokenHash,
        /// Why: a forgotten password (valid one hour) or an invitation to choose one (valid 72 hours).
        purpose: ResetPurpose,
    },
    /// Follows a reset link and sets a new password.
    ResetPassword {
        /// Hash of the token in the link.
        token_hash: TokenHash,
        /// argon2id hash of the new password.
        password_hash: PasswordHash,
    },
    /// The signed-in person changes their password; their other sessions end.
    ChangePassword {
        /// The current password, checked by the caller.
        current: PasswordCheck,
        /// argon2id hash of the new password.
        password_hash: PasswordHash,
        /// The session the change is made from, which stays open.
        keep: SessionId,
    },
    /// The signed-in person asks to sign in with another address; it takes effect once confirmed from a link sent
    /// to it.
    RequestEmailChange {
        /// The current password, checked by the caller.
        current: PasswordCheck,
        /// The new address.
        email: EmailAddress,
        /// Hash of the token in the link.
        token_hash: TokenHash,
    },
    /// The link sent to the new address was followed.
    ConfirmEmailChange {
        /// Hash of the token in the link.
        token_hash: TokenHash,
    },
    /// The person completes or updates their professional profile (the whole profile, as it should now be).
    UpdateProfile {
        /// The profile.
        details: ProfileDetails,
    },
    /// Staff disable the account; its sessions end.
    Disable {
        /// The staff member.
        by: AccountId,
    },
    /// Erases the person's personal data (their data keys are deleted in the same commit); the account is
    /// disabled for good and its sessions end. Erasing again records nothing.
    ErasePersonalData {
        /// Who or what erases.
        by: ErasedBy,
        /// The data subjects whose keys go: the account and the records tied to the person.
        subjects: Vec<Uuid>,
    },
    /// Staff enable a disabled account.
    Enable {
        /// The staff member.
        by: AccountId,
    },
    /// Staff end every open session of the account.
    EndSessions {
        /// The staff member.
        by: AccountId,
    },
    /// Staff lift a lock.
    Unlock {
        /// The staff member.
        by: AccountId,
    },
    /// Pairs, adds, verifies or removes a mobile number.
    Phone(crate::phones::PhoneCommand),
    /// Sets up, confirms or turns off two-step verification, or completes a sign-in with it.
    TwoStep(crate::two_step::TwoStepCommand),
    /// Refreshes or signs out a device session.
    Device(crate::device::DeviceCommand),
    /// Sets the sign-in name (patients choose one when they sign up).
    ChooseUsername {
        /// The name.
        username: crate::values::Username,
    },
    /// Issues the link of the person's own calendar feed; an earlier link stops working.
    IssueCalendarFeed {
        /// Hash of the link's token (the token itself is shown once, never stored).
        token_hash: TokenHash,
    },
    /// The person accepts a version of the organization's terms of use and privacy practices.
    AcceptTerms {
        /// The version accepted (the current one).
        version: u32,
    },
    /// The learner consents to board reporting with their board id, or (None) withdraws the consent.
    SetBoardReporting {
        /// The board and id, or None.
        reporting: Option<crate::values::BoardReporting>,
    },
    /// The person's name changed (marriage, a court order): transcripts and board reports use the new name for
    /// what they hold from `effective_on`, the old one before it.
    ChangeName {
        /// The new name.
        name: PersonName,
        /// The day the new name takes effect: today or earlier.
        effective_on: chrono::NaiveDate,
        /// The staff member who recorded it, or None when the person did.
        by: Option<AccountId>,
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
    /// See [`CurrentPasswordRefused`].
    CurrentPasswordRefused(CurrentPasswordRefused),
    /// See [`AccountLocked`].
    AccountLocked(AccountLocked),
    /// See [`AccountUnlocked`].
    AccountUnlocked(AccountUnlocked),
    /// See [`SessionsRevoked`].
    SessionsRevoked(SessionsRevoked),
    /// See [`PasswordResetRequested`].
    PasswordResetRequested(PasswordResetRequested),
    /// See [`PasswordReset`].
    PasswordReset(PasswordReset),
    /// See [`PasswordChanged`].
    PasswordChanged(PasswordChanged),
    /// See [`EmailChangeRequested`].
    EmailChangeRequested(EmailChangeRequested),
    /// See [`EmailChanged`].
    EmailChanged(EmailChanged),
    /// See [`ProfileUpdated`].
    ProfileUpdated(ProfileUpdated),
    /// See [`NameChanged`].
    NameChanged(NameChanged),
    /// See [`AccountDisabled`].
    AccountDisabled(AccountDisabled),
    /// See [`AccountEnabled`].
    AccountEnabled(AccountEnabled),
    /// A number was paired by a text from it.
    PhonePaired(crate::phones::PhonePaired),
    /// A verification code was texted to a number.
    PhoneVerificationSent(crate::phones::PhoneVerificationSent),
    /// A wrong verification code was entered.
    PhoneVerificationFailed(crate::phones::PhoneVerificationFailed),
    /// A number was verified.
    PhoneVerified(crate::phones::PhoneVerified),
    /// A number left the account.
    PhoneRemoved(crate::phones::PhoneRemoved),
    /// The learner consented to board reporting.
    BoardReportingConsented(BoardReportingConsented),
    /// The learner withdrew that consent.
    BoardReportingWithdrawn(BoardReportingWithdrawn),
    /// A sign-in name was chosen.
    UsernameChosen(UsernameChosen),
    /// The terms were accepted.
    TermsAccepted(TermsAccepted),
    /// Setting up an authenticator app began.
    TotpEnrollmentStarted(crate::two_step::TotpEnrollmentStarted),
    /// Two-step verification was turned on.
    TwoStepEnabled(crate::two_step::TwoStepEnabled),
    /// Two-step verification was turned off.
    TwoStepDisabled(crate::two_step::TwoStepDisabled),
    /// The password was right; the second step is asked for.
    SecondFactorRequired(crate::two_step::SecondFactorRequired),
    /// The second step was passed.
    SecondFactorPassed(crate::two_step::SecondFactorPassed),
    /// A wrong second step.
    SecondFactorFailed(crate::two_step::SecondFactorFailed),
    /// The person's personal data was erased.
    PersonalDataErased(PersonalDataErased),
    /// An app signed in and began a device session.
    DeviceSessionStarted(crate::device::DeviceSessionStarted),
    /// A device session's refresh token was traded for a new one.
    DeviceSessionRefreshed(crate::device::DeviceSessionRefreshed),
    /// A used refresh token was presented again.
    RefreshTokenReused(crate::device::RefreshTokenReused),
    /// Device sessions ended.
    DeviceSessionsEnded(crate::device::DeviceSessionsEnded),
    /// The link of the person's own calendar feed was issued.
    CalendarFeedIssued(CalendarFeedIssued),
}

/// The link of the person's own calendar feed was issued (v1); an earlier link stops working.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalendarFeedIssued {
    /// Hash of the link's token.
    pub token_hash: TokenHash,
    /// When.
    pub at: DateTime<Utc>,
}

/// A sign-in name was chosen (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsernameChosen {
    /// The name (personal; unique in the organization through claim `username`).
    pub username: Personal<crate::values::Username>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The organization's terms of use and privacy practices were accepted (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TermsAccepted {
    /// The version accepted.
    pub version: u32,
    /// When.
    pub at: DateTime<Utc>,
}

/// The learner consented to have their completions reported to a board (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoardReportingConsented {
    /// The board and the learner's id there (personal data).
    pub reporting: Personal<crate::values::BoardReporting>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The learner withdrew their consent to board reporting (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoardReportingWithdrawn {
    /// When.
    pub at: DateTime<Utc>,
}

/// Staff disabled the account (v1): no sign-in until it is enabled again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountDisabled {
    /// When.
    pub at: DateTime<Utc>,
    /// The staff member.
    pub by: AccountId,
}

/// Staff enabled the account again (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountEnabled {
    /// When.
    pub at: DateTime<Utc>,
    /// The staff member.
    pub by: AccountId,
}

/// The professional profile was completed or changed (v1); the whole profile, as it now is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileUpdated {
    /// The profile (personal data: address, date of birth, license number).
    pub details: Personal<ProfileDetails>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The person's name changed (v1). What was recorded under the old name keeps it: transcripts and board reports
/// show the new name from `effective_on`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NameChanged {
    /// The new name (personal data).
    pub name: Personal<PersonName>,
    /// The day the new name takes effect.
    pub effective_on: chrono::NaiveDate,
    /// The staff member who recorded it, or None when the person did.
    pub by: Option<AccountId>,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

/// The person asked to sign in with another address (v1); a link was sent to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmailChangeRequested {
    /// The new address.
    pub email: Personal<EmailAddress>,
    /// SHA-256 of the token in the link.
    pub token_hash: TokenHash,
    /// When.
    pub requested_at: DateTime<Utc>,
    /// When the link stops working (24 hours later).
    pub expires_at: DateTime<Utc>,
}

/// The new address was confirmed and is now the sign-in address (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmailChanged {
    /// The address before.
    pub previous: Personal<EmailAddress>,
    /// The address now.
    pub email: Personal<EmailAddress>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The signed-in person changed their password (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PasswordChanged {
    /// argon2id hash of the new password.
    pub password_hash: Personal<PasswordHash>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A password-reset link was sent (v1). Only the token's hash is recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PasswordResetRequested {
    /// SHA-256 of the token.
    pub token_hash: TokenHash,
    /// When.
    pub requested_at: DateTime<Utc>,
    /// When the link stops working (one hour later).
    pub expires_at: DateTime<Utc>,
}

/// The password was set from a reset link (v1): failures and a cool-down lock are cleared, sessions revoked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PasswordReset {
    /// argon2id hash of the new password.
    pub password_hash: Personal<PasswordHash>,
    /// When.
    pub at: DateTime<Utc>,
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

/// A signed-in person gave a wrong current password to confirm a change (v1). It counts towards the lockout like
/// a wrong password at sign-in, so an open session cannot be used to guess the password.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurrentPasswordRefused {
    /// What the password was to confirm.
    pub during: PasswordConfirmation,
    /// When.
    pub at: DateTime<Utc>,
}

/// What a current password confirms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordConfirmation {
    /// Changing the password.
    ChangePassword,
    /// Changing the sign-in address.
    EmailChange,
    /// Turning two-step verification off.
    DisableTwoStep,
}

/// Why a sign-in failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInFailure {
    /// The password did not match (whether or not the account was locked).
    WrongPassword,
    /// The password matched, but the account is locked.
    AccountLocked,
    /// The password matched, but the account is not activated yet.
    NotActivated,
    /// The password matched, but staff disabled the account.
    AccountDisabled,
}

impl SignInFailure {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            SignInFailure::WrongPassword => "wrong_password",
            SignInFailure::AccountLocked => "account_locked",
            SignInFailure::NotActivated => "not_activated",
            SignInFailure::AccountDisabled => "account_disabled",
        }
    }
}

/// The account was locked after too many failed sign-ins (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountLocked {
    /// When.
    pub at: DateTime<Utc>,
    /// Until staff unlock it, or for a cool-down.
    pub kind: LockKind,
    /// When a cool-down lock lifts by itself.
    pub until: Option<DateTime<Utc>>,
    /// Consecutive failures that led to it.
    pub failures: u32,
}

/// Staff lifted the lock (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountUnlocked {
    /// When.
    pub at: DateTime<Utc>,
    /// The staff member.
    pub by: AccountId,
}

/// Why sessions were revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// The account was locked.
    AccountLocked,
    /// Staff disabled the account.
    AccountDisabled,
    /// The password was reset.
    PasswordReset,
    /// The password was changed (every session but the one it was changed from).
    PasswordChanged,
    /// Staff ended them.
    EndedByStaff,
    /// The person's data was erased.
    PersonalDataErased,
}

/// Who or what erased a person's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ErasedBy {
    /// A staff member, at the person's request or the organization's decision.
    Staff {
        /// The staff member.
        by: AccountId,
    },
    /// An automated retention rule.
    Retention {
        /// The rule's name (`unactivated_registration`).
        rule: String,
    },
}

/// The person's personal data was erased (v1): the data keys of `subjects` were deleted in the same commit, so
/// every personal field of their events reads as erased from now on. The events themselves stay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonalDataErased {
    /// The data subjects whose keys were deleted (the account, and the patient record and requests tied to it).
    pub subjects: Vec<Uuid>,
    /// Who or what erased.
    pub by: ErasedBy,
    /// When.
    pub at: DateTime<Utc>,
}

/// The account's open sessions were ended (v1); each session stream records its own end in the same commit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionsRevoked {
    /// When.
    pub at: DateTime<Utc>,
    /// The sessions.
    pub session_ids: Vec<SessionId>,
    /// Why.
    pub reason: RevocationReason,
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
            AccountEvent::CurrentPasswordRefused(_) => "CurrentPasswordRefused",
            AccountEvent::AccountLocked(_) => "AccountLocked",
            AccountEvent::AccountUnlocked(_) => "AccountUnlocked",
            AccountEvent::SessionsRevoked(_) => "SessionsRevoked",
            AccountEvent::PasswordResetRequested(_) => "PasswordResetRequested",
            AccountEvent::PasswordReset(_) => "PasswordReset",
            AccountEvent::PasswordChanged(_) => "PasswordChanged",
            AccountEvent::EmailChangeRequested(_) => "EmailChangeRequested",
            AccountEvent::EmailChanged(_) => "EmailChanged",
            AccountEvent::ProfileUpdated(_) => "ProfileUpdated",
            AccountEvent::NameChanged(_) => "NameChanged",
            AccountEvent::AccountDisabled(_) => "AccountDisabled",
            AccountEvent::AccountEnabled(_) => "AccountEnabled",
            AccountEvent::PhonePaired(_) => "PhonePaired",
            AccountEvent::PhoneVerificationSent(_) => "PhoneVerificationSent",
            AccountEvent::PhoneVerificationFailed(_) => "PhoneVerificationFailed",
            AccountEvent::PhoneVerified(_) => "PhoneVerified",
            AccountEvent::PhoneRemoved(_) => "PhoneRemoved",
            AccountEvent::BoardReportingConsented(_) => "BoardReportingConsented",
            AccountEvent::BoardReportingWithdrawn(_) => "BoardReportingWithdrawn",
            AccountEvent::UsernameChosen(_) => "UsernameChosen",
            AccountEvent::CalendarFeedIssued(_) => "CalendarFeedIssued",
            AccountEvent::TermsAccepted(_) => "TermsAccepted",
            AccountEvent::TotpEnrollmentStarted(_) => "TotpEnrollmentStarted",
            AccountEvent::TwoStepEnabled(_) => "TwoStepEnabled",
            AccountEvent::TwoStepDisabled(_) => "TwoStepDisabled",
            AccountEvent::SecondFactorRequired(_) => "SecondFactorRequired",
            AccountEvent::SecondFactorPassed(_) => "SecondFactorPassed",
            AccountEvent::SecondFactorFailed(_) => "SecondFactorFailed",
            AccountEvent::PersonalDataErased(_) => "PersonalDataErased",
            AccountEvent::DeviceSessionStarted(_) => "DeviceSessionStarted",
            AccountEvent::DeviceSessionRefreshed(_) => "DeviceSessionRefreshed",
            AccountEvent::RefreshTokenReused(_) => "RefreshTokenReused",
            AccountEvent::DeviceSessionsEnded(_) => "DeviceSessionsEnded",
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
    /// The right password, but the account is locked: for a cool-down (`until`), or until staff unlock it.
    #[error("this account is locked after too many failed sign-ins; {}", locked_help(*until))]
    Locked {
        /// When a cool-down lock lifts by itself; none when only staff can lift it.
        until: Option<DateTime<Utc>>,
    },
    /// Unlock on an account that is not locked.
    #[error("this account is not locked")]
    NotLocked,
    /// No reset link with this token was issued.
    #[error("this password-reset link is not valid")]
    ResetTokenInvalid,
    /// The reset link has expired.
    #[error("this password-reset link has expired; ask for a new one")]
    ResetTokenExpired,
    /// The reset link was used already.
    #[error("this password-reset link was used already")]
    ResetTokenUsed,
    /// The current password given to change it is wrong.
    #[error("the current password is not correct")]
    CurrentPasswordInvalid,
    /// No address change waits for this link.
    #[error("this confirmation link is not valid")]
    EmailChangeTokenInvalid,
    /// The confirmation link has expired.
    #[error("this confirmation link has expired; ask again for the change")]
    EmailChangeTokenExpired,
    /// The new address is the current one.
    #[error("this is already your address")]
    SameEmail,
    /// The new address was taken by another account before it was confirmed.
    #[error("another account uses this address now")]
    EmailTaken,
    /// The right password, but staff disabled the account.
    #[error("this account is disabled; ask your coordinator")]
    Disabled,
    /// The account holds as many numbers as it may.
    #[error("an account holds at most 3 phone numbers; remove one first")]
    PhoneLimitReached,
    /// The account has no such number.
    #[error("this phone number is not on the account")]
    PhoneNotFound,
    /// The number is verified already.
    #[error("this phone number is verified already")]
    PhoneAlreadyVerified,
    /// The code does not match.
    #[error("the code does not match the one sent to this number")]
    PhoneCodeInvalid,
    /// Two-step verification is on already.
    #[error("two-step verification is on already; turn it off first")]
    TwoStepAlreadyEnabled,
    /// The organization requires two-step verification of this account: it cannot be turned off.
    #[error("your organization requires two-step verification: it cannot be turned off")]
    TwoStepRequired,
    /// No authenticator app is being set up.
    #[error("start setting up the authenticator app first")]
    TwoStepNotStarted,
    /// The second step's code does not match.
    #[error("the code does not match; enter the current code from your app, or a recovery code")]
    SecondFactorInvalid,
    /// The password was right; the account needs its second step.
    #[error("this account uses two-step verification: answer the challenge with completeSignIn")]
    SecondStepRequired,
    /// A code was sent less than a minute ago.
    #[error("a code was sent less than a minute ago: use it, or wait a minute")]
    TwoStepCodeRecentlySent,
    /// The sign-in challenge is unknown, used or expired.
    #[error("this sign-in expired; sign in again with your password")]
    ChallengeInvalid,
    /// A code was sent to the number less than a minute ago.
    #[error(
        "a code was sent to this number less than a minute ago; wait before asking for another"
    )]
    PhoneCodeRecentlySent,
    /// The code expired or was tried too often.
    #[error("the code expired or was entered wrongly too often; ask for a new one")]
    PhoneCodeExpired,
    /// The person's data was erased: the account takes no more commands.
    #[error("this person's data was erased; the account is closed for good")]
    Erased,
    /// The refresh token is unknown, or its device session ended.
    #[error("this refresh token is not valid; sign in again")]
    RefreshTokenInvalid,
    /// A refresh token was used twice: the device session it belonged to is ended.
    #[error("this refresh token was used already, so the device is signed out for safety; sign in again")]
    RefreshTokenReused,
    /// The device session reached the end of its life.
    #[error(
        "this device has been signed in for as long as your organization allows; sign in again"
    )]
    DeviceSessionExpired,
    /// No open device session of the account has this id.
    #[error("no device of yours is signed in with this id")]
    DeviceSessionNotFound,
    /// A change of name dated in the future.
    #[error("a change of name takes effect today or on an earlier day")]
    NameChangeInFuture,
}

/// What a locked-out person can do: wait out a cool-down (a password reset lifts it too), or ask staff.
fn locked_help(until: Option<DateTime<Utc>>) -> String {
    match until {
        Some(until) => format!(
            "try again after {} UTC, or reset your password",
            until.format("%Y-%m-%d %H:%M")
        ),
        None => "ask your organization to unlock it".to_owned(),
    }
}

impl ErrorCode for AccountError {
    fn code(&self) -> &'static str {
        match self {
            AccountError::AlreadyRegistered => "ACCOUNT_EXISTS",
            AccountError::NotFound => "ACCOUNT_NOT_FOUND",
            AccountError::Erased => "ACCOUNT_ERASED",
            AccountError::ActivationTokenInvalid => "ACTIVATION_TOKEN_INVALID",
            AccountError::ActivationTokenExpired => "ACTIVATION_TOKEN_EXPIRED",
            AccountError::ActivationTokenUsed => "ACTIVATION_TOKEN_USED",
            AccountError::AlreadyActive => "ACCOUNT_ALREADY_ACTIVE",
            AccountError::InvalidCredentials => "INVALID_CREDENTIALS",
            AccountError::NotActivated => "ACCOUNT_NOT_ACTIVATED",
            AccountError::Locked { .. } => "ACCOUNT_LOCKED",
            AccountError::NotLocked => "ACCOUNT_NOT_LOCKED",
            AccountError::ResetTokenInvalid => "RESET_TOKEN_INVALID",
            AccountError::ResetTokenExpired => "RESET_TOKEN_EXPIRED",
            AccountError::ResetTokenUsed => "RESET_TOKEN_USED",
            AccountError::CurrentPasswordInvalid => "CURRENT_PASSWORD_INVALID",
            AccountError::EmailChangeTokenInvalid => "EMAIL_CHANGE_TOKEN_INVALID",
            AccountError::EmailChangeTokenExpired => "EMAIL_CHANGE_TOKEN_EXPIRED",
            AccountError::SameEmail => "EMAIL_UNCHANGED",
            AccountError::EmailTaken => "EMAIL_TAKEN",
            AccountError::Disabled => "ACCOUNT_DISABLED",
            AccountError::PhoneLimitReached => "PHONE_LIMIT_REACHED",
            AccountError::PhoneNotFound => "PHONE_NOT_FOUND",
            AccountError::PhoneAlreadyVerified => "PHONE_ALREADY_VERIFIED",
            AccountError::PhoneCodeInvalid => "PHONE_CODE_INVALID",
            AccountError::PhoneCodeExpired => "PHONE_CODE_EXPIRED",
            AccountError::PhoneCodeRecentlySent => "PHONE_CODE_RATE_LIMITED",
            AccountError::TwoStepAlreadyEnabled => "TWO_STEP_ALREADY_ENABLED",
            AccountError::TwoStepRequired => "TWO_STEP_REQUIRED",
            AccountError::TwoStepNotStarted => "TWO_STEP_NOT_STARTED",
            AccountError::SecondFactorInvalid => "SECOND_FACTOR_INVALID",
            AccountError::ChallengeInvalid => "CHALLENGE_INVALID",
            AccountError::SecondStepRequired => "TWO_STEP_REQUIRED",
            AccountError::TwoStepCodeRecentlySent => "TWO_STEP_CODE_RATE_LIMITED",
            AccountError::RefreshTokenInvalid => "REFRESH_TOKEN_INVALID",
            AccountError::RefreshTokenReused => "REFRESH_TOKEN_REUSED",
            AccountError::NameChangeInFuture => "NAME_CHANGE_DATE_INVALID",
            AccountError::DeviceSessionExpired => "DEVICE_SESSION_EXPIRED",
            AccountError::DeviceSessionNotFound => "DEVICE_SESSION_NOT_FOUND",
        }
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            AccountError::Locked { until: Some(until) } => vec![
                ("lock", "COOL_DOWN".to_owned()),
                ("lockedUntil", until.to_rfc3339()),
            ],
            AccountError::Locked { until: None } => {
                vec![("lock", "UNTIL_STAFF_UNLOCK".to_owned())]
            }
            _ => vec![],
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            AccountError::ActivationTokenInvalid
            | AccountError::ActivationTokenExpired
            | AccountError::ActivationTokenUsed
            | AccountError::ResetTokenInvalid
            | AccountError::ResetTokenExpired
            | AccountError::ResetTokenUsed => Some("token"),
            AccountError::CurrentPasswordInvalid => Some("currentPassword"),
            AccountError::EmailChangeTokenInvalid | AccountError::EmailChangeTokenExpired => {
                Some("token")
            }
            AccountError::SameEmail => Some("email"),
            AccountError::NameChangeInFuture => Some("effectiveOn"),
            AccountError::PhoneNotFound
            | AccountError::PhoneAlreadyVerified
            | AccountError::PhoneCodeRecentlySent => Some("number"),
            AccountError::PhoneCodeInvalid
            | AccountError::PhoneCodeExpired
            | AccountError::SecondFactorInvalid => Some("code"),
            AccountError::ChallengeInvalid => Some("challengeToken"),
            AccountError::RefreshTokenInvalid
            | AccountError::RefreshTokenReused
            | AccountError::DeviceSessionExpired => Some("refreshToken"),
            AccountError::DeviceSessionNotFound => Some("deviceId"),
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
        if state.profile().is_some_and(|p| p.erased) {
            match &command {
                C::ErasePersonalData { .. } => return Ok(vec![]),
                // A sign-in is recorded as refused, as on any disabled account.
                C::SignIn { .. } => {}
                _ => return Err(AccountError::Erased),
            }
        }
        match (state, command) {
            (S::Pending(profile) | S::Active(profile), C::ErasePersonalData { by, subjects }) => {
                let mut events = vec![AccountEvent::PersonalDataErased(PersonalDataErased {
                    subjects,
                    by,
                    at: now,
                })];
                events.extend(revoke(
                    profile,
                    RevocationReason::PersonalDataErased,
                    None,
                    now,
                ));
                Ok(events)
            }
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
                S::Pending(profile) | S::Active(profile),
                C::RefuseCurrentPassword { during, policy },
            ) => {
                let refused = AccountEvent::CurrentPasswordRefused(CurrentPasswordRefused {
                    during,
                    at: now,
                });
                if profile.disabled || profile.guard.active_lock(now).is_some() {
                    return Ok(vec![refused]);
                }
                Ok(wrong_password(profile, refused, &policy, now))
            }
            (
                S::Pending(profile) | S::Active(profile),
                C::SignIn {
                    password,
                    challenge,
                    code,
                    session,
                    policy,
                    device,
                },
            ) => sign_in(
                state,
                profile,
                password,
                (challenge, code),
                (session, device),
                &policy,
                now,
            ),
            (S::Active(profile), C::TwoStep(command)) => {
                crate::two_step::decide(profile, command, now)
            }
            (S::Pending(_), C::TwoStep(_)) => Err(AccountError::NotActivated),
            (S::Active(profile), C::Device(command)) => {
                crate::device::decide(profile, command, now)
            }
            (S::Pending(_), C::Device(_)) => Err(AccountError::RefreshTokenInvalid),

            (
                S::Pending(_) | S::Active(_),
                C::RequestPasswordReset {
                    token_hash,
                    purpose,
                },
            ) => {
                let ttl = match purpose {
                    ResetPurpose::Forgotten => RESET_TTL,
                    ResetPurpose::Invitation => INVITATION_TTL,
                };
                Ok(vec![AccountEvent::PasswordResetRequested(
                    PasswordResetRequested {
                        token_hash,
                        requested_at: now,
                        expires_at: now + ttl,
                    },
                )])
            }
            (
                S::Pending(profile) | S::Active(profile),
                C::ResetPassword {
                    token_hash,
                    password_hash,
                },
            ) => {
                profile.check_reset_link(&token_hash, now)?;
                let mut events = vec![AccountEvent::PasswordReset(PasswordReset {
                    password_hash: Personal::Known(password_hash),
                    at: now,
                })];
                // The link proved the address: a pending account is activated by it.
                if matches!(state, S::Pending(_)) {
                    events.push(AccountEvent::AccountActivated(AccountActivated {
                        activated_at: now,
                    }));
                }
                events.extend(revoke(profile, RevocationReason::PasswordReset, None, now));
                Ok(events)
            }
            (
                S::Active(profile),
                C::ChangePassword {
                    current,
                    password_hash,
                    keep,
                },
            ) => {
                if current == PasswordCheck::Mismatched {
                    return Err(AccountError::CurrentPasswordInvalid);
                }
                let mut events = vec![AccountEvent::PasswordChanged(PasswordChanged {
                    password_hash: Personal::Known(password_hash),
                    at: now,
                })];
                events.extend(revoke(
                    profile,
                    RevocationReason::PasswordChanged,
                    Some(keep),
                    now,
                ));
                Ok(events)
            }
            (S::Active(profile), C::UpdateProfile { details }) => {
                if profile.details.known() == Some(&details) {
                    return Ok(vec![]);
                }
                Ok(vec![AccountEvent::ProfileUpdated(ProfileUpdated {
                    details: Personal::Known(details),
                    at: now,
                })])
            }
            (
                S::Pending(_),
                C::ChangePassword { .. } | C::RequestEmailChange { .. } | C::UpdateProfile { .. },
            ) => Err(AccountError::NotActivated),
            (
                S::Active(profile),
                C::RequestEmailChange {
                    current,
                    email,
                    token_hash,
                },
            ) => {
                if current == PasswordCheck::Mismatched {
                    return Err(AccountError::CurrentPasswordInvalid);
                }
                if profile
                    .email
                    .known()
                    .is_some_and(|now| now.canonical() == email.canonical())
                {
                    return Err(AccountError::SameEmail);
                }
                Ok(vec![AccountEvent::EmailChangeRequested(
                    EmailChangeRequested {
                        email: Personal::Known(email),
                        token_hash,
                        requested_at: now,
                        expires_at: now + EMAIL_CHANGE_TTL,
                    },
                )])
            }
            (S::Pending(_) | S::Active(_), C::ConfirmEmailChange { token_hash }) => {
                let pending = state
                    .profile()
                    .and_then(|p| p.pending_email.as_ref())
                    .filter(|p| p.token_hash.ct_eq(&token_hash))
                    .ok_or(AccountError::EmailChangeTokenInvalid)?;
                if now >= pending.expires_at {
                    return Err(AccountError::EmailChangeTokenExpired);
                }
                let previous = state
                    .profile()
                    .map_or(Personal::Erased, |p| p.email.clone());
                Ok(vec![AccountEvent::EmailChanged(EmailChanged {
                    previous,
                    email: pending.email.clone(),
                    at: now,
                })])
            }
            (S::Pending(profile) | S::Active(profile), C::Disable { by }) => {
                if profile.disabled {
                    return Ok(vec![]);
                }
                let mut events = vec![AccountEvent::AccountDisabled(AccountDisabled {
                    at: now,
                    by,
                })];
                events.extend(revoke(
                    profile,
                    RevocationReason::AccountDisabled,
                    None,
                    now,
                ));
                Ok(events)
            }
            (S::Pending(profile) | S::Active(profile), C::Enable { by }) => {
                if !profile.disabled {
                    return Ok(vec![]);
                }
                Ok(vec![AccountEvent::AccountEnabled(AccountEnabled {
                    at: now,
                    by,
                })])
            }
            (S::Pending(profile) | S::Active(profile), C::EndSessions { .. }) => {
                Ok(revoke(profile, RevocationReason::EndedByStaff, None, now))
            }
            (S::Active(profile), C::SetBoardReporting { reporting }) => {
                let current = profile.board_reporting.as_ref().and_then(|r| r.known());
                Ok(match reporting {
                    Some(new) if current != Some(&new) => {
                        vec![AccountEvent::BoardReportingConsented(
                            BoardReportingConsented {
                                reporting: Personal::Known(new),
                                at: now,
                            },
                        )]
                    }
                    None if profile.board_reporting.is_some() => {
                        vec![AccountEvent::BoardReportingWithdrawn(
                            BoardReportingWithdrawn { at: now },
                        )]
                    }
                    _ => vec![],
                })
            }
            (S::Pending(_), C::SetBoardReporting { .. }) => Err(AccountError::NotActivated),
            (
                S::Pending(profile) | S::Active(profile),
                C::ChangeName {
                    name,
                    effective_on,
                    by,
                },
            ) => {
                // A day's grace: the organization's date may be a day ahead of UTC's.
                if effective_on > (now + chrono::Duration::days(1)).date_naive() {
                    return Err(AccountError::NameChangeInFuture);
                }
                if profile.name.known() == Some(&name) {
                    return Ok(vec![]);
                }
                Ok(vec![AccountEvent::NameChanged(NameChanged {
                    name: Personal::Known(name),
                    effective_on,
                    by,
                    at: now,
                })])
            }
            (S::Pending(profile) | S::Active(profile), C::ChooseUsername { username }) => {
                if profile.username.as_ref().and_then(|u| u.known()) == Some(&username) {
                    return Ok(vec![]);
                }
                Ok(vec![AccountEvent::UsernameChosen(UsernameChosen {
                    username: Personal::Known(username),
                    at: now,
                })])
            }
            (S::Active(profile), C::AcceptTerms { version }) => Ok(
                if profile
                    .terms_accepted
                    .is_some_and(|accepted| accepted >= version)
                {
                    vec![]
                } else {
                    vec![AccountEvent::TermsAccepted(TermsAccepted {
                        version,
                        at: now,
                    })]
                },
            ),
            (S::Pending(_), C::AcceptTerms { .. }) => Err(AccountError::NotActivated),
            (S::Active(_), C::IssueCalendarFeed { token_hash }) => {
                Ok(vec![AccountEvent::CalendarFeedIssued(CalendarFeedIssued {
                    token_hash,
                    at: now,
                })])
            }
            (S::Pending(_), C::IssueCalendarFeed { .. }) => Err(AccountError::NotActivated),
            (S::Pending(profile) | S::Active(profile), C::Phone(command)) => {
                crate::phones::decide(profile, matches!(state, S::Active(_)), command, now)
            }
            (S::Pending(profile) | S::Active(profile), C::Unlock { by }) => {
                if profile.guard.active_lock(now).is_none() {
                    return Err(AccountError::NotLocked);
                }
                Ok(vec![AccountEvent::AccountUnlocked(AccountUnlocked {
                    at: now,
                    by,
                })])
            }
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
                guard: SignInGuard::default(),
                sessions: Vec::new(),
                devices: Vec::new(),
                resets: Vec::new(),
                used_resets: Vec::new(),
                pending_email: None,
                details: Personal::Known(ProfileDetails::default()),
                disabled: false,
                phones: Vec::new(),
                board_reporting: None,
                username: None,
                calendar_feed: None,
                terms_accepted: None,
                two_step: None,
                totp_enrollment: None,
                challenges: Vec::new(),
                erased: false,
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
            (S::Pending(mut profile), event) => {
                apply_security(&mut profile, event);
                S::Pending(profile)
            }
            (S::Active(mut profile), event) => {
                apply_security(&mut profile, event);
                S::Active(profile)
            }
            (state, _) => state,
        }
    }
}

fn failure(at: DateTime<Utc>, reason: SignInFailure) -> AccountEvent {
    AccountEvent::SignInFailed(SignInFailed { at, reason })
}

/// The events of one sign-in attempt. Every attempt is recorded; only the right password on an active, unlocked
/// account opens a session.
fn sign_in(
    state: &AccountState,
    profile: &Profile,
    password: PasswordCheck,
    (challenge, code): (TokenHash, TokenHash),
    (session, device): (SessionId, Option<crate::device::DeviceRequest>),
    policy: &SecurityPolicy,
    now: DateTime<Utc>,
) -> Result<Vec<AccountEvent>, AccountError> {
    if profile.disabled || profile.guard.active_lock(now).is_some() {
        // While locked or disabled, failures neither count nor extend a lock; only the right password learns why.
        return Ok(vec![failure(
            now,
            match password {
                PasswordCheck::Matched if profile.disabled => SignInFailure::AccountDisabled,
                PasswordCheck::Matched => SignInFailure::AccountLocked,
                PasswordCheck::Mismatched => SignInFailure::WrongPassword,
            },
        )]);
    }
    Ok(match (state, password) {
        (_, PasswordCheck::Mismatched) => wrong_password(
            profile,
            failure(now, SignInFailure::WrongPassword),
            policy,
            now,
        ),
        (AccountState::Active(_), PasswordCheck::Matched)
            if profile.two_step.is_some()
                && !crate::device::skips_second_step(profile, device.as_ref(), now) =>
        {
            vec![crate::two_step::challenge(profile, challenge, code, now)?]
        }
        (AccountState::Active(_), PasswordCheck::Matched) => {
            succeeded(profile, session, device, policy, now)
        }
        (_, PasswordCheck::Matched) => vec![failure(now, SignInFailure::NotActivated)],
    })
}

/// A sign-in that succeeded: the session, and the device session when it came from an app.
pub(crate) fn succeeded(
    profile: &Profile,
    session: SessionId,
    device: Option<crate::device::DeviceRequest>,
    policy: &SecurityPolicy,
    now: DateTime<Utc>,
) -> Vec<AccountEvent> {
    let lifetime = crate::device::access_lifetime(device.as_ref(), policy.session_lifetime());
    let mut events = vec![AccountEvent::SignInSucceeded(SignInSucceeded {
        session_id: session,
        at: now,
        session_expires_at: now + lifetime,
    })];
    events.extend(crate::device::started(profile, device, session, now));
    events
}

/// A wrong password (`failure` records it) and, at the organization's threshold, the lock with the end of every
/// open session.
fn wrong_password(
    profile: &Profile,
    failure: AccountEvent,
    policy: &SecurityPolicy,
    now: DateTime<Utc>,
) -> Vec<AccountEvent> {
    let mut events = vec![failure];
    if let Some(lock) = profile.guard.lock_after_failure(&policy.lockout, now) {
        events.push(AccountEvent::AccountLocked(AccountLocked {
            at: now,
            kind: lock.kind,
            until: lock.until,
            failures: profile.guard.consecutive_failures + 1,
        }));
        events.extend(revoke(profile, RevocationReason::AccountLocked, None, now));
    }
    events
}

/// The end of the account's open sessions and of its device sessions, but the session `keep` (and its device): a
/// `SessionsRevoked` and a `DeviceSessionsEnded`, each only when there is something to end.
pub(crate) fn revoke(
    profile: &Profile,
    reason: RevocationReason,
    keep: Option<SessionId>,
    now: DateTime<Utc>,
) -> Vec<AccountEvent> {
    let open: Vec<SessionId> = profile
        .open_sessions(now)
        .into_iter()
        .filter(|s| Some(*s) != keep)
        .collect();
    let mut events = Vec::new();
    if !open.is_empty() {
        events.push(AccountEvent::SessionsRevoked(SessionsRevoked {
            at: now,
            session_ids: open,
            reason,
        }));
    }
    events.extend(crate::device::end_all(profile, reason, keep, now));
    events
}

/// Sign-in history, locks and sessions: the same for pending and active accounts.
fn apply_security(profile: &mut Profile, event: &AccountEvent) {
    crate::phones::apply(profile, event);
    crate::two_step::apply(profile, event);
    crate::device::apply(profile, event);
    match event {
        AccountEvent::BoardReportingConsented(e) => {
            profile.board_reporting = Some(e.reporting.clone());
        }
        AccountEvent::BoardReportingWithdrawn(_) => profile.board_reporting = None,
        AccountEvent::UsernameChosen(e) => profile.username = Some(e.username.clone()),
        AccountEvent::CalendarFeedIssued(e) => profile.calendar_feed = Some(e.token_hash),
        AccountEvent::TermsAccepted(e) => profile.terms_accepted = Some(e.version),
        _ => {}
    }
    let guard = &mut profile.guard;
    match event {
        AccountEvent::SignInFailed(SignInFailed {
            reason: SignInFailure::WrongPassword,
            at,
        })
        | AccountEvent::CurrentPasswordRefused(CurrentPasswordRefused { at, .. })
            if guard.active_lock(*at).is_none() && !profile.disabled =>
        {
            // Failures while a lock is in force neither count nor extend it.
            guard.consecutive_failures += 1;
        }
        AccountEvent::AccountLocked(e) => {
            guard.consecutive_failures = 0;
            if e.kind == LockKind::CoolDown {
                guard.lockouts += 1;
            }
            guard.lock = Some(Lock {
                kind: e.kind,
                since: e.at,
                until: e.until,
            });
        }
        AccountEvent::AccountUnlocked(_) => {
            guard.consecutive_failures = 0;
            guard.lock = None;
        }
        AccountEvent::SignInSucceeded(e) => {
            *guard = SignInGuard::default();
            profile.sessions.retain(|s| s.expires_at > e.at);
            profile.sessions.push(OpenSession {
                id: e.session_id,
                expires_at: e.session_expires_at,
            });
        }
        AccountEvent::SessionsRevoked(e) => {
            profile.sessions.retain(|s| !e.session_ids.contains(&s.id));
        }
        AccountEvent::PasswordResetRequested(e) => {
            profile.resets.push(Activation {
                token_hash: e.token_hash,
                expires_at: e.expires_at,
            });
            if profile.resets.len() > MAX_RESET_LINKS {
                profile.resets.remove(0);
            }
        }
        AccountEvent::AccountDisabled(_) => profile.disabled = true,
        AccountEvent::PersonalDataErased(_) => {
            // What a replay shows once the keys are gone, and what this process holds until then.
            profile.erased = true;
            profile.disabled = true;
            profile.name = Personal::Erased;
            profile.email = Personal::Erased;
            profile.password_hash = Personal::Erased;
            profile.details = Personal::Erased;
            profile.pending_email = None;
            profile.phones.clear();
            profile.board_reporting = None;
            profile.username = profile.username.take().map(|_| Personal::Erased);
            profile.calendar_feed = None;
            profile.two_step = None;
            profile.totp_enrollment = None;
            profile.challenges.clear();
            profile.activations.clear();
            profile.resets.clear();
        }
        AccountEvent::AccountEnabled(_) => profile.disabled = false,
        AccountEvent::ProfileUpdated(e) => {
            profile.details = e.details.clone();
        }
        AccountEvent::NameChanged(e) => profile.name = e.name.clone(),
        AccountEvent::EmailChangeRequested(e) => {
            profile.pending_email = Some(PendingEmail {
                email: e.email.clone(),
                token_hash: e.token_hash,
                expires_at: e.expires_at,
            });
        }
        AccountEvent::EmailChanged(e) => {
            profile.email = e.email.clone();
            profile.pending_email = None;
        }
        AccountEvent::PasswordChanged(e) => {
            profile.password_hash = e.password_hash.clone();
            profile.guard.consecutive_failures = 0;
        }
        AccountEvent::PasswordReset(e) => {
            profile.password_hash = e.password_hash.clone();
            // Every outstanding link is spent: one reset, one use.
            profile
                .used_resets
                .extend(profile.resets.drain(..).map(|r| r.token_hash));
            let excess = profile.used_resets.len().saturating_sub(MAX_RESET_LINKS);
            profile.used_resets.drain(..excess);
            profile.guard.consecutive_failures = 0;
            if profile
                .guard
                .lock
                .is_some_and(|lock| lock.kind == LockKind::CoolDown)
            {
                profile.guard.lock = None;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::decider::testing::given;
    use crate::values::{NamePart, Title};
    use chrono::TimeZone;
    use uuid::Uuid;

    pub(crate) fn t0() -> DateTime<Utc> {
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

    pub(crate) fn registered() -> Vec<AccountEvent> {
        Account::decide(
            &AccountState::Unregistered,
            AccountCommand::Register(registration()),
            t0(),
        )
        .unwrap()
    }

    pub(crate) fn activated() -> Vec<AccountEvent> {
        let mut events = registered();
        events.push(AccountEvent::AccountActivated(AccountActivated {
            activated_at: t0(),
        }));
        events
    }

    /// An active account with two-step verification by e-mailed codes.
    fn with_two_step() -> Vec<AccountEvent> {
        let mut events = activated();
        events.push(AccountEvent::TwoStepEnabled(
            crate::two_step::TwoStepEnabled {
                method: crate::two_step::TwoStepMethod::Email,
                recovery_codes: vec![token(9)],
                step: None,
                at: t0(),
            },
        ));
        events
    }

    fn renamed(last: &str) -> PersonName {
        PersonName {
            last: NamePart::parse(last).unwrap(),
            ..registration().name
        }
    }

    #[test]
    fn a_change_of_name_is_recorded_with_the_day_it_takes_effect() {
        let effective_on = t0().date_naive();
        given::<Account>(activated())
            .when(
                AccountCommand::ChangeName {
                    name: renamed("King"),
                    effective_on,
                    by: None,
                },
                t0(),
            )
            .then(vec![AccountEvent::NameChanged(NameChanged {
                name: Personal::Known(renamed("King")),
                effective_on,
                by: None,
                at: t0(),
            })]);
    }

    #[test]
    fn the_same_name_again_records_nothing() {
        given::<Account>(activated())
            .when(
                AccountCommand::ChangeName {
                    name: registration().name,
                    effective_on: t0().date_naive(),
                    by: None,
                },
                t0(),
            )
            .then(vec![]);
    }

    #[test]
    fn a_change_of_name_dated_in_the_future_is_refused() {
        given::<Account>(activated())
            .when(
                AccountCommand::ChangeName {
                    name: renamed("King"),
                    effective_on: t0().date_naive() + chrono::Duration::days(2),
                    by: None,
                },
                t0(),
            )
            .then_error(AccountError::NameChangeInFuture);
    }

    #[test]
    fn two_step_verification_is_turned_off_with_the_password() {
        given::<Account>(with_two_step())
            .when(
                AccountCommand::TwoStep(crate::two_step::TwoStepCommand::Disable {
                    password: PasswordCheck::Matched,
                    required: false,
                }),
                t0(),
            )
            .then(vec![AccountEvent::TwoStepDisabled(
                crate::two_step::TwoStepDisabled { at: t0() },
            )]);
    }

    #[test]
    fn two_step_verification_the_organization_requires_is_not_turned_off() {
        given::<Account>(with_two_step())
            .when(
                AccountCommand::TwoStep(crate::two_step::TwoStepCommand::Disable {
                    password: PasswordCheck::Matched,
                    required: true,
                }),
                t0(),
            )
            .then_error(AccountError::TwoStepRequired);
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

    fn erased_by_staff() -> ErasedBy {
        ErasedBy::Staff {
            by: AccountId(Uuid::from_u128(2)),
        }
    }

    fn erasure() -> AccountCommand {
        AccountCommand::ErasePersonalData {
            by: erased_by_staff(),
            subjects: vec![Uuid::from_u128(7)],
        }
    }

    fn erased(at: DateTime<Utc>) -> AccountEvent {
        AccountEvent::PersonalDataErased(PersonalDataErased {
            subjects: vec![Uuid::from_u128(7)],
            by: erased_by_staff(),
            at,
        })
    }

    #[test]
    fn erasing_a_person_records_the_erasure_and_ends_their_sessions() {
        let mut events = activated();
        events.push(succeeded(5, t0()));
        given::<Account>(events)
            .when(erasure(), t0() + Duration::minutes(1))
            .then(vec![
                erased(t0() + Duration::minutes(1)),
                AccountEvent::SessionsRevoked(SessionsRevoked {
                    at: t0() + Duration::minutes(1),
                    session_ids: vec![SessionId(Uuid::from_u128(5))],
                    reason: RevocationReason::PersonalDataErased,
                }),
            ]);
    }

    #[test]
    fn erasing_again_records_nothing() {
        let mut events = activated();
        events.push(erased(t0()));
        given::<Account>(events).when(erasure(), t0()).then(vec![]);
    }

    #[test]
    fn an_erased_account_takes_no_other_command() {
        let mut events = activated();
        events.push(erased(t0()));
        given::<Account>(events)
            .when(
                AccountCommand::Enable {
                    by: AccountId(Uuid::from_u128(2)),
                },
                t0(),
            )
            .then_error(AccountError::Erased);
    }

    #[test]
    fn an_erased_account_holds_no_personal_data_and_stays_disabled() {
        let mut events = activated();
        events.push(erased(t0()));
        let state = Account::fold(events.iter());
        let profile = state.profile().unwrap();
        assert_eq!(
            (
                &profile.name,
                &profile.email,
                profile.disabled,
                profile.erased
            ),
            (&Personal::Erased, &Personal::Erased, true, true)
        );
    }

    #[test]
    fn registering_twice_is_refused() {
        given::<Account>(registered())
            .when(AccountCommand::Register(registration()), t0())
            .then_error(AccountError::AlreadyRegistered);
    }

    #[test]
    fn issuing_a_calendar_feed_records_its_token_hash_and_replaces_the_earlier_one() {
        let mut events = activated();
        let first = AccountEvent::CalendarFeedIssued(CalendarFeedIssued {
            token_hash: token(3),
            at: t0(),
        });
        events.push(first);
        let second = AccountEvent::CalendarFeedIssued(CalendarFeedIssued {
            token_hash: token(4),
            at: t0(),
        });
        given::<Account>(events.clone())
            .when(
                AccountCommand::IssueCalendarFeed {
                    token_hash: token(4),
                },
                t0(),
            )
            .then(vec![second.clone()]);
        events.push(second);
        let state = Account::fold(events.iter());
        assert_eq!(
            state.profile().and_then(|p| p.calendar_feed),
            Some(token(4))
        );
    }

    #[test]
    fn an_account_not_yet_activated_gets_no_calendar_feed() {
        given::<Account>(registered())
            .when(
                AccountCommand::IssueCalendarFeed {
                    token_hash: token(3),
                },
                t0(),
            )
            .then_error(AccountError::NotActivated);
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

    fn sign_in(password: PasswordCheck, session: u128) -> AccountCommand {
        AccountCommand::SignIn {
            password,
            challenge: TokenHash([0; 32]),
            code: TokenHash([0; 32]),
            session: SessionId(Uuid::from_u128(session)),
            policy: policy(),
            device: None,
        }
    }

    fn policy() -> SecurityPolicy {
        SecurityPolicy::default()
    }

    fn wrong_password(at: DateTime<Utc>) -> AccountEvent {
        failure(at, SignInFailure::WrongPassword)
    }

    fn succeeded(session: u128, at: DateTime<Utc>) -> AccountEvent {
        AccountEvent::SignInSucceeded(SignInSucceeded {
            session_id: SessionId(Uuid::from_u128(session)),
            at,
            session_expires_at: at + Duration::hours(12),
        })
    }

    /// An active account with `n` wrong passwords recorded at t0.
    fn with_failures(n: usize) -> Vec<AccountEvent> {
        let mut events = activated();
        events.extend((0..n).map(|_| wrong_password(t0())));
        events
    }

    fn locked_for(minutes: i64, failures: u32) -> AccountEvent {
        AccountEvent::AccountLocked(AccountLocked {
            at: t0(),
            kind: LockKind::CoolDown,
            until: Some(t0() + Duration::minutes(minutes)),
            failures,
        })
    }

    #[test]
    fn signing_in_to_an_active_account_opens_a_session_for_the_policy_lifetime() {
        given::<Account>(activated())
            .when(sign_in(PasswordCheck::Matched, 99), t0())
            .then(vec![succeeded(99, t0())]);
    }

    #[test]
    fn a_wrong_password_is_recorded_as_a_failed_sign_in() {
        given::<Account>(activated())
            .when(sign_in(PasswordCheck::Mismatched, 1), t0())
            .then(vec![wrong_password(t0())]);
    }

    #[test]
    fn signing_in_before_activation_is_recorded_and_refused_with_its_own_reason() {
        given::<Account>(registered())
            .when(sign_in(PasswordCheck::Matched, 1), t0())
            .then(vec![failure(t0(), SignInFailure::NotActivated)]);
        assert_eq!(AccountError::NotActivated.code(), "ACCOUNT_NOT_ACTIVATED");
    }

    #[test]
    fn a_wrong_password_before_activation_does_not_reveal_the_pending_account() {
        given::<Account>(registered())
            .when(sign_in(PasswordCheck::Mismatched, 1), t0())
            .then(vec![wrong_password(t0())]);
    }

    #[test]
    fn the_fifth_wrong_password_in_a_row_locks_the_account_for_a_cool_down() {
        given::<Account>(with_failures(4))
            .when(sign_in(PasswordCheck::Mismatched, 1), t0())
            .then(vec![wrong_password(t0()), locked_for(15, 5)]);
    }

    fn refused_current_password(at: DateTime<Utc>) -> AccountEvent {
        AccountEvent::CurrentPasswordRefused(CurrentPasswordRefused {
            during: PasswordConfirmation::ChangePassword,
            at,
        })
    }

    fn refuse_current_password() -> AccountCommand {
        AccountCommand::RefuseCurrentPassword {
            during: PasswordConfirmation::ChangePassword,
            policy: policy(),
        }
    }

    #[test]
    fn a_wrong_current_password_counts_towards_the_lockout_like_a_wrong_sign_in() {
        let mut events = with_failures(3);
        events.push(refused_current_password(t0()));
        given::<Account>(events)
            .when(sign_in(PasswordCheck::Mismatched, 1), t0())
            .then(vec![wrong_password(t0()), locked_for(15, 5)]);
    }

    #[test]
    fn the_fifth_wrong_current_password_locks_the_account_and_ends_its_sessions() {
        let mut events = with_failures(3);
        events.push(succeeded(7, t0()));
        events.extend((0..4).map(|_| refused_current_password(t0())));
        given::<Account>(events)
            .when(refuse_current_password(), t0())
            .then(vec![
                refused_current_password(t0()),
                locked_for(15, 5),
                AccountEvent::SessionsRevoked(SessionsRevoked {
                    at: t0(),
                    session_ids: vec![SessionId(Uuid::from_u128(7))],
                    reason: RevocationReason::AccountLocked,
                }),
            ]);
    }

    #[test]
    fn a_successful_sign_in_resets_the_count() {
        let mut events = with_failures(4);
        events.push(succeeded(7, t0()));
        events.extend((0..3).map(|_| wrong_password(t0())));
        given::<Account>(events)
            .when(sign_in(PasswordCheck::Mismatched, 1), t0())
            .then(vec![wrong_password(t0())]);
    }

    #[test]
    fn a_locked_account_refuses_the_right_password() {
        let mut events = with_failures(5);
        events.push(locked_for(15, 5));
        given::<Account>(events)
            .when(
                sign_in(PasswordCheck::Matched, 1),
                t0() + Duration::minutes(10),
            )
            .then(vec![failure(
                t0() + Duration::minutes(10),
                SignInFailure::AccountLocked,
            )]);
    }

    #[test]
    fn wrong_passwords_while_locked_do_not_extend_the_lock() {
        let mut events = with_failures(5);
        events.push(locked_for(15, 5));
        events.extend((0..10).map(|_| wrong_password(t0() + Duration::minutes(1))));
        given::<Account>(events)
            .when(
                sign_in(PasswordCheck::Matched, 1),
                t0() + Duration::minutes(15),
            )
            .then(vec![succeeded(1, t0() + Duration::minutes(15))]);
    }

    #[test]
    fn a_second_lockout_doubles_the_cool_down() {
        let mut events = with_failures(5);
        events.push(locked_for(15, 5));
        let later = t0() + Duration::minutes(20);
        events.extend((0..4).map(|_| wrong_password(later)));
        given::<Account>(events)
            .when(sign_in(PasswordCheck::Mismatched, 1), later)
            .then(vec![
                wrong_password(later),
                AccountEvent::AccountLocked(AccountLocked {
                    at: later,
                    kind: LockKind::CoolDown,
                    until: Some(later + Duration::minutes(30)),
                    failures: 5,
                }),
            ]);
    }

    #[test]
    fn locking_revokes_the_open_sessions() {
        let mut events = activated();
        events.push(succeeded(42, t0()));
        events.extend((0..4).map(|_| wrong_password(t0())));
        given::<Account>(events)
            .when(sign_in(PasswordCheck::Mismatched, 1), t0())
            .then(vec![
                wrong_password(t0()),
                locked_for(15, 5),
                AccountEvent::SessionsRevoked(SessionsRevoked {
                    at: t0(),
                    session_ids: vec![SessionId(Uuid::from_u128(42))],
                    reason: RevocationReason::AccountLocked,
                }),
            ]);
    }

    #[test]
    fn staff_unlock_a_locked_account_and_it_signs_in_again() {
        let staff = AccountId(Uuid::from_u128(500));
        let mut events = with_failures(5);
        events.push(AccountEvent::AccountLocked(AccountLocked {
            at: t0(),
            kind: LockKind::UntilStaffUnlock,
            until: None,
            failures: 5,
        }));
        let later = t0() + Duration::days(3);
        given::<Account>(events.clone())
            .when(AccountCommand::Unlock { by: staff }, later)
            .then(vec![AccountEvent::AccountUnlocked(AccountUnlocked {
                at: later,
                by: staff,
            })]);
        events.push(AccountEvent::AccountUnlocked(AccountUnlocked {
            at: later,
            by: staff,
        }));
        given::<Account>(events)
            .when(sign_in(PasswordCheck::Matched, 3), later)
            .then(vec![succeeded(3, later)]);
    }

    #[test]
    fn unlocking_an_account_that_is_not_locked_is_refused() {
        given::<Account>(activated())
            .when(
                AccountCommand::Unlock {
                    by: AccountId(Uuid::nil()),
                },
                t0(),
            )
            .then_error(AccountError::NotLocked);
    }

    #[test]
    fn changing_the_password_ends_every_other_session() {
        let mut events = activated();
        events.push(succeeded(1, t0()));
        events.push(succeeded(2, t0()));
        given::<Account>(events.clone())
            .when(
                AccountCommand::ChangePassword {
                    current: PasswordCheck::Matched,
                    password_hash: new_hash(),
                    keep: SessionId(Uuid::from_u128(2)),
                },
                t0(),
            )
            .then(vec![
                AccountEvent::PasswordChanged(PasswordChanged {
                    password_hash: Personal::Known(new_hash()),
                    at: t0(),
                }),
                AccountEvent::SessionsRevoked(SessionsRevoked {
                    at: t0(),
                    session_ids: vec![SessionId(Uuid::from_u128(1))],
                    reason: RevocationReason::PasswordChanged,
                }),
            ]);
        given::<Account>(events)
            .when(
                AccountCommand::ChangePassword {
                    current: PasswordCheck::Mismatched,
                    password_hash: new_hash(),
                    keep: SessionId(Uuid::from_u128(2)),
                },
                t0(),
            )
            .then_error(AccountError::CurrentPasswordInvalid);
    }

    #[test]
    fn staff_end_every_open_session() {
        let mut events = activated();
        events.push(succeeded(1, t0() - Duration::hours(13)));
        events.push(succeeded(2, t0()));
        given::<Account>(events)
            .when(
                AccountCommand::EndSessions {
                    by: AccountId(Uuid::from_u128(500)),
                },
                t0(),
            )
            .then(vec![AccountEvent::SessionsRevoked(SessionsRevoked {
                at: t0(),
                session_ids: vec![SessionId(Uuid::from_u128(2))],
                reason: RevocationReason::EndedByStaff,
            })]);
    }

    #[test]
    fn a_new_address_takes_effect_only_when_its_link_is_followed_within_a_day() {
        let new = EmailAddress::parse("ada@lovelace.example").unwrap();
        let mut events = activated();
        given::<Account>(events.clone())
            .when(
                AccountCommand::RequestEmailChange {
                    current: PasswordCheck::Matched,
                    email: new.clone(),
                    token_hash: token(30),
                },
                t0(),
            )
            .then(vec![AccountEvent::EmailChangeRequested(
                EmailChangeRequested {
                    email: Personal::Known(new.clone()),
                    token_hash: token(30),
                    requested_at: t0(),
                    expires_at: t0() + Duration::hours(24),
                },
            )]);
        events.push(AccountEvent::EmailChangeRequested(EmailChangeRequested {
            email: Personal::Known(new.clone()),
            token_hash: token(30),
            requested_at: t0(),
            expires_at: t0() + Duration::hours(24),
        }));
        given::<Account>(events.clone())
            .when(
                AccountCommand::ConfirmEmailChange {
                    token_hash: token(30),
                },
                t0() + Duration::hours(23),
            )
            .then(vec![AccountEvent::EmailChanged(EmailChanged {
                previous: Personal::Known(EmailAddress::parse("ada@example.org").unwrap()),
                email: Personal::Known(new),
                at: t0() + Duration::hours(23),
            })]);
        given::<Account>(events.clone())
            .when(
                AccountCommand::ConfirmEmailChange {
                    token_hash: token(30),
                },
                t0() + Duration::hours(24),
            )
            .then_error(AccountError::EmailChangeTokenExpired);
        given::<Account>(events)
            .when(
                AccountCommand::ConfirmEmailChange {
                    token_hash: token(31),
                },
                t0(),
            )
            .then_error(AccountError::EmailChangeTokenInvalid);
    }

    #[test]
    fn changing_the_address_needs_the_current_password_and_a_different_address() {
        let request = |current, email: &str| AccountCommand::RequestEmailChange {
            current,
            email: EmailAddress::parse(email).unwrap(),
            token_hash: token(30),
        };
        given::<Account>(activated())
            .when(request(PasswordCheck::Mismatched, "new@example.org"), t0())
            .then_error(AccountError::CurrentPasswordInvalid);
        given::<Account>(activated())
            .when(request(PasswordCheck::Matched, "ADA@example.org"), t0())
            .then_error(AccountError::SameEmail);
    }

    fn reset_requested(n: u8, at: DateTime<Utc>) -> AccountEvent {
        AccountEvent::PasswordResetRequested(PasswordResetRequested {
            token_hash: token(n),
            requested_at: at,
            expires_at: at + Duration::hours(1),
        })
    }

    fn new_hash() -> PasswordHash {
        PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3".into())
    }

    fn reset(n: u8) -> AccountCommand {
        AccountCommand::ResetPassword {
            token_hash: token(n),
            password_hash: new_hash(),
        }
    }

    fn password_reset(at: DateTime<Utc>) -> AccountEvent {
        AccountEvent::PasswordReset(PasswordReset {
            password_hash: Personal::Known(new_hash()),
            at,
        })
    }

    #[test]
    fn a_reset_link_sets_the_password_within_the_hour() {
        let mut events = activated();
        events.push(reset_requested(8, t0()));
        let at = t0() + Duration::minutes(59);
        given::<Account>(events)
            .when(reset(8), at)
            .then(vec![password_reset(at)]);
    }

    #[test]
    fn a_reset_link_expires_after_an_hour() {
        let mut events = activated();
        events.push(reset_requested(8, t0()));
        given::<Account>(events)
            .when(reset(8), t0() + Duration::hours(1))
            .then_error(AccountError::ResetTokenExpired);
    }

    #[test]
    fn a_reset_link_works_once() {
        let mut events = activated();
        events.push(reset_requested(8, t0()));
        events.push(password_reset(t0()));
        given::<Account>(events)
            .when(reset(8), t0())
            .then_error(AccountError::ResetTokenUsed);
        given::<Account>(activated())
            .when(reset(9), t0())
            .then_error(AccountError::ResetTokenInvalid);
    }

    #[test]
    fn a_reset_revokes_sessions_and_lifts_a_cool_down_but_not_a_staff_lock() {
        let mut events = activated();
        events.push(succeeded(42, t0()));
        events.extend((0..5).map(|_| wrong_password(t0())));
        events.push(locked_for(15, 5));
        events.push(reset_requested(8, t0()));
        given::<Account>(events.clone())
            .when(reset(8), t0())
            .then(vec![
                password_reset(t0()),
                AccountEvent::SessionsRevoked(SessionsRevoked {
                    at: t0(),
                    session_ids: vec![SessionId(Uuid::from_u128(42))],
                    reason: RevocationReason::PasswordReset,
                }),
            ]);
        events.push(password_reset(t0()));
        given::<Account>(events)
            .when(sign_in(PasswordCheck::Matched, 5), t0())
            .then(vec![succeeded(5, t0())]);

        let mut staff_locked = activated();
        staff_locked.push(AccountEvent::AccountLocked(AccountLocked {
            at: t0(),
            kind: LockKind::UntilStaffUnlock,
            until: None,
            failures: 5,
        }));
        staff_locked.push(reset_requested(8, t0()));
        staff_locked.push(password_reset(t0()));
        given::<Account>(staff_locked)
            .when(sign_in(PasswordCheck::Matched, 5), t0())
            .then(vec![failure(t0(), SignInFailure::AccountLocked)]);
    }

    #[test]
    fn a_reset_link_activates_a_pending_account() {
        let mut events = registered();
        events.push(reset_requested(8, t0()));
        given::<Account>(events).when(reset(8), t0()).then(vec![
            password_reset(t0()),
            AccountEvent::AccountActivated(AccountActivated { activated_at: t0() }),
        ]);
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
