// The calendar (seed 002): search, a month, Include RSS with Apply Filters, pages of results, and an activity's
// details with its credits and attendance window.
import { expect, test } from '@playwright/test';
import { activeLearner, asStaff, PASSWORD, scheduleCourse, signInHere } from './accounts';
import { checkPage } from './pages';

const DAY = 24 * 60;

test('a learner filters the calendar, pages through it, includes the series and opens an activity', async ({ page }) => {
  const stamp = Date.now().toString(36).toUpperCase();
  const email = `lise.${stamp.toLowerCase()}@example.org`;
  await activeLearner(page.request, email, 'Lise');
  // One more course than a page holds, a day apart from tomorrow, and a weekly journal club.
  const starts: Date[] = [];
  for (let day = 1; day <= 21; day++) {
    const startsAt = new Date(Date.now() + day * DAY * 60_000);
    starts.push(startsAt);
    await scheduleCourse(page.request, {
      title: `Cardiology Update ${stamp} ${String(day).padStart(2, '0')}`,
      code: `C${stamp.slice(-5)}${day}`,
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + 60 * 60_000).toISOString(),
      location: 'Phillips-Wangensteen Building, Room 5',
      specialty: 'Cardiology',
    });
  }
  await asStaff(page.request, 'mutation($input: SeriesInput!) { scheduleSeries(input: $input) { position } }', {
    input: {
      title: `Journal Club ${stamp}`,
      seriesKind: 'JOURNAL_CLUB',
      frequency: 'WEEKLY',
      count: 2,
      firstStartsAt: new Date(Date.now() + 2 * DAY * 60_000).toISOString(),
      firstEndsAt: new Date(Date.now() + (2 * DAY + 60) * 60_000).toISOString(),
      specialty: 'Cardiology',
      credits: [{ type: 'AMA_PRA_CATEGORY_1', amount: '1.00' }],
    },
  });

  await page.goto('/o/demo/sign-in');
  await signInHere(page, email, PASSWORD, 'Lise');
  await page.getByRole('link', { name: 'Calendar' }).click();
  await expect(page.getByRole('heading', { name: 'Calendar' })).toBeVisible();
  await checkPage(page, 'calendar');

  // Search, then Apply Filters by keyboard: a page of twenty, then the last one.
  const results = page.getByRole('region', { name: 'Activities' }).getByRole('listitem');
  await page.getByLabel('Search').fill(`Cardiology Update ${stamp}`);
  await page.getByLabel('Specialty').fill('cardiology');
  await page.getByLabel('Search').press('Enter');
  await expect(results).toHaveCount(20);
  await expect(results.first()).toContainText(`Cardiology Update ${stamp} 01`);
  await expect(results.first()).toContainText('1.00 AMA PRA Category 1 Credit');
  await page.getByRole('button', { name: 'Next page' }).click();
  await expect(results).toHaveCount(1);
  await expect(results.first()).toContainText(`Cardiology Update ${stamp} 21`);
  await page.getByRole('button', { name: 'Previous page' }).click();
  await expect(results).toHaveCount(20);

  // A month: only its courses.
  const month = (starts[0] ?? new Date()).toISOString().slice(0, 7);
  const inMonth = starts.filter((s) => s.toISOString().slice(0, 7) === month).length;
  await page.getByLabel('Month').fill(month);
  await page.getByRole('button', { name: 'Apply Filters' }).click();
  await expect(results).toHaveCount(Math.min(inMonth, 20));
  await expect(page).toHaveURL(new RegExp(`month=${month}`));

  // The series' meetings show only with Include RSS.
  await page.getByLabel('Month').fill('');
  await page.getByLabel('Search').fill(`Journal Club ${stamp}`);
  await page.getByRole('button', { name: 'Apply Filters' }).click();
  await expect(page.getByText('No activities match these filters.')).toBeVisible();
  await page.getByLabel('Include RSS (regularly scheduled series)').check();
  await page.getByRole('button', { name: 'Apply Filters' }).click();
  await expect(results).toHaveCount(2);
  await expect(results.first()).toContainText('Regularly scheduled series');
  await checkPage(page, 'calendar-filtered');

  await results.first().getByRole('link').click();
  await expect(page.getByRole('heading', { name: `Journal Club ${stamp}` })).toBeVisible();
  await expect(page.getByText('1.00 AMA PRA Category 1 Credit')).toBeVisible();
  await expect(page.getByText(/You can record your attendance from .* to .*\./)).toBeVisible();
  await expect(page.getByText('The organization’s people and affiliates')).toBeVisible();
  await checkPage(page, 'activity');
  await page.getByRole('link', { name: 'Back to the calendar' }).click();
  await expect(page.getByRole('heading', { name: 'Calendar' })).toBeVisible();
});
