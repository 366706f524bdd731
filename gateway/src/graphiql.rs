//! GraphiQL, from the binary: its scripts and styles (GraphiQL 3, React 18, from the npm registry by
//! `scripts/vendor-graphiql`) are embedded, so the explorer works with no network and no CDN, under a
//! Content-Security-Policy that allows nothing from elsewhere and no inline script. Its documentation and
//! autocompletion read the schema by introspection, so they work where `--introspection true` is set.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// What the explorer's page may load: its own files and `/graphql`, nothing else; no inline script, no framing.
/// (Inline styles are allowed: the editor sets style attributes in the markup it renders.)
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>portal GraphiQL</title>
<link rel="stylesheet" href="/graphiql/graphiql.min.css">
<link rel="stylesheet" href="/graphiql/page.css">
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="/graphiql/react.production.min.js"></script>
<script src="/graphiql/react-dom.production.min.js"></script>
<script src="/graphiql/graphiql.min.js"></script>
<script src="/graphiql/start.js"></script>
</body>
</html>
"#;

const PAGE_CSS: &str = "body{margin:0;height:100vh}#graphiql{height:100vh}\n";

const START: &str = r#"// Opens the explorer on /graphql, with the documentation shown.
const fetcher = GraphiQL.createFetcher({
  url: '/graphql',
  headers: { Accept: 'application/graphql-response+json' },
});
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultEditorToolsVisibility: true,
    visiblePlugin: 'Documentation Explorer',
  }),
);
"#;

/// `GET /graphql` for a browser: the explorer's page.
pub fn page() -> Response {
    with_headers(PAGE.as_bytes(), "text/html; charset=utf-8", "no-cache")
}

/// `GET /graphiql/{file}`: one of its embedded files.
pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, content_type): (&'static [u8], &str) = match file.as_str() {
        "graphiql.min.js" => (
            include_bytes!("../assets/graphiql/graphiql.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "graphiql.min.css" => (
            include_bytes!("../assets/graphiql/graphiql.min.css"),
            "text/css; charset=utf-8",
        ),
        "react.production.min.js" => (
            include_bytes!("../assets/graphiql/react.production.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "react-dom.production.min.js" => (
            include_bytes!("../assets/graphiql/react-dom.production.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "start.js" => (START.as_bytes(), "text/javascript; charset=utf-8"),
        "page.css" => (PAGE_CSS.as_bytes(), "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    with_headers(body, content_type, "public, max-age=86400")
}

fn with_headers(body: &'static [u8], content_type: &'static str, cache: &'static str) -> Response {
    crate::web::embedded(body, content_type, cache, CONTENT_SECURITY_POLICY)
}
