//! Proxy access: granting and revoking another account's access to a patient's portal, and what a proxy may use
//! at a given moment.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use portal_domain::account::{Account, Role};
use portal_domain::care::proxy::{Grantor, ProxyAccess, ProxyCommand, ProxyGrants};
use portal_domain::care::ProxyScope;
use portal_domain::values::MessageKind;
use portal_domain::{AccountId, Decider};

use super::{patient, position, rejected, run, CareError, Result};
use crate::handler::{CommandContext, Plan};
use crate::log::{EventLog, StreamId};
use crate::organizations::OrganizationSummary;
use crate::store::Store;

/// A patient's proxies' stream.
pub fn stream(patient: AccountId) -> StreamId {
    StreamId::new(ProxyAccess::CATEGORY, patient.0)
}

/// A grant to make.
#[derive(Clone, Debug)]
pub struct NewGrant {
    /// The patient's account.
    pub patient: AccountId,
    /// The proxy's account (an active patient-portal account of the organization).
    pub proxy: AccountId,
    /// What they may use.
    pub scope: ProxyScope,
    /// The last day.
    pub ends_on: NaiveDate,
}

/// Grants (or changes) a proxy's access to a patient's portal.
pub async fn grant<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    new: NewGrant,
    by: Grantor,
    ctx: &CommandContext,
) -> Result<i64> {
    let profile = patient(store, organization, new.patient).await?;
    let (proxy, _) = store
        .load::<Account>(&crate::accounts::stream(new.proxy))
        .await?;
    let fits = proxy
        .profile()
        .is_some_and(|p| p.organization == organization.id && p.role == Role::Patient);
    if !fits {
        return Err(rejected(CareError::AccountUnfit(
            "proxyId",
            "a proxy has a patient-portal account of the organization",
        )));
    }
    let today = organization.time_zone.local(ctx.now).date();
    // The patient is told whenever someone gains access to their portal, whoever granted it.
    let notices = super::notice(
        &profile,
        MessageKind::ProxyAccessGranted,
        None,
        serde_json::json!({ "ends": new.ends_on.to_string() }),
        ctx.now,
    );
    let executed = run::<L, ProxyAccess>(
        store,
        &stream(new.patient),
        Some(new.patient),
        ctx,
        "GrantProxyAccess",
        &[format!("{new:?}{by:?}").as_bytes()],
        |_| {
            Ok(Plan::with_outbox(
                organization.id.0,
                ProxyCommand::Grant {
                    organization: organization.id,
                    patient: new.patient,
                    proxy: new.proxy,
                    scope: new.scope,
                    ends_on: new.ends_on,
                    today,
                    by,
                },
                notices.clone(),
            ))
        },
    )
    .await?;
    Ok(position(&executed))
}

/// Ends a proxy's access (the patient, staff, or the proxy giving it up).
pub async fn revoke<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    of: AccountId,
    proxy: AccountId,
    by: Grantor,
    ctx: &CommandContext,
) -> Result<i64> {
    patient(store, organization, of).await?;
    let executed = run::<L, ProxyAccess>(
        store,
        &stream(of),
        Some(of),
        ctx,
        "RevokeProxyAccess",
        &[of.0.as_bytes(), proxy.0.as_bytes()],
        |_| {
            Ok(Plan::command(
                organization.id.0,
                ProxyCommand::Revoke { proxy, by },
            ))
        },
    )
    .await?;
    Ok(position(&executed))
}

/// A patient's grants as they stand.
pub async fn grants<L: EventLog>(store: &Store<L>, patient: AccountId) -> Result<ProxyGrants> {
    Ok(store.load::<ProxyAccess>(&stream(patient)).await?.0)
}

/// Age in whole years on `today` of someone born on `born`.
pub fn age_on(born: NaiveDate, today: NaiveDate) -> u32 {
    let mut years = today.year() - born.year();
    if (today.month(), today.day()) < (born.month(), born.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

/// What `proxy` may use of `patient`'s portal at `now`: the grant in force narrowed by the organization's age band
/// for the patient (born on `born`; when that is not known, the band of adults). None: no access.
pub async fn access<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    patient: AccountId,
    proxy: AccountId,
    born: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<Option<ProxyScope>> {
    let grants = grants(store, patient).await?;
    if grants.organization != Some(organization.id) {
        return Ok(None);
    }
    let today = organization.time_zone.local(now).date();
    let age = born.map_or(u32::MAX, |born| age_on(born, today));
    Ok(grants.access(proxy, today, organization.care_policy.cap_at(age)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_turns_13_on_their_birthday() {
        let born = NaiveDate::from_ymd_opt(2013, 11, 23).unwrap();
        assert_eq!(
            age_on(born, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()),
            12
        );
        assert_eq!(
            age_on(born, NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()),
            13
        );
    }
}
