// My professional profile (seed 000) and the rest of the profile area: the missing fields, a refusal at its field,
// the congratulations and the held credit it releases; phones verified with the texted code; password, e-mail change
// through its e-mailed link, devices and sign-ins.
import { expect, test } from '@playwright/test';
import { activeLearner, courseNow, PASSWORD, signInHere } from './accounts';
import { linkIn } from './mail';
import { checkPage } from './pages';
import { codeTextedTo } from './texts';

test('a learner completes the professional profile, which releases held credit, and verifies a phone', async ({ page }) => {
  const stamp = Date.now().toString(36);
  const email = `mary.${stamp}@example.org`;
  const code = `PRF${stamp.slice(-5).toUpperCase()}`;
  await activeLearner(page.request, email, 'Mary');
  await courseNow(page.request, code, false);

  await page.goto('/o/demo/sign-in');
  await signInHere(page, email, PASSWORD, 'Mary');
  // Attendance first: its credit waits for the profile.
  await page.getByRole('link', { name: 'Record attendance' }).click();
  await page.getByLabel('Activity code').fill(code);
  await page.getByRole('button', { name: 'Record attendance' }).click();
  await expect(page.getByRole('status')).toContainText('you complete your professional profile');

  await page.goto('/o/demo/');
  await page.getByRole('link', { name: 'My profile' }).click();
  await expect(page.getByRole('heading', { name: 'My professional profile' })).toBeVisible();
  const status = page.getByRole('status').first();
  await expect(status).toContainText('To earn credit, complete these fields');
  await expect(status).toContainText('Date of birth');
  await checkPage(page, 'profile');

  await page.getByLabel('Prefix').selectOption({ label: 'Dr.' });
  await page.getByRole('group', { name: /employed by an organization/ }).getByLabel('No').check();
  await page.getByRole('group', { name: 'Address type' }).getByLabel('Work').check();
  await page.getByLabel('Address line 1').fill('200 First Street SW');
  await page.getByLabel('City').fill('Rochester');
  await page.getByLabel('State, province or region').fill('MN');
  await page.getByLabel('Postal code').fill('55905');
  await page.getByLabel('Date of birth (used to report MOC and pharmacy credit)').fill('2999-01-01');
  await page.getByLabel('None', { exact: true }).check();
  await page.getByLabel('Enrollment type (the one most appropriate for you)').selectOption({ label: 'Physician' });
  await page.getByLabel('State (two letters, such as FL)').fill('FL');
  await page.getByRole('group', { name: 'Do you hold a medical doctor license of this state?' }).getByLabel('No').check();
  await page.getByLabel('Credit eligibility').selectOption({ label: 'AMA PRA Category 1 Credit' });
  await page.getByRole('button', { name: 'Save' }).click();
  // A date of birth in the future: refused at its field, and nothing saved.
  const birth = page.getByLabel('Date of birth (used to report MOC and pharmacy credit)');
  await expect(birth).toHaveAttribute('aria-invalid', 'true');
  await expect(status).toContainText('Prefix');

  await birth.fill('1980-04-02');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Congratulations! You have completed your professional profile!')).toBeVisible();
  await expect(page.getByText('Credit that waited for your profile is now awarded for 1 activity.')).toBeVisible();
  await checkPage(page, 'profile-complete');

  // A phone, verified with the code texted to it.
  const phone = `+1612555${String(Date.now()).slice(-4)}`;
  await page.getByRole('link', { name: 'Phone numbers' }).click();
  await expect(page.getByText('No phone numbers yet.')).toBeVisible();
  await page.getByLabel('Mobile number').fill(phone);
  await page.getByRole('button', { name: 'Text me a code' }).click();
  await expect(page.getByText('Not verified yet')).toBeVisible();
  await checkPage(page, 'phones');
  await page.getByLabel(/The six-digit code texted to/).fill('000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByLabel(/The six-digit code texted to/)).toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel(/The six-digit code texted to/).fill(await codeTextedTo(phone));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByText('Verified ·')).toBeVisible();
  await page.getByRole('button', { name: /^Remove / }).click();
  await expect(page.getByText('No phone numbers yet.')).toBeVisible();
});

test('a learner changes the password and the e-mail address, confirmed from the e-mailed link', async ({ page }) => {
  const stamp = Date.now().toString(36);
  const email = `ida.${stamp}@example.org`;
  const newEmail = `ida.new.${stamp}@example.org`;
  const newPassword = 'copper lantern drifts at dusk';
  await activeLearner(page.request, email, 'Ida');
  await page.goto('/o/demo/sign-in');
  await signInHere(page, email, PASSWORD, 'Ida');
  await page.getByRole('link', { name: 'My profile' }).click();

  await page.getByRole('link', { name: 'Password' }).click();
  await page.getByLabel('Current password').fill('not the password at all');
  await page.getByLabel('New password').fill(newPassword);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByLabel('Current password')).toHaveAttribute('aria-invalid', 'true');
  await checkPage(page, 'change-password');
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('Your password is changed.')).toBeVisible();

  await page.getByRole('link', { name: 'E-mail address' }).click();
  await expect(page.getByText(`You sign in with ${email}.`)).toBeVisible();
  await page.getByLabel('New e-mail address').fill(newEmail);
  await page.getByLabel('Current password').fill(newPassword);
  await page.getByRole('button', { name: 'Send the confirmation link' }).click();
  await expect(page.getByText(`We have sent a link to ${newEmail}.`)).toBeVisible();
  await checkPage(page, 'change-email');

  await page.getByRole('link', { name: 'Devices and sign-ins' }).click();
  await expect(page.getByRole('table', { name: 'Recent sign-ins to your account' })).toContainText('Signed in');
  await expect(page.getByText('No app is signed in to your account.')).toBeVisible();
  await checkPage(page, 'devices');

  await page.goto(await linkIn(newEmail, '/o/demo/confirm-email?token='));
  await expect(page.getByRole('heading', { name: 'Confirm your new e-mail address' })).toBeVisible();
  await checkPage(page, 'confirm-email');
  await page.getByRole('button', { name: 'Confirm my new address' }).click();
  await expect(page.getByText('Done: sign in with your new address from now on.')).toBeVisible();
  await page.getByRole('link', { name: 'Sign in' }).click();
  await signInHere(page, newEmail, newPassword, 'Ida');
});

