//! The GraphQL API: schema, resolvers, input parsing, errors, and the GraphQL-over-HTTP endpoint.

#[macro_use]
mod macros;

pub mod access_log;
pub mod activities;
pub mod attendance;
pub mod care;
#[macro_use]
pub mod changed;
pub mod devices;
pub mod errors;
pub mod help;
pub mod history;
pub mod http;
pub mod ids;
pub mod inputs;
pub mod limits;
pub mod lockout;
pub mod messaging;
pub mod mutation;
pub mod patients;
pub mod phones;
pub mod profile;
pub mod query;
pub mod reporting;
pub mod scheduling;
pub mod settings;
pub mod subscription;
pub mod text_guard;
pub mod trusted;
pub mod two_step;
pub mod types;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};
use async_graphql::{Response, Schema};

use crate::app::AppState;

/// The root of queries.
#[derive(async_graphql::MergedObject, Default)]
pub struct Query(
    query::AccountQuery,
    lockout::LockoutQuery,
    activities::ActivityQuery,
    attendance::TranscriptQuery,
    phones::PhoneQuery,
    reporting::ReportingQuery,
    patients::PatientQuery,
    scheduling::SchedulingQuery,
    history::HistoryQuery,
    access_log::AccessLogQuery,
    messaging::MessagingQuery,
    care::conversations::ConversationQuery,
    care::results::ResultQuery,
    care::billing::BillingQuery,
    care::payments::PaymentQuery,
    care::medications::MedicationQuery,
    care::proxies::ProxyQuery,
    care::policy::CarePolicyQuery,
    devices::DeviceQuery,
    settings::SettingsQuery,
);

/// The root of mutations.
#[derive(async_graphql::MergedObject, Default)]
pub struct Mutation(
    mutation::AccountMutation,
    lockout::LockoutMutation,
    profile::ProfileMutation,
    activities::ActivityMutation,
    attendance::AttendanceMutation,
    phones::PhoneMutation,
    reporting::ReportingMutation,
    patients::PatientMutation,
    two_step::TwoStepMutation,
    scheduling::SchedulingMutation,
    messaging::MessagingMutation,
    care::conversations::ConversationMutation,
    care::results::ResultMutation,
    care::billing::BillingMutation,
    care::payments::PaymentMutation,
    care::medications::MedicationMutation,
    care::proxies::ProxyMutation,
    care::policy::CarePolicyMutation,
    devices::DeviceMutation,
    help::HelpMutation,
);

/// The schema type.
pub type PortalSchema = Schema<Query, Mutation, subscription::Subscription>;

/// Deepest query accepted (introspection has its own limits, see `limits`).
pub const MAX_DEPTH: usize = 10;
/// Most complex query accepted (each field counts 1; introspection and `__typename` count nothing).
pub const MAX_COMPLEXITY: usize = 200;

/// Builds the schema; resolvers find the application state in the schema data. With trusted documents, only
/// registered operations run and introspection is off whatever `introspection` says.
pub fn schema(state: AppState, introspection: bool) -> PortalSchema {
    let trusted = state.trusted_documents().cloned();
    let builder = Schema::build(
        Query::default(),
        Mutation::default(),
        subscription::Subscription,
    )
    .data(state)
    .extension(limits::QueryLimits)
    .extension(text_guard::TextGuard)
    .extension(ExecutionMarker)
    .extension(crate::metrics::CommandObserver);
    if let Some(documents) = trusted {
        return builder
            .extension(trusted::TrustedOnly(documents))
            .disable_introspection()
            .finish();
    }
    if introspection {
        builder.finish()
    } else {
        builder.disable_introspection().finish()
    }
}

/// The SDL of the schema, for docs and clients.
pub fn sdl() -> String {
    Schema::build(
        Query::default(),
        Mutation::default(),
        subscription::Subscription,
    )
    .finish()
    .sdl()
}

/// Set when a request got past parsing and validation, which tells a request error from a field error.
#[derive(Clone, Default)]
pub struct ExecutionStarted(pub Arc<AtomicBool>);

impl ExecutionStarted {
    /// True once execution began.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

struct ExecutionMarker;

impl ExtensionFactory for ExecutionMarker {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ExecutionMarker)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ExecutionMarker {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(marker) = ctx.data_opt::<ExecutionStarted>() {
            marker.0.store(true, Ordering::SeqCst);
        }
        next.run(ctx, operation_name).await
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

    /// Client developers read the schema, not our code: every part of it says what it is.
    #[test]
    fn every_type_field_argument_and_enum_value_has_a_description() {
        let document = async_graphql::parser::parse_schema(super::sdl()).unwrap();
        let mut missing = Vec::new();
        for definition in document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let ty = ty.node;
            let name = ty.name.node.to_string();
            if ty.description.is_none()
                && !matches!(name.as_str(), "String" | "Int" | "Float" | "Boolean" | "ID")
            {
                missing.push(name.clone());
            }
            match ty.kind {
                TypeKind::Object(object) => {
                    for field in object.fields {
                        let field = field.node;
                        if field.description.is_none() {
                            missing.push(format!("{name}.{}", field.name.node));
                        }
                        for argument in field.arguments {
                            if argument.node.description.is_none() {
                                missing.push(format!(
                                    "{name}.{}({})",
                                    field.name.node, argument.node.name.node
                                ));
                            }
                        }
                    }
                }
                TypeKind::InputObject(input) => {
                    for field in input.fields {
                        if field.node.description.is_none() {
                            missing.push(format!("{name}.{}", field.node.name.node));
                        }
                    }
                }
                TypeKind::Enum(values) => {
                    for value in values.values {
                        if value.node.description.is_none() {
                            missing.push(format!("{name}.{}", value.node.value.node));
                        }
                    }
                }
                _ => {}
            }
        }
        assert!(missing.is_empty(), "without a description: {missing:?}");
    }
}
