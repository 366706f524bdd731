// Every link in every message portal sends opens a working page: each kind of message, as the organization's
// wording renders it, has its links followed in the browser; and the patient activation code e-mail is followed
// for real, through sign-up and activation, to the patient's first sign-in.
import { expect, test } from '@playwright/test';
import { asStaff, PASSWORD, signInHere } from './accounts';
import { linkIn, mailsWith } from './mail';
import { checkPage } from './pages';

interface Preview {
  messagePreview: { subject: string; text: string; links: string[] };
}

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
      await expect(page.getByRole('heading', { level: 1 }), `${kind}: ${link}`).toBeVisible();
      await expect(page.getByText('There is no portal with the code')).toHaveCount(0);
      await expect(page.getByRole('heading', { name: 'Find your portal' })).toHaveCount(0);
      if (!pages.has(path)) await checkPage(page, `link${path.replaceAll('/', '-')}`);
      pages.add(path);
    }
  }
  expect([...pages].sort()).toEqual(
    ['activate', 'confirm-email', 'register', 'reset-password', 'sign-up'].map((p) => `/o/demo/${p}`),
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

test('a patient follows the activation code e-mail, signs up, activates the account and signs in', async ({ page }) => {
  const stamp = Date.now().toString(36);
  const email = `pat.${stamp}@example.org`;
  await asStaff(page.request, 'mutation($input: RegisterPatientInput!) { registerPatient(input: $input) { position } }', {
    input: {
      clinicNumber: `C${stamp.slice(-8)}`.toUpperCase(),
      firstName: 'Pat',
      lastName: 'Doe',
      dateOfBirth: '1975-03-14',
      email,
    },
  });
  await asStaff(page.request, 'mutation($input: PublishTermsInput!) { publishTerms(input: $input) { position } }', {
    input: {
      termsOfUse: `Terms of use ${stamp}: use the portal for your own care and that of people who granted you access.`,
      privacyPractices: 'We keep your health information private and log every read of it.',
    },
  });
  const [mail] = await mailsWith(email, '/o/demo/sign-up');
  // The link carries the code in its fragment, which the browser never sends: the form fills it in.
  const link = /(http\S+\/o\/demo\/sign-up#code=\S+)/.exec(mail ?? '')?.[1] ?? '';
  const code = /^ {4}(\S+)\s*$/m.exec(mail ?? '')?.[1] ?? '';
  expect(code).not.toBe('');

  await page.goto(link);
  await expect(page.getByRole('heading', { name: 'Create your patient portal account' })).toBeVisible();
  await expect(page.getByLabel('Activation code', { exact: true })).toHaveValue(code);
  await checkPage(page, 'sign-up');
  await page.getByLabel('Date of birth').fill('1975-03-14');
  await page.getByLabel('Username').fill(`pat${stamp}`);
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('heading', { name: 'Check your e-mail' })).toBeVisible();

  await page.goto(await linkIn(email, '/o/demo/activate?token='));
  await page.getByRole('button', { name: /Activate/ }).click();
  await page.getByRole('link', { name: /Sign in/ }).first().click();
  // Seed 001, step 4: the terms in force, read and accepted before anything else.
  await page.getByLabel('E-mail address or username').fill(`pat${stamp}`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Terms of use and privacy practices' })).toBeVisible();
  await expect(page.getByText(`Terms of use ${stamp}`)).toBeVisible();
  await checkPage(page, 'terms');
  await page.getByRole('button', { name: 'I agree to the terms of use and privacy practices' }).click();
  await expect(page.getByRole('heading', { name: 'Your patient portal' })).toBeVisible();
  await expect(page.getByText('Welcome, Pat.')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Record attendance' })).toHaveCount(0);
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
