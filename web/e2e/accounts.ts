// Accounts a journey starts from, made through the API as any client would (register, then activate with the
// token of the e-mailed link).
import { expect, type APIRequestContext, type Page } from '@playwright/test';
import { linkIn } from './mail';

export const PASSWORD = 'violet tractor sings at noon';

async function graphql(request: APIRequestContext, query: string, variables: object): Promise<unknown> {
  const response = await request.post('/graphql', { data: { query, variables } });
  const body = (await response.json()) as { data?: unknown; errors?: unknown };
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data;
}

/** An active learner of the demo organization with `email`, signed in nowhere. */
export async function activeLearner(request: APIRequestContext, email: string, firstName = 'Ada'): Promise<void> {
  await graphql(
    request,
    'mutation($input: RegisterAccountInput!) { registerAccount(input: $input) { position } }',
    { input: { organizationCode: 'demo', firstName, lastName: 'Lovelace', email, password: PASSWORD } },
  );
  const link = await linkIn(email, '/activate?token=');
  const token = new URL(link).searchParams.get('token');
  await graphql(request, 'mutation($t: String!) { activateAccount(input: { token: $t }) { position } }', { t: token });
}

/** Signs in on the sign-in page that is open, and waits for the home page's welcome. */
export async function signInHere(page: Page, email: string, password: string, firstName: string): Promise<void> {
  await page.getByLabel('E-mail address or username').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByText(`Welcome, ${firstName}.`)).toBeVisible();
}

let signedInStaff: Promise<string> | undefined;

/**
 * The demo staff member's bearer token, for setting a journey up through the API: one sign-in for the whole run, as
 * sign-ins from one network are throttled.
 */
export function staffToken(request: APIRequestContext): Promise<string> {
  signedInStaff ??= signInStaff(request);
  return signedInStaff;
}

async function signInStaff(request: APIRequestContext): Promise<string> {
  const data = (await graphql(
    request,
    'mutation($input: SignInInput!) { signIn(input: $input) { token } }',
    { input: { organizationCode: 'demo', email: 'staff@demo.example', password: 'portal demo staff password' } },
  )) as { signIn: { token: string } };
  return data.signIn.token;
}

/** Runs `query` as the demo staff member (setting a journey up through the API), and answers its data. */
export async function asStaff(request: APIRequestContext, query: string, variables: object): Promise<unknown> {
  const token = await staffToken(request);
  const response = await request.post('/graphql', {
    headers: { authorization: `Bearer ${token}` },
    data: { query, variables },
  });
  const body = (await response.json()) as { data?: unknown; errors?: unknown };
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data;
}

/** Minutes from now, as an instant. */
export const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();

/** Schedules a course (staff) with these details over the defaults: one AMA PRA Category 1 credit. */
export async function scheduleCourse(request: APIRequestContext, input: object): Promise<void> {
  await asStaff(request, 'mutation($input: ActivityInput!) { scheduleActivity(input: $input) { activityId } }', {
    input: { credits: [{ type: 'AMA_PRA_CATEGORY_1', amount: '1.00' }], ...input },
  });
}

/** Schedules a course happening now with `code` (staff), whose credit waits for an evaluation when asked. */
export async function courseNow(request: APIRequestContext, code: string, evaluationRequired: boolean): Promise<void> {
  await scheduleCourse(request, {
    title: 'Grand Rounds: Sepsis',
    code,
    startsAt: inMinutes(-10),
    endsAt: inMinutes(50),
    evaluationRequired,
  });
}

/**
 * Signs a patient up on the sign-up page that is open (its code already filled in from the e-mail's link), then
 * activates the account from the e-mailed link and opens the sign-in page.
 */
export async function signUpHere(page: Page, details: { email: string; username: string; dateOfBirth: string }) {
  await page.getByLabel('Date of birth').fill(details.dateOfBirth);
  await page.getByLabel('Username').fill(details.username);
  await page.getByLabel('E-mail address').fill(details.email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('heading', { name: 'Check your e-mail' })).toBeVisible();
  await page.goto(await linkIn(details.email, '/o/demo/activate?token='));
  await page.getByRole('button', { name: /Activate/ }).click();
  await page.getByRole('link', { name: /Sign in/ }).first().click();
}

/**
 * A patient of the demo organization with a portal account (registered by staff, signed up and activated through the
 * API as the browser would), signed in nowhere; answers the account's id once staff can see it.
 */
