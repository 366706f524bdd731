//! Test results: recorded by staff, providers or an upstream system's account, held back until a provider releases
//! them or the organization's delay for the test passes; patients see released ones and each test's history.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use portal_commands::care::results;
use portal_commands::handler::Actor;
use portal_domain::care::test_result::{NewResult, ReleasedBy, ResultValue};
use portal_domain::care::Area;
use portal_domain::values::{ReferenceRange, ResultFlag, ResultReport, TestCode, TestName};
use portal_domain::{AccountId, OrganizationId};
use portal_projections::care::results::{self as read, ResultRow};
use portal_projections::care::Record;
use uuid::Uuid;

use super::{
    acting, audited_read, care_team, caught_up, provider, uuid, CareObject, CarePayload, CareReader,
};
use crate::graphql::activities::organization;
use crate::graphql::errors::ApiError;
use crate::graphql::inputs::Checked;
use crate::graphql::mutation::context;
use crate::graphql::query::projection_error;
use crate::graphql::types::LogPosition;

/// How a result compares with its reference range.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Flag {
    /// Within range.
    Normal,
    /// Below.
    Low,
    /// Above.
    High,
    /// Outside range, not a number.
    Abnormal,
    /// Needs attention at once.
    Critical,
}

impl From<Flag> for ResultFlag {
    fn from(flag: Flag) -> Self {
        match flag {
            Flag::Normal => ResultFlag::Normal,
            Flag::Low => ResultFlag::Low,
            Flag::High => ResultFlag::High,
            Flag::Abnormal => ResultFlag::Abnormal,
            Flag::Critical => ResultFlag::Critical,
        }
    }
}

/// A result to record: give `value` (with `unit`) for a measurement, or `report` for words.
#[derive(InputObject)]
pub struct RecordTestResultInput {
    /// The patient's account.
    pub patient_id: ID,
    /// The test's code (`HBA1C`, `LOINC:4548-4`): its history is kept by code.
    pub test_code: String,
    /// The test's name.
    pub test_name: String,
    /// A measured value (`6.1`, `<0.01`).
    pub value: Option<String>,
    /// Its unit (`%`).
    pub unit: Option<String>,
    /// A report in words (imaging, pathology).
    pub report: Option<String>,
    /// The reference range (`4.0-5.6 %`).
    pub reference_range: Option<String>,
    /// The flag.
    pub flag: Flag,
    /// The ordering provider or care team (from the catalogue).
    pub ordering_provider_id: ID,
    /// When the specimen was taken or the study done.
    pub observed_at: DateTime<Utc>,
    /// Idempotency key (an upstream system sends its own result id's UUID to make retries safe).
    pub command_id: Option<Uuid>,
}

/// A test result.
#[derive(SimpleObject)]
pub struct TestResultView {
    /// The result.
    pub id: ID,
    /// The patient's account.
    pub patient_id: ID,
    /// The patient's name, for the care team (null once the patient's data was erased).
    pub patient_name: Option<String>,
    /// The test's code.
    pub test_code: String,
    /// Its name (null once the patient's data was erased).
    pub test_name: Option<String>,
    /// A measured value.
    pub value: Option<String>,
    /// Its unit.
    pub unit: Option<String>,
    /// A report in words.
    pub report: Option<String>,
    /// `normal`, `low`, `high`, `abnormal` or `critical`.
    pub flag: Option<String>,
    /// The reference range.
    pub reference_range: Option<String>,
    /// The ordering provider or care team.
    pub ordering_provider_id: ID,
    /// Its name.
    pub ordering_provider: String,
    /// Observed.
    pub observed_at: DateTime<Utc>,
    /// Recorded.
    pub recorded_at: DateTime<Utc>,
    /// When it is released by itself (the care team's view).
    pub release_due_at: Option<DateTime<Utc>>,
    /// Released to the patient (null: held back).
    pub released_at: Option<DateTime<Utc>>,
}

fn view(row: ResultRow) -> TestResultView {
    TestResultView {
        id: ID(row.id.to_string()),
        patient_id: ID(row.patient_id.to_string()),
        patient_name: row.patient_name,
        test_code: row.test_code,
        test_name: row.test_name,
        value: row.value,
        unit: row.unit,
        report: row.report,
        flag: row.flag,
        reference_range: row.reference_range,
        ordering_provider_id: ID(row.ordering_provider_id.to_string()),
        ordering_provider: row.ordering_provider,
        observed_at: row.observed_at,
        recorded_at: row.recorded_at,
        release_due_at: row.release_due_at,
        released_at: row.released_at,
    }
}

fn parse(
    input: &RecordTestResultInput,
    organization: OrganizationId,
) -> Result<NewResult, ApiError> {
    let mut checked = Checked::default();
    let patient = uuid(&input.patient_id, "input.patientId")?;
    let provider = uuid(&input.ordering_provider_id, "input.orderingProviderId")?;
    let code = checked.value(
        "testCode",
        "TEST_CODE_INVALID",
        TestCode::parse(&input.test_code),
    );
    let name = checked.value(
        "testName",
        "TEST_NAME_INVALID",
        TestName::parse(&input.test_name),
    );
    let value = match (input.value.as_deref(), input.report.as_deref()) {
        (Some(value), None) => checked.value(
            "value",
            "RESULT_VALUE_INVALID",
            ResultValue::measured(value, input.unit.as_deref()),
        ),
        (None, Some(report)) => checked
            .value(
                "report",
                "RESULT_VALUE_INVALID",
                ResultReport::parse(report),
            )
            .map(|text| ResultValue::Report { text }),
        _ => {
            checked.refuse(
                "value",
                "RESULT_VALUE_INVALID",
                "give either value (a measurement) or report (words)".to_owned(),
            );
            None
        }
    };
    let range = match input
        .reference_range
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        None => Some(None),
        Some(raw) => checked
            .value(
                "referenceRange",
                "REFERENCE_RANGE_INVALID",
                ReferenceRange::parse(raw),
            )
            .map(Some),
    };
    checked.finish()?;
    match (code, name, value, range) {
        (Some(test_code), Some(test_name), Some(value), Some(reference_range)) => Ok(NewResult {
            id: Uuid::nil(),
            organization,
            patient: AccountId(patient),
            test_code,
            test_name,
            value,
            reference_range,
            flag: input.flag.into(),
            ordering_provider: provider,
            observed_at: input.observed_at,
        }),
        _ => Err(ApiError::new("ARGUMENT_INVALID", "the input is invalid")),
    }
}

