// Online bill pay (issue 23, item 5): staff enter the organization's processor keys on the policies page; a patient
// pays part of a statement on the processor's hosted page (the stand-in of e2e/processor.mjs), comes back, and sees
// the payment once the processor's signed webhook has recorded it.
import { expect, test } from '@playwright/test';
import { activePatient, asStaff, PASSWORD, signInHere } from './accounts';
import { checkPage } from './pages';

const API_KEY = 'sk_test_e2eStandIn0000wxyz';
const WEBHOOK_SECRET = 'whsec_e2eStandInSecret0001';

test('staff turn online bill pay on and a patient pays part of a statement on the processor page', async ({ page, browser }) => {
  test.setTimeout(90_000);
  const stamp = Date.now().toString(36);
  const username = `payer${stamp}`;
  const patientId = await activePatient(page.request, { username, email: `${username}@example.org`, firstName: 'Paula' });
  await asStaff(page.request, 'mutation($input: IssueStatementInput!) { issueStatement(input: $input) { id } }', {
    input: {
      patientId,
      dueOn: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10),
      items: [{ description: 'Office visit', amount: '125.50' }],
    },
  });

  // Staff: the keys, which are never shown again, only the key's last four characters.
  await page.goto('/o/demo/sign-in');
  await signInHere(page, 'staff@demo.example', 'portal demo staff password', 'Dana');
  await page.goto('/o/demo/staff/policies');
  const keys = page.getByRole('form', { name: 'Online bill pay' });
  await keys.getByLabel('Secret API key (sk_… or rk_…)').fill('pk_test_notASecretKey00');
  await keys.getByLabel('Webhook signing secret (whsec_…)').fill(WEBHOOK_SECRET);
  await keys.getByRole('button', { name: 'Save the keys' }).click();
  await expect(keys.getByText('starts with sk_ or rk_')).toBeVisible();
  await keys.getByLabel('Secret API key (sk_… or rk_…)').fill(API_KEY);
  await keys.getByRole('button', { name: 'Save the keys' }).click();
  await expect(page.getByText('Online bill pay is on with the new keys.')).toBeVisible();
  await expect(keys.getByText(/key ending …wxyz \(test mode/)).toBeVisible();
  await expect(keys.getByText('/payments/webhook/demo')).toBeVisible();
  await checkPage(page, 'staff-online-payments');

  // The patient, in a browser of their own.
  const context = await browser.newContext();
  const patient = await context.newPage();
  await patient.goto('/o/demo/sign-in');
  await signInHere(patient, username, PASSWORD, 'Paula');
  await patient.getByRole('link', { name: 'Bills and payments' }).click();
  const pay = patient.getByRole('form', { name: 'Pay this statement' });
  await pay.getByLabel(/Amount to pay/).fill('500');
  await pay.getByRole('button', { name: 'Pay online' }).click();
  await expect(pay.getByText('the payment is more than the balance of 125.50')).toBeVisible();
  await checkPage(patient, 'billing-pay');
  await pay.getByLabel(/Amount to pay/).fill('40');
  await pay.getByRole('button', { name: 'Pay online' }).click();

  // The processor's page, then back.
  await expect(patient.getByRole('heading', { name: 'Statement from' })).toBeVisible();
  await expect(patient.getByText('Amount: $40.00')).toBeVisible();
  await patient.getByRole('button', { name: 'Pay $40.00' }).click();
  await expect(patient.getByText(/Thank you. Your payment shows here/)).toBeVisible();
  await expect(patient.getByText('Your balance: $85.50')).toBeVisible();
  await expect(patient.getByText('of which $85.50 is still to pay')).toBeVisible();
  await context.close();
});
