// The e-mails the server writes as .eml files into its mail folder (no SMTP server configured), as a person's inbox.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The folder `portal serve` writes into (playwright.config.ts starts it with this `--mail-dir`). */
export const MAIL_DIR = '../target/e2e/mail';

/** Waits for an e-mail to `to` with a link containing `path`, and answers the link. */
export async function linkIn(to: string, path: string): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt++) {
    for (const name of await readdir(MAIL_DIR).catch(() => [] as string[])) {
      if (!name.endsWith('.eml')) continue;
      const mail = await readFile(join(MAIL_DIR, name), 'utf8');
      if (!mail.includes(`To: ${to}`)) continue;
      const link = mail.split(/\r?\n/).find((line) => line.includes(path) && line.trim().startsWith('http'));
      if (link) return link.trim();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no e-mail to ${to} with a link to ${path}`);
}

/** Waits until at least `count` e-mails to `to` contain `text`, and answers them. */
export async function mailsWith(to: string, text: string, count = 1): Promise<string[]> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const found: string[] = [];
    for (const name of await readdir(MAIL_DIR).catch(() => [] as string[])) {
      if (!name.endsWith('.eml')) continue;
      const mail = await readFile(join(MAIL_DIR, name), 'utf8');
      if (mail.includes(`To: ${to}`) && mail.includes(text)) found.push(mail);
    }
    if (found.length >= count) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`fewer than ${count} e-mails to ${to} with “${text}”`);
}
