//! CSV downloads: a transcript (`GET /transcript.csv`) and the board-reporting completions
//! (`GET /reports/board-completions.csv`), authenticated as the GraphQL API is: a bearer token, or the browser's
//! session cookie on a link of the portal's own pages.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use portal_commands::sessions;
use portal_domain::account::Role;
use portal_domain::session::Principal;
use portal_domain::values::CreditType;
use portal_projections::transcript::{self, TranscriptFilter};
use portal_projections::{reporting, ProjectionError};
use uuid::Uuid;

use crate::app::AppState;

/// A refused download: the status, a stable code and a message, as JSON.
#[derive(Debug)]
pub struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::json!({ "code": self.code, "message": self.message }).to_string(),
        )
            .into_response()
    }
}

fn refuse(status: StatusCode, code: &'static str, message: &str) -> Refusal {
    Refusal {
        status,
        code,
        message: message.to_owned(),
    }
}

fn failed(error: ProjectionError) -> Refusal {
    tracing::error!(%error, "export failed");
    refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
        "try again shortly",
    )
}

async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<Principal, Refusal> {
    let request = state.request_context(headers, Some(peer));
    let Some(token) = request.bearer.as_deref() else {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "sign in, or send the session token as a bearer token",
        ));
    };
    // A download the browser's cookie authenticates must be asked for by the portals' own pages, as every other
    // request the cookie signs in (a staff download is a read the access log records).
    if request.cookie_session
        && !crate::cookies::from_allowed_origin(headers, state.allowed_origins())
    {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "CROSS_SITE_REQUEST_REFUSED",
            "a download signed in by the session cookie must come from the portal's own pages",
        ));
    }
    sessions::authenticate(&state.store, token, request.now)
        .await
        .map_err(|_| {
            refuse(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "the session is not valid",
            )
        })
}

/// A cell as spreadsheets will read it: text that starts like a formula is prefixed with `'`, so that a title
/// such as `=HYPERLINK(...)` stays text.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn csv_response(filename: &str, rows: Vec<Vec<String>>) -> Result<Response, Refusal> {
    let broken = |error: &dyn std::fmt::Display| {
        tracing::error!(%error, "could not write a CSV file");
        refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "could not write the file",
        )
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer
            .write_record(row.iter().map(|c| cell(c)))
            .map_err(|e| broken(&e))?;
    }
    let bytes = writer.into_inner().map_err(|e| broken(&e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn date(params: &HashMap<String, String>, name: &str) -> Result<Option<NaiveDate>, Refusal> {
    params
        .get(name)
        .filter(|v| !v.is_empty())
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
                refuse(
                    StatusCode::BAD_REQUEST,
                    "DATE_INVALID",
                    &format!("{name} is a date such as 2026-12-01"),
                )
            })
        })
        .transpose()
}

fn id(params: &HashMap<String, String>, name: &str) -> Result<Option<Uuid>, Refusal> {
    params
        .get(name)
        .filter(|v| !v.is_empty())
        .map(|v| {
            Uuid::parse_str(v).map_err(|_| {
                refuse(
                    StatusCode::BAD_REQUEST,
                    "ID_INVALID",
                    &format!("{name} is not an id"),
                )
            })
        })
        .transpose()
}

fn label(stored: &str) -> String {
    CreditType::from_stored(stored).map_or_else(|| stored.to_owned(), |t| t.label().to_owned())
}

/// `GET /transcript.csv[?learnerId=&from=&to=]`: your transcript, or (staff) a learner's of your organization: one
/// row per activity and credit type, then one total row per year and credit type.
pub async fn transcript_csv(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    let principal = caller(&state, &headers, peer).await?;
    let learner = match id(&params, "learnerId")? {
        Some(learner) if learner != principal.account.0 && principal.role != Role::Staff => {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "your account may not do this",
            ))
        }
        learner => learner.unwrap_or(principal.account.0),
    };
    let (from, to) = (date(&params, "from")?, date(&params, "to")?);
    let filter = TranscriptFilter {
        learner: Some(learner),
        from,
        to,
        ..TranscriptFilter::default()
    };
    let lines = transcript::lines(&state.pool, principal.organization.0, &filter)
        .await
        .map_err(failed)?;
    let totals = transcript::totals(&state.pool, principal.organization.0, learner)
        .await
        .map_err(failed)?;
    let mut rows = vec![[
        "Row",
        "Year",
        "Date",
        "Activity",
        "Credit Type",
        "Amount",
        "Status",
        "Pending Reasons",
        "Channel",
        "Recorded At",
        "Awarded At",
    ]
    .map(str::to_owned)
    .to_vec()];
    for line in lines {
        rows.push(vec![
            "credit".to_owned(),
            line.date.format("%Y").to_string(),
            line.date.to_string(),
            line.title,
            label(&line.credit_type),
            line.amount,
            line.status,
            line.pending_reasons.join(" "),
            line.channel,
            line.recorded_at.to_rfc3339(),
            line.awarded_at.map(|a| a.to_rfc3339()).unwrap_or_default(),
        ]);
    }
    for total in totals {
        rows.push(vec![
            "total".to_owned(),
            total.year.to_string(),
            String::new(),
            String::new(),
            label(&total.credit_type),
            total.awarded,
            "awarded".to_owned(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]);
        if total.pending != "0.00" {
            rows.push(vec![
                "total".to_owned(),
                total.year.to_string(),
                String::new(),
                String::new(),
                label(&total.credit_type),
                total.pending,
                "pending".to_owned(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
    }
    csv_response("transcript.csv", rows)
}

/// `GET /reports/board-completions.csv[?from=&to=&activityId=]` (staff): completions of learners who consented,
/// in the columns of a PARS learner-completion upload.
pub async fn board_completions_csv(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    let principal = caller(&state, &headers, peer).await?;
    if principal.role != Role::Staff {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "your account may not do this",
        ));
    }
    let (from, to) = (date(&params, "from")?, date(&params, "to")?);
    let activity = id(&params, "activityId")?;
    let completions =
        reporting::completions(&state.pool, principal.organization.0, from, to, activity)
            .await
            .map_err(failed)?;
    let mut rows = vec![[
        "Board",
        "Board ID",
        "First Name",
        "Last Name",
        "Birth Month",
        "Birth Day",
        "Activity ID",
        "Activity Title",
        "Completion Date",
        "Credit Type",
        "Credits",
    ]
    .map(str::to_owned)
    .to_vec()];
    for c in completions {
        rows.push(vec![
            c.board,
            c.board_id,
            c.first_name.unwrap_or_default(),
            c.last_name.unwrap_or_default(),
            c.birth_month.map(|m| format!("{m:02}")).unwrap_or_default(),
            c.birth_day.map(|d| format!("{d:02}")).unwrap_or_default(),
            c.activity_id.to_string(),
            c.activity_title,
            c.completion_date.format("%m/%d/%Y").to_string(),
            label(&c.credit_type),
            c.amount,
        ]);
    }
    csv_response("board-completions.csv", rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_stay_text() {
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("Grand Rounds"), "Grand Rounds");
    }
}