test('a learner records a change of name from a day, and a day still to come is refused', async ({ page }) => {
  const stamp = Date.now().toString(36);
  const email = `grace.${stamp}@example.org`;
  await activeLearner(page.request, email, 'Grace');
  await page.goto('/o/demo/sign-in');
  await signInHere(page, email, PASSWORD, 'Grace');
  await page.getByRole('link', { name: 'My profile' }).click();
  await page.getByRole('link', { name: 'Name', exact: true }).click();
  await expect(page.getByText('Your name now: Grace Lovelace')).toBeVisible();
  const form = page.getByRole('form', { name: 'Change of name' });
  await expect(form.getByLabel('First name')).toHaveValue('Grace');
  await form.getByLabel('Last name').fill('Hopper');
  await form.getByLabel('Takes effect on').fill('2999-01-01');
  await form.getByRole('button', { name: 'Change my name' }).click();
  await expect(form.getByText('a change of name takes effect today or on an earlier day')).toBeVisible();
  await checkPage(page, 'profile-name');
  await form.getByLabel('Takes effect on').fill(new Date(Date.now() - 86_400_000).toISOString().slice(0, 10));
  await form.getByRole('button', { name: 'Change my name' }).click();
  await expect(page.getByText('Your name is changed.')).toBeVisible();
  await expect(page.getByText('Your name now: Grace Hopper')).toBeVisible();
});
