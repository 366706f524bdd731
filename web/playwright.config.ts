// Browser tests: Playwright's runner drives Debian's chromium (no browser download) against a real `portal serve`
// with the demo data, on a fresh database and a free port.
import { defineConfig } from '@playwright/test';

const port = (process.env.PORTAL_E2E_PORT ??= String(20000 + Math.floor(Math.random() * 20000)));
// A database of its own on the tests' server (scripts/test's TEST_DATABASE_URL); `portal serve` creates it.
const server = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = (process.env.PORTAL_E2E_DATABASE_URL ??= server.replace(
  /\/[^/]*$/,
  `/portal_e2e_${Date.now().toString(36)}`,
));
const portal = process.env.PORTAL_BIN ?? '../target/debug/portal';
// The payment processor's stand-in (e2e/processor.mjs) that portal pays into.
const processorPort = (process.env.PROCESSOR_PORT ??= String(Number(port) + 1));

export default defineConfig({
  testDir: 'e2e',
  // terms.spec.ts publishes the demo organization's terms, which every later sign-in of a learner or patient then
  // meets, and two-step-required.spec.ts requires two-step verification of patients for a while: they run after the
  // other journeys.
  projects: [
    { name: 'journeys', testIgnore: /(terms|two-step-required)\.spec\.ts/ },
    { name: 'terms', testMatch: /(terms|two-step-required)\.spec\.ts/, dependencies: ['journeys'] },
  ],
  globalTeardown: './e2e/teardown.ts',
  workers: 1,
  timeout: 60_000,
  outputDir: '../target/e2e/results',
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: { executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium' },
    screenshot: 'only-on-failure',
  },
  webServer: [
    {
      command: 'node e2e/processor.mjs',
      url: `http://127.0.0.1:${processorPort}/health`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      command: `${portal} serve --demo --listen 127.0.0.1:${port} --database-url ${database} --mail-dir ../target/e2e/mail --payments-api-url http://127.0.0.1:${processorPort}`,
      // Ready, not only alive: until its migrations are applied the server answers the API with STARTING.
      url: `http://127.0.0.1:${port}/readyz`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
  ],
});
