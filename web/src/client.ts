// The GraphQL client: the session is the HttpOnly cookie the server sets (no token in JavaScript), answers are
// normalized by their global ids (graphcache), and subscriptions go over graphql-ws to /graphql/ws.
import { Client, fetchExchange, subscriptionExchange } from 'urql';
import { cacheExchange } from '@urql/exchange-graphcache';
import { createClient as createWsClient } from 'graphql-ws';

/** Types without an id (value objects): the cache keeps them inside the object that holds them (docs/api.md). */
const valueObjects = ['Address', 'SpecialNeeds', 'StateLicense', 'CreditOffer', 'AgeBandView', 'ReleaseDelay', 'PageInfo'];

function socketUrl(): string {
  const url = new URL('/graphql/ws', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** A client for this origin's API. */
export function makeClient(): Client {
  const sockets = createWsClient({ url: socketUrl(), lazy: true });
  return new Client({
    url: '/graphql',
    preferGetMethod: false,
    fetchOptions: {
      credentials: 'same-origin',
      headers: { accept: 'application/graphql-response+json' },
    },
    exchanges: [
      cacheExchange({
        keys: Object.fromEntries(valueObjects.map((name) => [name, () => null])),
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
