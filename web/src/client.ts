// The GraphQL client: the session is the HttpOnly cookie the server sets (no token in JavaScript), answers are
// normalized by their global ids (graphcache), and subscriptions go over graphql-ws to /graphql/ws.
import { Client, fetchExchange, mapExchange, subscriptionExchange, type CombinedError } from 'urql';
import { cacheExchange, type Data, type UpdateResolver } from '@urql/exchange-graphcache';
import { createClient as createWsClient } from 'graphql-ws';
import { actingFor } from './acting';

/** Types without an id (value objects): the cache keeps them inside the object that holds them (docs/api.md). */
const valueObjects = [
  'Address',
  'SpecialNeeds',
  'StateLicense',
  'CreditOffer',
  'AgeBandView',
  'ReleaseDelay',
  'MessagePreview',
  'PageInfo',
];

/**
 * A mutation that answers a whole list as its query reads it (`phones` is what `myPhones` answers): the cache takes
 * the answer as the query's new list, so that an added number appears and a removed one goes without a refetch.
 */
function listAnswer(mutation: string, field: string, query: string): UpdateResolver {
  return (result, _args, cache) => {
    const answer = result[mutation] as Data | null | undefined;
    const list = answer?.[field] as Data[] | undefined;
    if (list) cache.link('Query', query, list);
  };
}

/**
 * Where a refusal for terms not accepted sends the person: their organization's home page, which shows the terms in
 * force to accept (the API refuses a learner's or patient's other requests until then). Undefined when the page is
 * already the home page, or not in an organization's portal.
 */
export function termsPage(error: CombinedError, path: string): string | undefined {
  if (!error.graphQLErrors.some((e) => e.extensions.code === 'TERMS_NOT_ACCEPTED')) return undefined;
  const home = /^\/o\/[^/]+\//.exec(path)?.[0];
  return home && home !== path ? home : undefined;
}

/**
 * Where a refusal for two-step verification not set up sends the person: the two-step page of their portal, which
 * says the organization requires it. Undefined when already there, or not in an organization's portal.
 */
export function twoStepPage(error: CombinedError, path: string): string | undefined {
  if (!error.graphQLErrors.some((e) => e.extensions.code === 'TWO_STEP_SETUP_REQUIRED')) return undefined;
  const home = /^\/o\/[^/]+\//.exec(path)?.[0];
  const page = home && `${home}profile/two-step`;
  return page && page !== path ? `${page}?required` : undefined;
}

/**
 * Where a refusal for a missing session sends the person: their organization's sign-in page, which brings them back
 * to this page after (an e-mail's link opened while signed out). Undefined outside a portal, on its home page and on
 * the sign-in page.
 */
export function signInPage(error: CombinedError, path: string, search: string): string | undefined {
  if (!error.graphQLErrors.some((e) => e.extensions.code === 'UNAUTHENTICATED')) return undefined;
  const home = /^\/o\/[^/]+\//.exec(path)?.[0];
  // The home page says so itself (it opens the sign-in page), and the sign-in page needs no session.
  if (!home || path === home || path.startsWith(`${home}sign-in`)) return undefined;
  return `${home}sign-in?next=${encodeURIComponent(path + search)}`;
}

function socketUrl(): string {
  const url = new URL('/graphql/ws', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** A client for this origin's API. */
export function makeClient(): Client {
  const sockets = createWsClient({ url: socketUrl(), lazy: true });
  // Once a refusal sends the person to another page, later refusals of the page being left send them nowhere else:
  // a second navigation would reload the page they were sent to.
  let leaving = false;
  return new Client({
    url: '/graphql',
    preferGetMethod: false,
    // Read at each request: a proxy's open record goes with every request of the tab.
    fetchOptions: () => {
      const record = actingFor();
      return {
        credentials: 'same-origin',
        headers: {
          accept: 'application/graphql-response+json',
          ...(record ? { 'x-acting-for': record.patientId } : {}),
        },
      };
    },
    exchanges: [
      // New terms published while a page was open, or a page opened directly: to the terms first.
      mapExchange({
        onError(error) {
          if (leaving) return;
          const { pathname, search } = window.location;
          const page = termsPage(error, pathname) ?? twoStepPage(error, pathname) ?? signInPage(error, pathname, search);
          if (page) {
            leaving = true;
            window.location.assign(page);
          }
        },
      }),
      cacheExchange({
        keys: Object.fromEntries(valueObjects.map((name) => [name, () => null])),
        updates: {
          Mutation: {
            addPhone: listAnswer('addPhone', 'phones', 'myPhones'),
            verifyPhone: listAnswer('verifyPhone', 'phones', 'myPhones'),
            removePhone: listAnswer('removePhone', 'phones', 'myPhones'),
            signOutDevice: listAnswer('signOutDevice', 'devices', 'devices'),
          },
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: sockets.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  });
}
