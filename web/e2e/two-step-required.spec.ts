// Issue 22, item 2: where the organization requires two-step verification of patients, a patient without it is led
// to set it up at their first sign-in, and reaches the portal once it is on. It runs with terms.spec.ts, after the
// other journeys (playwright.config.ts): the requirement covers every patient while it is in force.
import { expect, test } from '@playwright/test';
import { activePatient, asStaff, PASSWORD, signInHere } from './accounts';
import { checkPage } from './pages';
import { totp } from './totp';

test('a patient the organization requires two-step verification of sets it up at the first sign-in', async ({
  page,
  browser,
  request,
}) => {
  const stamp = Date.now().toString(36);
  const username = `tara${stamp}`;
  await activePatient(request, { username, email: `${username}@example.org`, firstName: 'Tara' });
  try {
    const staff = await (await browser.newContext()).newPage();
    await staff.goto('/o/demo/sign-in');
    await signInHere(staff, 'staff@demo.example', 'portal demo staff password', 'Dana');
    await staff.goto('/o/demo/staff/settings');
    const rule = staff.getByRole('form', { name: 'Two-step verification' });
    await rule.getByLabel('Patients', { exact: true }).check();
    await rule.getByRole('button', { name: 'Save' }).click();
    await expect(staff.getByText('Two-step verification is now required of: Patients.')).toBeVisible();
    await checkPage(staff, 'staff-settings-two-step');

    await page.goto('/o/demo/sign-in');
    await page.getByLabel('E-mail address or username').fill(username);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The terms in force come first (when terms.spec.ts published them), then the two-step set-up: the home page's
    // first request that needs the second step leads to it.
    const agree = page.getByRole('button', { name: 'I agree to the terms of use and privacy practices' });
    const required = page.getByText('Your organization requires two-step verification. Set it up to go on.');
    await expect(agree.or(required)).toBeVisible();
    if (await agree.isVisible()) await agree.click();
    await page.waitForURL(/\/o\/demo\/profile\/two-step\?required$/);
    await expect(required).toBeVisible();
    await checkPage(page, 'two-step-required');
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const secret = (await page.locator('code.secret').textContent()) ?? '';
    await page.getByLabel('The six-digit code your app shows now').fill(totp(secret));
    await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
    await expect(page.getByRole('heading', { name: 'Your recovery codes' })).toBeVisible();
    await page.getByRole('link', { name: 'Go on to your portal' }).click();
    await page.getByRole('link', { name: 'Appointments' }).click();
    await expect(page.getByRole('heading', { name: 'Appointments' })).toBeVisible();
    // Required, it cannot be turned off.
    await page.goto('/o/demo/profile/two-step');
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Turn off two-step verification' }).click();
    await expect(page.getByText(/requires two-step verification: it cannot be turned off/)).toBeVisible();
  } finally {
    await asStaff(request, 'mutation { setTwoStepRequirement(required: NONE) { position } }', {});
  }
});
