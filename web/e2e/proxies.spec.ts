// Seed 001's proxy access: a parent opens their child's record within the scope staff granted (the page says whose
// record is open) and is refused outside it; a patient gives someone access to their own record and ends it.
import { expect, test } from '@playwright/test';
import { activePatient, asStaff, invitedMember, openTimes, PASSWORD, signInHere } from './accounts';
import { bookFirstTime } from './booking';
import { checkPage } from './pages';

test('a parent books for their child within the scope granted and is refused outside it; an auditor finds the reads', async ({
  page,
  browser,
  request,
}) => {
  test.setTimeout(90_000);
  const stamp = Date.now().toString(36);
  const parent = { username: `pia${stamp}`, email: `pia${stamp}@example.org`, firstName: 'Pia' };
  const parentId = await activePatient(page.request, parent);
  const childId = await activePatient(page.request, {
    username: `kit${stamp}`,
    email: `kit${stamp}@example.org`,
    firstName: 'Kit',
    dateOfBirth: '2018-03-01',
  });
  const endsOn = new Date(Date.now() + 200 * 86_400_000).toISOString().slice(0, 10);
  await asStaff(page.request, 'mutation($input: GrantProxyAccessInput!) { grantProxyAccess(input: $input) { position } }', {
    input: { patientId: childId, proxyId: parentId, scope: 'SCHEDULING', endsOn },
  });
  await openTimes(page.request, stamp);

  await page.goto('/o/demo/sign-in');
  await signInHere(page, parent.username, PASSWORD, 'Pia');
  const records = page.getByRole('region', { name: 'Whose record' });
  await expect(records.getByText(/Appointments only, until/)).toBeVisible();
  await checkPage(page, 'records');
  await records.getByRole('button', { name: 'Open Kit Doe’s record' }).click();
  await expect(page.getByText('You are viewing Kit Doe’s record.')).toBeVisible();
  const pages = page.getByRole('navigation', { name: 'Your portal' });
  await expect(pages.getByRole('link', { name: 'Appointments' })).toBeVisible();
  await expect(pages.getByRole('link', { name: 'Test results' })).toHaveCount(0);

  // Within the scope: Kit's appointments, and a booking for Kit.
  await pages.getByRole('link', { name: 'Appointments' }).click();
  await expect(page.getByText('You are viewing Kit Doe’s record.')).toBeVisible();
  await expect(page.getByText('No upcoming appointments.')).toBeVisible();
  await bookFirstTime(page, stamp);
  const kits = (await asStaff(page.request, 'query($p: ID!) { proxies(patientId: $p) { proxyName } }', {
    p: childId,
  })) as { proxies: { proxyName: string }[] };
  expect(kits.proxies.map((p) => p.proxyName)).toEqual(['Pia Doe']);

  // Outside it: the results are refused, saying why.
  await page.goto('/o/demo/results');
  await expect(page.getByText(/does not include test results/)).toBeVisible();
  await checkPage(page, 'proxy-refused');
  await page.getByRole('button', { name: 'Back to your own record' }).click();
  await expect(page.getByText('You are viewing Kit Doe’s record.')).toHaveCount(0);
  await expect(page.getByRole('navigation', { name: 'Your portal' }).getByRole('link', { name: 'Test results' })).toBeVisible();

  // An auditor finds the parent's reads of Kit's record in the access log, and Kit's history.
  const auditor = `aud${stamp}@example.org`;
  // (Through a request context of its own: the page's carries the parent's session cookie.)
  await invitedMember(request, { email: auditor, firstName: 'Audrey', role: 'AUDITOR' });
  const audit = await (await browser.newContext()).newPage();
  await audit.goto('/o/demo/sign-in');
  await signInHere(audit, auditor, PASSWORD, 'Audrey');
  await audit.getByRole('link', { name: 'Audit pages' }).click();
  await audit.getByLabel('Patient (account id)').fill(childId);
  await audit.getByRole('button', { name: 'Show' }).click();
  const log = audit.getByRole('table', { name: 'Access log' });
  await expect(log.getByText(`${parentId} (proxy)`).first()).toBeVisible();
  await expect(log.getByText(/appointment/).first()).toBeVisible();
  await checkPage(audit, 'audit-access-log');

  await audit.getByRole('link', { name: 'History' }).click();
  // Each audit page has its own "Account id": fill it in once the page shows, not in the page being left.
  await expect(audit.getByRole('heading', { name: 'History', level: 1 })).toBeVisible();
  await audit.getByLabel('Account id', { exact: true }).fill(childId);
  await audit.getByRole('button', { name: 'Show' }).click();
  await audit.getByRole('button', { name: `account-${childId}` }).click();
  await expect(audit.getByRole('heading', { name: `Events of account-${childId}` })).toBeVisible();
  await expect(audit.getByRole('heading', { name: /^1\. / })).toBeVisible();
  await checkPage(audit, 'audit-history');

  await audit.getByRole('link', { name: 'As of a time' }).click();
  await expect(audit.getByRole('heading', { name: 'As of a time', level: 1 })).toBeVisible();
  await audit.getByLabel('Account id', { exact: true }).fill(childId);
  const now = new Date(Date.now() - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
  await audit.getByLabel('At (your local time)').fill(now);
  await audit.getByRole('button', { name: 'Show' }).click();
  await expect(audit.getByText('Kit Doe')).toBeVisible();
  await checkPage(audit, 'audit-as-of');
});

test('a patient gives someone access to their record and ends it', async ({ page }) => {
  const stamp = Date.now().toString(36);
  const owner = { username: `ola${stamp}`, email: `ola${stamp}@example.org`, firstName: 'Ola' };
  await activePatient(page.request, owner);
  const rosId = await activePatient(page.request, {
    username: `ros${stamp}`,
    email: `ros${stamp}@example.org`,
    firstName: 'Ros',
  });

  await page.goto('/o/demo/sign-in');
  await signInHere(page, owner.username, PASSWORD, 'Ola');
  await page.getByRole('link', { name: 'Who can see your record' }).click();
  await expect(page.getByText('Nobody else can see your record.')).toBeVisible();
  await page.getByRole('button', { name: 'Give access' }).click();
  await expect(page.getByLabel('Their portal id')).toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel('Their portal id').fill(rosId);
  await page.getByLabel('Appointments and messages').check();
  await page.getByRole('button', { name: 'Give access' }).click();
  await expect(page.getByText('Access is given.')).toBeVisible();
  await expect(page.getByText(/Ros Doe: Appointments and messages, until/)).toBeVisible();
  await checkPage(page, 'access');
  await page.getByRole('button', { name: 'End Ros Doe’s access' }).click();
  await expect(page.getByText('Ros Doe can no longer see your record.')).toBeVisible();
  await expect(page.getByText('Nobody else can see your record.')).toBeVisible();
});
