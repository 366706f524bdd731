//! Care teams: the staff and providers behind a provider or care team of the catalogue. Its members share the pool of
//! conversations addressed to it, and any of them may pick one up.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{AccountId, Decider, DomainEvent, ErrorCode, OrganizationId};

/// The care-team aggregate: one stream per provider or care team of the catalogue.
pub struct CareTeam;

/// The most members one team has.
pub const MAX_MEMBERS: usize = 200;

/// A team as its events left it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CareTeamState {
    /// The organization, once members were set.
    pub organization: Option<OrganizationId>,
    /// Its members.
    pub members: Vec<AccountId>,
}

impl CareTeamState {
    /// True when `account` is a member.
    pub fn has(&self, account: AccountId) -> bool {
        self.members.contains(&account)
    }
}

/// Sets who is on the team (staff, after checking each is staff or provider of the organization).
#[derive(Clone, Debug)]
pub struct SetMembers {
    /// The organization.
    pub organization: OrganizationId,
    /// The provider or care team of the catalogue.
    pub team: Uuid,
    /// Everyone on it.
    pub members: Vec<AccountId>,
    /// The staff member.
    pub by: AccountId,
}

/// Events of a care team.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum CareTeamEvent {
    /// The members were set.
    CareTeamMembersSet(CareTeamMembersSet),
}

/// Who is on a care team (v1): the whole list as it now is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CareTeamMembersSet {
    /// The organization.
    pub organization_id: OrganizationId,
    /// The provider or care team of the catalogue.
    pub team_id: Uuid,
    /// Its members.
    pub members: Vec<AccountId>,
    /// The staff member.
    pub by: AccountId,
    /// When.
    pub at: DateTime<Utc>,
}

impl DomainEvent for CareTeamEvent {
    fn event_type(&self) -> &'static str {
        "CareTeamMembersSet"
    }
}

/// Why a team's members cannot be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CareTeamError {
    /// Too many members.
    #[error("a care team has at most 200 members")]
    TooMany,
    /// The team belongs to another organization.
    #[error("no such care team")]
    NotFound,
}

impl ErrorCode for CareTeamError {
    fn code(&self) -> &'static str {
        match self {
            CareTeamError::TooMany => "TOO_MANY_MEMBERS",
            CareTeamError::NotFound => "CARE_TEAM_NOT_FOUND",
        }
    }

    fn field(&self) -> Option<&'static str> {
        Some("memberIds")
    }
}

impl Decider for CareTeam {
    type State = CareTeamState;
    type Command = SetMembers;
    type Event = CareTeamEvent;
    type Error = CareTeamError;
    const CATEGORY: &'static str = "careteam";

    fn decide(
        state: &Self::State,
        command: Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        if state
            .organization
            .is_some_and(|o| o != command.organization)
        {
            return Err(CareTeamError::NotFound);
        }
        let mut members = command.members;
        members.sort();
        members.dedup();
        if members.len() > MAX_MEMBERS {
            return Err(CareTeamError::TooMany);
        }
        let mut current = state.members.clone();
        current.sort();
        if state.organization.is_some() && current == members {
            return Ok(vec![]);
        }
        Ok(vec![CareTeamEvent::CareTeamMembersSet(
            CareTeamMembersSet {
                organization_id: command.organization,
                team_id: command.team,
                members,
                by: command.by,
                at: now,
            },
        )])
    }

    fn evolve(_state: Self::State, event: &Self::Event) -> Self::State {
        let CareTeamEvent::CareTeamMembersSet(e) = event;
        CareTeamState {
            organization: Some(e.organization_id),
            members: e.members.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decider::testing::given;
    use chrono::TimeZone;

    fn set(members: &[u128]) -> SetMembers {
        SetMembers {
            organization: OrganizationId(Uuid::from_u128(1)),
            team: Uuid::from_u128(2),
            members: members
                .iter()
                .map(|m| AccountId(Uuid::from_u128(*m)))
                .collect(),
            by: AccountId(Uuid::from_u128(9)),
        }
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap()
    }

    #[test]
    fn setting_the_same_members_again_records_nothing() {
        let first = CareTeam::decide(&CareTeamState::default(), set(&[5, 4, 4]), at()).unwrap();
        let CareTeamEvent::CareTeamMembersSet(e) = &first[0];
        assert_eq!(
            e.members,
            vec![AccountId(Uuid::from_u128(4)), AccountId(Uuid::from_u128(5))],
            "sorted, once each"
        );
        given::<CareTeam>(first)
            .when(set(&[4, 5]), at())
            .then(vec![]);
    }

    #[test]
    fn another_organizations_team_cannot_be_set() {
        let first = CareTeam::decide(&CareTeamState::default(), set(&[4]), at()).unwrap();
        let mut other = set(&[4]);
        other.organization = OrganizationId(Uuid::from_u128(7));
        given::<CareTeam>(first)
            .when(other, at())
            .then_error(CareTeamError::NotFound);
    }
}
