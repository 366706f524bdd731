// The staff pages of seed 002's coordinators, with the learners their work is for: scheduling, a sign-in sheet and
// the board report; locked accounts with their sign-ins and unlock, the wording of the unlock e-mail, deliveries with
// re-send, an invitation followed from its e-mail, and the settings.
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { activeLearner, PASSWORD, signInHere } from './accounts';
import { linkIn, mailsWith } from './mail';
import { checkPage } from './pages';

/** A time minutes from now on the demo organization's clocks (UTC), as a datetime-local field takes it. */
const localIn = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString().slice(0, 16);

/** Signs the demo staff member in and opens the staff pages from the home page. */
async function openStaffPages(page: Page): Promise<void> {
  await page.goto('/o/demo/sign-in');
  await signInHere(page, 'staff@demo.example', 'portal demo staff password', 'Dana');
  await page.getByRole('link', { name: 'Staff pages' }).click();
  await expect(page.getByRole('heading', { name: 'Schedule', exact: true })).toBeVisible();
}

/** Locks `email`'s account with wrong passwords, as someone guessing it would. */
async function lock(request: APIRequestContext, email: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    await request.post('/graphql', {
      data: {
        query: 'mutation($input: SignInInput!) { signIn(input: $input) { token } }',
        variables: { input: { organizationCode: 'demo', email, password: `not the password ${attempt}` } },
      },
    });
  }
}

test('staff schedule a course and a series, record attendance from a sign-in sheet and download the board report', async ({
  page,
}) => {
  const stamp = Date.now().toString(36);
  const email = `sheila.${stamp}@example.org`;
  const title = `Sheet course ${stamp}`;
  const code = `SH${stamp.slice(-6).toUpperCase()}`;
  await activeLearner(page.request, email, 'Sheila');
  await openStaffPages(page);
  await checkPage(page, 'staff-schedule');

  const activity = page.getByRole('form', { name: 'Schedule an activity' });
  await activity.getByLabel('Activity code (learners text it)').fill(code);
  await activity.getByLabel('Starts').fill(localIn(-60));
  await activity.getByLabel('Ends').fill(localIn(30));
  await activity.getByLabel('Amount').fill('1.50');
  await activity.getByRole('button', { name: 'Schedule the activity' }).click();
  // No title: refused at its field, and nothing scheduled.
  await expect(activity.getByLabel('Title')).toHaveAttribute('aria-invalid', 'true');
  await activity.getByLabel('Title').fill(title);
  await activity.getByRole('button', { name: 'Schedule the activity' }).click();
  await expect(page.getByText(`${title} is on the calendar; learners text ${code}.`)).toBeVisible();
  await expect(page.getByRole('link', { name: `Open the page of ${title}` })).toBeVisible();

  const series = page.getByRole('form', { name: 'Schedule a series' });
  await series.getByLabel('Kind of series').selectOption({ label: 'Journal club' });
  await series.getByLabel('Number of meetings').fill('3');
  await series.getByLabel('Title').fill(`Journal club ${stamp}`);
  await series.getByLabel('First meeting starts').fill(localIn(24 * 60));
  await series.getByLabel('First meeting ends').fill(localIn(25 * 60));
  await series.getByRole('button', { name: 'Schedule the series' }).click();
  await expect(page.getByText(`Journal club ${stamp}: 3 meetings are on the calendar.`)).toBeVisible();
  await expect(page.getByRole('link', { name: /: code / })).toHaveCount(3);
  await checkPage(page, 'staff-scheduled');

  await page.getByRole('link', { name: 'Sign-in sheet' }).click();
  await expect(page.getByRole('heading', { name: 'Record attendance from a sign-in sheet', level: 1 })).toBeVisible();
  await page.getByLabel('Title or words of the description').fill(stamp);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('button', { name: `Choose ${title}` }).click();
  await page.getByLabel('Name or e-mail address (at least 2 characters)').fill(`sheila.${stamp}`);
  await page.getByRole('button', { name: 'Search' }).last().click();
  await page.getByRole('button', { name: 'Record attendance for Sheila Lovelace' }).click();
  // Her profile is not complete yet, so the credit waits, as it would had she texted the code herself.
  await expect(page.getByText('Attendance recorded for Sheila Lovelace; credit is pending')).toBeVisible();
  await checkPage(page, 'staff-sign-in-sheet');

  await page.getByRole('link', { name: 'Board reporting' }).click();
  await expect(page.getByRole('heading', { name: 'Board reporting', level: 1 })).toBeVisible();
  await page.getByLabel('From (optional)').fill(localIn(-30 * 24 * 60).slice(0, 10));
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download the board completions (CSV)' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('board-completions.csv');
  await checkPage(page, 'staff-reports');
});

