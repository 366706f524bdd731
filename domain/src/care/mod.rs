//! The patient portal beyond scheduling (seed 001: "view test results and health records, message your care team,
//! manage bills and prescriptions"): conversations with the care team, test results, statements and payments,
//! medications and their renewals, and proxies who act for a patient. The organization's rules for them are its
//! [`CarePolicy`].

pub mod billing;
pub mod care_team;
pub mod conversation;
pub mod medication;
pub mod proxy;
pub mod test_result;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::values::{FieldError, TestCode};
use crate::AccountId;

/// Who acts on a patient's behalf-or-own side: the patient, or a proxy for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "side")]
pub enum Party {
    /// The patient, or their proxy.
    Patient {
        /// The proxy who acted, if it was not the patient.
        proxy: Option<AccountId>,
    },
    /// A member of the care team (staff or provider).
    CareTeam {
        /// The member.
        by: AccountId,
    },
}

impl Party {
    /// The patient themselves.
    pub const PATIENT: Party = Party::Patient { proxy: None };

    /// True on the patient's side.
    pub fn is_patient(&self) -> bool {
        matches!(self, Party::Patient { .. })
    }
}

/// What part of a patient's portal a proxy may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    /// Appointments and the wait list.
    Scheduling,
    /// Conversations with the care team.
    Messages,
    /// Test results.
    Results,
    /// Statements, payments and the billing preference.
    Billing,
    /// Medications and renewal requests.
    Prescriptions,
}

/// The scope of a proxy's access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxyScope {
    /// Appointments only.
    Scheduling,
    /// Appointments and conversations with the care team.
    SchedulingAndMessages,
    /// Everything the patient sees.
    All,
}

impl ProxyScope {
    /// True when the scope covers `area`.
    pub fn covers(self, area: Area) -> bool {
        match self {
            ProxyScope::All => true,
            ProxyScope::SchedulingAndMessages => matches!(area, Area::Scheduling | Area::Messages),
            ProxyScope::Scheduling => area == Area::Scheduling,
        }
    }

    /// The narrower of two scopes (scopes are ordered from narrowest to widest).
    pub fn narrowed_to(self, cap: ProxyScope) -> ProxyScope {
        self.min(cap)
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyScope::Scheduling => "scheduling",
            ProxyScope::SchedulingAndMessages => "scheduling_and_messages",
            ProxyScope::All => "all",
        }
    }
}

/// From `from_age` (in whole years) on, proxies of a patient get at most `cap` (None: no proxy access at all), until
/// the next band.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeBand {
    /// The first age of the band.
    pub from_age: u8,
    /// The widest scope a proxy has in the band.
    pub cap: Option<ProxyScope>,
}

/// The organization's rules for conversations, results and proxies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarePolicy {
    /// A conversation with no new message for this many days is closed (1 to 365; default 14).
    pub conversation_idle_days: u32,
    /// Results of these tests are released to the patient by themselves this many hours after they are recorded
    /// (0 to 2160); results of other tests wait for a provider.
    pub release_hours: BTreeMap<TestCode, u32>,
    /// Proxies' access by the patient's age, bands in rising order from age 0 (default: full access under 13,
    /// scheduling and messages from 13 to 17, as granted from 18).
    pub age_bands: Vec<AgeBand>,
}

impl Default for CarePolicy {
    fn default() -> Self {
        Self {
            conversation_idle_days: 14,
            release_hours: BTreeMap::new(),
            age_bands: vec![
                AgeBand {
                    from_age: 0,
                    cap: Some(ProxyScope::All),
                },
                AgeBand {
                    from_age: 13,
                    cap: Some(ProxyScope::SchedulingAndMessages),
                },
                AgeBand {
                    from_age: 18,
                    cap: Some(ProxyScope::All),
                },
            ],
        }
    }
}

impl CarePolicy {
    /// Checks the rules: idle days 1 to 365, release delays 0 to 2160 hours (90 days), bands starting at age 0 in
    /// rising order, at most 10 of them, and at most 200 tests with a delay.
    pub fn validate(&self) -> Result<(), FieldError> {
        if !(1..=365).contains(&self.conversation_idle_days) {
            return Err(FieldError {
                field: "conversationIdleDays",
                rule: "a conversation closes after 1 to 365 quiet days",
            });
        }
        if self.release_hours.len() > 200 || self.release_hours.values().any(|h| *h > 2160) {
            return Err(FieldError {
                field: "releaseDelays",
                rule: "at most 200 tests, each released within 0 to 2160 hours",
            });
        }
        let rising = self
            .age_bands
            .windows(2)
            .all(|pair| pair[0].from_age < pair[1].from_age);
        if self.age_bands.first().map(|b| b.from_age) != Some(0)
            || !rising
            || self.age_bands.len() > 10
        {
            return Err(FieldError {
                field: "ageBands",
                rule: "age bands start at age 0, in rising order, at most 10 of them",
            });
        }
        Ok(())
    }

    /// The widest scope a proxy may have for a patient of `age` (None: none at all).
    pub fn cap_at(&self, age: u32) -> Option<ProxyScope> {
        self.age_bands
            .iter()
            .rev()
            .find(|band| u32::from(band.from_age) <= age)
            .and_then(|band| band.cap)
    }

    /// How long after recording a result of `test` is released by itself, if it is.
    pub fn release_delay(&self, test: &TestCode) -> Option<chrono::Duration> {
        self.release_hours
            .get(test)
            .map(|h| chrono::Duration::hours(i64::from(*h)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheduling_only_scope_covers_neither_messages_nor_results() {
        assert!(ProxyScope::Scheduling.covers(Area::Scheduling));
        assert!(!ProxyScope::Scheduling.covers(Area::Messages));
        assert!(ProxyScope::SchedulingAndMessages.covers(Area::Messages));
        assert!(!ProxyScope::SchedulingAndMessages.covers(Area::Results));
        assert!(ProxyScope::All.covers(Area::Billing));
    }

    #[test]
    fn by_default_a_parents_access_narrows_when_the_child_turns_13() {
        let policy = CarePolicy::default();
        assert_eq!(policy.cap_at(12), Some(ProxyScope::All));
        assert_eq!(policy.cap_at(13), Some(ProxyScope::SchedulingAndMessages));
        assert_eq!(
            ProxyScope::All.narrowed_to(policy.cap_at(15).unwrap()),
            ProxyScope::SchedulingAndMessages
        );
        assert_eq!(policy.cap_at(40), Some(ProxyScope::All));
    }

    #[test]
    fn bands_that_skip_age_0_or_go_down_are_refused() {
        let mut policy = CarePolicy::default();
        policy.age_bands[0].from_age = 1;
        assert_eq!(policy.validate().unwrap_err().field, "ageBands");
        let mut policy = CarePolicy::default();
        policy.age_bands.swap(1, 2);
        assert_eq!(policy.validate().unwrap_err().field, "ageBands");
    }
}
