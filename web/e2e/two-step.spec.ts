// Two-step verification (issue 22, item 2): set up with an authenticator app from the QR code's key, a first code
// computed by the test, the recovery codes shown once; then signing in asks for a code, and turning it off needs the
// password.
import { expect, test } from '@playwright/test';
import { activeLearner, PASSWORD, signInHere } from './accounts';
import { checkPage } from './pages';
import { totp } from './totp';

test('a person sets up an authenticator app, signs in with its code, and turns it off with the password', async ({ page }) => {
  const email = `tess.${Date.now().toString(36)}@example.org`;
  await activeLearner(page.request, email, 'Tess');
  await page.goto('/o/demo/sign-in');
  await signInHere(page, email, PASSWORD, 'Tess');
  await page.goto('/o/demo/profile/two-step');
  await expect(page.getByText('Two-step verification is off.')).toBeVisible();
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  await expect(page.getByRole('img', { name: 'QR code to scan with your authenticator app' })).toBeVisible();
  const secret = (await page.locator('code.secret').textContent()) ?? '';
  await checkPage(page, 'two-step-app');

  await page.getByLabel('The six-digit code your app shows now').fill('000000');
  await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
  await expect(page.getByLabel('The six-digit code your app shows now')).toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel('The six-digit code your app shows now').fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
  await expect(page.getByRole('heading', { name: 'Your recovery codes' })).toBeVisible();
  await expect(page.locator('.codes li')).not.toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Download the codes' })).toHaveAttribute('download', 'recovery-codes.txt');
  await checkPage(page, 'two-step-recovery');

  await page.goto('/o/demo/');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('E-mail address or username').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Two-step verification' })).toBeVisible();
  // A code of the next period: the one just used may not be used twice.
  await page.getByLabel('Code', { exact: true }).fill(totp(secret, Date.now() + 30_000));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByText('Welcome, Tess.')).toBeVisible();

  await page.goto('/o/demo/profile/two-step');
  await expect(page.getByText('Two-step verification is on.').first()).toBeVisible();
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Turn off two-step verification' }).click();
  await expect(page.getByText('Two-step verification is off.').first()).toBeVisible();
  await checkPage(page, 'two-step-off');
});
