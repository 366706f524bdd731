// Record attendance (seed 002) in the portal, by keyboard alone: the code, the answer in words, the evaluation.
import { expect, test } from '@playwright/test';
import { activeLearner, courseNow, PASSWORD, signInHere } from './accounts';
import { checkPage } from './pages';

test('a learner records attendance by code and evaluates the activity, by keyboard alone', async ({ page }) => {
  const email = `kath.${Date.now()}@example.org`;
  const code = `SEP${Date.now().toString(36).slice(-5).toUpperCase()}`;
  await activeLearner(page.request, email, 'Katherine');
  await courseNow(page.request, code, true);

  await page.goto('/o/demo/sign-in');
  await signInHere(page, email, PASSWORD, 'Katherine');
  await page.getByRole('link', { name: 'Record attendance' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Record attendance' })).toBeVisible();
  await checkPage(page, 'record-attendance');

  // An unknown code: the answer at the field.
  await page.getByLabel('Activity code').focus();
  await page.keyboard.type('NOSUCH1');
  await page.keyboard.press('Enter');
  await expect(page.getByLabel('Activity code')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByText('that activity code does not exist')).toBeVisible();

  await page.getByLabel('Activity code').fill('');
  await page.keyboard.type(code);
  await page.keyboard.press('Enter');
  const answer = page.getByRole('status');
  await expect(answer).toContainText('Your attendance at Grand Rounds: Sepsis is recorded.');
  await expect(answer).toContainText('you complete the evaluation of the activity');
  await expect(answer).toContainText('you complete your professional profile');
  await expect(answer).toContainText('Still missing from your profile: title, address, date of birth');
  await checkPage(page, 'attendance-recorded');

  // The evaluation, by keyboard: its credit then waits only for the profile.
  await page.getByLabel('Overall rating (1 = poor, 5 = excellent)').focus();
  await page.keyboard.type('5');
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('The stated objectives were met')).toBeFocused();
  await page.keyboard.press('Space');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Clear and practical.');
  await page.keyboard.press('Enter');
  await expect(answer).not.toContainText('evaluation');
  await expect(answer).toContainText('you complete your professional profile');
  await checkPage(page, 'attendance-evaluated');
});
