// Clinic staff and the ways to a patient portal account (seed 001): a request for a code made online, approved from
// the queue, brings the code e-mail, whose link signs the person up; a patient registered at the desk gets a
// printable code, and a new one on request, and signs up with the clinic number instead. Each then books.
import { expect, test } from '@playwright/test';
import { openTimes, PASSWORD, signInHere, signUpHere } from './accounts';
import { bookFirstTime } from './booking';
import { mailsWith } from './mail';
import { checkPage } from './pages';

test('a request for a code, approved by staff, brings the code e-mail that signs the person up', async ({ page, browser }) => {
  const stamp = Date.now().toString(36);
  const email = `quinn.${stamp}@example.org`;
  const last = `Q${stamp}`;
  await openTimes(page.request, stamp);
  await page.goto('/o/demo/sign-up');
  await page.getByLabel('I have neither: request an activation code online').check();
  const request = page.getByRole('form', { name: 'Request an activation code' });
  await request.getByLabel('First name').fill('Quinn');
  await request.getByLabel('Last name').fill(last);
  await request.getByLabel('Date of birth').fill('1982-11-30');
  await request.getByLabel('E-mail address').fill(email);
  await request.getByRole('button', { name: 'Request a code' }).click();
  await expect(page.getByRole('status')).toContainText('may contact you');

  const staff = await (await browser.newContext()).newPage();
  await staff.goto(new URL('/o/demo/sign-in', page.url()).href);
  await signInHere(staff, 'staff@demo.example', 'portal demo staff password', 'Dana');
  await staff.goto(new URL('/o/demo/staff/sign-up-requests', page.url()).href);
  const card = staff.getByRole('listitem').filter({ hasText: `Quinn ${last}` });
  await expect(card).toContainText('No record matches.');
  await checkPage(staff, 'staff-sign-up-requests');
  await card.getByLabel('Clinic number of a new record').fill(`N${stamp.slice(-7)}`.toUpperCase());
  await card.getByRole('button', { name: `Approve Quinn ${last} as a new record` }).click();
  await expect(staff.getByText(`The request of Quinn ${last} is answered`)).toBeVisible();
  await expect(card).toHaveCount(0);
  await staff.context().close();

  // The code e-mail's link fills the code in: the person signs up and activates the account.
  const [mail] = await mailsWith(email, '/o/demo/sign-up#code=');
  const link = /(http\S+\/o\/demo\/sign-up#code=\S+)/.exec(mail ?? '')?.[1] ?? '';
  await page.goto(link);
  await signUpHere(page, { email, username: `quinn${stamp}`, dateOfBirth: '1982-11-30' });
  await signInHere(page, `quinn${stamp}`, PASSWORD, 'Quinn');
  await expect(page.getByRole('heading', { name: 'Your patient portal' })).toBeVisible();
  await bookFirstTime(page, stamp);
});

test('staff register a patient at the desk and print the code; the patient signs up with the clinic number and books', async ({
  page,
  browser,
}) => {
  const stamp = Date.now().toString(36);
  const number = `D${stamp.slice(-7)}`.toUpperCase();
  await openTimes(page.request, stamp);
  await page.goto('/o/demo/sign-in');
  await signInHere(page, 'staff@demo.example', 'portal demo staff password', 'Dana');
  await page.goto('/o/demo/staff/patients');
  const form = page.getByRole('form', { name: 'Register a patient' });
  await form.getByLabel('Clinic number').fill(number);
  await form.getByLabel('First name').fill('Dora');
  await form.getByLabel('Last name').fill(`Desk${stamp}`);
  await form.getByRole('button', { name: 'Register and issue an activation code' }).click();
  // No date of birth: refused at its field, nothing registered.
  await expect(form.getByLabel('Date of birth')).toHaveAttribute('aria-invalid', 'true');
  await form.getByLabel('Date of birth').fill('1960-02-29');
  await form.getByRole('button', { name: 'Register and issue an activation code' }).click();
  await expect(page.getByText(`Dora Desk${stamp} is registered.`)).toBeVisible();
  const first = (await page.locator('.handout-code').textContent())?.trim();
  expect(first).toBeTruthy();
  await expect(page.getByRole('button', { name: 'Print the code' })).toBeVisible();
  await checkPage(page, 'staff-patients');

  await page.getByLabel('Name, clinic number or e-mail address').fill(number);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('button', { name: `Issue a new activation code for Dora Desk${stamp}` }).click();
  await expect(page.getByText(`A new activation code for Dora Desk${stamp} is below`)).toBeVisible();
  await expect(page.locator('.handout-code')).not.toHaveText(first ?? '');

  // Dora signs up with her clinic number and date of birth instead, and books.
  const dora = await (await browser.newContext()).newPage();
  await dora.goto('/o/demo/sign-up');
  await dora.getByLabel('With my clinic number').check();
  await dora.getByLabel('Clinic number', { exact: true }).fill(number);
  await signUpHere(dora, { email: `dora.${stamp}@example.org`, username: `dora${stamp}`, dateOfBirth: '1960-02-29' });
  await signInHere(dora, `dora${stamp}`, PASSWORD, 'Dora');
  await bookFirstTime(dora, stamp);
});
