//! Proxy access: a patient (or staff, for a child) lets another account of the organization use their portal, for a
//! scope and until an end date. What a proxy may do at a given moment is the grant's scope narrowed by the band of
//! the organization's age rules the patient is in (a parent's full access narrows when the child turns 13).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::ProxyScope;
use crate::{AccountId, Decider, DomainEvent, ErrorCode, OrganizationId};

/// The proxy-access aggregate: one stream per patient account, holding every grant of that patient.
pub struct ProxyAccess;

/// The most proxies one patient may have.
pub const MAX_PROXIES: usize = 20;

/// A grant in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The proxy's account.
    pub proxy: AccountId,
    /// What they may use.
    pub scope: ProxyScope,
    /// The last day of access (inclusive, in the organization's zone).
    pub ends_on: NaiveDate,
}

/// A patient's grants as their events left them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProxyGrants {
    /// The organization, once anything was granted.
    pub organization: Option<OrganizationId>,
    /// Grants, one per proxy.
    pub grants: Vec<Grant>,
}

impl ProxyGrants {
    /// What `proxy` may use on `today` when the patient's age band allows at most `cap` (None: no access).
    pub fn access(
        &self,
        proxy: AccountId,
        today: NaiveDate,
        cap: Option<ProxyScope>,
    ) -> Option<ProxyScope> {
        let grant = self
            .grants
            .iter()
            .find(|g| g.proxy == proxy && today <= g.ends_on)?;
        cap.map(|cap| grant.scope.narrowed_to(cap))
    }
}

/// Who grants or revokes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "who")]
pub enum Grantor {
    /// The patient.
    Patient,
    /// Staff (for a child, or a patient who cannot do it themselves).
    Staff {
        /// The staff member.
        by: AccountId,
    },
    /// The proxy, giving their access up.
    Proxy,
}

/// Commands on a patient's proxies.
#[derive(Clone, Debug)]
pub enum ProxyCommand {
    /// Grants (or changes) access.
    Grant {
        /// The organization.
        organization: OrganizationId,
        /// The patient's account.
        patient: AccountId,
        /// The proxy's account.
        proxy: AccountId,
        /// What they may use.
        scope: ProxyScope,
        /// The last day of access.
        ends_on: NaiveDate,
        /// Today in the organization's zone.
        today: NaiveDate,
        /// Who grants.
        by: Grantor,
    },
    /// Ends access.
    Revoke {
        /// The proxy's account.
        proxy: AccountId,
        /// Who ends it.
        by: Grantor,
    },
}

/// Events of a patient's proxies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum ProxyEvent {
    /// Access was granted or changed.
    ProxyAccessGranted(ProxyAccessGranted),
    /// Access ended.
    ProxyAccessRevoked(ProxyAccessRevoked),
}

/// A proxy was given access to a patient's portal (v1); a grant to the same proxy replaces theirs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProxyAccessGranted {
    /// The organization.
    pub organization_id: OrganizationId,
    /// The patient's account.
    pub patient_id: AccountId,
    /// The proxy's account.
    pub proxy_id: AccountId,
    /// What they may use.
    pub scope: ProxyScope,
    /// The last day.
    pub ends_on: NaiveDate,
    /// Who granted it.
    pub by: Grantor,
    /// When.
    pub at: DateTime<Utc>,
}

/// A proxy's access ended (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProxyAccessRevoked {
    /// The proxy's account.
    pub proxy_id: AccountId,
    /// Who ended it.
    pub by: Grantor,
    /// When.
    pub at: DateTime<Utc>,
}

impl DomainEvent for ProxyEvent {
    fn event_type(&self) -> &'static str {
        match self {
            ProxyEvent::ProxyAccessGranted(_) => "ProxyAccessGranted",
            ProxyEvent::ProxyAccessRevoked(_) => "ProxyAccessRevoked",
        }
    }
}

/// Why a proxy command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    /// A patient cannot be their own proxy.
    #[error("a patient cannot be their own proxy")]
    SelfGrant,
    /// The end date has passed.
    #[error("the end date is today or later")]
    EndsInPast,
    /// No access to end.
    #[error("this account has no access to this patient's portal")]
    NotGranted,
    /// Too many proxies.
    #[error("a patient has at most 20 proxies")]
    TooMany,
    /// The stream belongs to another organization.
    #[error("no such patient")]
    WrongOrganization,
}

impl ErrorCode for ProxyError {
    fn code(&self) -> &'static str {
        match self {
            ProxyError::SelfGrant => "PROXY_IS_PATIENT",
            ProxyError::EndsInPast => "END_DATE_INVALID",
            ProxyError::NotGranted => "PROXY_NOT_FOUND",
            ProxyError::TooMany => "TOO_MANY_PROXIES",
            ProxyError::WrongOrganization => "PATIENT_NOT_FOUND",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ProxyError::SelfGrant | ProxyError::NotGranted => Some("proxyId"),
            ProxyError::EndsInPast => Some("endsOn"),
            ProxyError::TooMany => None,
            ProxyError::WrongOrganization => Some("patientId"),
        }
    }
}

impl Decider for ProxyAccess {
    type State = ProxyGrants;
    type Command = ProxyCommand;
    type Event = ProxyEvent;
    type Error = ProxyError;
    const CATEGORY: &'static str = "proxy";

