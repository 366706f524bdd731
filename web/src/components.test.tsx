// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Field, FormAlert } from './components';
import { PasswordRulesList } from './pages/PasswordRulesList';

afterEach(cleanup);

describe('Field', () => {
  it('is labelled, and its error is tied to it and marks it invalid', () => {
    render(<Field label="E-mail address" name="email" error="is not an e-mail address" aria-describedby="hint" readOnly value="x" />);
    const input = screen.getByLabelText('E-mail address');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    const described = (input.getAttribute('aria-describedby') ?? '').split(' ');
    expect(described).toContain('hint');
    const error = screen.getByText('is not an e-mail address');
    expect(described).toContain(error.id);
  });

  it('has no error wiring without an error', () => {
    render(<Field label="Password" name="password" readOnly value="" />);
    const input = screen.getByLabelText('Password');
    expect(input.hasAttribute('aria-invalid')).toBe(false);
    expect(input.hasAttribute('aria-describedby')).toBe(false);
  });
});

describe('FormAlert', () => {
  it('is a live alert region even while empty, so that a message is announced when it appears', () => {
    const { rerender } = render(<FormAlert />);
    expect(screen.getByRole('alert').textContent).toBe('');
    rerender(<FormAlert message="Please fix the problem below." />);
    expect(screen.getByRole('alert').textContent).toBe('Please fix the problem below.');
  });
});

describe('PasswordRulesList', () => {
  it('says which rules the password meets, in words as well as marks', () => {
    render(<PasswordRulesList id="rules" password="violet tractor" />);
    expect(screen.getByText('has at least 12 characters').parentElement?.textContent).toContain('(done)');
    expect(document.getElementById('rules')?.getAttribute('aria-live')).toBe('polite');
  });
});
