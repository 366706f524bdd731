//! A page for people that the web portals (web/) do not have yet: the page an e-mail change link opens. Opening a
//! link must not change anything (mail scanners open links), so the page asks the person to press a button, which
//! sends the mutation. (The activation and password-reset pages are the portals' own: `/o/<code>/activate`,
//! `/o/<code>/reset-password`.)

use axum::response::Html;

/// `GET /confirm-email?token=...`: a page with one button that confirms a new e-mail address.
pub async fn confirm_email() -> Html<&'static str> {
    Html(CONFIRM_EMAIL_PAGE)
}

const CONFIRM_EMAIL_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Confirm your new e-mail address</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}button{font-size:1.1rem;padding:.6rem 1.2rem}</style>
</head>
<body>
<h1>Confirm your new e-mail address</h1>
<p>Press the button to sign in with this address from now on.</p>
<button id="confirm">Confirm</button>
<p id="result" role="status"></p>
<script>
document.getElementById('confirm').addEventListener('click', async () => {
  const token = new URLSearchParams(location.search).get('token') || '';
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Accept': 'application/graphql-response+json' },
    body: JSON.stringify({
      query: 'mutation($token: String!) { confirmEmailChange(input: { token: $token }) { position } }',
      variables: { token },
    }),
  });
  const body = await response.json();
  document.getElementById('result').textContent =
    body.errors ? body.errors[0].message : 'Done: sign in with your new address from now on.';
});
</script>
</body>
</html>
"#;
