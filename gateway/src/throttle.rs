//! Limits on the costly or guessable requests: each has a budget per client network and, where it names one, per
//! target (an e-mail address or an account).
//!
//! The budgets live in memory per server process (`governor`'s keyed limiters, GCRA: a burst, then a steady
//! rate). A client is its IPv4 address, or its IPv6 /64: one subscriber line gets a whole /64, so keying by full
//! address would give an attacker 2^64 budgets. Each GraphQL field counts, so aliases in one request count one by
//! one. The budgets cost one hash-map lookup each; stale keys are dropped every minute ([`Throttle::prune`]).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// What is being throttled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `registerAccount`: an argon2id hash, and an e-mail to the address given.
    Register,
    /// `requestPasswordReset`: an e-mail to the address given.
    RequestPasswordReset,
    /// `resendActivation`: an e-mail to the address given.
    ResendActivation,
    /// `resetPassword`: a token check, then an argon2id hash.
    ResetPassword,
    /// `recordAttendance` by a learner: activity codes can be guessed.
    RecordAttendance,
    /// A check of the current password (`changePassword`, `requestEmailChange`, `disableTwoStep`): argon2id, and a
    /// guess at the password of a session someone left open.
    CurrentPassword,
    /// `refreshSession`: a refresh token (256 random bits, but each refusal costs a load of the account).
    RefreshSession,
    /// A public calendar read without signing in (the `calendar` query or its iCalendar feed): a query over the
    /// calendar that anyone can repeat.
    PublicCalendar,
    /// `payStatement`: a request to the payment processor.
    PayStatement,
    /// A payment processor's webhook: a signature check, then a load of the organization.
    ProcessorWebhook,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 10] = [
        Action::Register,
        Action::RequestPasswordReset,
        Action::ResendActivation,
        Action::ResetPassword,
        Action::RecordAttendance,
        Action::CurrentPassword,
        Action::RefreshSession,
        Action::PublicCalendar,
        Action::PayStatement,
        Action::ProcessorWebhook,
    ];

    /// The budgets: per client network per minute, and per target per hour (the burst is the same number).
    pub fn budgets(self) -> (u32, u32) {
        match self {
            Action::Register => (20, 3),
            Action::RequestPasswordReset => (20, 5),
            Action::ResendActivation => (20, 5),
            Action::ResetPassword => (20, 10),
            Action::RecordAttendance => (60, 60),
            Action::CurrentPassword => (20, 10),
            // An app refreshes every half hour at most; a burst comes from a client that lost its answers.
            Action::RefreshSession => (60, 60),
            // A calendar app polls a feed every few minutes; a page of the calendar is one read per visit.
            Action::PublicCalendar => (120, 100_000),
            // A patient pays a statement or two per visit; each try opens a session at the processor.
            Action::PayStatement => (20, 30),
            // A processor sends bursts (a day's refunds at once) from a few addresses.
            Action::ProcessorWebhook => (600, 100_000),
        }
    }

    fn refusal(self) -> &'static str {
        match self {
            Action::RecordAttendance => {
                "too many attendance records in a short time; wait a few minutes and try again"
            }
            Action::CurrentPassword => {
                "too many password checks for this account; wait a few minutes and try again"
            }
            _ => "too many requests of this kind from your network or for this address; wait a few minutes and try again",
        }
    }
}

/// A client network: an IPv4 address, or the /64 of an IPv6 address (IPv4-mapped addresses count as IPv4).
pub fn client_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
    }
}

struct Budgets {
    per_client: DefaultKeyedRateLimiter<IpAddr>,
    per_target: DefaultKeyedRateLimiter<String>,
}

/// Why a request was refused: the budget that ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted(pub Action);

impl Exhausted {
    /// What to tell the caller.
    pub fn message(self) -> &'static str {
        self.0.refusal()
    }
}

/// The budgets of every action.
pub struct Throttle {
    budgets: HashMap<Action, Budgets>,
}

fn quota(count: u32, factor: u32, per: Duration) -> Quota {
    let count = NonZeroU32::new(count.saturating_mul(factor.max(1))).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(per / count.get())
        .unwrap_or_else(|| Quota::per_second(count))
        .allow_burst(count)
}

impl Throttle {
    /// The budgets of [`Action::budgets`], each multiplied by `factor` (benchmarks raise it; 1 in production).
    pub fn new(factor: u32) -> Self {
        let budgets = Action::ALL
            .into_iter()
            .map(|action| {
                let (client, target) = action.budgets();
                (
                    action,
                    Budgets {
                        per_client: RateLimiter::keyed(quota(
                            client,
                            factor,
                            Duration::from_secs(60),
                        )),
                        per_target: RateLimiter::keyed(quota(
                            target,
                            factor,
                            Duration::from_secs(3600),
                        )),
                    },
                )
            })
            .collect();
        Self { budgets }
    }

    /// Counts one request of `action` from `client` about `target`; refused when either budget is spent.
    pub fn check(
        &self,
        action: Action,
        client: Option<IpAddr>,
        target: Option<&str>,
    ) -> Result<(), Exhausted> {
        let Some(budgets) = self.budgets.get(&action) else {
            return Ok(());
        };
        let client = client_key(client.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)));
        if budgets.per_client.check_key(&client).is_err() {
            return Err(Exhausted(action));
        }
        if let Some(target) = target {
            if budgets.per_target.check_key(&target.to_owned()).is_err() {
                return Err(Exhausted(action));
            }
        }
        Ok(())
    }

    /// Drops the keys whose budgets are full again, so that memory follows the recent clients, not all of them.
    pub fn prune(&self) {
        for budgets in self.budgets.values() {
            budgets.per_client.retain_recent();
            budgets.per_client.shrink_to_fit();
            budgets.per_target.retain_recent();
            budgets.per_target.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_its_64_and_a_mapped_ipv4_is_the_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_target_budget_is_shared_by_every_client() {
        let throttle = Throttle::new(1);
        let (_, per_target) = Action::Register.budgets();
        for i in 0..per_target {
            let client = IpAddr::from([10, 0, 0, i as u8]);
            assert!(throttle
                .check(Action::Register, Some(client), Some("ada@example.org"))
                .is_ok());
        }
        let fresh = IpAddr::from([10, 0, 1, 1]);
        assert_eq!(
            throttle.check(Action::Register, Some(fresh), Some("ada@example.org")),
            Err(Exhausted(Action::Register))
        );
        assert!(throttle
            .check(Action::Register, Some(fresh), Some("grace@example.org"))
            .is_ok());
    }
}
