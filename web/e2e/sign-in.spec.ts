// Signing in and out of an organization's portal, by keyboard alone, with the session in an HttpOnly cookie.
import { expect, test } from '@playwright/test';
import { activeLearner, PASSWORD } from './accounts';
import { checkPage } from './pages';

const STAFF_EMAIL = 'staff@demo.example';
const STAFF_PASSWORD = 'portal demo staff password';

test('a person finds their portal and signs in and out by keyboard, with no token in JavaScript', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Find your portal' })).toBeVisible();
  await checkPage(page, 'chooser');

  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Organization code')).toBeFocused();
  await page.keyboard.type('demo');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/o\/demo\/sign-in$/);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await checkPage(page, 'sign-in');

  // A wrong password: the API's message, announced.
  await page.getByLabel('E-mail address or username').focus();
  await page.keyboard.type(STAFF_EMAIL);
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Password')).toBeFocused();
  await page.keyboard.type('not the password at all');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('alert')).toContainText(/password/i);
  await checkPage(page, 'sign-in-refused');

  await page.getByLabel('Password').focus();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type(STAFF_PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/o\/demo\/$/);
  await expect(page.getByRole('heading', { name: 'Your portal' })).toBeVisible();
  await expect(page.getByText(`Signed in as ${STAFF_EMAIL}.`)).toBeVisible();
  await checkPage(page, 'home');

  // The session is a cookie no script can read, and nothing is kept in the browser's storage.
  const cookies = await page.context().cookies();
  expect(cookies.length).toBeGreaterThan(0);
  expect(cookies.every((cookie) => cookie.httpOnly)).toBe(true);
  const stored = await page.evaluate(() => [document.cookie, localStorage.length, sessionStorage.length]);
  expect(stored).toEqual(['', 0, 0]);

  // A reload keeps the session; signing out ends it.
  await page.reload();
  await expect(page.getByText(`Signed in as ${STAFF_EMAIL}.`)).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/o\/demo\/sign-in$/);
  await page.goto('/o/demo/');
  await expect(page).toHaveURL(/\/o\/demo\/sign-in$/);
});

test('an unknown organization code says so and leads back to the chooser', async ({ page }) => {
  await page.goto('/o/nowhere/sign-in');
  await expect(page.getByRole('alert')).toContainText('There is no portal with the code “nowhere”.');
  await checkPage(page, 'unknown-organization');
  await page.getByRole('link', { name: 'Choose another organization' }).click();
  await expect(page.getByRole('heading', { name: 'Find your portal' })).toBeVisible();
});

test('the portal is installable: a manifest, and a worker that keeps the app shell but no API answer', async ({ page }) => {
  await page.goto('/o/demo/sign-in');
  const manifest = await page.evaluate(async () => {
    const link = document.querySelector<HTMLLinkElement>('link[rel="manifest"]');
    return link ? ((await (await fetch(link.href)).json()) as { name: string; display: string }) : null;
  });
  expect(manifest).toMatchObject({ name: 'portal', display: 'standalone' });
  const active = await page.evaluate(async () => Boolean((await navigator.serviceWorker.ready).active));
  expect(active).toBe(true);

  // Signed in and answered by the API, the shell is cached and nothing of the API is.
  await page.reload();
  await page.getByLabel('E-mail address or username').fill(STAFF_EMAIL);
  await page.getByLabel('Password').fill(STAFF_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByText(`Signed in as ${STAFF_EMAIL}.`)).toBeVisible();
  const kept = await page.evaluate(async () => {
    const urls: string[] = [];
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
    }
    return urls;
  });
  expect(kept.some((path) => path.startsWith('/assets/'))).toBe(true);
  expect(kept.filter((path) => path.startsWith('/graphql'))).toEqual([]);
});

test('a locked account is told when to try again under the organization’s cool-down', async ({ page }) => {
  const email = `lock.${Date.now().toString(36)}@example.org`;
  await activeLearner(page.request, email, 'Lena');
  await page.goto('/o/demo/sign-in');
  await page.getByLabel('E-mail address or username').fill(email);
  for (let attempt = 0; attempt < 5; attempt++) {
    await page.getByLabel('Password').fill(`wrong password number ${attempt}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toContainText(/password/i);
  }
  // The right password, now: the demo organization locks for a cool-down, so the page says until when.
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('Your account is locked after too many failed sign-ins. Try again after');
  await expect(page.getByRole('alert')).toContainText('reset your password');
  await checkPage(page, 'sign-in-locked');
});
