// Create account (seed 000): the form with its password rules, the breached-password answer, the check-your-e-mail
// page, the activation link from the e-mail, then signing in.
import { expect, test } from '@playwright/test';
import { PASSWORD, signInHere } from './accounts';
import { linkIn } from './mail';
import { checkPage } from './pages';

test('a clinician creates an account, activates it from the e-mail and signs in', async ({ page }) => {
  const email = `ada.${Date.now()}@example.org`;
  await page.goto('/o/demo/sign-in');
  await page.getByRole('link', { name: 'No account yet? Create account' }).click();
  await expect(page.getByRole('heading', { name: 'Create account' })).toBeVisible();
  await checkPage(page, 'register');

  await page.getByLabel('Title (optional)').fill('Dr.');
  await page.getByLabel('First name').fill('Ada');
  await page.getByLabel('Last name').fill('Lovelace');
  await page.getByLabel('E-mail address').fill(email);
  const password = page.getByLabel('Password', { exact: true });
  await password.fill('short');
  await expect(page.getByText('has at least 12 characters (not yet)')).toBeAttached();
  // A password from a breach: the rule the server checks, at the password field.
  await password.fill('password1234');
  await expect(page.getByText('has at least 12 characters (done)')).toBeAttached();
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert').first()).toContainText('Please fix the problem below.');
  await expect(password).toHaveAttribute('aria-invalid', 'true');
  await checkPage(page, 'register-refused');

  await password.fill(PASSWORD);
  await password.press('Enter');
  await expect(page.getByRole('heading', { name: 'Check your e-mail' })).toBeVisible();
  await expect(page.getByText(email)).toBeVisible();
  await checkPage(page, 'registered');

  // The link names the organization's portal; opening it changes nothing until the button is pressed.
  const link = await linkIn(email, '/o/demo/activate?token=');
  await page.goto(link);
  await expect(page.getByRole('heading', { name: 'Activate your account' })).toBeVisible();
  await checkPage(page, 'activate');
  await page.getByRole('button', { name: 'Activate my account' }).click();
  await expect(page.getByRole('status')).toHaveText('Your account is active.');
  await page.getByRole('link', { name: 'Sign in' }).click();

  await signInHere(page, email, PASSWORD, 'Ada');

  // The link again: used, and the page says so.
  await page.goto(link);
  await page.getByRole('button', { name: 'Activate my account' }).click();
  await expect(page.getByRole('alert')).toContainText(/used/i);
});

test('the no-account e-mail’s old link and an activation link without a token open working pages', async ({ page }) => {
  await page.goto('/register?organization=demo');
  await expect(page).toHaveURL(/\/o\/demo\/register$/);
  await page.goto('/activate');
  await expect(page.getByRole('alert')).toContainText('This link is incomplete.');
  await checkPage(page, 'activate-without-token');
});
