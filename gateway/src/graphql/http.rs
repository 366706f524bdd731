//! The GraphQL endpoint, following the GraphQL-over-HTTP specification:
//!
//! - responses in `application/graphql-response+json` when the client accepts it, else `application/json`;
//!   406 when it accepts neither;
//! - POST bodies must be `application/json` (415 otherwise) holding a JSON object whose `query` is a string and
//!   whose `operationName`, `variables` and `extensions` are absent, null, or of the right type (400 otherwise);
//! - GET takes the same parameters from the query string and refuses mutations with 405 and `Allow: POST`;
//! - with `application/graphql-response+json`, a document that does not parse or validate is answered 400 without
//!   `data`; once execution starts the answer is 200, field errors included; with `application/json` every
//!   well-formed request is answered 200.

use std::net::SocketAddr;

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{Request, Variables};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::ExecutionStarted;
use crate::app::AppState;
use crate::request::RequestContext;

/// The media type of GraphQL responses.
pub const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MediaType {
    GraphQlResponse,
    Json,
}

impl MediaType {
    fn as_str(self) -> &'static str {
        match self {
            MediaType::GraphQlResponse => "application/graphql-response+json; charset=utf-8",
            MediaType::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks the response media type from `Accept`, by quality then order; no header means `application/json`.
fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(MediaType::Json);
    };
    let mut best: Option<(f32, MediaType)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let essence = parts.next().unwrap_or_default().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.strip_prefix("q="))
            .filter_map(|q| q.parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        let media = match essence.as_str() {
            GRAPHQL_RESPONSE => MediaType::GraphQlResponse,
            JSON | "application/*" | "*/*" => MediaType::Json,
            _ => continue,
        };
        if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, media));
        }
    }
    best.map(|(_, media)| media)
}

fn respond(status: StatusCode, media: MediaType, body: Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.as_str()),
    );
    response
}

/// A request error: the request was not executed.
fn request_error(status: StatusCode, media: MediaType, code: &str, message: &str) -> Response {
    respond(
        status,
        media,
        json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }),
    )
}

fn not_acceptable() -> Response {
    let mut response = (
        StatusCode::NOT_ACCEPTABLE,
        json!({ "errors": [{ "message": "accept application/graphql-response+json or application/json",
                              "extensions": { "code": "NOT_ACCEPTABLE" } }] })
        .to_string(),
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(MediaType::Json.as_str()),
    );
    response
}

/// The parameters of a GraphQL-over-HTTP request.
struct Params {
    /// Empty when the request names a registered document instead (`documentId`, or Apollo's persisted query).
    query: String,
    /// GraphQL-over-HTTP's `documentId`: the id of a registered document (trusted documents).
    document_id: Option<String>,
    operation_name: Option<String>,
    variables: Option<Map<String, Value>>,
    extensions: Option<Map<String, Value>>,
}

fn params_from_json(body: Value) -> Result<Params, &'static str> {
    let Value::Object(mut object) = body else {
        return Err("the request body must be a JSON object");
    };
    let document_id = match object.remove("documentId") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id),
        Some(_) => return Err("`documentId` must be a string"),
    };
    let persisted = object
        .get("extensions")
        .and_then(|e| e.get("persistedQuery"))
        .is_some();
    let query = match object.remove("query") {
        Some(Value::String(query)) => query,
        Some(_) => return Err("`query` must be a string"),
        None if document_id.is_some() || persisted => String::new(),
        None => return Err("`query` is required"),
    };
    let operation_name = match object.remove("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name),
        Some(_) => return Err("`operationName` must be a string"),
    };
    let variables = match object.remove("variables") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(map),
        Some(_) => return Err("`variables` must be an object"),
    };
    let extensions = match object.remove("extensions") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(map),
        Some(_) => return Err("`extensions` must be an object"),
    };
    Ok(Params {
        query,
        document_id,
        operation_name,
        variables,
        extensions,
    })
}

fn params_from_query_string(raw: &str) -> Result<Params, &'static str> {
    let mut query = None;
    let mut document_id = None;
    let mut operation_name = None;
    let mut variables = None;
    let mut extensions = None;
    for (key, value) in form_urlencoded_pairs(raw) {
        match key.as_str() {
            "query" => query = Some(value),
            "documentId" if !value.is_empty() => document_id = Some(value),
            "operationName" if !value.is_empty() => operation_name = Some(value),
            "variables" if !value.is_empty() => match serde_json::from_str(&value) {
                Ok(Value::Object(map)) => variables = Some(map),
                _ => return Err("`variables` must be a JSON-encoded object"),
            },
            "extensions" if !value.is_empty() => match serde_json::from_str(&value) {
                Ok(Value::Object(map)) => extensions = Some(map),
                _ => return Err("`extensions` must be a JSON-encoded object"),
            },
            _ => {}
        }
    }
    let persisted = extensions
        .as_ref()
        .is_some_and(|e: &Map<String, Value>| e.contains_key("persistedQuery"));
    let query = match query {
        Some(query) => query,
        None if document_id.is_some() || persisted => String::new(),
        None => return Err("`query` is required"),
    };
    Ok(Params {
        query,
        document_id,
        operation_name,
        variables,
        extensions,
    })
}

