// Seed 001's messages, results and renewals from both sides: a patient and a provider of their care team, each in a
// browser of their own. The patient's unread count changes live; the e-mailed notice never holds the message.
import { expect, test, type Browser, type Page } from '@playwright/test';
import {
  activePatient,
  activeProvider,
  asStaff,
  bookFor,
  openTimes,
  PASSWORD,
  signInHere,
} from './accounts';
import { mailsWith } from './mail';
import { checkPage } from './pages';

/** A patient with an appointment, and a provider on its provider's care team (signed in nowhere). */
async function patientAndProvider(page: Page, first: string) {
  const stamp = Date.now().toString(36);
  const username = `${first.toLowerCase()}${stamp}`;
  const email = `${username}@example.org`;
  const patientId = await activePatient(page.request, { username, email, firstName: first });
  const clinic = await openTimes(page.request, stamp);
  await bookFor(page.request, patientId, clinic);
  const doctor = `meredith.${stamp}@example.org`;
  await activeProvider(page.request, { email: doctor, firstName: 'Meredith', team: clinic.provider });
  return { stamp, username, email, patientId, clinic, doctor };
}

/** The provider's own browser, signed in and on the care team's pages. */
async function providerSignedIn(browser: Browser, email: string): Promise<Page> {
  const provider = await (await browser.newContext()).newPage();
  await provider.goto('/o/demo/sign-in');
  await signInHere(provider, email, PASSWORD, 'Meredith');
  await provider.getByRole('link', { name: 'Care team pages' }).click();
  return provider;
}

test('a patient and a provider write to each other, and the unread count changes live', async ({ page, browser }) => {
  test.setTimeout(90_000);
  const { stamp, username, email, doctor } = await patientAndProvider(page, 'Mia');

  await page.goto('/o/demo/sign-in');
  await signInHere(page, username, PASSWORD, 'Mia');
  await page.getByRole('link', { name: 'Messages' }).click();
  await expect(page.getByText('No unread messages.')).toBeVisible();
  await page.getByLabel('To').selectOption({ label: `Dr. Grey ${stamp}` });
  await page.getByLabel('Subject').fill('My new tablets');
  await page.getByLabel('Message', { exact: true }).fill('Should I take them with food?');
  await checkPage(page, 'messages');
  await page.getByRole('button', { name: 'Send the message' }).click();
  await expect(page.getByRole('heading', { name: 'My new tablets' })).toBeVisible();
  await expect(page.getByText('Should I take them with food?')).toBeVisible();
  await page.getByRole('link', { name: 'All messages' }).click();
  await expect(page.getByRole('link', { name: 'My new tablets' })).toBeVisible();

  // The provider finds it in the team's pool, with the patient's name, and answers.
  const provider = await providerSignedIn(browser, doctor);
  const pool = provider.getByRole('region', { name: 'Waiting for someone' });
  await expect(pool.getByText(`Mia Doe to Dr. Grey ${stamp}`)).toBeVisible();
  await expect(pool.getByText('1 unread')).toBeVisible();
  await checkPage(provider, 'care-inbox');
  await pool.getByRole('link', { name: 'My new tablets' }).click();
  await expect(provider.getByText('Conversation with Mia Doe')).toBeVisible();
  await provider.getByLabel('Your reply').fill('Yes, with breakfast.');
  await provider.getByRole('button', { name: 'Send the reply' }).click();
  await expect(provider.getByText('Yes, with breakfast.')).toBeVisible();
  await checkPage(provider, 'care-conversation');

  // The patient's page counts it at once, without reloading; the notice says only that a reply waits.
  await expect(page.getByText('You have 1 unread message.')).toBeVisible();
  await expect(page.getByText('1 unread', { exact: true })).toBeVisible();
  const [notice] = await mailsWith(email, 'Your care team has answered you.');
  expect(notice).not.toContain('breakfast');
  await page.getByRole('link', { name: 'My new tablets' }).click();
  await expect(page.getByText('Yes, with breakfast.')).toBeVisible();
  await checkPage(page, 'conversation');
  // Reading it sends the read receipt, and the count goes down live.
  await page.getByRole('link', { name: 'All messages' }).click();
  await expect(page.getByText('No unread messages.')).toBeVisible();
  await provider.reload();
  await expect(provider.getByText(/^Read /)).toBeVisible();

  // The provider closes it; the patient's page of it says so and offers no reply.
  await provider.getByRole('button', { name: 'Close the conversation' }).click();
  await expect(provider.getByText('The conversation is closed.')).toBeVisible();
  await page.getByRole('link', { name: 'My new tablets' }).click();
  await expect(page.getByText('This conversation is closed.')).toBeVisible();
  await expect(page.getByLabel('Your reply')).toHaveCount(0);
});

