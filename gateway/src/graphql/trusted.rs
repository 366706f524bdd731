//! Trusted documents: in production, first-party clients (the web portal, the organizations' apps) send only
//! operations registered when they were built, by the SHA-256 of their text; the server runs nothing else.
//!
//! The manifest (`--trusted-documents FILE`) is JSON, in either of the shapes the tools write: GraphQL Codegen's
//! `persisted-documents.json` (`{"<sha256>": "<document>", …}`) or Apollo's persisted-query manifest
//! (`{"format": "apollo-persisted-query-manifest", "operations": [{"id": "<sha256>", "body": "<document>"}, …]}`).
//! Each id must be the SHA-256 (lowercase hex) of its document, or the server does not start. A request names its
//! document by Apollo's `extensions.persistedQuery.sha256Hash` or by the GraphQL-over-HTTP `documentId`
//! (`sha256:<hex>` or the bare hex), or sends a document whose hash is in the manifest. Anything else is refused
//! before it is parsed: `TRUSTED_DOCUMENT_REQUIRED` for a document not registered, `PERSISTED_QUERY_NOT_FOUND` for
//! an id not registered. The check runs for every request, over HTTP and WebSocket alike.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::{ErrorExtensionValues, Request, ServerError, ServerResult, Value};
use sha2::{Digest, Sha256};

/// The key of `extensions` under which the HTTP layer passes a GraphQL-over-HTTP `documentId`.
pub const DOCUMENT_ID: &str = "documentId";

/// Why a manifest cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file cannot be read.
    #[error("cannot read the trusted documents {0}: {1}")]
    Read(String, std::io::Error),
    /// It is not one of the two shapes.
    #[error("the trusted documents are not a manifest portal reads: {0}")]
    Shape(String),
    /// An id is not the hash of its document.
    #[error("trusted document {0} is not the SHA-256 of its text")]
    WrongHash(String),
}

/// The registered documents by the hex SHA-256 of their text.
#[derive(Clone, Debug, Default)]
pub struct TrustedDocuments(Arc<HashMap<String, String>>);

/// The lowercase hex SHA-256 of a document's text.
pub fn document_hash(document: &str) -> String {
    Sha256::digest(document.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl TrustedDocuments {
    /// Reads a manifest.
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ManifestError::Read(path.display().to_string(), e))?;
        Self::parse(&text)
    }

    /// Parses a manifest's text.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ManifestError::Shape(e.to_string()))?;
        let pairs: Vec<(String, String)> = match json.get("operations") {
            Some(serde_json::Value::Array(operations)) => operations
                .iter()
                .map(|op| match (op["id"].as_str(), op["body"].as_str()) {
                    (Some(id), Some(body)) => Ok((id.to_owned(), body.to_owned())),
                    _ => Err(ManifestError::Shape(
                        "each operation needs an `id` and a `body`".to_owned(),
                    )),
                })
                .collect::<Result<_, _>>()?,
            _ => match json.as_object() {
                Some(map) => map
                    .iter()
                    .map(|(id, body)| match body.as_str() {
                        Some(body) => Ok((id.clone(), body.to_owned())),
                        None => Err(ManifestError::Shape(format!("`{id}` is not a document"))),
                    })
                    .collect::<Result<_, _>>()?,
                None => return Err(ManifestError::Shape("not a JSON object".to_owned())),
            },
        };
        let mut documents = HashMap::new();
        for (id, body) in pairs {
            let id = id
                .strip_prefix("sha256:")
                .unwrap_or(&id)
                .to_ascii_lowercase();
            if document_hash(&body) != id {
                return Err(ManifestError::WrongHash(id));
            }
            documents.insert(id, body);
        }
        Ok(Self(Arc::new(documents)))
    }

    /// The registered document a GraphQL-over-HTTP request names (by `documentId` or Apollo's persisted query).
    pub fn named(
        &self,
        document_id: Option<&str>,
        extensions: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> Option<String> {
        let id = document_id.or_else(|| {
            extensions?
                .get("persistedQuery")?
                .get("sha256Hash")?
                .as_str()
        })?;
        let id = id
            .strip_prefix("sha256:")
            .unwrap_or(id)
            .to_ascii_lowercase();
        self.0.get(&id).cloned()
    }

    /// How many documents are registered.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The document a request may run, or why not.
    fn resolve(&self, request: &Request) -> Result<String, (&'static str, &'static str)> {
        let named = request
            .extensions
            .get("persistedQuery")
            .and_then(|p| match p {
                Value::Object(map) => map.get("sha256Hash"),
                _ => None,
            })
            .or_else(|| request.extensions.get(DOCUMENT_ID))
            .and_then(|v| match v {
                Value::String(id) => Some(
                    id.strip_prefix("sha256:")
                        .unwrap_or(id)
                        .to_ascii_lowercase(),
                ),
                _ => None,
            });
        let not_found = (
            "PERSISTED_QUERY_NOT_FOUND",
            "no registered document has this id; this server runs only the operations of its own clients",
        );
        let required = (
            "TRUSTED_DOCUMENT_REQUIRED",
            "this server runs only registered operations: send a registered document or its id (`documentId`, \
             or `extensions.persistedQuery.sha256Hash`)",
        );
        match (named, request.query.trim().is_empty()) {
            (Some(id), true) => self.0.get(&id).cloned().ok_or(not_found),
            (Some(id), false)
                if document_hash(&request.query) == id && self.0.contains_key(&id) =>
            {
                Ok(request.query.clone())
            }
            (Some(_), false) => Err(required),
            (None, _) => {
                let id = document_hash(&request.query);
                self.0.get(&id).cloned().ok_or(required)
            }
        }
    }
}

