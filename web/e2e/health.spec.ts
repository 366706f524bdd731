// Seed 003's health pages: a patient reads their test results with their history once released (here by the
// organization's release delay of 0 hours for the test, which its 30-second sweep applies), and asks to renew a
// medication.
import { expect, test } from '@playwright/test';
import { activePatient, asStaff, catalogue, PASSWORD, signInHere } from './accounts';
import { checkPage } from './pages';

test('a patient reads released results with their history and asks to renew a medication', async ({ page }) => {
  test.setTimeout(120_000);
  const stamp = Date.now().toString(36);
  const username = `hal${stamp}`;
  const patientId = await activePatient(page.request, { username, email: `${username}@example.org`, firstName: 'Hal' });
  const { provider: doctor } = await catalogue(page.request, stamp);
  const policy = (await asStaff(page.request, '{ carePolicy { conversationIdleDays } }', {})) as {
    carePolicy: { conversationIdleDays: number };
  };
  await asStaff(
    page.request,
    'mutation($days: Int!, $delays: [ReleaseDelayInput!]) { setCarePolicy(conversationIdleDays: $days, releaseDelays: $delays) { position } }',
    { days: policy.carePolicy.conversationIdleDays, delays: [{ testCode: `A1C${stamp}`, hours: 0 }] },
  );
  for (const [days, value] of [[90, '7.4'], [1, '6.1']] as const) {
    await asStaff(page.request, 'mutation($input: RecordTestResultInput!) { recordTestResult(input: $input) { id } }', {
      input: {
        patientId,
        testCode: `A1C${stamp}`,
        testName: 'Hemoglobin A1c',
        value,
        unit: '%',
        referenceRange: '4.0-5.6',
        flag: 'HIGH',
        orderingProviderId: doctor,
        observedAt: new Date(Date.now() - days * 86_400_000).toISOString(),
      },
    });
  }
  await asStaff(page.request, 'mutation($input: PrescribeMedicationInput!) { prescribeMedication(input: $input) { id } }', {
    input: { patientId, medication: 'Metformin 500 mg', instructions: 'One tablet twice a day', prescriberId: doctor },
  });

  await page.goto('/o/demo/sign-in');
  await signInHere(page, username, PASSWORD, 'Hal');
  await page.getByRole('link', { name: 'Test results' }).click();
  // Released by the sweep within its 30 seconds: read again until they are there.
  await expect(async () => {
    await page.reload();
    // Both results: the sweep may run between their recording, and release the first alone.
    await expect(page.getByText('6.1 %')).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 75_000 });
  await expect(page.getByRole('heading', { name: 'Hemoglobin A1c' })).toBeVisible();
  await page.getByText('History: 1 earlier result').click();
  await expect(page.getByText(/7\.4 % \(High\)/)).toBeVisible();
  await checkPage(page, 'results');

  await page.getByRole('link', { name: 'Demo CE Portal' }).click();
  await page.getByRole('link', { name: 'Medications' }).click();
  await expect(page.getByRole('heading', { name: 'Metformin 500 mg' })).toBeVisible();
  await page.getByLabel('A note for the care team (optional)').fill('Running out next week');
  await page.getByRole('button', { name: 'Ask to renew Metformin 500 mg' }).click();
  await expect(page.getByText('Your request to renew Metformin 500 mg is with the care team.')).toBeVisible();
  await expect(page.getByText(/waiting for the care team/)).toBeVisible();
  await checkPage(page, 'medications');
});
