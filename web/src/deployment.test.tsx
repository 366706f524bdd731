// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { Client, Provider } from 'urql';
import { MemoryRouter, useLocation } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readPinnedOrganization } from './deployment';

afterEach(() => {
  cleanup();
  document.head.innerHTML = '';
});

/** Where the router is, shown so that a test can read it. */
function Where() {
  const location = useLocation();
  return <p data-testid="where">{location.pathname + location.search}</p>;
}

/** The app as a pinned deployment serves it, at `path` (no answer ever comes from the API). */
async function appAt(path: string) {
  document.head.innerHTML = '<meta name="portal-organization" content="demo">';
  vi.resetModules();
  const { App } = await import('./App');
  const client = new Client({ url: 'http://portal.test/graphql', exchanges: [] });
  render(
    <Provider value={client}>
      <MemoryRouter initialEntries={[path]}>
        <App />
        <Where />
      </MemoryRouter>
    </Provider>,
  );
}

describe('a deployment pinned to one organization', () => {
  it('is read from the page’s meta tag, and is absent without one', () => {
    expect(readPinnedOrganization(document)).toBeUndefined();
    document.head.innerHTML = '<meta name="portal-organization" content="umncpd">';
    expect(readPinnedOrganization(document)).toBe('umncpd');
  });

  it('opens its organization’s portal instead of the chooser', async () => {
    await appAt('/');
    expect(screen.getByTestId('where').textContent).toBe('/o/demo/');
  });

  it('opens an older e-mail’s link inside its organization’s portal, token and all', async () => {
    await appAt('/reset-password?token=abc');
    expect(screen.getByTestId('where').textContent).toBe('/o/demo/reset-password?token=abc');
  });

  it('offers no other organization’s portal', async () => {
    await appAt('/o/other/sign-in');
    expect(screen.getByTestId('where').textContent).toBe('/o/demo/');
  });
});
