//! Text PostgreSQL cannot store is refused at the edge, for every string of every request.
//!
//! PostgreSQL's `text` and `jsonb` hold no NUL character, so a NUL reaching a query or an event fails deep inside
//! (and read `INTERNAL`). Instead, every string a request carries (inline arguments, variable defaults, variables)
//! is checked once, right after parsing and before anything runs, over HTTP and WebSocket alike: a NUL or another
//! control character that no form or app sends (all of C0 but tab, line feed and carriage return; DEL) refuses the
//! whole request with `TEXT_INVALID` and the path of the offending value in `extensions.field`.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{
    ErrorExtensionValues, Name, Positioned, ServerError, ServerResult, Value, Variables,
};

/// Whether a character may appear in text portal stores.
pub fn storable(c: char) -> bool {
    !c.is_control() || matches!(c, '\t' | '\n' | '\r')
}

/// The path of the first string in `value` that holds a character that cannot be stored.
fn first_unstorable(path: &str, value: &Value) -> Option<String> {
    match value {
        Value::String(text) => (!text.chars().all(storable)).then(|| path.to_owned()),
        Value::List(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| first_unstorable(&format!("{path}.{i}"), item)),
        Value::Object(fields) => fields
            .iter()
            .find_map(|(name, inner)| check_named(path, name, inner)),
        _ => None,
    }
}

fn check_named(path: &str, name: &Name, value: &Value) -> Option<String> {
    let name_path = if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    };
    if !name.chars().all(storable) {
        return Some(name_path);
    }
    first_unstorable(&name_path, value)
}

fn in_selections(set: &Positioned<SelectionSet>) -> Option<String> {
    set.node.items.iter().find_map(|item| match &item.node {
        Selection::Field(field) => field
            .node
            .arguments
            .iter()
            .find_map(|(name, value)| {
                let value = value
                    .node
                    .clone()
                    .into_const_with(|_| Ok::<_, ()>(Value::Null));
                value
                    .ok()
                    .and_then(|value| check_named("", &name.node, &value))
            })
            .or_else(|| in_selections(&field.node.selection_set)),
        Selection::FragmentSpread(_) => None,
        Selection::InlineFragment(fragment) => in_selections(&fragment.node.selection_set),
    })
}

/// The path of the first unstorable string of the document or the variables.
fn first_in_request(document: &ExecutableDocument, variables: &Variables) -> Option<String> {
    let operations = document.operations.iter().map(|(_, op)| op);
    operations
        .clone()
        .find_map(|op| {
            op.node.variable_definitions.iter().find_map(|definition| {
                definition
                    .node
                    .default_value
                    .as_ref()
                    .and_then(|default| check_named("", &definition.node.name.node, &default.node))
            })
        })
        .or_else(|| {
            operations
                .clone()
                .find_map(|op| in_selections(&op.node.selection_set))
        })
        .or_else(|| {
            document
                .fragments
                .values()
                .find_map(|fragment| in_selections(&fragment.node.selection_set))
        })
        .or_else(|| {
            variables
                .iter()
                .find_map(|(name, value)| check_named("", name, value))
        })
}

/// The extension that applies the rule.
pub struct TextGuard;

impl ExtensionFactory for TextGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(TextGuard)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for TextGuard {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        match first_in_request(&document, variables) {
            None => Ok(document),
            Some(field) => {
                let mut error = ServerError::new(
                    format!(
                        "`{field}` holds a NUL or another control character, which cannot be stored; remove it"
                    ),
                    None,
                );
                let mut extensions = ErrorExtensionValues::default();
                extensions.set("code", "TEXT_INVALID");
                extensions.set("field", field);
                error.extensions = Some(extensions);
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, variables: serde_json::Value) -> Option<String> {
        let document = async_graphql::parser::parse_query(query).unwrap();
        first_in_request(&document, &Variables::from_json(variables))
    }

    #[test]
    fn a_nul_in_an_inline_argument_is_found_with_its_name() {
        assert_eq!(
            check(
                r#"{ organization(code: "a\u0000b") { name } }"#,
                serde_json::json!({})
            ),
            Some("code".to_owned())
        );
    }

    #[test]
    fn a_nul_deep_in_a_variable_is_found_with_its_path() {
        assert_eq!(
            check(
                "mutation($input: X!) { f(input: $input) }",
                serde_json::json!({ "input": { "names": ["ok", "b\u{0}ad"] } })
            ),
            Some("input.names.1".to_owned())
        );
    }

    #[test]
    fn tabs_newlines_and_any_printable_text_pass() {
        assert_eq!(
            check(
                r#"{ f(a: "line\none\ttab", b: "Zoë 🙂 中文") }"#,
                serde_json::json!({ "v": "x\r\ny" })
            ),
            None
        );
        assert_eq!(
            check(r#"{ f(a: "bell\u0007") }"#, serde_json::json!({})),
            Some("a".to_owned())
        );
    }
}