/// The extension that admits registered documents only.
pub struct TrustedOnly(pub TrustedDocuments);

impl ExtensionFactory for TrustedOnly {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(TrustedOnly(self.0.clone()))
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for TrustedOnly {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        match self.0.resolve(&request) {
            Ok(document) => {
                request.query = document;
                next.run(ctx, request).await
            }
            Err((code, message)) => {
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

    const ME: &str = "query Me { me { id } }";

    fn manifest() -> TrustedDocuments {
        TrustedDocuments::parse(&serde_json::json!({ document_hash(ME): ME }).to_string()).unwrap()
    }

    #[test]
    fn both_manifest_shapes_are_read_and_a_wrong_id_is_refused() {
        let apollo = serde_json::json!({ "format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{ "id": document_hash(ME), "name": "Me", "type": "query", "body": ME }] });
        assert_eq!(
            TrustedDocuments::parse(&apollo.to_string()).unwrap().len(),
            1
        );
        assert_eq!(manifest().len(), 1);
        let wrong = serde_json::json!({ "0".repeat(64): ME });
        assert!(matches!(
            TrustedDocuments::parse(&wrong.to_string()),
            Err(ManifestError::WrongHash(_))
        ));
    }

    #[test]
    fn a_request_runs_a_registered_document_by_id_or_by_text_and_nothing_else() {
        let trusted = manifest();
        let mut by_id = Request::new("");
        by_id.extensions.insert(
            DOCUMENT_ID.to_owned(),
            Value::from(format!("sha256:{}", document_hash(ME))),
        );
        assert_eq!(trusted.resolve(&by_id).unwrap(), ME);
        assert_eq!(trusted.resolve(&Request::new(ME)).unwrap(), ME);
        assert_eq!(
            trusted
                .resolve(&Request::new("{ me { id } }"))
                .unwrap_err()
                .0,
            "TRUSTED_DOCUMENT_REQUIRED"
        );
        let mut unknown = Request::new("");
        unknown
            .extensions
            .insert(DOCUMENT_ID.to_owned(), Value::from("ab".repeat(32)));
        assert_eq!(
            trusted.resolve(&unknown).unwrap_err().0,
            "PERSISTED_QUERY_NOT_FOUND"
        );
    }
}
