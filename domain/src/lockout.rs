//! The lockout rule: consecutive failed sign-ins lock an account, until staff unlock it or for a cool-down that
//! grows with each lockout. Pure functions, shared by the account decider and its tests.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How an organization locks accounts after failed sign-ins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutPolicy {
    /// Consecutive failures that lock the account (at least 1).
    pub threshold: u32,
    /// How long the lock lasts.
    pub mode: LockoutMode,
}

/// How long a lock lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LockoutMode {
    /// Until staff unlock the account (the CE portal FAQ's way).
    UntilStaffUnlock,
    /// For a cool-down: `first_minutes` the first time, doubling with each further lockout, at most `max_minutes`.
    CoolDown {
        /// The first cool-down.
        first_minutes: u32,
        /// The longest cool-down.
        max_minutes: u32,
    },
}

impl Default for LockoutPolicy {
    /// Five failures, then 15 minutes, doubling up to 24 hours (see docs/security.md for why).
    fn default() -> Self {
        Self {
            threshold: 5,
            mode: LockoutMode::CoolDown {
                first_minutes: 15,
                max_minutes: 24 * 60,
            },
        }
    }
}

/// What kind of lock holds an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockKind {
    /// Only staff lift it; a password reset does not.
    UntilStaffUnlock,
    /// It lifts by itself at `until`; a password reset lifts it too.
    CoolDown,
}

impl LockKind {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            LockKind::UntilStaffUnlock => "until_staff_unlock",
            LockKind::CoolDown => "cool_down",
        }
    }
}

/// A lock on an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lock {
    /// Its kind.
    pub kind: LockKind,
    /// When it was imposed.
    pub since: DateTime<Utc>,
    /// When it lifts by itself (cool-down locks only).
    pub until: Option<DateTime<Utc>>,
}

/// An account's sign-in record, as far as lockout is concerned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignInGuard {
    /// Failed sign-ins since the last success, lock or reset.
    pub consecutive_failures: u32,
    /// Cool-down lockouts since the last successful sign-in (each one doubles the next cool-down).
    pub lockouts: u32,
    /// The current lock, if any (a cool-down lock may have lifted already: see [`SignInGuard::active_lock`]).
    pub lock: Option<Lock>,
}

impl SignInGuard {
    /// The lock in force at `now`.
    pub fn active_lock(&self, now: DateTime<Utc>) -> Option<&Lock> {
        self.lock
            .as_ref()
            .filter(|lock| lock.until.is_none_or(|until| now < until))
    }

    /// The lock one more failure at `now` imposes, if it reaches the threshold.
    pub fn lock_after_failure(&self, policy: &LockoutPolicy, now: DateTime<Utc>) -> Option<Lock> {
        if self.consecutive_failures + 1 < policy.threshold.max(1) {
            return None;
        }
        Some(match policy.mode {
            LockoutMode::UntilStaffUnlock => Lock {
                kind: LockKind::UntilStaffUnlock,
                since: now,
                until: None,
            },
            LockoutMode::CoolDown {
                first_minutes,
                max_minutes,
            } => Lock {
                kind: LockKind::CoolDown,
                since: now,
                until: Some(now + cool_down(first_minutes, max_minutes, self.lockouts)),
            },
        })
    }
}

/// The cool-down after `previous` earlier lockouts: `first`, doubled each time, at most `max`.
pub fn cool_down(first_minutes: u32, max_minutes: u32, previous: u32) -> Duration {
    let minutes = u64::from(first_minutes)
        .saturating_mul(1u64 << previous.min(20))
        .min(u64::from(max_minutes));
    Duration::minutes(minutes as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
    }

    #[test]
    fn the_fifth_consecutive_failure_locks_by_default() {
        let policy = LockoutPolicy::default();
        let guard = SignInGuard {
            consecutive_failures: 3,
            ..Default::default()
        };
        assert_eq!(guard.lock_after_failure(&policy, t0()), None);
        let guard = SignInGuard {
            consecutive_failures: 4,
            ..Default::default()
        };
        let lock = guard.lock_after_failure(&policy, t0()).unwrap();
        assert_eq!(lock.kind, LockKind::CoolDown);
        assert_eq!(lock.until, Some(t0() + Duration::minutes(15)));
    }

    #[test]
    fn the_cool_down_doubles_with_each_lockout_up_to_the_maximum() {
        assert_eq!(cool_down(15, 1440, 0), Duration::minutes(15));
        assert_eq!(cool_down(15, 1440, 1), Duration::minutes(30));
        assert_eq!(cool_down(15, 1440, 3), Duration::minutes(120));
        assert_eq!(cool_down(15, 1440, 7), Duration::minutes(1440));
        assert_eq!(cool_down(15, 1440, 60), Duration::minutes(1440));
    }

    #[test]
    fn a_permanent_policy_locks_until_staff_unlock() {
        let policy = LockoutPolicy {
            threshold: 3,
            mode: LockoutMode::UntilStaffUnlock,
        };
        let guard = SignInGuard {
            consecutive_failures: 2,
            ..Default::default()
        };
        let lock = guard.lock_after_failure(&policy, t0()).unwrap();
        assert_eq!(
            lock,
            Lock {
                kind: LockKind::UntilStaffUnlock,
                since: t0(),
                until: None
            }
        );
    }

    #[test]
    fn a_cool_down_lock_lifts_by_itself_and_a_staff_lock_does_not() {
        let cool = SignInGuard {
            lock: Some(Lock {
                kind: LockKind::CoolDown,
                since: t0(),
                until: Some(t0() + Duration::minutes(15)),
            }),
            ..Default::default()
        };
        assert!(cool.active_lock(t0() + Duration::minutes(14)).is_some());
        assert!(cool.active_lock(t0() + Duration::minutes(15)).is_none());
        let staff = SignInGuard {
            lock: Some(Lock {
                kind: LockKind::UntilStaffUnlock,
                since: t0(),
                until: None,
            }),
            ..Default::default()
        };
        assert!(staff.active_lock(t0() + Duration::days(365)).is_some());
    }
}
