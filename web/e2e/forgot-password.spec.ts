// Forgot Your Password (seed 000): the request from the sign-in page, the same answer for any address, the reset page
// the e-mailed link opens, then signing in with the new password.
import { expect, test } from '@playwright/test';
import { activeLearner, activePatient, signInHere } from './accounts';
import { linkIn, mailsWith } from './mail';
import { checkPage } from './pages';

test('a learner who forgot their password sets a new one from the e-mailed link and signs in', async ({ page }) => {
  const email = `grace.${Date.now()}@example.org`;
  await activeLearner(page.request, email, 'Grace');

  await page.goto('/o/demo/sign-in');
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await expect(page.getByRole('heading', { name: 'Forgot your password?' })).toBeVisible();
  await checkPage(page, 'forgot-password');
  await page.getByLabel('E-mail address or username').fill(email);
  await page.getByRole('button', { name: 'Send the link' }).click();
  const answer = await page.getByRole('status').textContent();
  await checkPage(page, 'forgot-password-sent');

  // Another address gets the very same answer: nothing tells whether an account exists.
  await page.goto('/o/demo/forgot-password');
  await page.getByLabel('E-mail address or username').fill(`nobody.${Date.now()}@example.org`);
  await page.getByRole('button', { name: 'Send the link' }).click();
  await expect(page.getByRole('status')).toHaveText(answer ?? '');

  const link = await linkIn(email, '/o/demo/reset-password?token=');
  await page.goto(link);
  await expect(page.getByRole('heading', { name: 'Choose a new password' })).toBeVisible();
  await checkPage(page, 'reset-password');
  const password = page.getByLabel('New password');
  await password.fill('password1234');
  await password.press('Enter');
  await expect(password).toHaveAttribute('aria-invalid', 'true');
  await password.fill('a brand new passphrase for grace');
  await password.press('Enter');
  await expect(page.getByRole('status')).toHaveText('Your new password is set. Sign in with it.');
  await page.getByRole('link', { name: 'Sign in' }).click();
  await signInHere(page, email, 'a brand new passphrase for grace', 'Grace');

  // The link works once.
  await page.goto(link);
  await page.getByLabel('New password').fill('yet another passphrase here');
  await page.getByRole('button', { name: 'Set password' }).click();
  await expect(page.getByRole('alert').first()).toContainText(/used|invalid|expired/i);
});

test('a patient who forgot the username gets it by e-mail, and asks for a new password with it', async ({ page }) => {
  const stamp = Date.now().toString(36);
  const username = `una${stamp}`;
  const email = `${username}@example.org`;
  await activePatient(page.request, { username, email, firstName: 'Una' });

  await page.goto('/o/demo/sign-in');
  await page.getByRole('link', { name: 'Forgot your username?' }).click();
  await expect(page.getByRole('heading', { name: 'Forgot your username?' })).toBeVisible();
  await checkPage(page, 'forgot-username');
  await page.getByLabel('E-mail address').fill(email);
  await page.getByRole('button', { name: 'Send my username' }).click();
  await expect(page.getByRole('status')).toHaveText(
    'If an account uses this address, we sent its username to it. Check spam or junk folders too.',
  );
  await mailsWith(email, `    ${username}\r\n`);

  await page.getByRole('link', { name: 'Back to sign in' }).click();
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.getByLabel('E-mail address or username').fill(username);
  await page.getByRole('button', { name: 'Send the link' }).click();
  await expect(page.getByRole('status')).toContainText('If an account uses this username');
  expect(await linkIn(email, '/o/demo/reset-password?token=')).toContain('token=');
});
