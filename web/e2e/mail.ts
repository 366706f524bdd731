// The e-mails the server writes as .eml files into its mail folder (no SMTP server configured), as a person's inbox.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The folder `portal serve` writes into (playwright.config.ts starts it with this `--mail-dir`). */
export const MAIL_DIR = '../target/e2e/mail';

/** The e-mails written so far to `to`. */
async function mailsTo(to: string): Promise<string[]> {
  const mails: string[] = [];
  for (const name of await readdir(MAIL_DIR).catch(() => [] as string[])) {
    if (!name.endsWith('.eml')) continue;
    const mail = await readFile(join(MAIL_DIR, name), 'utf8');
    if (mail.includes(`To: ${to}`)) mails.push(mail);
  }
  return mails;
}

/** Reads `to`'s e-mails until `found` answers something (for ten seconds), and answers that. */
async function waitForMail<T>(to: string, found: (mails: string[]) => T | undefined, what: string): Promise<T> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const answer = found(await mailsTo(to));
    if (answer !== undefined) return answer;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no e-mail to ${to} ${what}`);
}

/** Waits for an e-mail to `to` with a link containing `path`, and answers the link. */
export function linkIn(to: string, path: string): Promise<string> {
  return waitForMail(
    to,
    (mails) =>
      mails
        .flatMap((mail) => mail.split(/\r?\n/))
        .find((line) => line.includes(path) && line.trim().startsWith('http'))
        ?.trim(),
    `with a link to ${path}`,
  );
}

/** Waits until at least `count` e-mails to `to` contain `text`, and answers them. */
export function mailsWith(to: string, text: string, count = 1): Promise<string[]> {
  return waitForMail(
    to,
    (mails) => {
      const matching = mails.filter((mail) => mail.includes(text));
      return matching.length >= count ? matching : undefined;
    },
    `(${count} or more) with “${text}”`,
  );
}