test('staff unlock an account in their own words, re-send the e-mail, invite an auditor and change the settings', async ({
  page,
  browser,
}) => {
  const stamp = Date.now().toString(36);
  const email = `luke.${stamp}@example.org`;
  await activeLearner(page.request, email, 'Luke');
  await lock(page.request, email);
  await openStaffPages(page);

  // The unlock e-mail in the organization's words.
  await page.getByRole('link', { name: 'Messages' }).click();
  await page.getByText('Account unlocked · e-mail').click();
  const unlocked = page.getByRole('form', { name: 'Account unlocked' });
  const text = unlocked.getByLabel('Text', { exact: true });
  await text.fill(`${await text.inputValue()}\nCall the CE office at 555-0100 with any question.`);
  await unlocked.getByRole('button', { name: 'Save the wording of Account unlocked' }).click();
  await expect(page.getByText('Account unlocked: your wording is saved.')).toBeVisible();
  const hours = page.getByRole('form', { name: 'Texting hours' });
  await hours.getByLabel('From').fill('08:00');
  await hours.getByLabel('Until').fill('19:30');
  await hours.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Texts now go out from 08:00 until 19:30.')).toBeVisible();
  await checkPage(page, 'staff-messages');

  await page.getByRole('link', { name: 'Locked accounts' }).click();
  await page.getByRole('link', { name: 'Sign-in attempts of Luke Lovelace' }).click();
  await expect(page.getByRole('cell', { name: 'Wrong password' })).toHaveCount(5);
  await checkPage(page, 'staff-sign-in-attempts');
  await page.getByRole('link', { name: 'Back to the locked accounts' }).click();
  await checkPage(page, 'staff-locked');
  await page.getByRole('button', { name: 'Unlock Luke Lovelace' }).click();
  await expect(page.getByText('Luke Lovelace is unlocked and has been told by e-mail.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Unlock Luke Lovelace' })).toHaveCount(0);
  await mailsWith(email, 'Call the CE office at 555-0100');
  // The learner, told by e-mail, signs in again on their own device.
  const learner = await (await browser.newContext()).newPage();
  await learner.goto(new URL('/o/demo/sign-in', page.url()).href);
  await signInHere(learner, email, PASSWORD, 'Luke');
  await learner.context().close();

  // Back to the standard wording; then the e-mail once more, from the deliveries.
  await page.getByRole('link', { name: 'Messages' }).click();
  await page.getByText('Account unlocked · e-mail · your wording').click();
  await page.getByRole('button', { name: 'Go back to the standard wording of Account unlocked' }).click();
  await expect(page.getByText('Account unlocked: back to the standard wording.')).toBeVisible();

  await page.getByRole('link', { name: 'Deliveries' }).click();
  await expect(page.getByRole('heading', { name: 'Deliveries', level: 1 })).toBeVisible();
  await page.getByLabel('Recipient').fill(email);
  await page.getByRole('button', { name: 'Apply Filters' }).click();
  await expect(page.locator('td[data-label="Recipient"]').filter({ hasNotText: email })).toHaveCount(0);
  const row = page.getByRole('row').filter({ hasText: 'Account unlocked' });
  await expect(row).toContainText('Sent');
  // The activation e-mail carried a one-time link: it cannot be sent again, so it has no button.
  const activation = page.getByRole('row').filter({ hasText: 'Account activation link' });
  await expect(activation).toContainText('Sent');
  await expect(activation.getByRole('button')).toHaveCount(0);
  await row.getByRole('button', { name: `Send again to ${email}` }).click();
  await expect(page.getByText(`A new copy is on its way to ${email}.`)).toBeVisible();
  await mailsWith(email, 'Your account was unlocked', 2);
  await expect(page.getByText('A copy sent again')).toBeVisible();
  await checkPage(page, 'staff-deliveries');

  // An auditor, invited, chooses a password from the e-mailed link and signs in.
  const auditor = `audrey.${stamp}@example.org`;
  await page.getByRole('link', { name: 'Invite staff' }).click();
  await expect(page.getByRole('heading', { name: 'Invite staff', level: 1 })).toBeVisible();
  await page.getByLabel(/^Auditor/).check();
  await page.getByLabel('First name').fill('Audrey');
  await page.getByLabel('Last name').fill('Hepburn');
  await page.getByLabel('E-mail address').fill(auditor);
  await page.getByRole('button', { name: 'Send the invitation' }).click();
  await expect(page.getByText(`The invitation is on its way to ${auditor}.`)).toBeVisible();
  await checkPage(page, 'staff-invite');

  await page.getByRole('link', { name: 'Settings' }).click();
  const policy = page.getByRole('form', { name: 'Security policy' });
  await policy.getByLabel('A session ends when idle for, in minutes').fill('45');
  await policy.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('The security policy is saved.')).toBeVisible();
  const zone = page.getByRole('form', { name: 'Time zone' });
  await zone.getByLabel(/^Time zone/).fill('Mars/Olympus_Mons');
  await zone.getByRole('button', { name: 'Save' }).click();
  await expect(zone.getByLabel(/^Time zone/)).toHaveAttribute('aria-invalid', 'true');
  await zone.getByLabel(/^Time zone/).fill('UTC');
  await zone.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('The portal now shows times in UTC.')).toBeVisible();
  const sms = page.getByRole('form', { name: 'Texting (SMS)' });
  await sms.getByLabel('SMS provider auth token').fill('portal-demo-sms-auth-token');
  await sms.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Texting is set up with')).toBeVisible();
  // The help contacts: a web address that is not one is refused at its field; the number shows at every page's foot.
  const help = page.getByRole('form', { name: 'Help contacts' });
  await expect(help.getByLabel('Help number (optional)')).toHaveValue('612-555-0100');
  await help.getByLabel('Web address (optional)').fill('javascript:alert(1)');
  await help.getByRole('button', { name: 'Save' }).click();
  await expect(help.getByLabel('Web address (optional)')).toHaveAttribute('aria-invalid', 'true');
  await help.getByLabel('Web address (optional)').fill('https://portal.example.org/help');
  await help.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('The help contacts are saved.')).toBeVisible();
  await page.reload();
  await expect(page.getByRole('contentinfo')).toContainText('612-555-0100 (Monday to Friday, 8:00am to 4:30pm)');
  await expect(page.getByRole('contentinfo').getByRole('link', { name: 'https://portal.example.org/help' })).toBeVisible();
  await checkPage(page, 'staff-settings');

  // The calendar, opened to anyone: a visitor who is not signed in browses it from the sign-in page, then it closes.
  const calendar = page.getByRole('form', { name: 'Public calendar' });
  await calendar.getByLabel('Anyone may browse the calendar').check();
  await calendar.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('The calendar is public.')).toBeVisible();
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto('/o/demo/sign-in');
  await visitor.getByRole('link', { name: 'Browse the calendar' }).click();
  await expect(visitor.getByRole('heading', { name: 'Calendar' })).toBeVisible();
  await expect(visitor.getByRole('link', { name: 'Subscribe in your calendar app (iCalendar)' })).toBeVisible();
  await expect(visitor.getByRole('link', { name: 'Sign in' })).toHaveCount(0);
  await checkPage(visitor, 'public-calendar');
  await calendar.getByLabel('Anyone may browse the calendar').uncheck();
  await calendar.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('The calendar is for those signed in.')).toBeVisible();

  const invitation = await linkIn(auditor, '/reset-password?token=');
  await page.context().clearCookies();
  await page.goto(invitation);
  await page.getByLabel('New password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Set password' }).click();
  await expect(page.getByText('Your new password is set. Sign in with it.')).toBeVisible();
  await page.getByRole('link', { name: 'Sign in', exact: true }).click();
  await signInHere(page, auditor, PASSWORD, 'Audrey');
  await expect(page.getByRole('link', { name: 'Staff pages' })).toHaveCount(0);
});
