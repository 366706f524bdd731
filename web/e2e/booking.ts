// The patient's booking steps as a journey takes them, on the clinic of `openTimes` (accounts.ts) named by `stamp`.
import { expect, type Page } from '@playwright/test';

/** Opens the booking steps on the clinic's first open time, up to the review. */
export async function reviewFirstTime(page: Page, stamp: string): Promise<void> {
  await page.goto('/o/demo/appointments/book');
  await page.getByLabel('Provider or care team').selectOption({ label: `Dr. Grey ${stamp}` });
  await page.getByLabel('Reason for the visit').selectOption({ label: 'Check-up (30 minutes)' });
  await page.getByRole('button', { name: new RegExp(`with Dr\\. Grey ${stamp}`) }).first().click();
  await expect(page.getByRole('heading', { name: 'Review and confirm' })).toBeVisible();
}

/** Books the clinic's first open time, and sees it booked. */
export async function bookFirstTime(page: Page, stamp: string): Promise<void> {
  await reviewFirstTime(page, stamp);
  await page.getByRole('button', { name: 'Confirm the appointment' }).click();
  await expect(page.getByRole('heading', { name: 'Your appointment is booked' })).toBeVisible();
}
