//! A learner's mobile numbers: paired by texting their e-mail address to the organization's number, or added in the
//! portal and verified by a code sent by text. A verified number is how attendance texts find their learner.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::account::{AccountError, AccountEvent, Profile};
use crate::values::{PhoneNumber, TokenHash};
use crate::Personal;

/// How many numbers one account may hold.
pub const MAX_PHONES: usize = 3;
/// How long a verification code works.
pub const PHONE_CODE_TTL: Duration = Duration::minutes(10);
/// How long to wait before another code may be sent to the same number.
pub const PHONE_CODE_INTERVAL: Duration = Duration::seconds(60);
/// How many wrong codes void the code.
pub const PHONE_CODE_ATTEMPTS: u8 = 5;

/// A number on an account.
#[derive(Clone, Debug, PartialEq)]
pub struct PhoneEntry {
    /// The number (erased with the person's key).
    pub number: Personal<PhoneNumber>,
    /// The owner proved they hold it (a text from it, or the code sent to it).
    pub verified: bool,
    /// The code sent to it, while unverified.
    pub code: Option<PhoneCode>,
}

/// A verification code that was sent.
#[derive(Clone, Debug, PartialEq)]
pub struct PhoneCode {
    /// Keyed hash of the code.
    pub hash: TokenHash,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// Wrong entries left.
    pub attempts_left: u8,
}

/// Commands on an account's numbers.
#[derive(Clone, Debug)]
pub enum PhoneCommand {
    /// A text from `number` named this account's address: the number is paired and verified.
    Pair {
        /// The sender's number.
        number: PhoneNumber,
    },
    /// The signed-in learner adds a number; a code is texted to it.
    Add {
        /// The number.
        number: PhoneNumber,
        /// Keyed hash of the code sent.
        code_hash: TokenHash,
    },
    /// The learner enters the code texted to `number`.
    Verify {
        /// The number.
        number: PhoneNumber,
        /// Keyed hash of the code entered.
        code_hash: TokenHash,
    },
    /// The learner removes a number.
    Remove {
        /// The number.
        number: PhoneNumber,
    },
    /// The number was paired with another account of the organization.
    Release {
        /// The number.
        number: PhoneNumber,
    },
}

/// Why a number left an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneRemoval {
    /// The owner removed it.
    ByOwner,
    /// It was paired with another account (a shared or recycled number).
    PairedElsewhere,
}

