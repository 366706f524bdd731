// Every link in every message portal sends opens a working page: each kind of message, as the organization's
// wording renders it, has its links followed in the browser (terms.spec.ts follows the patient activation code
// e-mail for real).
import { expect, test } from '@playwright/test';
import { asStaff, signInHere } from './accounts';
import { checkPage } from './pages';

interface Preview {
  messagePreview: { subject: string; text: string; links: string[] };
}

/** Pages that need a session (their links lead through the sign-in). */
const signedInPages = ['/o/demo/appointments/wait-list'];

test('every link of every kind of message opens a page of the portal', async ({ page }) => {
  const kinds = (await asStaff(page.request, '{ messageTemplates { kind } }', {})) as {
    messageTemplates: { kind: string }[];
  };
  const pages = new Set<string>();
  for (const { kind } of kinds.messageTemplates) {
    const preview = (await asStaff(
      page.request,
      'query($kind: MessageKind!) { messagePreview(kind: $kind) { subject text links } }',
      { kind },
    )) as Preview;
    for (const link of preview.messagePreview.links) {
      const path = new URL(link).pathname;
      await page.goto(link);
      if (signedInPages.includes(path)) {
        // A page of the signed-in portal, opened signed out: the sign-in page, which comes back to it.
        await page.waitForURL((url) => url.pathname === '/o/demo/sign-in' && url.searchParams.get('next') === path);
        pages.add(path);
        continue;
      }
      await expect(page.getByRole('heading', { level: 1 }), `${kind}: ${link}`).toBeVisible();
      await expect(page.getByText('There is no portal with the code')).toHaveCount(0);
      await expect(page.getByRole('heading', { name: 'Find your portal' })).toHaveCount(0);
      if (!pages.has(path)) await checkPage(page, `link${path.replaceAll('/', '-')}`);
      pages.add(path);
    }
  }
  expect([...pages].sort()).toEqual(
    ['activate', 'appointments/wait-list', 'confirm-email', 'register', 'reset-password', 'sign-up'].map((p) => `/o/demo/${p}`),
  );
});

test('staff preview a message in their wording, with its links', async ({ page }) => {
  await page.goto('/o/demo/sign-in');
  await signInHere(page, 'staff@demo.example', 'portal demo staff password', 'Dana');
  await page.goto('/o/demo/staff/messages');
  await page.getByText('Patient activation code · e-mail').click();
  const form = page.getByRole('form', { name: 'Patient activation code' });
  const text = form.getByLabel('Text', { exact: true });
  await text.fill(`${await text.inputValue()}\nQuestions? Call the clinic.`);
  await form.getByRole('button', { name: 'Preview Patient activation code' }).click();
  const preview = page.getByRole('region', { name: 'Preview of Patient activation code, with sample values' });
  await expect(preview).toContainText('[code]');
  await expect(preview).toContainText('Questions? Call the clinic.');
  await expect(preview.getByRole('link', { name: /\/o\/demo\/sign-up$/ })).toBeVisible();
  await checkPage(page, 'staff-message-preview');
  // A wording that uses a variable the kind does not have is refused at its field, before saving.
  await text.fill('{{ password }}');
  await form.getByRole('button', { name: 'Preview Patient activation code' }).click();
  await expect(text).toHaveAttribute('aria-invalid', 'true');
});

test('a person without a code or clinic number asks for a code online and is told the clinic may call', async ({ page }) => {
  await page.goto('/o/demo/sign-up');
  await page.getByLabel('I have neither: request an activation code online').check();
  const form = page.getByRole('form', { name: 'Request an activation code' });
  await form.getByLabel('First name').fill('Robin');
  await form.getByLabel('Last name').fill('Hood');
  await form.getByLabel('Date of birth').fill('1990-07-01');
  await form.getByRole('button', { name: 'Request a code' }).click();
  // No address: refused at its field.
  await expect(form.getByLabel('E-mail address')).toHaveAttribute('aria-invalid', 'true');
  await form.getByLabel('E-mail address').fill(`robin.${Date.now().toString(36)}@example.org`);
  await form.getByRole('button', { name: 'Request a code' }).click();
  await expect(page.getByRole('status')).toContainText('may contact you to confirm who you are');
  await checkPage(page, 'sign-up-request');
});
