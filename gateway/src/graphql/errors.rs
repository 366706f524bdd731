//! Errors as the API reports them: a message for people, a stable `code` and the `field` in the extensions.

use async_graphql::ErrorExtensions;
use portal_commands::handler::CommandError;
use portal_commands::log::LogError;
use portal_domain::ErrorCode;

/// One refusal of one input field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The path of the field, such as `input.email`.
    pub field: String,
    /// The rule's stable code, such as `EMAIL_INVALID`.
    pub code: &'static str,
    /// What the rule is, for people.
    pub message: String,
}

/// An error of the API.
#[derive(Clone, Debug)]
pub struct ApiError {
    /// Stable machine-readable code.
    pub code: &'static str,
    /// For people.
    pub message: String,
    /// The offending input field, when there is one.
    pub field: Option<String>,
    /// Every field refused, when the input broke several rules.
    pub fields: Vec<FieldError>,
    /// Further extensions that tell the client what to do next (`lockedUntil`).
    pub details: Vec<(&'static str, String)>,
}

impl ApiError {
    /// An error with a code and a message.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            fields: vec![],
            details: vec![],
        }
    }

    /// The refusal of several fields: the first one's code and message, every one in `fields`; none when empty.
    pub fn of_fields(errors: Vec<FieldError>) -> Option<Self> {
        let first = errors.first().cloned()?;
        Some(Self {
            field: Some(first.field),
            fields: errors,
            ..Self::new(first.code, first.message)
        })
    }

    /// Names the offending field.
    pub fn on(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The caller must sign in.
    pub fn unauthenticated() -> Self {
        Self::new(
            "UNAUTHENTICATED",
            "sign in first: send the session token as `Authorization: Bearer <token>`",
        )
    }

    /// The caller is signed in but may not do this.
    pub fn forbidden() -> Self {
        Self::new("FORBIDDEN", "your account may not do this")
    }

    /// Too many attempts from this address.
    pub fn rate_limited() -> Self {
        Self::new(
            "RATE_LIMITED",
            "too many sign-in attempts from your network; wait a minute and try again",
        )
    }

    /// Something failed on our side; details go to the log, not to the caller.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "request failed");
        Self::new(
            "INTERNAL",
            "something went wrong on our side; try again later",
        )
    }

    /// The database is unreachable.
    pub fn unavailable() -> Self {
        Self::new(
            "SERVICE_UNAVAILABLE",
            "the service is temporarily unavailable; try again shortly",
        )
    }

    /// Maps a command's failure; `input` is the path of the input object (`input`).
    pub fn from_command<E: ErrorCode + std::fmt::Display>(error: CommandError<E>) -> Self {
        match error {
            CommandError::Rejected(e) => {
                let api = Self {
                    details: e.details(),
                    ..Self::new(e.code(), e.to_string())
                };
                match e.field() {
                    Some(field) => api.on(format!("input.{field}")),
                    None => api,
                }
            }
            CommandError::Conflict(..) => Self::new(
                "CONCURRENCY_CONFLICT",
                "the record changed while we were saving; try again",
            ),
            CommandError::IdempotencyKeyReused => Self::new(
                "IDEMPOTENCY_KEY_REUSED",
                "this commandId was already used for a different request",
            )
            .on("input.commandId"),
            CommandError::Taken { .. } => {
                Self::new("ALREADY_TAKEN", "this value is already in use")
            }
            CommandError::Busy => Self::new(
                "RATE_LIMITED",
                "the server is busy checking passwords; try again in a few seconds",
            ),
            CommandError::Log(LogError::Pool(_)) => Self::unavailable(),
            other => Self::internal(&other),
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        async_graphql::Error::new(error.message).extend_with(|_, extensions| {
            extensions.set("code", error.code);
            for (name, value) in &error.details {
                extensions.set(*name, value.as_str());
            }
            if let Some(field) = &error.field {
                extensions.set("field", field.as_str());
            }
            if !error.fields.is_empty() {
                let fields: Vec<async_graphql::Value> = error
                    .fields
                    .iter()
                    .map(|f| {
                        let mut map = async_graphql::indexmap::IndexMap::new();
                        map.insert(
                            async_graphql::Name::new("field"),
                            async_graphql::Value::from(f.field.as_str()),
                        );
                        map.insert(
                            async_graphql::Name::new("code"),
                            async_graphql::Value::from(f.code),
                        );
                        map.insert(
                            async_graphql::Name::new("message"),
                            async_graphql::Value::from(f.message.as_str()),
                        );
                        async_graphql::Value::Object(map)
                    })
                    .collect();
                extensions.set("fields", fields);
            }
        })
    }
}