/// A number was paired by a text from it (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhonePaired {
    /// The number.
    pub number: Personal<PhoneNumber>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A verification code was texted to a number the learner added (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhoneVerificationSent {
    /// The number.
    pub number: Personal<PhoneNumber>,
    /// Keyed hash of the code.
    pub code_hash: TokenHash,
    /// When the code stops working.
    pub expires_at: DateTime<Utc>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A wrong code was entered for a number (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhoneVerificationFailed {
    /// The number.
    pub number: Personal<PhoneNumber>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A number was verified with its code (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhoneVerified {
    /// The number.
    pub number: Personal<PhoneNumber>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A number left the account (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhoneRemoved {
    /// The number.
    pub number: Personal<PhoneNumber>,
    /// Why.
    pub reason: PhoneRemoval,
    /// When.
    pub at: DateTime<Utc>,
}

impl Profile {
    /// The entry of `number`, if the account has it.
    pub fn phone(&self, number: &PhoneNumber) -> Option<&PhoneEntry> {
        self.phones
            .iter()
            .find(|p| p.number.known() == Some(number))
    }

    /// True when `number` is verified on this account.
    pub fn holds_phone(&self, number: &PhoneNumber) -> bool {
        self.phone(number).is_some_and(|p| p.verified)
    }
}

/// Decides a phone command on a registered account.
pub(crate) fn decide(
    profile: &Profile,
    active: bool,
    command: PhoneCommand,
    now: DateTime<Utc>,
) -> Result<Vec<AccountEvent>, AccountError> {
    let known = |n: &PhoneNumber| Personal::Known(n.clone());
    match command {
        PhoneCommand::Pair { number } => {
            if profile.disabled {
                return Err(AccountError::Disabled);
            }
            if profile.holds_phone(&number) {
                return Ok(vec![]);
            }
            if profile.phone(&number).is_none() && profile.phones.len() >= MAX_PHONES {
                return Err(AccountError::PhoneLimitReached);
            }
            Ok(vec![AccountEvent::PhonePaired(PhonePaired {
                number: known(&number),
                at: now,
            })])
        }
        PhoneCommand::Add { number, code_hash } => {
            if !active {
                return Err(AccountError::NotActivated);
            }
            match profile.phone(&number) {
                Some(entry) if entry.verified => return Err(AccountError::PhoneAlreadyVerified),
                Some(PhoneEntry {
                    code: Some(code), ..
                }) if now - code.sent_at < PHONE_CODE_INTERVAL => {
                    return Err(AccountError::PhoneCodeRecentlySent)
                }
                Some(_) => {}
                None if profile.phones.len() >= MAX_PHONES => {
                    return Err(AccountError::PhoneLimitReached)
                }
                None => {}
            }
            Ok(vec![AccountEvent::PhoneVerificationSent(
                PhoneVerificationSent {
                    number: known(&number),
                    code_hash,
                    expires_at: now + PHONE_CODE_TTL,
                    at: now,
                },
            )])
        }
        PhoneCommand::Verify { number, code_hash } => {
            let entry = profile.phone(&number).ok_or(AccountError::PhoneNotFound)?;
            if entry.verified {
                return Ok(vec![]);
            }
            let code = entry.code.as_ref().ok_or(AccountError::PhoneCodeInvalid)?;
            if now >= code.expires_at || code.attempts_left == 0 {
                return Err(AccountError::PhoneCodeExpired);
            }
            if code.hash.ct_eq(&code_hash) {
                Ok(vec![AccountEvent::PhoneVerified(PhoneVerified {
                    number: known(&number),
                    at: now,
                })])
            } else {
                Ok(vec![AccountEvent::PhoneVerificationFailed(
                    PhoneVerificationFailed {
                        number: known(&number),
                        at: now,
                    },
                )])
            }
        }
        PhoneCommand::Remove { number } => {
            if profile.phone(&number).is_none() {
                return Err(AccountError::PhoneNotFound);
            }
            Ok(vec![AccountEvent::PhoneRemoved(PhoneRemoved {
                number: known(&number),
                reason: PhoneRemoval::ByOwner,
                at: now,
            })])
        }
        PhoneCommand::Release { number } => Ok(if profile.phone(&number).is_some() {
            vec![AccountEvent::PhoneRemoved(PhoneRemoved {
                number: known(&number),
                reason: PhoneRemoval::PairedElsewhere,
                at: now,
            })]
        } else {
            vec![]
        }),
    }
}

/// Applies a phone event to the profile; other events are ignored.
pub(crate) fn apply(profile: &mut Profile, event: &AccountEvent) {
    let position = |profile: &Profile, number: &Personal<PhoneNumber>| {
        profile.phones.iter().position(|p| &p.number == number)
    };
    match event {
        AccountEvent::PhonePaired(e) => match position(profile, &e.number) {
            Some(i) => {
                profile.phones[i].verified = true;
                profile.phones[i].code = None;
            }
            None => profile.phones.push(PhoneEntry {
                number: e.number.clone(),
                verified: true,
                code: None,
            }),
        },
        AccountEvent::PhoneVerificationSent(e) => {
            let code = Some(PhoneCode {
                hash: e.code_hash,
                sent_at: e.at,
                expires_at: e.expires_at,
                attempts_left: PHONE_CODE_ATTEMPTS,
            });
            match position(profile, &e.number) {
                Some(i) => profile.phones[i].code = code,
                None => profile.phones.push(PhoneEntry {
                    number: e.number.clone(),
                    verified: false,
                    code,
                }),
            }
        }
        AccountEvent::PhoneVerificationFailed(e) => {
            if let Some(code) =
                position(profile, &e.number).and_then(|i| profile.phones[i].code.as_mut())
            {
                code.attempts_left = code.attempts_left.saturating_sub(1);
            }
        }
        AccountEvent::PhoneVerified(e) => {
            if let Some(i) = position(profile, &e.number) {
                profile.phones[i].verified = true;
                profile.phones[i].code = None;
            }
        }
        AccountEvent::PhoneRemoved(e) => {
            profile.phones.retain(|p| p.number != e.number);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::tests::{activated, registered, t0};
    use crate::account::{Account, AccountCommand};
    use crate::decider::testing::given;
    use crate::values::{BoardReporting, CertifyingBoard};
    use crate::Decider;

    fn number() -> PhoneNumber {
        PhoneNumber::parse("+16125550101").unwrap()
    }

    fn phone(command: PhoneCommand) -> AccountCommand {
        AccountCommand::Phone(command)
    }

    fn code_sent(at: DateTime<Utc>) -> AccountEvent {
        AccountEvent::PhoneVerificationSent(PhoneVerificationSent {
            number: Personal::Known(number()),
            code_hash: TokenHash([9; 32]),
            expires_at: at + PHONE_CODE_TTL,
            at,
        })
    }

    fn with(
        mut events: Vec<AccountEvent>,
        more: impl IntoIterator<Item = AccountEvent>,
    ) -> Vec<AccountEvent> {
        events.extend(more);
        events
    }

    #[test]
    fn a_text_from_a_number_pairs_it_even_before_activation() {
        given::<Account>(registered())
            .when(phone(PhoneCommand::Pair { number: number() }), t0())
            .then(vec![AccountEvent::PhonePaired(PhonePaired {
                number: Personal::Known(number()),
                at: t0(),
            })]);
    }

    #[test]
    fn pairing_a_number_already_paired_records_nothing() {
        let paired = AccountEvent::PhonePaired(PhonePaired {
            number: Personal::Known(number()),
            at: t0(),
        });
        given::<Account>(with(activated(), [paired]))
            .when(phone(PhoneCommand::Pair { number: number() }), t0())
            .then(vec![]);
    }

    #[test]
    fn the_code_sent_to_a_number_verifies_it() {
        given::<Account>(with(activated(), [code_sent(t0())]))
            .when(
                phone(PhoneCommand::Verify {
                    number: number(),
                    code_hash: TokenHash([9; 32]),
                }),
                t0() + Duration::minutes(9),
            )
            .then(vec![AccountEvent::PhoneVerified(PhoneVerified {
                number: Personal::Known(number()),
                at: t0() + Duration::minutes(9),
            })]);
    }

    #[test]
    fn a_wrong_code_is_recorded_as_a_failed_attempt() {
        given::<Account>(with(activated(), [code_sent(t0())]))
            .when(
                phone(PhoneCommand::Verify {
                    number: number(),
                    code_hash: TokenHash([8; 32]),
                }),
                t0(),
            )
            .then(vec![AccountEvent::PhoneVerificationFailed(
                PhoneVerificationFailed {
                    number: Personal::Known(number()),
                    at: t0(),
                },
            )]);
    }

    #[test]
    fn five_wrong_codes_void_the_code() {
        let failed = AccountEvent::PhoneVerificationFailed(PhoneVerificationFailed {
            number: Personal::Known(number()),
            at: t0(),
        });
        let events = with(
            activated(),
            [code_sent(t0())]
                .into_iter()
                .chain(std::iter::repeat_n(failed, 5)),
        );
        given::<Account>(events)
            .when(
                phone(PhoneCommand::Verify {
                    number: number(),
                    code_hash: TokenHash([9; 32]),
                }),
                t0(),
            )
            .then_error(AccountError::PhoneCodeExpired);
    }

    #[test]
    fn a_code_expires_after_ten_minutes() {
        given::<Account>(with(activated(), [code_sent(t0())]))
            .when(
                phone(PhoneCommand::Verify {
                    number: number(),
                    code_hash: TokenHash([9; 32]),
                }),
                t0() + PHONE_CODE_TTL,
            )
            .then_error(AccountError::PhoneCodeExpired);
    }

    #[test]
    fn another_code_waits_a_minute() {
        given::<Account>(with(activated(), [code_sent(t0())]))
            .when(
                phone(PhoneCommand::Add {
                    number: number(),
                    code_hash: TokenHash([7; 32]),
                }),
                t0() + Duration::seconds(59),
            )
            .then_error(AccountError::PhoneCodeRecentlySent);
    }

    #[test]
    fn an_account_holds_at_most_three_numbers() {
        let paired = |n: &str| {
            AccountEvent::PhonePaired(PhonePaired {
                number: Personal::Known(PhoneNumber::parse(n).unwrap()),
                at: t0(),
            })
        };
        let events = with(
            activated(),
            [
                paired("+16125550001"),
                paired("+16125550002"),
                paired("+16125550003"),
            ],
        );
        given::<Account>(events)
            .when(phone(PhoneCommand::Pair { number: number() }), t0())
            .then_error(AccountError::PhoneLimitReached);
    }

    #[test]
    fn a_number_paired_elsewhere_is_released() {
        let paired = AccountEvent::PhonePaired(PhonePaired {
            number: Personal::Known(number()),
            at: t0(),
        });
        given::<Account>(with(activated(), [paired]))
            .when(phone(PhoneCommand::Release { number: number() }), t0())
            .then(vec![AccountEvent::PhoneRemoved(PhoneRemoved {
                number: Personal::Known(number()),
                reason: PhoneRemoval::PairedElsewhere,
                at: t0(),
            })]);
    }

    #[test]
    fn removing_a_number_the_account_lacks_is_refused() {
        given::<Account>(activated())
            .when(phone(PhoneCommand::Remove { number: number() }), t0())
            .then_error(AccountError::PhoneNotFound);
    }

    #[test]
    fn board_reporting_consent_is_recorded_once_and_can_be_withdrawn() {
        let reporting = BoardReporting::new(CertifyingBoard::Abim, "123456").unwrap();
        let consented = Account::decide(
            &Account::fold(activated().iter()),
            AccountCommand::SetBoardReporting {
                reporting: Some(reporting.clone()),
            },
            t0(),
        )
        .unwrap();
        assert_eq!(consented.len(), 1);
        let events = with(activated(), consented);
        given::<Account>(events.clone())
            .when(
                AccountCommand::SetBoardReporting {
                    reporting: Some(reporting),
                },
                t0(),
            )
            .then(vec![]);
        given::<Account>(events)
            .when(AccountCommand::SetBoardReporting { reporting: None }, t0())
            .then(vec![AccountEvent::BoardReportingWithdrawn(
                crate::account::BoardReportingWithdrawn { at: t0() },
            )]);
    }
}
