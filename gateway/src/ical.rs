//! Calendars as iCalendar (RFC 5545, issue 23, item 2), for calendar apps to subscribe to: an organization's public
//! calendar, `GET /o/{code}/calendar.ics`, only while the organization keeps its calendar public, and a learner's
//! own activities, `GET /o/{code}/my-activities.ics?token=...`. Activity codes are never in either (they prove
//! presence, and only staff see them). On the public feed `includeRss=true` adds the meetings of regularly scheduled
//! series, as the FAQ's "check the box Include RSS" does on the page, and `specialty` narrows it as there.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus};
use portal_commands::accounts;
use portal_commands::organizations::{self, OrganizationSummary};
use portal_domain::values::OrganizationCode;
use portal_projections::calendar::{self, ActivityRow, CalendarFilter};
use portal_projections::transcript::{self, TranscriptFilter};

use crate::app::AppState;
use crate::throttle::Action;

/// How far back and ahead the feed reaches, and the most activities it holds.
const PAST_DAYS: i64 = 30;
const FUTURE_DAYS: i64 = 400;
const MAX_EVENTS: i64 = 1000;

fn refused(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "code": code, "message": message }).to_string(),
    )
        .into_response()
}

/// The refusal of a feed read past the client network's budget (the same as the public `calendar` query's).
fn throttled(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> Option<Response> {
    let request = state.request_context(headers, Some(peer));
    crate::graphql::mutation::throttle(state, &request, Action::PublicCalendar, None)
        .err()
        .map(|error| refused(StatusCode::TOO_MANY_REQUESTS, error.code, &error.message))
}

/// `GET /o/{code}/calendar.ics`: the public calendar of the organization, from 30 days ago to about a year ahead.
pub async fn public_calendar(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refusal) = throttled(&state, &headers, peer) {
        return refusal;
    }
    let organization = match crate::graphql::activities::public_calendar(&state, &code).await {
        Ok(organization) => organization,
        Err(error) => return refused(StatusCode::NOT_FOUND, error.code, &error.message),
    };
    let now = Utc::now();
    let filter = CalendarFilter {
        from: Some(now - Duration::days(PAST_DAYS)),
        until: Some(now + Duration::days(FUTURE_DAYS)),
        include_series: params
            .get("includeRss")
            .is_some_and(|v| v == "true" || v == "1"),
        specialty: params
            .get("specialty")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
        text: None,
        // A cancelled activity stays in the feed as CANCELLED, so that subscribed calendars take it off.
        include_cancelled: true,
    };
    let rows = match calendar::page(&state.pool, organization.id.0, &filter, None, MAX_EVENTS).await
    {
        Ok(rows) => rows,
        Err(error) => {
            tracing::error!(%error, "calendar feed failed");
            return refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "try again shortly",
            );
        }
    };
    feed(&state, &organization, organization.name.as_str(), &rows)
}

/// `GET /o/{code}/my-activities.ics?token=...`: the activities a learner attended, for their own calendar app. The
/// token of the link `issueCalendarFeed` gave them is the only key (calendar apps send no cookie); an unknown,
/// replaced or malformed one is 404, the same as an organization that does not exist.
pub async fn my_activities(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refusal) = throttled(&state, &headers, peer) {
        return refusal;
    }
    let not_found = || {
        refused(
            StatusCode::NOT_FOUND,
            "FEED_NOT_FOUND",
            "this calendar link is not valid; ask the portal for a new one",
        )
    };
    let Ok(code) = OrganizationCode::parse(&code.to_ascii_lowercase()) else {
        return not_found();
    };
    let organization = match organizations::find_by_code(&state.store, &code).await {
        Ok(Some(organization)) => organization,
        Ok(None) => return not_found(),
        Err(error) => return unavailable(&error),
    };
    let token = params.get("token").map(String::as_str).unwrap_or_default();
    let learner = match accounts::calendar_feed_owner(&state.store, organization.id, token).await {
        Ok(Some(learner)) => learner,
        Ok(None) => return not_found(),
        Err(error) => return unavailable(&error),
    };
    let filter = TranscriptFilter {
        learner: Some(learner.0),
        ..TranscriptFilter::default()
    };
    let lines = match transcript::lines(&state.pool, organization.id.0, &filter).await {
        Ok(lines) => lines,
        Err(error) => return unavailable(&error),
    };
    let mut ids: Vec<uuid::Uuid> = lines.iter().map(|l| l.activity_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = match calendar::find_many(&state.pool, organization.id.0, &ids).await {
        Ok(rows) => rows,
        Err(error) => return unavailable(&error),
    };
    let name = format!("{}: my activities", organization.name.as_str());
    feed(&state, &organization, &name, &rows)
}

fn unavailable(error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, "calendar feed failed");
    refused(
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
        "try again shortly",
    )
}

/// The activities as an iCalendar file named `name`, each linking to its page of the organization's portal.
fn feed(
    state: &AppState,
    organization: &OrganizationSummary,
    name: &str,
    rows: &[ActivityRow],
) -> Response {
    let now = Utc::now();
    let page = |row: &ActivityRow| {
        format!(
            "{}/o/{}/calendar/{}",
            state.store.public_url.trim_end_matches('/'),
            organization.code.as_str(),
            row.id
        )
    };
    let mut calendar = Calendar::empty();
    calendar
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", "-//portal//calendar//EN"))
        .append_property(("CALSCALE", "GREGORIAN"))
        .append_property(("METHOD", "PUBLISH"))
        .name(name)
        .timezone(organization.time_zone.name());
    for row in rows {
        calendar.push(event(row, &page(row), now));
    }
    (
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}.ics\"", organization.code.as_str()),
            ),
            // A personal feed is not kept by shared caches.
            (header::CACHE_CONTROL, "private, max-age=300".to_owned()),
        ],
        calendar.to_string(),
    )
        .into_response()
}

/// One activity as an event: its title, times in UTC, place, specialty and credits, and a link to its page.
fn event(row: &ActivityRow, url: &str, now: chrono::DateTime<Utc>) -> Event {
    let mut description = Vec::new();
    if let Some(specialty) = &row.specialty {
        description.push(format!("Specialty: {specialty}"));
    }
    if row.audience == "affiliates" {
        description.push("For the organization and its affiliates.".to_owned());
    }
    if let Some(reason) = &row.cancel_reason {
        description.push(format!("Cancelled: {reason}"));
    }
    description.push(url.to_owned());
    let mut event = Event::new();
    event
        .uid(&format!("{}@portal", row.id))
        .timestamp(now)
        .summary(&row.title)
        .starts(row.starts_at)
        .ends(row.ends_at)
        .description(&description.join("\n"))
        .url(url)
        .status(if row.status == "cancelled" {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        });
    if let Some(location) = &row.location {
        event.location(location);
    }
    event.done()
}
