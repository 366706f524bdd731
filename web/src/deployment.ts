// How this deployment serves the portals: `portal serve --organization <code>` pins them to one organization, named
// in a meta tag of the app's page (a tag, not a script, as the Content-Security-Policy allows no inline script).

/** The organization this deployment is pinned to, as the page names it; undefined when every portal is offered. */
export function readPinnedOrganization(doc: Document | undefined = globalThis.document): string | undefined {
  const tag = doc?.querySelector<HTMLMetaElement>('meta[name="portal-organization"]');
  return tag?.content || undefined;
}

/** The organization this deployment is pinned to, if it is. */
export const pinnedOrganization = readPinnedOrganization();
