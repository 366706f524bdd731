// Seed 003's appointments: a patient chooses where, with whom and why, a day and an open time, reviews and confirms
// with insurance; the booking e-mail arrives; the list shows the appointment and the organization's cut-off, and the
// patient cancels it.
import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { activePatient, openTimes, PASSWORD, signInHere } from './accounts';
import { mailsWith } from './mail';
import { checkPage } from './pages';

test('a patient books an appointment from the open times, then cancels it', async ({ page }) => {
  const stamp = Date.now().toString(36);
  const username = `ava${stamp}`;
  const email = `${username}@example.org`;
  await activePatient(page.request, { username, email, firstName: 'Ava' });
  await openTimes(page.request, stamp);

  await page.goto('/o/demo/sign-in');
  await signInHere(page, username, PASSWORD, 'Ava');
  await page.getByRole('link', { name: 'Appointments' }).click();
  await expect(page.getByText('No upcoming appointments.')).toBeVisible();
  await page.getByRole('link', { name: 'Book an appointment' }).click();
  await page.getByLabel('Location').selectOption({ label: `Clinic ${stamp}` });
  await page.getByLabel('Department').selectOption({ label: `Medicine ${stamp}` });
  await page.getByLabel('Provider or care team').selectOption({ label: `Dr. Grey ${stamp}` });
  await page.getByLabel('Reason for the visit').selectOption({ label: 'Check-up (30 minutes)' });
  const times = page.getByRole('button', { name: new RegExp(`with Dr\\. Grey ${stamp} at Clinic ${stamp}`) });
  // Seven days from today: the slots of days 2 to 6, two a day.
  await expect(times).toHaveCount(10);
  await checkPage(page, 'book-times');
  await times.first().click();

  await expect(page.getByRole('heading', { name: 'Review and confirm' })).toBeVisible();
  await expect(page.getByText(`Dr. Grey ${stamp}`)).toBeVisible();
  await page.getByLabel('Insurance company').fill('Blue Cross');
  await page.getByLabel('Member ID').fill('XYZ123456');
  await checkPage(page, 'book-review');
  await page.getByRole('button', { name: 'Confirm the appointment' }).click();
  await expect(page.getByRole('heading', { name: 'Your appointment is booked' })).toBeVisible();
  await mailsWith(email, 'Your appointment is booked at');
  // Add to calendar: an iCalendar file of the appointment.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Add to calendar (.ics)' }).click(),
  ]);
  const ics = await readFile((await download.path()) ?? '', 'utf8');
  expect(ics).toContain('BEGIN:VEVENT');
  expect(ics).toContain(`Check-up: Dr. Grey ${stamp}`);
  expect(ics).toMatch(/DTSTART:\d{8}T\d{6}Z/);

  await page.getByRole('link', { name: 'Your appointments' }).click();
  await expect(page.getByText(`With Dr. Grey ${stamp} at Clinic ${stamp}`)).toBeVisible();
  await expect(page.getByText(/cancel or move an appointment/)).toBeVisible();
  await checkPage(page, 'appointments');

  // Moved in one step to the last open time.
  await page.getByRole('link', { name: /Move the appointment of/ }).click();
  await expect(page.getByRole('heading', { name: 'Move your appointment' })).toBeVisible();
  await page.getByLabel('Provider or care team').selectOption({ label: `Dr. Grey ${stamp}` });
  await page.getByLabel('Reason for the visit').selectOption({ label: 'Check-up (30 minutes)' });
  await expect(times).toHaveCount(9);
  await times.last().click();
  await expect(page.getByLabel('Insurance company')).toHaveCount(0);
  await page.getByRole('button', { name: 'Move the appointment to this time' }).click();
  await expect(page.getByRole('heading', { name: 'Your appointment is moved' })).toBeVisible();
  await mailsWith(email, 'Your appointment was moved');
  await page.getByRole('link', { name: 'Your appointments' }).click();
  await expect(page.getByRole('button', { name: /Cancel the appointment of/ })).toHaveCount(1);
  await page.getByRole('button', { name: /Cancel the appointment of/ }).click();
  await expect(page.getByText(`Your appointment with Dr. Grey ${stamp} is cancelled.`)).toBeVisible();
  await mailsWith(email, 'Your appointment was cancelled at');
});
