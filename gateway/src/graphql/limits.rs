//! How much a query may ask for, judged on its document before anything runs.
//!
//! Two budgets. The fields that reach the read models count towards [`MAX_DEPTH`] and [`MAX_COMPLEXITY`], which
//! protect the database. Introspection (`__schema`, `__type` and what is below them) reads the schema held in memory,
//! so it does not count there: the standard introspection query of GraphiQL, GraphQL Codegen and Apollo's codegen is
//! deeper than any data query needs to be. It has limits of its own, so that it cannot be made to blow up the
//! answer: [`MAX_INTROSPECTION_DEPTH`] levels, and at most [`MAX_INTROSPECTION_LISTS`] lists of the schema nested on
//! one path (`types { fields { args } }` is three; the standard query needs no more, and `fields { type { fields …`
//! cycles are what it stops). `__typename` costs nothing. A fragment counts wherever it is spread.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{
    ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{ErrorExtensionValues, Name, Positioned, ServerError, ServerResult, Variables};

use super::{MAX_COMPLEXITY, MAX_DEPTH};

/// Deepest introspection selection, counted from `__schema` or `__type`.
pub const MAX_INTROSPECTION_DEPTH: usize = 16;
/// Lists of the schema (`types`, `fields`, `args`, …) nested on one path of an introspection selection.
pub const MAX_INTROSPECTION_LISTS: usize = 3;

const INTROSPECTION_LISTS: &[&str] = &[
    "types",
    "fields",
    "inputFields",
    "args",
    "interfaces",
    "possibleTypes",
    "enumValues",
    "directives",
];

/// What a document asks for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Cost {
    depth: usize,
    complexity: usize,
    introspection_depth: usize,
    introspection_lists: usize,
}

impl Cost {
    fn max(self, other: Cost) -> Cost {
        Cost {
            depth: self.depth.max(other.depth),
            complexity: self.complexity + other.complexity,
            introspection_depth: self.introspection_depth.max(other.introspection_depth),
            introspection_lists: self.introspection_lists.max(other.introspection_lists),
        }
    }
}

struct Walk<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    spread: Vec<&'a Name>,
}

/// Where a selection stands: `None` outside introspection, else its depth and lists below the introspection root.
#[derive(Clone, Copy)]
struct Place {
    depth: usize,
    introspection: Option<(usize, usize)>,
}

impl<'a> Walk<'a> {
    fn set(&mut self, set: &'a SelectionSet, place: Place) -> Cost {
        let mut cost = Cost::default();
        for item in &set.items {
            let inner = match &item.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    if name == "__typename" {
                        continue;
                    }
                    let introspection = match place.introspection {
                        Some((depth, lists)) => Some((
                            depth + 1,
                            lists + usize::from(INTROSPECTION_LISTS.contains(&name)),
                        )),
                        None if name.starts_with("__") => Some((1, 0)),
                        None => None,
                    };
                    let here = match introspection {
                        Some((depth, lists)) => Cost {
                            introspection_depth: depth,
                            introspection_lists: lists,
                            ..Cost::default()
                        },
                        None => Cost {
                            depth: place.depth + 1,
                            complexity: 1,
                            ..Cost::default()
                        },
                    };
                    let below = self.set(
                        &field.node.selection_set.node,
                        Place {
                            depth: if introspection.is_some() {
                                place.depth
                            } else {
                                place.depth + 1
                            },
                            introspection,
                        },
                    );
                    here.max(below)
                }
                Selection::InlineFragment(fragment) => {
                    self.set(&fragment.node.selection_set.node, place)
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    // A fragment that spreads itself is refused by validation; here it is simply not followed.
                    let Some(fragment) = self
                        .fragments
                        .get(name)
                        .filter(|_| !self.spread.contains(&name))
                    else {
                        continue;
                    };
                    self.spread.push(name);
                    let cost = self.set(&fragment.node.selection_set.node, place);
                    self.spread.pop();
                    cost
                }
            };
            cost = cost.max(inner);
        }
        cost
    }
}

/// The first limit the document's operations break, as a message.
fn too_much(document: &ExecutableDocument) -> Option<(&'static str, String)> {
    for (_, operation) in document.operations.iter() {
        let mut walk = Walk {
            fragments: &document.fragments,
            spread: Vec::new(),
        };
        let cost = walk.set(
            &operation.node.selection_set.node,
            Place {
                depth: 0,
                introspection: None,
            },
        );
        if cost.depth > MAX_DEPTH {
            return Some((
                "QUERY_TOO_DEEP",
                format!(
                    "the query nests {} levels; at most {MAX_DEPTH} are answered",
                    cost.depth
                ),
            ));
        }
        if cost.complexity > MAX_COMPLEXITY {
            return Some((
                "QUERY_TOO_COMPLEX",
                format!(
                    "the query asks for {} fields; at most {MAX_COMPLEXITY} are answered (page through lists instead)",
                    cost.complexity
                ),
            ));
        }
        if cost.introspection_depth > MAX_INTROSPECTION_DEPTH
            || cost.introspection_lists > MAX_INTROSPECTION_LISTS
        {
            return Some((
                "QUERY_TOO_DEEP",
                format!(
                    "introspection nests at most {MAX_INTROSPECTION_DEPTH} levels and {MAX_INTROSPECTION_LISTS} lists \
                     of the schema (the standard introspection query fits)"
                ),
            ));
        }
    }
    None
}

/// The extension that applies the limits.
pub struct QueryLimits;

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(QueryLimits)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for QueryLimits {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        match too_much(&document) {
            None => Ok(document),
            Some((code, message)) => {
                let mut error = ServerError::new(message, None);
                let mut extensions = ErrorExtensionValues::default();
                extensions.set("code", code);
                error.extensions = Some(extensions);
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(query: &str) -> Option<&'static str> {
        too_much(&async_graphql::parser::parse_query(query).unwrap()).map(|(code, _)| code)
    }

    #[test]
    fn the_standard_introspection_query_fits_and_counts_nothing_towards_the_data_budget() {
        let query = include_str!("../../tests/api/fixtures/introspection.graphql");
        assert_eq!(judge(query), None);
    }

    #[test]
    fn introspection_that_cycles_through_the_schema_is_refused() {
        assert_eq!(
            judge("{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"),
            Some("QUERY_TOO_DEEP")
        );
    }

    #[test]
    fn data_fields_count_towards_depth_and_complexity_and_fragments_count_where_spread() {
        let wide = format!(
            "{{ {} }}",
            (0..101)
                .map(|i| format!("a{i}: me {{ id }}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert_eq!(judge(&wide), Some("QUERY_TOO_COMPLEX"));
        let deep = format!("{{ {} x {} }}", "a { ".repeat(11), "} ".repeat(11));
        assert_eq!(judge(&deep), Some("QUERY_TOO_DEEP"));
        let spread = format!(
            "{{ {} }} fragment F on Account {{ {} }}",
            (0..20)
                .map(|i| format!("a{i}: me {{ ...F }}"))
                .collect::<Vec<_>>()
                .join(" "),
            (0..10)
                .map(|i| format!("b{i}: id"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert_eq!(judge(&spread), Some("QUERY_TOO_COMPLEX"));
        assert_eq!(
            judge("{ me { id __typename } } fragment L on X { ...L }"),
            None
        );
    }
}
