// Seed 001 to its end, run after every other journey (playwright.config.ts): publishing the demo organization's terms
// changes what every later sign-in of a learner or patient meets. A patient follows the activation code e-mail,
// signs up, activates the account and accepts the terms at the first sign-in; a learner, too, is asked to accept them.
import { expect, test } from '@playwright/test';
import { activeLearner, asStaff, openTimes, PASSWORD, signInHere, signUpHere } from './accounts';
import { bookFirstTime } from './booking';
import { mailsWith } from './mail';
import { checkPage } from './pages';

test('a patient follows the activation code e-mail, signs up, activates the account and signs in', async ({ page }) => {
  const stamp = Date.now().toString(36);
  const email = `pat.${stamp}@example.org`;
  await openTimes(page.request, stamp);
  await asStaff(page.request, 'mutation($input: RegisterPatientInput!) { registerPatient(input: $input) { position } }', {
    input: {
      clinicNumber: `C${stamp.slice(-8)}`.toUpperCase(),
      firstName: 'Pat',
      lastName: 'Doe',
      dateOfBirth: '1975-03-14',
      email,
    },
  });
  await asStaff(page.request, 'mutation($input: PublishTermsInput!) { publishTerms(input: $input) { position } }', {
    input: {
      termsOfUse: `Terms of use ${stamp}: use the portal for your own care and that of people who granted you access.`,
      privacyPractices: 'We keep your health information private and log every read of it.',
    },
  });
  const [mail] = await mailsWith(email, '/o/demo/sign-up');
  // The link carries the code in its fragment, which the browser never sends: the form fills it in.
  const link = /(http\S+\/o\/demo\/sign-up#code=\S+)/.exec(mail ?? '')?.[1] ?? '';
  const code = /^ {4}(\S+)\s*$/m.exec(mail ?? '')?.[1] ?? '';
  expect(code).not.toBe('');

  await page.goto(link);
  await expect(page.getByRole('heading', { name: 'Create your patient portal account' })).toBeVisible();
  await expect(page.getByLabel('Activation code', { exact: true })).toHaveValue(code);
  await checkPage(page, 'sign-up');
  await signUpHere(page, { email, username: `pat${stamp}`, dateOfBirth: '1975-03-14' });
  // Seed 001, step 4: the terms in force, read and accepted before anything else.
  await page.getByLabel('E-mail address or username').fill(`pat${stamp}`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Terms of use and privacy practices' })).toBeVisible();
  await expect(page.getByText(`Terms of use ${stamp}`)).toBeVisible();
  await checkPage(page, 'terms');
  await page.getByRole('button', { name: 'I agree to the terms of use and privacy practices' }).click();
  await expect(page.getByRole('heading', { name: 'Your patient portal' })).toBeVisible();
  await expect(page.getByText('Welcome, Pat.')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Record attendance' })).toHaveCount(0);
  // A patient has no professional profile: their profile opens on the password.
  await page.getByRole('link', { name: 'My profile' }).click();
  await expect(page.getByRole('heading', { name: 'Change your password' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Professional profile' })).toHaveCount(0);
  await checkPage(page, 'patient-profile');
  await bookFirstTime(page, stamp);
});

test('a learner accepts the terms once they are published, then reaches the portal', async ({ page, browser }) => {
  const email = `lena.${Date.now().toString(36)}@example.org`;
  await activeLearner(page.request, email, 'Lena');
  await page.goto('/o/demo/sign-in');
  await page.getByLabel('E-mail address or username').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Terms of use and privacy practices' })).toBeVisible();
  await page.getByRole('button', { name: 'I agree to the terms of use and privacy practices' }).click();
  await expect(page.getByText('Welcome, Lena.')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Record attendance' })).toBeVisible();

  // A new version, published by staff on their page while she is signed in: the next page she opens sends her to it.
  const staff = await (await browser.newContext()).newPage();
  await staff.goto('/o/demo/sign-in');
  await signInHere(staff, 'staff@demo.example', 'portal demo staff password', 'Dana');
  await staff.goto('/o/demo/staff/policies');
  const terms = staff.getByRole('form', { name: 'Terms of use and privacy practices' });
  await expect(terms.getByText(/^Version 1, published /)).toBeVisible();
  await terms.getByLabel('Terms of use').fill('Terms of use, second version.');
  await terms.getByLabel('Privacy practices').fill('Privacy practices, second version.');
  await terms.getByRole('button', { name: 'Publish as a new version' }).click();
  await expect(staff.getByText('Version 2 is published: everyone accepts it at their next sign-in.')).toBeVisible();
  await page.goto('/o/demo/transcript');
  await expect(page.getByText('Our terms of use and privacy practices have changed.')).toBeVisible();
  await expect(page).toHaveURL(/\/o\/demo\/$/);
  await page.getByRole('button', { name: 'I agree to the terms of use and privacy practices' }).click();
  await page.getByRole('link', { name: 'Transcript' }).click();
  await expect(page.getByRole('heading', { name: 'Transcript' })).toBeVisible();
});
