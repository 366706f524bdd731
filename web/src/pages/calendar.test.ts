import { describe, expect, it } from 'vitest';
import { monthRange } from './Calendar';

describe('monthRange', () => {
  it('spans a month from its first to its last day, leap years included', () => {
    expect(monthRange('2026-12')).toEqual({ from: '2026-12-01', to: '2026-12-31' });
    expect(monthRange('2028-02')).toEqual({ from: '2028-02-01', to: '2028-02-29' });
  });

  it('answers nothing for what is not a month', () => {
    expect(monthRange('')).toBeNull();
    expect(monthRange('2026-13')).toBeNull();
  });
});
