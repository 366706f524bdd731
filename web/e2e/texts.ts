// Texts a learner sends to the organization's number, delivered as the SMS provider would: a form POST to the
// webhook, signed like Twilio signs it (HMAC-SHA1 over the URL and the sorted parameters, keyed by the demo's token).
import { createHmac } from 'node:crypto';
import { expect, type APIRequestContext } from '@playwright/test';

/** The demo organization's number and the auth token its webhook checks (gateway/src/demo.rs). */
export const DEMO_NUMBER = '+15005550006';
const DEMO_TOKEN = 'portal-demo-sms-auth-token';

let sent = 0;

/** Sends `body` from `from` to the demo organization, and answers the reply text. */
export async function text(request: APIRequestContext, baseURL: string, from: string, body: string): Promise<string> {
  const params: Record<string, string> = {
    To: DEMO_NUMBER,
    From: from,
    Body: body,
    MessageSid: `SM${Date.now()}${sent++}`,
  };
  const url = `${baseURL}/sms/inbound`;
  const signed = Object.keys(params)
    .sort()
    .reduce((text, name) => text + name + params[name], url);
  const signature = createHmac('sha1', DEMO_TOKEN).update(signed).digest('base64');
  const response = await request.post(url, { form: params, headers: { 'x-twilio-signature': signature } });
  expect(response.status()).toBe(200);
  const reply = await response.text();
  return /<Message>(.*)<\/Message>/s.exec(reply)?.[1] ?? '';
}

/** Waits for the text portal sent to `to` (written to the mail folder), and answers its six-digit code. */
export async function codeTextedTo(to: string): Promise<string> {
  const { readdir, readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { MAIL_DIR } = await import('./mail');
  for (let attempt = 0; attempt < 100; attempt++) {
    for (const name of await readdir(MAIL_DIR).catch(() => [] as string[])) {
      if (!name.endsWith('.sms')) continue;
      const text = await readFile(join(MAIL_DIR, name), 'utf8');
      const code = text.startsWith(`To: ${to}\n`) ? /\b(\d{6})\b/.exec(text)?.[1] : undefined;
      if (code) return code;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no text to ${to}`);
}
