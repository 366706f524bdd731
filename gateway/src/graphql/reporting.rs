//! Board reporting: a learner's consent (with their board id), and the completions staff report through ACCME's
//! PARS.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use portal_commands::accounts;
use portal_commands::handler::Actor;
use portal_domain::values::{self as v, BoardReporting};
use portal_projections::reporting::{self, Completion};
use portal_projections::runner::wait_for;
use uuid::Uuid;

use super::activities::CreditType;
use super::changed::ChangedAccount;
use super::errors::ApiError;
use super::query::{principal, projection_error, staff, READ_YOUR_WRITES_TIMEOUT};
use super::types::LogPosition;
use crate::app::AppState;
use crate::request::RequestContext;

mirror_enum!(
    /// A certifying or licensing board.
    CertifyingBoard => v::CertifyingBoard {
        /** American Board of Internal Medicine. */ Abim, /** American Board of Anesthesiology. */ Aba,
        /** American Board of Pediatrics. */ Abp, /** American Board of Ophthalmology. */ Abo,
        /** American Board of Otolaryngology – Head and Neck Surgery. */ Abohns,
        /** American Board of Pathology. */ Abpath, /** American Board of Surgery. */ Abs,
        /** A state medical licensing board. */ StateLicensingBoard
    }
);

/// The consent to report completions to a board.
#[derive(InputObject)]
pub struct BoardReportingInput {
    /// The board.
    pub board: CertifyingBoard,
    /// Your id (or licence number) at the board.
    pub board_id: String,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// A learner's consent, as the account shows it.
#[derive(SimpleObject)]
pub struct BoardReportingConsent {
    /// The consent (one per learner).
    pub id: ID,
    /// The board's abbreviation (ABIM, STATE, ...).
    pub board: String,
    /// The learner's id there.
    pub board_id: String,
    /// When they consented.
    pub consented_at: DateTime<Utc>,
}

/// What a consent mutation did.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct BoardReportingPayload {
    /// The log position produced; null when nothing changed.
    pub position: Option<LogPosition>,
    #[graphql(skip)]
    changed: ChangedAccount,
}

answers_account!(
    BoardReportingPayload,
    "Your account as it now is, with its `boardReporting`."
);

/// One completion to report, in the fields PARS asks for.
#[derive(SimpleObject)]
pub struct BoardCompletion {
    /// The completion (of one learner, activity, board and credit type).
    pub id: ID,
    /// The board's abbreviation.
    pub board: String,
    /// The learner's id at the board.
    pub board_id: String,
    /// The learner.
    pub learner_id: ID,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Birth month (1 to 12).
    pub birth_month: Option<i32>,
    /// Birth day of the month.
    pub birth_day: Option<i32>,
    /// The activity.
    pub activity_id: ID,
    /// Its title.
    pub activity_title: String,
    /// The completion date (the activity's date).
    pub completion_date: NaiveDate,
    /// Credit type.
    pub credit_type: Option<CreditType>,
    /// Amount (`1.00`).
    pub amount: String,
}

impl From<Completion> for BoardCompletion {
    fn from(c: Completion) -> Self {
        Self {
            id: super::ids::derived(
                "BoardCompletion",
                &[&c.learner_id, &c.activity_id, &c.board, &c.credit_type],
            ),
            board: c.board,
            board_id: c.board_id,
            learner_id: ID(c.learner_id.to_string()),
            first_name: c.first_name,
            last_name: c.last_name,
            birth_month: c.birth_month.and_then(|m| i32::try_from(m).ok()),
            birth_day: c.birth_day.and_then(|d| i32::try_from(d).ok()),
            activity_id: ID(c.activity_id.to_string()),
            activity_title: c.activity_title,
            completion_date: c.completion_date,
            credit_type: v::CreditType::from_stored(&c.credit_type).map(Into::into),
            amount: c.amount,
        }
    }
}

/// Board-reporting mutations.
#[derive(Default)]
pub struct ReportingMutation;

#[Object]
impl ReportingMutation {
    /// Consents to report your completions to a board, with your id there (replaces an earlier consent).
    async fn consent_to_board_reporting(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: BoardReportingInput,
    ) -> Result<BoardReportingPayload> {
        let principal = principal(ctx).await?;
        let reporting = BoardReporting::new(input.board.into(), &input.board_id)
            .map_err(|e| ApiError::new("BOARD_ID_INVALID", e.rule).on("input.boardId"))?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let position =
            accounts::set_board_reporting(&state.store, &principal, Some(reporting), &command)
                .await
                .map_err(ApiError::from_command)?;
        Ok(BoardReportingPayload {
            position: position.map(LogPosition),
            changed: ChangedAccount::own(&principal, position),
        })
    }

    /// Withdraws your consent: your completions are no longer reported.
    async fn withdraw_board_reporting(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<BoardReportingPayload> {
        let principal = principal(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let command = request.command(Actor::Account(principal.account.0), command_id);
        let position = accounts::set_board_reporting(&state.store, &principal, None, &command)
            .await
            .map_err(ApiError::from_command)?;
        Ok(BoardReportingPayload {
            position: position.map(LogPosition),
            changed: ChangedAccount::own(&principal, position),
        })
    }
}

/// Board-reporting queries.
#[derive(Default)]
pub struct ReportingQuery;

#[Object]
impl ReportingQuery {
    /// Completions to report (staff): awarded credit of learners who consented, for activities dated from `from`
    /// to `to`, or one activity. `GET /reports/board-completions.csv` gives the same as a file. With `atLeast`,
    /// waits until the accounts and transcript read models have applied that position.
    async fn board_completions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Completions from this date.")] from: Option<NaiveDate>,
        #[graphql(desc = "Completions up to this date.")] to: Option<NaiveDate>,
        #[graphql(desc = "Only this activity.")] activity_id: Option<ID>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<BoardCompletion>> {
        let principal = staff(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        if let Some(position) = at_least {
            for name in [
                portal_projections::accounts::NAME,
                portal_projections::transcript::NAME,
            ] {
                wait_for(&state.pool, name, position.0, READ_YOUR_WRITES_TIMEOUT)
                    .await
                    .map_err(projection_error)?;
            }
        }
        let activity = activity_id
            .as_ref()
            .map(|id| super::activities::activity_id(id, "activityId"))
            .transpose()?;
        let rows = reporting::completions(
            &state.pool,
            principal.organization.0,
            from,
            to,
            activity.map(|a| a.0),
        )
        .await
        .map_err(projection_error)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
