// A stand-in of the payment processor for the browser journeys, on loopback: Stripe's Checkout Sessions API
// (`POST /v1/checkout/sessions`, form in, JSON out, Bearer key), and its hosted payment page. Paying there delivers
// the signed `checkout.session.completed` webhook to portal, then sends the browser back to the session's
// success_url, as the real checkout does.
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';

const port = Number(process.env.PROCESSOR_PORT);
const portal = `http://127.0.0.1:${process.env.PORTAL_E2E_PORT}`;
export const API_KEY = 'sk_test_e2eStandIn0000wxyz';
export const WEBHOOK_SECRET = 'whsec_e2eStandInSecret0001';

const sessions = new Map();
let next = 0;

async function body(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

function json(response, status, value) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(value));
}

function escape(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

async function deliver(event, organization) {
  const payload = JSON.stringify(event);
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', WEBHOOK_SECRET).update(`${t}.${payload}`).digest('hex');
  const answer = await fetch(`${portal}/payments/webhook/${organization}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${v1}` },
    body: payload,
  });
  if (!answer.ok) throw new Error(`the webhook answered ${answer.status}`);
}

createServer(async (request, response) => {
  const url = new URL(request.url, `http://127.0.0.1:${port}`);
  if (request.method === 'GET' && url.pathname === '/health') return json(response, 200, { ok: true });
  if (request.method === 'POST' && url.pathname === '/v1/checkout/sessions') {
    if (request.headers.authorization !== `Bearer ${API_KEY}`) {
      return json(response, 401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
    }
    const form = await body(request);
    next += 1;
    const id = `cs_test_e2e${next}`;
    const session = {
      id,
      object: 'checkout.session',
      amount_total: Number(form.get('line_items[0][price_data][unit_amount]')),
      currency: form.get('line_items[0][price_data][currency]'),
      client_reference_id: form.get('client_reference_id'),
      metadata: { statement_id: form.get('metadata[statement_id]'), organization: form.get('metadata[organization]') },
      name: form.get('line_items[0][price_data][product_data][name]'),
      success_url: form.get('success_url'),
      cancel_url: form.get('cancel_url'),
      expires_at: Number(form.get('expires_at')),
      payment_intent: null,
      payment_status: 'unpaid',
      status: 'open',
      url: `http://127.0.0.1:${port}/c/pay/${id}`,
    };
    sessions.set(id, session);
    return json(response, 200, session);
  }
  const paying = url.pathname.match(/^\/c\/pay\/([\w]+)$/);
  const session = paying && sessions.get(paying[1]);
  if (session && request.method === 'GET') {
    const amount = (session.amount_total / 100).toFixed(2);
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    return response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Checkout</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main>
<h1>${escape(session.name)}</h1><p>Amount: $${amount}</p>
<form method="post"><button type="submit">Pay $${amount}</button></form>
<p><a href="${escape(session.cancel_url)}">Cancel</a></p></main></body></html>`);
  }
  if (session && request.method === 'POST') {
    next += 1;
    Object.assign(session, { payment_intent: `pi_test_e2e${next}`, payment_status: 'paid', status: 'complete' });
    next += 1;
    const event = {
      id: `evt_test_e2e${next}`,
      object: 'event',
      type: 'checkout.session.completed',
      created: Math.floor(Date.now() / 1000),
      data: { object: session },
    };
    try {
      await deliver(event, session.metadata.organization);
    } catch (error) {
      response.writeHead(502, { 'content-type': 'text/plain' });
      return response.end(String(error));
    }
    response.writeHead(303, { location: session.success_url });
    return response.end();
  }
  json(response, 404, { error: { type: 'invalid_request_error', message: 'Unrecognized request URL' } });
}).listen(port, '127.0.0.1');