fn form_urlencoded_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The operation the request would run, if the document parses and names one unambiguously.
fn operation_type(query: &str, operation_name: Option<&str>) -> Option<OperationType> {
    let document = async_graphql::parser::parse_query(query).ok()?;
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        _ => None,
    }
}

async fn execute(
    state: &AppState,
    media: MediaType,
    params: Params,
    context: RequestContext,
) -> Response {
    let mut request = Request::new(params.query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables {
        request = request.variables(Variables::from_json(Value::Object(variables)));
    }
    if let Some(extensions) = params.extensions {
        for (key, value) in extensions {
            if let Ok(value) = async_graphql::Value::from_json(value) {
                request.extensions.insert(key, value);
            }
        }
    }
    if let Some(id) = params.document_id {
        request.extensions.insert(
            super::trusted::DOCUMENT_ID.to_owned(),
            async_graphql::Value::from(id),
        );
    }
    let started = ExecutionStarted::default();
    let request = request.data(context).data(started.clone());
    let response = state.schema().execute(request).await;
    let response_headers = response.http_headers.clone();
    let mut errors = serde_json::to_value(&response.errors).unwrap_or(Value::Array(vec![]));
    if !started.get() {
        // Parsing or validation failed: a request error, answered without `data`, each error with a code.
        code_uncoded(&mut errors, "GRAPHQL_VALIDATION_FAILED");
        let status = match media {
            MediaType::GraphQlResponse => StatusCode::BAD_REQUEST,
            MediaType::Json => StatusCode::OK,
        };
        return respond(status, media, json!({ "errors": errors }));
    }
    // Errors of the engine itself carry no code: a variable or argument whose value does not fit its type (a
    // string where an object is expected, a malformed UUID) is refused while the field's arguments are read.
    code_uncoded(&mut errors, "ARGUMENT_INVALID");
    let status = match database_away(state, &mut errors).await {
        true => StatusCode::SERVICE_UNAVAILABLE,
        false => StatusCode::OK,
    };
    let mut body = Map::new();
    body.insert(
        "data".to_owned(),
        response.data.into_json().unwrap_or(Value::Null),
    );
    if !response.errors.is_empty() {
        body.insert("errors".to_owned(), errors);
    }
    if !response.extensions.is_empty() {
        if let Ok(extensions) = serde_json::to_value(&response.extensions) {
            body.insert("extensions".to_owned(), extensions);
        }
    }
    let mut response = respond(status, media, Value::Object(body));
    // What resolvers set for the HTTP answer (the session cookie).
    for (name, value) in response_headers.iter() {
        response.headers_mut().append(name, value.clone());
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

/// Gives `code` to every error that has none.
fn code_uncoded(errors: &mut Value, code: &'static str) {
    if let Value::Array(list) = errors {
        for error in list.iter_mut().filter_map(Value::as_object_mut) {
            let extensions = error.entry("extensions").or_insert_with(|| json!({}));
            if let Value::Object(extensions) = extensions {
                extensions.entry("code").or_insert_with(|| json!(code));
            }
        }
    }
}

/// Whether the errors came from the database being away: a failure on our side (`INTERNAL`,
/// `SERVICE_UNAVAILABLE`) while the database does not answer. Those errors are recoded `DATABASE_UNAVAILABLE`, so
/// that clients (and load balancers, from the 503) know to retry rather than report a bug. Mutations are atomic: a
/// command that failed this way wrote nothing, and retrying it with the same `commandId` is safe either way.
async fn database_away(state: &AppState, errors: &mut Value) -> bool {
    let Value::Array(list) = errors else {
        return false;
    };
    let ours = |error: &Value| {
        matches!(
            error.pointer("/extensions/code").and_then(Value::as_str),
            Some("INTERNAL" | "SERVICE_UNAVAILABLE")
        )
    };
    if !list.iter().any(ours) || crate::health::database_answers(state).await {
        return false;
    }
    for error in list.iter_mut().filter(|e| ours(e)) {
        if let Some(object) = error.as_object_mut() {
            object.insert(
                "message".to_owned(),
                json!("the database cannot be reached; try again shortly"),
            );
            let extensions = object.entry("extensions").or_insert_with(|| json!({}));
            if let Value::Object(extensions) = extensions {
                extensions.insert("code".to_owned(), json!("DATABASE_UNAVAILABLE"));
            }
        }
    }
    true
}

fn is_json_content_type(headers: &HeaderMap) -> Result<(), &'static str> {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return Err("send the request as Content-Type: application/json");
    };
    let mut parts = content_type.split(';').map(str::trim);
    if !parts.next().unwrap_or_default().eq_ignore_ascii_case(JSON) {
        return Err("send the request as Content-Type: application/json");
    }
    for parameter in parts {
        if let Some(charset) = parameter.to_ascii_lowercase().strip_prefix("charset=") {
            if charset.trim_matches('"') != "utf-8" {
                return Err("the request must be encoded in UTF-8");
            }
        }
    }
    Ok(())
}

/// `POST /graphql`.
pub async fn post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    if let Err(message) = is_json_content_type(&headers) {
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            "UNSUPPORTED_MEDIA_TYPE",
            message,
        );
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(_) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                media,
                "MALFORMED_REQUEST",
                "the body is not valid JSON",
            )
        }
    };
    if body.is_array() {
        // One operation per request: a batch would multiply the depth and complexity limits by its length.
        return request_error(
            StatusCode::BAD_REQUEST,
            media,
            "BATCH_NOT_SUPPORTED",
            "batched requests are not accepted: send one operation per request",
        );
    }
    let params = match params_from_json(body) {
        Ok(params) => params,
        Err(message) => {
            return request_error(StatusCode::BAD_REQUEST, media, "INVALID_REQUEST", message)
        }
    };
    let context = state.request_context(&headers, Some(peer));
    // A request the browser's cookie authenticates must come from the portals' own pages (cross-site request
    // forgery): its Origin, else its Referer, is one of the allowed origins.
    if context.cookie_session
        && !crate::cookies::from_allowed_origin(&headers, state.allowed_origins())
    {
        return request_error(
            StatusCode::FORBIDDEN,
            media,
            "CROSS_SITE_REQUEST_REFUSED",
            "a request signed in by the session cookie must come from the portal's own pages",
        );
    }
    execute(&state, media, params, context).await
}

