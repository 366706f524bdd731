// What every browser test checks on every page it visits: no axe-core violation, and a screenshot at a phone's and
// a desktop's width (under target/screenshots, not committed) with no horizontal scrolling.
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

export const WIDTHS = [390, 1280] as const;

/** Checks the page as it stands: accessibility, then how it looks at each width. */
export async function checkPage(page: Page, name: string): Promise<void> {
  const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  expect(axe.violations, JSON.stringify(axe.violations, null, 2)).toEqual([]);
  const size = page.viewportSize();
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${name} scrolls sideways at ${width} px`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `../target/screenshots/${name}-${width}.png`, fullPage: true });
  }
  if (size) await page.setViewportSize(size);
}
