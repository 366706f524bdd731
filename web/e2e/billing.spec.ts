// Seed 003's bills: a patient sees the statement staff issued with its lines and the payment recorded against it,
// and chooses paperless billing.
import { expect, test } from '@playwright/test';
import { activePatient, asStaff, PASSWORD, signInHere } from './accounts';
import { checkPage } from './pages';

test('a patient reads a statement and its payment, and goes paperless', async ({ page }) => {
  const stamp = Date.now().toString(36);
  const username = `bill${stamp}`;
  const patientId = await activePatient(page.request, { username, email: `${username}@example.org`, firstName: 'Billie' });
  const issued = (await asStaff(
    page.request,
    'mutation($input: IssueStatementInput!) { issueStatement(input: $input) { id } }',
    {
      input: {
        patientId,
        dueOn: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10),
        items: [
          { description: 'Office visit', amount: '100.00' },
          { description: 'Lab work', amount: '25.50' },
        ],
      },
    },
  )) as { issueStatement: { id: string } };
  await asStaff(page.request, 'mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { id } }', {
    input: {
      statementId: issued.issueStatement.id,
      amount: '25.50',
      processorReference: `ch_${stamp}`,
      paidAt: new Date().toISOString(),
    },
  });

  await page.goto('/o/demo/sign-in');
  await signInHere(page, username, PASSWORD, 'Billie');
  await page.getByRole('link', { name: 'Bills and payments' }).click();
  await expect(page.getByText('Your balance: $100.00')).toBeVisible();
  await expect(page.getByRole('cell', { name: 'Lab work' })).toBeVisible();
  await expect(page.getByText('of which $100.00 is still to pay')).toBeVisible();
  await checkPage(page, 'billing');
  // The choice shows once the API took it: a click, then its answer.
  await page.getByLabel('Paperless: by e-mail only').click();
  await expect(page.getByText('You now get your statements by e-mail only.')).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Paperless: by e-mail only')).toBeChecked();
});