    fn decide(
        state: &Self::State,
        command: Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        match command {
            ProxyCommand::Grant {
                organization,
                patient,
                proxy,
                scope,
                ends_on,
                today,
                by,
            } => {
                if state.organization.is_some_and(|o| o != organization) {
                    return Err(ProxyError::WrongOrganization);
                }
                if proxy == patient {
                    return Err(ProxyError::SelfGrant);
                }
                if ends_on < today {
                    return Err(ProxyError::EndsInPast);
                }
                let existing = state.grants.iter().find(|g| g.proxy == proxy);
                if existing.is_some_and(|g| g.scope == scope && g.ends_on == ends_on) {
                    return Ok(vec![]);
                }
                if existing.is_none() && state.grants.len() >= MAX_PROXIES {
                    return Err(ProxyError::TooMany);
                }
                Ok(vec![ProxyEvent::ProxyAccessGranted(ProxyAccessGranted {
                    organization_id: organization,
                    patient_id: patient,
                    proxy_id: proxy,
                    scope,
                    ends_on,
                    by,
                    at: now,
                })])
            }
            ProxyCommand::Revoke { proxy, by } => {
                if !state.grants.iter().any(|g| g.proxy == proxy) {
                    return Err(ProxyError::NotGranted);
                }
                Ok(vec![ProxyEvent::ProxyAccessRevoked(ProxyAccessRevoked {
                    proxy_id: proxy,
                    by,
                    at: now,
                })])
            }
        }
    }

    fn evolve(mut state: Self::State, event: &Self::Event) -> Self::State {
        match event {
            ProxyEvent::ProxyAccessGranted(e) => {
                state.organization = Some(e.organization_id);
                state.grants.retain(|g| g.proxy != e.proxy_id);
                state.grants.push(Grant {
                    proxy: e.proxy_id,
                    scope: e.scope,
                    ends_on: e.ends_on,
                });
            }
            ProxyEvent::ProxyAccessRevoked(e) => state.grants.retain(|g| g.proxy != e.proxy_id),
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::care::CarePolicy;
    use crate::decider::testing::given;
    use chrono::TimeZone;
    use uuid::Uuid;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn patient() -> AccountId {
        AccountId(Uuid::from_u128(3))
    }

    fn parent() -> AccountId {
        AccountId(Uuid::from_u128(4))
    }

    fn grant(scope: ProxyScope, ends_on: NaiveDate) -> ProxyCommand {
        ProxyCommand::Grant {
            organization: OrganizationId(Uuid::from_u128(1)),
            patient: patient(),
            proxy: parent(),
            scope,
            ends_on,
            today: day(2026, 11, 2),
            by: Grantor::Staff {
                by: AccountId(Uuid::from_u128(9)),
            },
        }
    }

    fn granted(scope: ProxyScope) -> ProxyGrants {
        let events =
            ProxyAccess::decide(&ProxyGrants::default(), grant(scope, day(2030, 1, 1)), t0())
                .unwrap();
        ProxyAccess::fold(events.iter())
    }

    #[test]
    fn a_grant_gives_its_scope_until_its_end_date() {
        let grants = granted(ProxyScope::Scheduling);
        let cap = Some(ProxyScope::All);
        assert_eq!(
            grants.access(parent(), day(2030, 1, 1), cap),
            Some(ProxyScope::Scheduling)
        );
        assert_eq!(grants.access(parent(), day(2030, 1, 2), cap), None);
    }

    #[test]
    fn the_age_band_narrows_a_full_grant() {
        let policy = CarePolicy::default();
        let grants = granted(ProxyScope::All);
        assert_eq!(
            grants.access(parent(), day(2027, 1, 1), policy.cap_at(12)),
            Some(ProxyScope::All)
        );
        assert_eq!(
            grants.access(parent(), day(2027, 1, 1), policy.cap_at(13)),
            Some(ProxyScope::SchedulingAndMessages)
        );
    }

    #[test]
    fn a_patient_cannot_be_their_own_proxy() {
        let ProxyCommand::Grant {
            organization,
            scope,
            ends_on,
            today,
            by,
            ..
        } = grant(ProxyScope::All, day(2030, 1, 1))
        else {
            panic!()
        };
        given::<ProxyAccess>(vec![])
            .when(
                ProxyCommand::Grant {
                    organization,
                    patient: patient(),
                    proxy: patient(),
                    scope,
                    ends_on,
                    today,
                    by,
                },
                t0(),
            )
            .then_error(ProxyError::SelfGrant);
    }

    #[test]
    fn a_grant_ending_before_today_is_refused() {
        given::<ProxyAccess>(vec![])
            .when(grant(ProxyScope::All, day(2026, 11, 1)), t0())
            .then_error(ProxyError::EndsInPast);
    }

    #[test]
    fn a_revoked_proxy_has_no_access() {
        let events = ProxyAccess::decide(
            &ProxyGrants::default(),
            grant(ProxyScope::All, day(2030, 1, 1)),
            t0(),
        )
        .unwrap();
        let revoked = ProxyAccess::decide(
            &ProxyAccess::fold(events.iter()),
            ProxyCommand::Revoke {
                proxy: parent(),
                by: Grantor::Proxy,
            },
            t0(),
        )
        .unwrap();
        let state = ProxyAccess::fold(events.iter().chain(revoked.iter()));
        assert_eq!(
            state.access(parent(), day(2027, 1, 1), Some(ProxyScope::All)),
            None
        );
        given::<ProxyAccess>(events.into_iter().chain(revoked))
            .when(
                ProxyCommand::Revoke {
                    proxy: parent(),
                    by: Grantor::Patient,
                },
                t0(),
            )
            .then_error(ProxyError::NotGranted);
    }
}
