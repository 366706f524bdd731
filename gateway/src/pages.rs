//! Pages for people: the page an activation link opens. Opening a link must not change anything
//! (mail scanners open links), so the activation page asks the person to press a button, which sends the
//! `activateAccount` mutation.

use axum::response::Html;

/// `GET /activate?token=...`: a page with one button.
pub async fn activate() -> Html<&'static str> {
    Html(ACTIVATE_PAGE)
}

const ACTIVATE_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Activate your account</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}button{font-size:1.1rem;padding:.6rem 1.2rem}</style>
</head>
<body>
<h1>Activate your account</h1>
<p>Press the button to finish setting up your account.</p>
<button id="activate">Activate my account</button>
<p id="result" role="status"></p>
<script>
document.getElementById('activate').addEventListener('click', async () => {
  const token = new URLSearchParams(location.search).get('token') || '';
  const out = document.getElementById('result');
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Accept': 'application/graphql-response+json' },
    body: JSON.stringify({
      query: 'mutation($token: String!) { activateAccount(input: { token: $token }) { accountId position } }',
      variables: { token },
    }),
  });
  const body = await response.json();
  out.textContent = body.errors ? body.errors[0].message : 'Your account is active. You can now sign in.';
});
</script>
</body>
</html>
"#;

/// `GET /reset-password?token=...`: a page that asks for the new password and sends `resetPassword`.
pub async fn reset_password() -> Html<&'static str> {
    Html(RESET_PAGE)
}

const RESET_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Choose a new password</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}input,button{font-size:1.1rem;padding:.5rem}</style>
</head>
<body>
<h1>Choose a new password</h1>
<p>At least 12 characters. A passphrase of several words is easy to remember and hard to guess.</p>
<form id="reset">
<label>New password <input id="password" type="password" autocomplete="new-password" minlength="12" maxlength="128" required></label>
<button>Set password</button>
</form>
<p id="result" role="status"></p>
<script>
document.getElementById('reset').addEventListener('submit', async (event) => {
  event.preventDefault();
  const token = new URLSearchParams(location.search).get('token') || '';
  const newPassword = document.getElementById('password').value;
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Accept': 'application/graphql-response+json' },
    body: JSON.stringify({
      query: 'mutation($token: String!, $p: String!) { resetPassword(input: { token: $token, newPassword: $p }) { position } }',
      variables: { token, p: newPassword },
    }),
  });
  const body = await response.json();
  document.getElementById('result').textContent =
    body.errors ? body.errors[0].message : 'Your password is set. You can now sign in.';
});
</script>
</body>
</html>
"#;

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