/// `GET /graphql`: GraphiQL for a browser that sends no query, else a query (never a mutation).
pub async fn get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html && !raw.contains("query=") {
        return crate::graphiql::page();
    }
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    let params = match params_from_query_string(&raw) {
        Ok(params) => params,
        Err(message) => {
            return request_error(StatusCode::BAD_REQUEST, media, "INVALID_REQUEST", message)
        }
    };
    // A registered document named by its id is judged by its text.
    let registered = state.trusted_documents().and_then(|documents| {
        documents.named(params.document_id.as_deref(), params.extensions.as_ref())
    });
    let document = registered.as_deref().unwrap_or(&params.query);
    if operation_type(document, params.operation_name.as_deref()) == Some(OperationType::Mutation) {
        let mut response = request_error(
            StatusCode::METHOD_NOT_ALLOWED,
            media,
            "METHOD_NOT_ALLOWED",
            "mutations are only accepted over POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(
        &state,
        media,
        params,
        state.request_context(&headers, Some(peer)),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn accept_negotiation_follows_quality_then_order() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(MediaType::Json));
        assert_eq!(
            negotiate(&accept("application/graphql-response+json")),
            Some(MediaType::GraphQlResponse)
        );
        assert_eq!(
            negotiate(&accept(
                "application/json, application/graphql-response+json"
            )),
            Some(MediaType::Json)
        );
        assert_eq!(
            negotiate(&accept(
                "application/json;q=0.9, application/graphql-response+json"
            )),
            Some(MediaType::GraphQlResponse)
        );
        assert_eq!(negotiate(&accept("*/*")), Some(MediaType::Json));
        assert_eq!(negotiate(&accept("text/html")), None);
        assert_eq!(negotiate(&accept("application/json;q=0")), None);
    }

    #[test]
    fn query_strings_are_percent_decoded() {
        let pairs =
            form_urlencoded_pairs("query=%7B%20me%20%7B%20id%20%7D%20%7D&operationName=&x=a+b");
        assert_eq!(pairs[0], ("query".to_owned(), "{ me { id } }".to_owned()));
        assert_eq!(pairs[2], ("x".to_owned(), "a b".to_owned()));
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn the_operation_type_is_found_by_name() {
        let doc = "query A { __typename } mutation B { __typename }";
        assert_eq!(
            operation_type(doc, Some("B")),
            Some(OperationType::Mutation)
        );
        assert_eq!(operation_type(doc, Some("A")), Some(OperationType::Query));
        assert_eq!(
            operation_type("mutation { x }", None),
            Some(OperationType::Mutation)
        );
        assert_eq!(operation_type("{", None), None);
    }
}
