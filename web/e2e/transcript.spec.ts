// The transcript (seed 002): empty at first, then, without a reload, the credit of an attendance texted from the
// learner's phone, pending until the profile is complete; the texting instructions with the organization's number;
// the CSV download.
import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { activeLearner, courseNow, PASSWORD, signInHere } from './accounts';
import { checkPage } from './pages';
import { text } from './texts';

test('a learner’s transcript shows attendance texted from a phone without a reload, and downloads as CSV', async ({
  page,
  baseURL,
}) => {
  const stamp = Date.now().toString(36).slice(-5).toUpperCase();
  const email = `grace.${stamp.toLowerCase()}@example.org`;
  const phone = `+1612555${String(Date.now()).slice(-4)}`;
  const code = `TXT${stamp}`;
  await activeLearner(page.request, email, 'Grace');
  await courseNow(page.request, code, false);

  await page.goto('/o/demo/sign-in');
  await signInHere(page, email, PASSWORD, 'Grace');
  await page.getByRole('link', { name: 'Record attendance' }).click();
  const texting = page.getByRole('region', { name: 'How do I text my attendance?' });
  await expect(texting).toContainText('Text the e-mail address of your account to (500) 555-0006');
  await expect(texting).toContainText('Text the activity code to (500) 555-0006.');

  await page.goto('/o/demo/');
  await page.getByRole('link', { name: 'Transcript' }).click();
  await expect(page.getByRole('heading', { name: 'Transcript' })).toBeVisible();
  await expect(page.getByText('No credits yet.')).toBeVisible();
  await checkPage(page, 'transcript-empty');

  // The FAQ's steps 2 and 4, from the phone, while the page is open.
  expect(await text(page.request, baseURL ?? '', phone, email)).toContain('your phone number has been updated');
  // The credit waits for the profile, so the reply says so rather than that the credits are recorded.
  expect(await text(page.request, baseURL ?? '', phone, code)).toBe(
    'Thank you Grace, we have recorded your attendance for Grand Rounds: Sepsis. Your credit is pending until you ' +
      'complete your professional profile: sign in to the CE Portal to finish, and we will e-mail you when it is recorded',
  );
  const credits = page.getByRole('table', { name: 'Credits by activity' });
  await expect(credits).toContainText('Grand Rounds: Sepsis');
  await expect(credits).toContainText('Pending until');
  await expect(credits).toContainText('you complete your professional profile');
  await expect(page.getByRole('table', { name: 'Credits by year and type' })).toContainText('1.00');
  await checkPage(page, 'transcript');

  // Claiming now: the profile is still incomplete, and the answer says so.
  await page.getByRole('button', { name: 'Claim credit for Grand Rounds: Sepsis' }).click();
  await expect(page.getByRole('status')).toContainText('Still missing from your profile');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download as CSV (spreadsheet)' }).click(),
  ]);
  const csv = await readFile(await download.path(), 'utf8');
  expect(csv.split('\n')[0]).toContain('Activity');
  expect(csv).toContain('Grand Rounds: Sepsis');
  expect(csv).toContain('pending');

  // The private calendar link of the activities attended: a calendar app reads it without a session.
  await page.getByRole('button', { name: 'Get my calendar link' }).click();
  const link = await page.getByLabel('Calendar link (iCalendar)').inputValue();
  expect(link).toContain('/o/demo/my-activities.ics?token=');
  const feed = await fetch(link);
  expect(feed.status).toBe(200);
  expect(await feed.text()).toContain('SUMMARY:Grand Rounds: Sepsis');
  await checkPage(page, 'transcript-feed');
});
