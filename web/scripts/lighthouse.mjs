// Lighthouse's performance and accessibility scores of the sign-in, calendar and transcript pages (issue 21) and of
// the booking and messages pages (issue 22): both at least 90. Measured with the `lighthouse` npm package (fetched by
// npx, not a dependency of the app) against Debian's chromium. It starts `portal serve --demo` on a fresh database,
// makes a learner with a credit on the transcript and a patient, and audits each page as one of them (the session
// cookie passed as a header), in Lighthouse's default mobile set-up.
// Run it with scripts/lighthouse; the figures go to docs/benchmarks.md by hand.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LIGHTHOUSE = 'lighthouse@12.8.2';
const bin = process.env.PORTAL_BIN ?? '../target/release/portal';
const server = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = server.replace(/\/[^/]*$/, `/portal_lighthouse_${Date.now().toString(36)}`);
const port = 20000 + Math.floor(Math.random() * 20000);
const base = `http://127.0.0.1:${port}`;
const mailDir = await mkdtemp(join(tmpdir(), 'portal-lighthouse-mail-'));
const password = 'violet tractor sings at noon';

const portal = spawn(bin, ['serve', '--demo', '--listen', `127.0.0.1:${port}`, '--database-url', database,
  '--mail-dir', mailDir], { stdio: ['ignore', 'ignore', 'inherit'] });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function ready() {
  for (let i = 0; i < 600; i++) {
    if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) return;
    await sleep(200);
  }
  throw new Error('portal serve did not start');
}

/** Runs a GraphQL operation; answers its data and the response (for its cookie). */
async function graphql(query, variables, token) {
  const headers = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const response = await fetch(`${base}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (!response.ok || body.errors) throw new Error(JSON.stringify(body));
  return { data: body.data, response };
}

/** The session cookie `signIn` sets for `login` (an e-mail address or, for a patient, a username). */
async function sessionCookie(login, pass) {
  const by = login.includes('@') ? { email: login } : { username: login };
  const { response } = await graphql('mutation($input: SignInInput!) { signIn(input: $input) { token } }', {
    input: { organizationCode: 'demo', ...by, password: pass, setCookie: true },
  });
  return response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

async function activationToken(email) {
  for (let i = 0; i < 100; i++) {
    for (const name of await readdir(mailDir)) {
      const mail = await readFile(join(mailDir, name), 'utf8');
      const token = mail.includes(`To: ${email}`) && /activate\?token=([\w-]+)/.exec(mail)?.[1];
      if (token) return token;
    }
    await sleep(100);
  }
  throw new Error(`no activation e-mail to ${email}`);
}

const signIn = (email, pass, setCookie) =>
  graphql('mutation($input: SignInInput!) { signIn(input: $input) { token } }', {
    input: { organizationCode: 'demo', email, password: pass, setCookie },
  });

try {
  await ready();
  const email = `lighthouse.${Date.now().toString(36)}@example.org`;
  await graphql('mutation($input: RegisterAccountInput!) { registerAccount(input: $input) { position } }', {
    input: { organizationCode: 'demo', firstName: 'Ada', lastName: 'Lovelace', email, password },
  });
  await graphql('mutation($t: String!) { activateAccount(input: { token: $t }) { position } }', {
    t: await activationToken(email),
  });
  const staff = (await signIn('staff@demo.example', 'portal demo staff password', false)).data.signIn.token;
  const now = Date.now();
  await graphql('mutation($input: ActivityInput!) { scheduleActivity(input: $input) { activityId } }', {
    input: {
      title: 'Grand Rounds: Sepsis', code: 'LIGHT1', credits: [{ type: 'AMA_PRA_CATEGORY_1', amount: '1.00' }],
      startsAt: new Date(now - 10 * 60_000).toISOString(), endsAt: new Date(now + 50 * 60_000).toISOString(),
    },
  }, staff);
  const learner = (await signIn(email, password, false)).data.signIn.token;
  await graphql('mutation { recordAttendance(input: { code: "LIGHT1" }) { status } }', {}, learner);
  const cookie = await sessionCookie(email, password);

  // A patient, registered by staff and signed up with the code, for the booking and messages pages.
  const patientEmail = `lighthouse.patient.${Date.now().toString(36)}@example.org`;
  const code = (await graphql(
    'mutation($input: RegisterPatientInput!) { registerPatient(input: $input) { activationCode } }',
    { input: { clinicNumber: 'LH000001', firstName: 'Pat', lastName: 'Doe', dateOfBirth: '1970-01-01' } },
    staff,
  )).data.registerPatient.activationCode;
  await graphql('mutation($input: SignUpPatientInput!) { signUpPatient(input: $input) { position } }', {
    input: { organizationCode: 'demo', activationCode: code, dateOfBirth: '1970-01-01', username: 'lighthouse',
      email: patientEmail, password },
  });
  await graphql('mutation($t: String!) { activateAccount(input: { token: $t }) { position } }', {
    t: await activationToken(patientEmail),
  });
  const patientCookie = await sessionCookie('lighthouse', password);

  const rows = [];
  for (const [page, path, session] of [['sign-in', '/o/demo/sign-in'], ['calendar', '/o/demo/calendar', cookie],
    ['transcript', '/o/demo/transcript', cookie], ['booking', '/o/demo/appointments/book', patientCookie],
    ['messages', '/o/demo/messages', patientCookie]]) {
    const output = join(mailDir, `${page}.json`);
    const run = spawnSync('npx', ['--yes', LIGHTHOUSE, `${base}${path}`, '--quiet',
      '--only-categories=performance,accessibility', '--output=json', `--output-path=${output}`,
      '--chrome-flags=--headless=new --no-sandbox',
      ...(session ? [`--extra-headers=${JSON.stringify({ Cookie: session })}`] : [])],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, CHROME_PATH: process.env.CHROMIUM ?? '/usr/bin/chromium' } });
    if (run.status !== 0) throw new Error(`lighthouse failed on ${path}`);
    const report = JSON.parse(await readFile(output, 'utf8'));
    const score = (category) => Math.round(report.categories[category].score * 100);
    const metric = (id) => report.audits[id].displayValue;
    rows.push(`| ${page} | ${score('performance')} | ${score('accessibility')} | ${metric('first-contentful-paint')} | ` +
      `${metric('largest-contentful-paint')} | ${metric('total-blocking-time')} | ${metric('cumulative-layout-shift')} |`);
  }
  console.log(`${LIGHTHOUSE}, mobile defaults, ${bin}\n`);
  console.log('| page | performance | accessibility | FCP | LCP | TBT | CLS |\n|---|---|---|---|---|---|---|');
  console.log(rows.join('\n'));
} finally {
  portal.kill();
  if (!process.env.KEEP) await rm(mailDir, { recursive: true, force: true });
  spawnSync('psql', [server, '-q', '-c', `DROP DATABASE IF EXISTS ${database.split('/').pop()} WITH (FORCE)`], {
    stdio: 'ignore',
  });
}
