//! The web portals as `portal serve` serves them (issue 21): the app's page for its routes under a strict
//! Content-Security-Policy, hashed assets cached for a year, missing files a 404.

use super::support::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portals_are_served_from_the_binary_under_a_strict_content_security_policy() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", app.base)).send();

    for route in ["/", "/o/umncpd/sign-in", "/o/umncpd/transcript"] {
        let page = get(route).await.unwrap();
        assert_eq!(page.status(), 200, "{route}");
        let csp = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(page.headers()["cache-control"], "no-cache");
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("http"),
            "no inline code, no CDN: {csp}"
        );
        let html = page.text().await.unwrap();
        assert!(html.contains("<div id=\"root\"></div>"), "{html}");
        // Every script is a file of this origin: none inline.
        for script in html.split("<script").skip(1) {
            let tag = &script[..script.find('>').unwrap()];
            assert!(
                tag.contains("src=\"/assets/"),
                "an inline or foreign script: <script{tag}>"
            );
        }
    }

    let html = get("/").await.unwrap().text().await.unwrap();
    let start = html.find("/assets/").unwrap();
    let asset = &html[start..start + html[start..].find('"').unwrap()];
    let script = get(asset).await.unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let plain = script.bytes().await.unwrap();
    // A browser that takes gzip gets the build's gzipped copy, a fraction of the bytes; one that refuses it, the file.
    let gzipped = http
        .get(format!("{}{asset}", app.base))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    assert_eq!(gzipped.headers()["vary"], "accept-encoding");
    let body = gzipped.bytes().await.unwrap();
    assert_eq!(&body[..2], &[0x1f, 0x8b], "a gzip stream");
    assert!(
        body.len() * 2 < plain.len(),
        "{} of {}",
        body.len(),
        plain.len()
    );
    let refused = http
        .get(format!("{}{asset}", app.base))
        .header("accept-encoding", "gzip;q=0")
        .send()
        .await
        .unwrap();
    assert!(refused.headers().get("content-encoding").is_none());
    assert_eq!(refused.bytes().await.unwrap(), plain);
    let manifest = get("/manifest.webmanifest").await.unwrap();
    assert_eq!(
        manifest.headers()["content-type"],
        "application/manifest+json"
    );

    assert_eq!(get("/assets/missing-123.js").await.unwrap().status(), 404);
    assert_eq!(get("/robots-missing.txt").await.unwrap().status(), 404);
    let post = http
        .post(format!("{}/o/umncpd/sign-in", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405);
    // The API and the plain HTTP endpoints keep their routes.
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_pinned_to_one_organization_names_it_in_the_apps_page() {
    let app = TestApp::spawn_with(|args| {
        args.organization = Some(portal_domain::values::OrganizationCode::parse("umncpd").unwrap());
    })
    .await;
    for route in ["/", "/o/umncpd/sign-in", "/o/other/"] {
        let page = reqwest::get(format!("{}{route}", app.base)).await.unwrap();
        assert_eq!(page.status(), 200, "{route}");
        assert!(page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self';"));
        let html = page.text().await.unwrap();
        assert!(
            html.contains("<meta name=\"portal-organization\" content=\"umncpd\"></head>"),
            "{html}"
        );
    }
    // Not pinned: no tag, so the app offers the chooser.
    let plain = TestApp::spawn().await;
    let html = reqwest::get(format!("{}/", plain.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("portal-organization"), "{html}");
}