export async function activePatient(
  request: APIRequestContext,
  details: { username: string; email: string; firstName: string; dateOfBirth?: string },
): Promise<string> {
  const dateOfBirth = details.dateOfBirth ?? '1970-01-01';
  const clinicNumber = `P${details.username.slice(-9)}`.toUpperCase();
  const registered = (await asStaff(
    request,
    'mutation($input: RegisterPatientInput!) { registerPatient(input: $input) { activationCode } }',
    { input: { clinicNumber, firstName: details.firstName, lastName: 'Doe', dateOfBirth } },
  )) as { registerPatient: { activationCode: string } };
  await graphql(request, 'mutation($input: SignUpPatientInput!) { signUpPatient(input: $input) { position } }', {
    input: {
      organizationCode: 'demo',
      activationCode: registered.registerPatient.activationCode,
      dateOfBirth,
      username: details.username,
      email: details.email,
      password: PASSWORD,
    },
  });
  const token = new URL(await linkIn(details.email, '/activate?token=')).searchParams.get('token');
  await graphql(request, 'mutation($t: String!) { activateAccount(input: { token: $t }) { position } }', { t: token });
  for (let attempt = 0; attempt < 50; attempt++) {
    const found = (await asStaff(request, 'query($s: String) { patients(search: $s) { accountId } }', {
      s: clinicNumber,
    })) as { patients: { accountId: string | null }[] };
    const id = found.patients[0]?.accountId;
    if (id) return id;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the patient ${details.username} has no account id`);
}

/** A location, a department and a provider seeing patients at both, named with `stamp` (staff set them up). */
export async function catalogue(
  request: APIRequestContext,
  stamp: string,
): Promise<{ location: string; department: string; provider: string }> {
  const id = (data: unknown, field: string) => (data as Record<string, { id: string }>)[field]?.id ?? '';
  const location = id(await asStaff(request, `mutation { putLocation(name: "Clinic ${stamp}") { id } }`, {}), 'putLocation');
  const department = id(
    await asStaff(request, `mutation { putDepartment(name: "Medicine ${stamp}") { id } }`, {}),
    'putDepartment',
  );
  const provider = id(
    await asStaff(
      request,
      'mutation($n: String!, $d: [ID!]!, $l: [ID!]!) { putProvider(name: $n, departmentIds: $d, locationIds: $l) { id } }',
      { n: `Dr. Grey ${stamp}`, d: [department], l: [location] },
    ),
    'putProvider',
  );
  return { location, department, provider };
}

/** A clinic's open times: the catalogue of `catalogue`, a 30-minute check-up, and two times a day for a week. */
export async function openTimes(
  request: APIRequestContext,
  stamp: string,
): Promise<{ location: string; department: string; provider: string; reason: string }> {
  const places = await catalogue(request, stamp);
  const reason = (await asStaff(
    request,
    'mutation($d: [ID!]) { putVisitReason(name: "Check-up", minutes: 30, departmentIds: $d) { id } }',
    { d: [places.department] },
  )) as { putVisitReason: { id: string } };
  const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
  const weekdays = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
  await asStaff(request, 'mutation($input: PublishSlotsInput!) { publishSlots(input: $input) { created } }', {
    input: {
      providerId: places.provider,
      locationId: places.location,
      // From the day after tomorrow: every open time is then further away than the organization's 24-hour cut-off,
      // so a journey can move or cancel the time it booked whatever the hour it runs at.
      from: day(2),
      to: day(8),
      slotMinutes: 30,
      hours: weekdays.map((weekday) => ({ weekday, opens: '09:00', closes: '10:00' })),
    },
  });
  await firstOpenSlot(request, places.provider);
  return { ...places, reason: reason.putVisitReason.id };
}

/** The provider's first open slot, once the schedule read model shows the slots just published. */
async function firstOpenSlot(request: APIRequestContext, provider: string): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const open = (await asStaff(request, 'query($p: ID!) { openSlots(providerId: $p, first: 1) { id } }', {
      p: provider,
    })) as { openSlots: { id: string }[] };
    const slot = open.openSlots[0]?.id;
    if (slot) return slot;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no open slot of ${provider}`);
}

/** Books the provider's first open time for the patient (staff booking for them). */
export async function bookFor(
  request: APIRequestContext,
  patientId: string,
  clinic: { provider: string; reason: string },
): Promise<void> {
  const slot = await firstOpenSlot(request, clinic.provider);
  const booked = (await asStaff(
    request,
    'mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) { position } }',
    { input: { slotId: slot, reasonId: clinic.reason, patientId } },
  )) as { bookAppointment: { position: number } };
  // Read our write: the patient's pages see the appointment once the schedule has applied it.
  await asStaff(request, 'query($p: ID!, $at: LogPosition) { openSlots(providerId: $p, first: 1, atLeast: $at) { id } }', {
    p: clinic.provider,
    at: booked.bookAppointment.position,
  });
}

/**
 * A member of the demo organization's staff with `role` (STAFF, AUDITOR or PROVIDER), invited by staff, who chose
 * their password from the invitation's link; signed in nowhere. Answers their account id.
 */
export async function invitedMember(
  request: APIRequestContext,
  details: { email: string; firstName: string; role: string },
): Promise<string> {
  await asStaff(request, 'mutation($input: InviteStaffInput!) { inviteStaff(input: $input) { message } }', {
    input: { firstName: details.firstName, lastName: 'Grey', email: details.email, role: details.role },
  });
  const token = new URL(await linkIn(details.email, '/reset-password?token=')).searchParams.get('token');
  const reset = (await graphql(
    request,
    'mutation($input: ResetPasswordInput!) { resetPassword(input: $input) { accountId } }',
    { input: { token, newPassword: PASSWORD } },
  )) as { resetPassword: { accountId: string } };
  return reset.resetPassword.accountId;
}

/** A provider (see `invitedMember`) on the care team of `team` (a provider of the catalogue). */
export async function activeProvider(
  request: APIRequestContext,
  details: { email: string; firstName: string; team: string },
): Promise<void> {
  const provider = await invitedMember(request, { ...details, role: 'PROVIDER' });
  await asStaff(request, 'mutation($t: ID!, $m: [ID!]!) { setCareTeamMembers(teamId: $t, memberIds: $m) { position } }', {
    t: details.team,
    m: [provider],
  });
}
