import { describe, expect, it } from 'vitest';
import { formatDate, formatDateTime, formatPhone } from './format';

describe('format', () => {
  it('shows a calendar date as that date whatever the zone', () => {
    expect(formatDate('2026-12-01', 'en-US')).toBe('Dec 1, 2026');
  });

  it('shows an instant on the organization’s clocks', () => {
    const shown = formatDateTime('2026-12-01T14:00:00Z', 'America/Chicago', 'en-US');
    expect(shown).toContain('8:00');
    expect(shown).toContain('CST');
  });

  it('shows a North American number as people dial it and leaves others as they are', () => {
    expect(formatPhone('+18336161157')).toBe('(833) 616-1157');
    expect(formatPhone('+442071838750')).toBe('+442071838750');
  });
});
