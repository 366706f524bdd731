//! Browser sessions in an HttpOnly cookie, so that no token is ever readable by JavaScript.
//!
//! The cookie holds the same session token a bearer header does, so a session ends the same way either way
//! (sign-out, lock, reset, erasure, timeouts, staff). It is `HttpOnly`, `SameSite=Lax` (a link from an e-mail still
//! arrives signed in; no cross-site POST carries it), `Path=/`, and `Secure` with the `__Host-` prefix (no `Domain`,
//! so no sibling subdomain can set or read it), except when portal is served over plain HTTP on a loopback address
//! for development, where a Secure cookie would not come back. Requests that rely on the cookie must come from one of
//! the configured origins (`Origin`, else `Referer`): OWASP's CSRF cheat sheet's "verifying origin with standard
//! headers", on top of SameSite and the JSON content type the endpoint requires.

use axum::http::{header, HeaderMap, HeaderValue};

/// The session cookie of this deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionCookie {
    name: &'static str,
    secure: bool,
}

impl SessionCookie {
    /// The cookie for a deployment whose pages are served from `public_url`.
    pub fn for_url(public_url: &str) -> Self {
        let plain_loopback = public_url.strip_prefix("http://").is_some_and(|rest| {
            let host = rest.split(['/', '?']).next().unwrap_or_default();
            let host = host
                .rsplit_once(':')
                .filter(|(h, port)| !h.is_empty() && port.chars().all(|c| c.is_ascii_digit()))
                .map_or(host, |(h, _)| h);
            matches!(host, "localhost" | "127.0.0.1" | "[::1]") || host.starts_with("127.")
        });
        if plain_loopback {
            Self {
                name: "portal_session",
                secure: false,
            }
        } else {
            Self {
                name: "__Host-portal_session",
                secure: true,
            }
        }
    }

    /// Its name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    fn attributes(&self) -> &'static str {
        if self.secure {
            "; Path=/; HttpOnly; SameSite=Lax; Secure"
        } else {
            "; Path=/; HttpOnly; SameSite=Lax"
        }
    }

    /// `Set-Cookie` for a session token that lives `max_age_seconds`.
    pub fn set(&self, token: &str, max_age_seconds: i64) -> Option<HeaderValue> {
        HeaderValue::from_str(&format!(
            "{}={token}; Max-Age={}{}",
            self.name,
            max_age_seconds.max(0),
            self.attributes()
        ))
        .ok()
    }

    /// `Set-Cookie` that removes it.
    pub fn clear(&self) -> HeaderValue {
        HeaderValue::from_str(&format!("{}=; Max-Age=0{}", self.name, self.attributes()))
            .unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The session token the request's cookie holds.
    pub fn read(&self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.name)
            .map(|(_, value)| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }
}

/// The origin (`scheme://host[:port]`) of a URL.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| {
        format!(
            "{}://{}",
            scheme.to_ascii_lowercase(),
            host.to_ascii_lowercase()
        )
    })
}

/// Whether the request comes from one of `allowed` origins, by its `Origin` header, else its `Referer`. A request
/// with neither is refused: browsers send `Origin` with every POST, and a cookie only comes from a browser.
pub fn from_allowed_origin(headers: &HeaderMap, allowed: &[String]) -> bool {
    let said = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|v| *v != "null")
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(origin_of)
        });
    said.and_then(|origin| origin_of(&origin).or(Some(origin)))
        .is_some_and(|origin| allowed.contains(&origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_deployment_gets_a_secure_host_prefixed_cookie_and_loopback_a_plain_one() {
        let public = SessionCookie::for_url("https://portal.example.org");
        let set = public.set("tok", 60).unwrap();
        assert_eq!(
            set.to_str().unwrap(),
            "__Host-portal_session=tok; Max-Age=60; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        let local = SessionCookie::for_url("http://127.0.0.1:8080");
        assert_eq!(local.name(), "portal_session");
        assert!(!local
            .set("tok", 60)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Secure"));
        // Plain HTTP on a real host still gets a Secure cookie: it then works only behind TLS, as it should.
        assert!(SessionCookie::for_url("http://portal.example.org").secure);
    }

    #[test]
    fn the_cookie_is_read_among_others_and_origins_are_compared_exactly() {
        let cookie = SessionCookie::for_url("http://localhost:3000");
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; portal_session=tok; b=2"),
        );
        assert_eq!(cookie.read(&headers).as_deref(), Some("tok"));
        let allowed = vec!["https://portal.example.org".to_owned()];
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://portal.example.org"),
        );
        assert!(from_allowed_origin(&headers, &allowed));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://portal.example.org.evil.test"),
        );
        assert!(!from_allowed_origin(&headers, &allowed));
        headers.remove(header::ORIGIN);
        assert!(!from_allowed_origin(&headers, &allowed));
        headers.insert(
            header::REFERER,
            HeaderValue::from_static("https://portal.example.org/o/acme"),
        );
        assert!(from_allowed_origin(&headers, &allowed));
    }
}
