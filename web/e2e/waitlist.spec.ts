// Seed 003's appointments when two people want the same time: both review it in browsers of their own, one wins and
// the other is told the time is gone; the other joins the wait list, and when the winner cancels, the offer's e-mail
// link (opened signed out) leads through the sign-in to the wait list, where they accept it.
import { expect, test } from '@playwright/test';
import { activePatient, openTimes, PASSWORD, signInHere } from './accounts';
import { reviewFirstTime } from './booking';
import { linkIn, mailsWith } from './mail';
import { checkPage } from './pages';

test('two patients race for one time: one wins, the other waits and takes it from the offer’s link', async ({
  page,
  browser,
}) => {
  test.setTimeout(90_000);
  const stamp = Date.now().toString(36);
  const ava = { username: `ava${stamp}`, email: `ava${stamp}@example.org`, firstName: 'Ava' };
  const ben = { username: `ben${stamp}`, email: `ben${stamp}@example.org`, firstName: 'Ben' };
  await activePatient(page.request, ava);
  await activePatient(page.request, ben);
  await openTimes(page.request, stamp);

  const other = await (await browser.newContext()).newPage();
  for (const [person, who] of [[page, ava], [other, ben]] as const) {
    await person.goto('/o/demo/sign-in');
    await signInHere(person, who.username, PASSWORD, who.firstName);
    await reviewFirstTime(person, stamp);
  }
  await page.getByRole('button', { name: 'Confirm the appointment' }).click();
  await expect(page.getByRole('heading', { name: 'Your appointment is booked' })).toBeVisible();
  await other.getByRole('button', { name: 'Confirm the appointment' }).click();
  await expect(other.getByText('Someone else has just booked this time. Please choose another time.')).toBeVisible();
  await checkPage(other, 'book-taken');

  // Ben goes back to the times, and waits for an earlier one instead.
  await other.getByRole('button', { name: 'Choose another time' }).click();
  await expect(other.getByRole('button', { name: new RegExp(`with Dr\\. Grey ${stamp}`) })).toHaveCount(9);
  await other.getByRole('button', { name: 'Join the wait list' }).click();
  await expect(other.getByText('You are on the wait list.')).toBeVisible();
  await other.getByRole('link', { name: 'Your wait list' }).click();
  await expect(other.getByRole('heading', { name: `Waiting for Dr. Grey ${stamp} (Check-up)` })).toBeVisible();
  await checkPage(other, 'wait-list');

  // Ava cancels: the time is offered to Ben by e-mail, with a link to the wait list.
  await page.getByRole('link', { name: 'Your appointments' }).click();
  await page.getByRole('button', { name: /Cancel the appointment of/ }).click();
  await expect(page.getByText(`Your appointment with Dr. Grey ${stamp} is cancelled.`)).toBeVisible();
  const link = await linkIn(ben.email, '/o/demo/appointments/wait-list');

  // Opened in a browser without a session: signing in leads back to the offer.
  const signedOut = await (await browser.newContext()).newPage();
  await signedOut.goto(link);
  await expect(signedOut.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await signedOut.getByLabel('E-mail address or username').fill(ben.username);
  await signedOut.getByLabel('Password').fill(PASSWORD);
  await signedOut.getByRole('button', { name: 'Sign in' }).click();
  await expect(signedOut.getByRole('heading', { name: 'Your wait list' })).toBeVisible();
  await expect(signedOut.getByText(/An earlier time is held for you/)).toBeVisible();
  await signedOut.getByRole('button', { name: /^Accept / }).click();
  await expect(signedOut.getByText(/Your appointment is now on/)).toBeVisible();
  await mailsWith(ben.email, 'Your appointment is booked at');
  await signedOut.goto('/o/demo/appointments');
  await expect(signedOut.getByText(`With Dr. Grey ${stamp} at Clinic ${stamp}`)).toBeVisible();
});
