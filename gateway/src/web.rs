//! The web portals (`web/`), embedded at build time (gateway/build.rs) and served at `/`: hashed assets are cached for
//! a year, every other path of the app falls back to `index.html` (the app's router decides), and every page carries
//! a Content-Security-Policy that allows only this origin's files and API, with no inline script. A browser that
//! accepts gzip gets the copy the web build gzipped (`web/scripts/compress.mjs`), where there is one.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use portal_domain::values::OrganizationCode;

use crate::app::AppState;

include!(concat!(env!("OUT_DIR"), "/web_files.rs"));

/// What the app's pages may load: this origin's scripts, styles, images, manifest, worker and API (the WebSocket
/// included); nothing inline, nothing from elsewhere, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Hashed build output, whose name changes with its content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The embedded file at `path`.
fn file(path: &str) -> Option<&'static [u8]> {
    FILES
        .binary_search_by(|(name, _)| (*name).cmp(path))
        .ok()
        .and_then(|i| FILES.get(i))
        .map(|(_, body)| *body)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "webmanifest" => "application/manifest+json",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// Whether the request's `Accept-Encoding` takes gzip (named, or `*`, and not with `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q == 0.0))
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// The app's page of a deployment pinned to `organization`: the page with a `portal-organization` meta tag naming it,
/// which the app reads (a tag, not a script, under the Content-Security-Policy). None when the app was not built in.
pub fn pinned_page(organization: &OrganizationCode) -> Option<axum::body::Bytes> {
    let page = std::str::from_utf8(file("/index.html")?).ok()?;
    let head = page.find("</head>")?;
    // The code is lower-case letters, digits and hyphens: nothing to escape.
    let tag = format!(
        "<meta name=\"portal-organization\" content=\"{}\">",
        organization.as_str()
    );
    Some(format!("{}{tag}{}", &page[..head], &page[head..]).into())
}

/// Answers a GET that no API route took: an embedded file, or the app's page for the app's routes.
pub async fn serve(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let path = uri.path();
    let gzip = accepts_gzip(&headers);
    if file(path).is_some() && path != "/index.html" {
        let cache = if path.starts_with("/assets/") {
            IMMUTABLE
        } else {
            "no-cache"
        };
        return respond(path, content_type(path), cache, gzip);
    }
    // A missing file (anything with an extension, or under /assets/) is a 404; any other path is a page of the app.
    let last = path.rsplit('/').next().unwrap_or_default();
    if path.starts_with("/assets/") || last.contains('.') {
        return StatusCode::NOT_FOUND.into_response();
    }
    if let Some(page) = state.pinned_page() {
        let html = "text/html; charset=utf-8";
        return embedded(page.clone(), html, "no-cache", CONTENT_SECURITY_POLICY);
    }
    match file("/index.html") {
        Some(_) => respond("/index.html", "text/html; charset=utf-8", "no-cache", gzip),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The web portals were not built into this binary: run `npm ci && npm run build` in web/, then build \
             portal again.\n",
        )
            .into_response(),
    }
}

/// The embedded file at `path` (which exists), gzipped when the browser takes it and the build made a copy.
fn respond(path: &str, content_type: &'static str, cache: &'static str, gzip: bool) -> Response {
    let gzipped = gzip.then(|| file(&format!("{path}.gz"))).flatten();
    let body = gzipped.or_else(|| file(path)).unwrap_or_default();
    let mut response = embedded(body, content_type, cache, CONTENT_SECURITY_POLICY);
    let headers = response.headers_mut();
    // Caches keep the two copies apart.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzipped.is_some() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

/// A file built into the binary, with its type, caching and Content-Security-Policy, never sniffed by browsers.
pub fn embedded(
    body: impl IntoResponse,
    content_type: &'static str,
    cache: &'static str,
    policy: &'static str,
) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(value: &str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        accepts_gzip(&headers)
    }

    #[test]
    fn gzip_is_taken_when_named_or_wildcarded_and_not_refused() {
        assert!(accepts("gzip, deflate, br, zstd"));
        assert!(accepts("br;q=1.0, GZIP;q=0.5"));
        assert!(accepts("*"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("br, identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