/// Test result `id` as `reader` sees it (the patient's side only once released); the read goes to the access log.
pub async fn read_one(
    ctx: &Context<'_>,
    reader: &CareReader,
    id: Uuid,
) -> Result<Option<TestResultView>, ApiError> {
    let state = context(ctx).0;
    let organization = reader.organization();
    let Some(patient) = reader.patient_of(ctx, Record::TestResult, id).await? else {
        return Ok(None);
    };
    let patient_side = reader.patient_side();
    let rows = read::of_patient(&state.pool, organization, patient, None, patient_side)
        .await
        .map_err(projection_error)?;
    let Some(row) = rows.into_iter().find(|r| r.id == id) else {
        return Ok(None);
    };
    reader
        .audited(ctx, "test_result", "testResult", patient)
        .await?;
    let result = view(row);
    Ok(Some(if patient_side {
        TestResultView {
            release_due_at: None,
            ..result
        }
    } else {
        result
    }))
}

/// Test-result mutations.
#[derive(Default)]
pub struct ResultMutation;

#[Object]
impl ResultMutation {
    /// Records a test result for a patient (staff and providers, or an upstream system's staff account). It is held
    /// back from the patient until a provider releases it, or until the organization's delay for its test passes.
    async fn record_test_result(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: RecordTestResultInput,
    ) -> Result<CarePayload> {
        let member = care_team(ctx).await?;
        let (state, request) = context(ctx);
        let result = parse(&input, member.organization)?;
        let org = organization(state, member.organization).await?;
        let command = request.command(Actor::Account(member.account.0), input.command_id);
        let (id, position) = results::record(&state.store, &org, result, member.account, &command)
            .await
            .map_err(ApiError::from_command)?;
        Ok(CarePayload::changed(
            Some(id),
            position,
            member,
            CareObject::TestResult(id),
        ))
    }

    /// Releases a result to its patient (providers), who is told by e-mail and text that a new result is available.
    async fn release_test_result(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The test result.")] result_id: ID,
    ) -> Result<CarePayload> {
        let provider = provider(ctx).await?;
        let (state, request) = context(ctx);
        let id = uuid(&result_id, "resultId")?;
        let org = organization(state, provider.organization).await?;
        let command = request.command(Actor::Account(provider.account.0), None);
        let position = results::release(
            &state.store,
            &org,
            id,
            ReleasedBy::Provider {
                by: provider.account,
            },
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(CarePayload::changed(
            Some(id),
            position,
            provider,
            CareObject::TestResult(id),
        ))
    }
}

/// Test-result queries.
#[derive(Default)]
pub struct ResultQuery;

#[Object]
impl ResultQuery {
    /// The patient's released results (patients, or a proxy with full access), latest observed first; with
    /// `testCode`, that test's history.
    async fn test_results(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this test's results (its history).")] test_code: Option<String>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<TestResultView>> {
        let acting = acting(ctx, Area::Results).await?;
        let state = context(ctx).0;
        caught_up(state, at_least).await?;
        let code = test_code.map(|c| c.trim().to_ascii_uppercase());
        let rows = read::of_patient(
            &state.pool,
            acting.principal.organization.0,
            acting.patient.0,
            code.as_deref(),
            true,
        )
        .await
        .map_err(projection_error)?;
        acting.audited(ctx, "test_result", "testResults").await?;
        Ok(rows
            .into_iter()
            .map(|r| TestResultView {
                release_due_at: None,
                ..view(r)
            })
            .collect())
    }

    /// A patient's results, held back ones included (staff and providers); with `testCode`, that test's history.
    async fn patient_test_results(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The patient (their account).")] patient_id: ID,
        #[graphql(desc = "Only this test's results.")] test_code: Option<String>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<TestResultView>> {
        let member = care_team(ctx).await?;
        let state = context(ctx).0;
        let patient = uuid(&patient_id, "patientId")?;
        caught_up(state, at_least).await?;
        let code = test_code.map(|c| c.trim().to_ascii_uppercase());
        let rows = read::of_patient(
            &state.pool,
            member.organization.0,
            patient,
            code.as_deref(),
            false,
        )
        .await
        .map_err(projection_error)?;
        audited_read(ctx, &member, "test_result", "patientTestResults", [patient]).await?;
        Ok(rows.into_iter().map(view).collect())
    }

    /// Results of the organization held back from their patients, oldest first (staff and providers).
    async fn held_test_results(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<TestResultView>> {
        let member = care_team(ctx).await?;
        let state = context(ctx).0;
        caught_up(state, at_least).await?;
        let rows = read::held(&state.pool, member.organization.0)
            .await
            .map_err(projection_error)?;
        audited_read(
            ctx,
            &member,
            "test_result",
            "heldTestResults",
            rows.iter().map(|r| r.patient_id),
        )
        .await?;
        Ok(rows.into_iter().map(view).collect())
    }
}