test('a provider releases a held result and decides renewals, and the patient sees both', async ({ page, browser }) => {
  test.setTimeout(90_000);
  const { stamp, username, patientId, clinic, doctor } = await patientAndProvider(page, 'Noor');
  // A test without a release delay: held until a provider releases it.
  await asStaff(page.request, 'mutation($input: RecordTestResultInput!) { recordTestResult(input: $input) { id } }', {
    input: {
      patientId,
      testCode: `LDL${stamp}`,
      testName: 'LDL cholesterol',
      value: '162',
      unit: 'mg/dL',
      referenceRange: '0-129',
      flag: 'HIGH',
      orderingProviderId: clinic.provider,
      observedAt: new Date(Date.now() - 3_600_000).toISOString(),
    },
  });
  for (const medication of ['Atorvastatin 20 mg', 'Lisinopril 10 mg', 'Amoxicillin 500 mg']) {
    await asStaff(page.request, 'mutation($input: PrescribeMedicationInput!) { prescribeMedication(input: $input) { id } }', {
      input: { patientId, medication, instructions: 'One tablet a day', prescriberId: clinic.provider },
    });
  }

  await page.goto('/o/demo/sign-in');
  await signInHere(page, username, PASSWORD, 'Noor');
  await page.getByRole('link', { name: 'Test results' }).click();
  await expect(page.getByText('No results yet.')).toBeVisible();
  await page.getByRole('link', { name: 'Demo CE Portal' }).click();
  await page.getByRole('link', { name: 'Medications' }).click();
  for (const medication of ['Atorvastatin 20 mg', 'Lisinopril 10 mg']) {
    await page.getByRole('button', { name: `Ask to renew ${medication}` }).click();
    await expect(page.getByText(`Your request to renew ${medication} is with the care team.`)).toBeVisible();
  }

  const provider = await providerSignedIn(browser, doctor);
  await provider.getByRole('link', { name: 'Held results' }).click();
  await expect(provider.getByRole('heading', { name: 'LDL cholesterol: Noor Doe' })).toBeVisible();
  await checkPage(provider, 'care-results');
  await provider.getByRole('button', { name: 'Release LDL cholesterol to Noor Doe' }).click();
  await expect(provider.getByText('LDL cholesterol is released to Noor Doe.')).toBeVisible();
  await expect(provider.getByRole('heading', { name: 'LDL cholesterol: Noor Doe' })).toHaveCount(0);

  await provider.getByRole('link', { name: 'Renewal requests' }).click();
  // From a request to the patient's medications: prescribe one, discontinue another.
  await provider.getByRole('link', { name: 'Medications of Noor Doe' }).first().click();
  await expect(provider.getByRole('heading', { name: 'Medications of Noor Doe' })).toBeVisible();
  await provider.getByLabel('Medication (name, strength and form)').fill('Metformin 500 mg');
  await provider.getByLabel('Instructions').fill('One tablet twice a day');
  await provider.getByLabel('Prescriber').selectOption({ label: `Dr. Grey ${stamp}` });
  await provider.getByRole('button', { name: 'Prescribe', exact: true }).click();
  await expect(provider.getByText('Metformin 500 mg is prescribed.')).toBeVisible();
  await provider.getByRole('button', { name: 'Discontinue Amoxicillin 500 mg' }).click();
  await expect(provider.getByText('Amoxicillin 500 mg is discontinued.')).toBeVisible();
  await checkPage(provider, 'care-medications');
  await provider.getByRole('link', { name: 'Renewal requests' }).click();
  await provider.getByRole('button', { name: 'Approve Atorvastatin 20 mg' }).click();
  await expect(provider.getByText('The renewal of Atorvastatin 20 mg for Noor Doe is approved.')).toBeVisible();
  const decline = provider.getByRole('form', { name: 'Decline Lisinopril 10 mg' });
  await decline.getByRole('button', { name: 'Decline Lisinopril 10 mg' }).click();
  await expect(decline.getByLabel(/Why it is declined/)).toHaveAttribute('aria-invalid', 'true');
  await decline.getByLabel(/Why it is declined/).fill('Please book a blood pressure check first.');
  await decline.getByRole('button', { name: 'Decline Lisinopril 10 mg' }).click();
  await expect(provider.getByText('The renewal of Lisinopril 10 mg for Noor Doe is declined.')).toBeVisible();
  await expect(provider.getByText('No request waits.')).toBeVisible();
  await checkPage(provider, 'care-renewals');

  await page.reload();
  await expect(page.getByText(/approved/)).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Metformin 500 mg' })).toBeVisible();
  await expect(page.getByText('You no longer take it.')).toBeVisible();
  await expect(page.getByText('Reason: Please book a blood pressure check first.')).toBeVisible();
  await page.getByRole('link', { name: 'Demo CE Portal' }).click();
  await page.getByRole('link', { name: 'Test results' }).click();
  await expect(page.getByRole('heading', { name: 'LDL cholesterol' })).toBeVisible();
  await expect(page.getByText('162 mg/dL')).toBeVisible();
});
