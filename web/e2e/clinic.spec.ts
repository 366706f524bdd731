// Seed 003 from the clinic's side: staff set up the catalogue, a care team and weekly hours, publish open times, book,
// move and cancel for a patient on the provider's day, issue a statement and record a payment, and set the rules.
import { expect, test, type Page } from '@playwright/test';
import { activePatient, asStaff, signInHere } from './accounts';
import { checkPage } from './pages';

/** The demo organization's date `days` from today, on its clocks (YYYY-MM-DD). */
async function dayOf(page: Page, days: number): Promise<string> {
  const org = (await asStaff(page.request, '{ organization(code: "demo") { timeZone } }', {})) as {
    organization: { timeZone: string };
  };
  return new Intl.DateTimeFormat('en-CA', { timeZone: org.organization.timeZone }).format(
    new Date(Date.now() + days * 86_400_000),
  );
}

test('staff set up the catalogue and hours, book, move and cancel for a patient, and bill them', async ({ page }) => {
  test.setTimeout(90_000);
  const stamp = Date.now().toString(36);
  await activePatient(page.request, { username: `zoe${stamp}`, email: `zoe${stamp}@example.org`, firstName: 'Zoe' });
  const tomorrow = await dayOf(page, 1);
  await page.goto('/o/demo/sign-in');
  await signInHere(page, 'staff@demo.example', 'portal demo staff password', 'Dana');
  await page.goto('/o/demo/staff/catalogue');

  const add = async (form: string, name: string) => {
    const adding = page.getByRole('form', { name: form });
    await adding.getByLabel('Name').fill(name);
    return adding;
  };
  let form = await add('Add a location', `Lakeside ${stamp}`);
  await form.getByLabel('Address (optional)').fill('1 Lake Road');
  await form.getByRole('button', { name: 'Add a location' }).click();
  await expect(page.getByText(`Lakeside ${stamp} is in the catalogue.`)).toBeVisible();
  form = await add('Add a department', `Family ${stamp}`);
  await form.getByRole('button', { name: 'Add a department' }).click();
  await expect(page.getByText(`Family ${stamp} is in the catalogue.`)).toBeVisible();
  form = await add('Add a provider or care team', `Dr. Hart ${stamp}`);
  await form.getByLabel(`Family ${stamp}`).check();
  await form.getByLabel(`Lakeside ${stamp}`).check();
  await form.getByRole('button', { name: 'Add a provider or care team' }).click();
  await expect(page.getByText(`Dr. Hart ${stamp} is in the catalogue.`)).toBeVisible();
  form = await add('Add a visit reason', `Check-up ${stamp}`);
  await form.getByLabel('Length in minutes').fill('30');
  await form.getByLabel(`Family ${stamp}`).check();
  await form.getByRole('button', { name: 'Add a visit reason' }).click();
  await expect(page.getByText(`Check-up ${stamp} is in the catalogue.`)).toBeVisible();
  await expect(page.getByText(`Dr. Hart ${stamp} (Family ${stamp}; Lakeside ${stamp})`)).toBeVisible();

  // The demo staff member on Dr. Hart's care team: she answers the messages patients send to it.
  await page.getByLabel('The care team of').selectOption({ label: `Dr. Hart ${stamp}` });
  const team = page.getByRole('form', { name: 'Save the care team' });
  await team.getByRole('checkbox', { name: /^Dana .*\(staff\)$/ }).check();
  await team.getByRole('button', { name: 'Save the care team' }).click();
  await expect(page.getByText(`The care team of Dr. Hart ${stamp} is saved.`)).toBeVisible();

  // Weekly hours, every day 09:00 to 10:00, for tomorrow only: two open times.
  const hours = page.getByRole('form', { name: 'Weekly hours: publish open times' });
  await hours.getByLabel('Provider or care team').selectOption({ label: `Dr. Hart ${stamp}` });
  await hours.getByLabel('Location').selectOption({ label: `Lakeside ${stamp}` });
  await hours.getByLabel('From').fill(tomorrow);
  await hours.getByLabel('Until (included)').fill(tomorrow);
  for (const day of ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']) {
    await hours.getByLabel(`Open on ${day}`).check();
    await hours.getByLabel(`${day} opens`).fill('09:00');
    await hours.getByLabel(`${day} closes`).fill('10:00');
  }
  await hours.getByRole('button', { name: 'Publish the open times' }).click();
  await expect(page.getByText('2 open times are published.')).toBeVisible();
  await checkPage(page, 'staff-catalogue');

  // The provider's day: book Zoe, move her to the other time, cancel.
  await page.getByRole('link', { name: 'Provider’s day' }).click();
  // The catalogue page's hours form has a field of the same name: choose on the day's page once it shows.
  await expect(page.getByRole('heading', { name: 'Provider’s day' })).toBeVisible();
  await page.getByLabel('Provider or care team', { exact: true }).selectOption({ label: `Dr. Hart ${stamp}` });
  await page.getByLabel('Day', { exact: true }).fill(tomorrow);
  await expect(page.getByText('No appointment on this day.')).toBeVisible();
  await page.getByLabel('Find a patient (name or clinic number)').fill('Zoe');
  await page.getByRole('button', { name: /^Choose Zoe Doe/ }).click();
  const booking = page.getByRole('form', { name: 'Book for a patient' });
  await booking.getByLabel('Reason for the visit').selectOption({ label: `Check-up ${stamp} (30 minutes)` });
  await expect(booking.getByLabel('Open time').locator('option')).toHaveCount(3);
  await booking.getByLabel('Open time').selectOption({ index: 1 });
  await booking.getByRole('button', { name: 'Book the appointment' }).click();
  await expect(page.getByText(/^Zoe Doe is booked on /)).toBeVisible();
  const card = page.getByRole('heading', { name: new RegExp(`: Zoe Doe, Check-up ${stamp}, at Lakeside ${stamp}$`) });
  await expect(card).toBeVisible();
  await checkPage(page, 'staff-day');
  const move = page.getByRole('form', { name: 'Move Zoe Doe' });
  await move.getByLabel('Move Zoe Doe to').selectOption({ index: 1 });
  await move.getByRole('button', { name: 'Move Zoe Doe' }).click();
  await expect(page.getByText(/^Zoe Doe is moved to /)).toBeVisible();
  await page.getByRole('button', { name: /^Cancel Zoe Doe at / }).click();
  await expect(page.getByText('The appointment of Zoe Doe is cancelled.')).toBeVisible();
  await expect(page.getByText('No appointment on this day.')).toBeVisible();

  // A statement of two charges, and a payment against it.
  await page.getByRole('link', { name: 'Statements' }).click();
  // The provider's day has a patient finder too: find Zoe on the statements page once it shows.
  await expect(page.getByRole('heading', { name: 'Statements and payments', level: 1 })).toBeVisible();
  await page.getByLabel('Find a patient (name or clinic number)').fill('Zoe');
  await page.getByRole('button', { name: /^Choose Zoe Doe/ }).click();
  await expect(page.getByText('Zoe Doe’s balance: $0.00')).toBeVisible();
  const statement = page.getByRole('form', { name: 'Issue a statement' });
  await statement.getByLabel('Charge 1', { exact: true }).fill('Office visit');
  await statement.getByLabel('Amount of charge 1 (dollars, such as 120.00)').fill('120.00');
  await statement.getByRole('button', { name: 'Add a charge' }).click();
  await statement.getByLabel('Charge 2', { exact: true }).fill('Lab work');
  await statement.getByLabel('Amount of charge 2 (dollars, such as 120.00)').fill('35.50');
  await statement.getByRole('button', { name: 'Issue the statement' }).click();
  await expect(page.getByText('A statement is issued to Zoe Doe.')).toBeVisible();
  await expect(page.getByText('Zoe Doe’s balance: $155.50')).toBeVisible();
  await page.getByText('Record a payment').click();
  const payment = page.getByRole('form', { name: 'Record a payment' });
  await payment.getByLabel('Amount paid (dollars)').fill('50.00');
  await payment.getByLabel('Payment reference (from the processor or the receipt)').fill(`ch_${stamp}`);
  await payment.getByRole('button', { name: 'Record the payment' }).click();
  await expect(page.getByText('A payment of $50.00 is recorded.')).toBeVisible();
  await expect(page.getByText('Zoe Doe’s balance: $105.50')).toBeVisible();
  await checkPage(page, 'staff-statements');

  // The rules, as saved and read back (the terms are published by terms.spec.ts, which runs last).
  await page.getByRole('link', { name: 'Policies and terms' }).click();
  const rules = page.getByRole('form', { name: 'Patient portal' });
  await rules.getByLabel(/Patients may cancel or move until/).fill('0');
  await rules.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('The patient portal’s rules are saved.')).toBeVisible();
  const care = page.getByRole('form', { name: 'Messages and results' });
  await care.getByRole('button', { name: 'Add a test' }).click();
  const last = await care.getByLabel(/^Test code \d+$/).count();
  await care.getByLabel(`Test code ${last}`, { exact: true }).fill(`TSH${stamp}`);
  await care.getByLabel(`Hours for test code ${last}`).fill('48');
  await care.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('The rules for messages and results are saved.')).toBeVisible();
  await checkPage(page, 'staff-policies');
  // Read back as the API keeps it: test codes in capitals.
  await page.reload();
  await expect(page.getByRole('form', { name: 'Messages and results' }).getByLabel(`Test code ${last}`, { exact: true })).toHaveValue(
    `TSH${stamp}`.toUpperCase(),
  );
});
