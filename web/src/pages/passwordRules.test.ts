import { describe, expect, it } from 'vitest';
import { passwordRules } from './passwordRules';

describe('passwordRules', () => {
  it('asks for twelve characters, counting characters rather than bytes', () => {
    expect(passwordRules('eleven chrs').map((r) => r.met)).toEqual([false, true, null]);
    expect(passwordRules('ééééééééééé').at(0)?.met).toBe(false);
    expect(passwordRules('violet tractor').map((r) => r.met)).toEqual([true, true, null]);
  });

  it('refuses more than 128 characters', () => {
    expect(passwordRules('x'.repeat(129)).at(1)?.met).toBe(false);
  });
});
