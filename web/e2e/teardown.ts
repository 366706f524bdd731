// After the browser tests: the run's database (playwright.config.ts names it) is dropped, so runs leave none behind.
import { spawnSync } from 'node:child_process';

/** Runs one statement on the tests' server with psql; answers its output, or undefined when psql failed. */
function psql(server: string, sql: string): string | undefined {
  const run = spawnSync('psql', [server, '-qAt', '-c', sql], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : undefined;
}

export default async function teardown(): Promise<void> {
  const database = process.env.PORTAL_E2E_DATABASE_URL;
  const name = database?.split('/').pop();
  if (!database || !name || !/^portal_e2e_[a-z0-9]+$/.test(name)) return;
  const server = database.replace(/\/[^/]*$/, '/postgres');
  // WITH (FORCE): the server under test still holds connections (Playwright stops it after this teardown).
  for (let attempt = 0; attempt < 5; attempt++) {
    psql(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    if (psql(server, `SELECT count(*) FROM pg_database WHERE datname = '${name}'`) === '0') return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  console.warn(`the browser tests' database ${name} could not be dropped`);
}
