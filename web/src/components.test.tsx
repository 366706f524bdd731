// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRouter } from 'react-router';
import { Done, Field, FormAlert, SubNav, TextArea } from './components';
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

describe('TextArea', () => {
  it('is labelled, and its error is tied to it and marks it invalid', () => {
    render(<TextArea label="Text" name="text" error="uses an unknown variable" readOnly value="{{ x }}" />);
    const area = screen.getByLabelText('Text');
    expect(area.getAttribute('aria-invalid')).toBe('true');
    expect(area.getAttribute('aria-describedby')).toBe(screen.getByText('uses an unknown variable').id);
  });
});

describe('Done', () => {
  it('is a polite status region even while empty, so that what was done is announced when it appears', () => {
    const { rerender } = render(<Done />);
    const region = screen.getByRole('status');
    expect(region.textContent).toBe('');
    rerender(<Done message="Saved." />);
    expect(screen.getByRole('status').textContent).toBe('Saved.');
  });
});

describe('SubNav', () => {
  it('names its menu and marks the current page, the area’s own page only at its exact address', () => {
    const pages = [
      { to: '/o/demo/staff', label: 'Schedule', end: true },
      { to: '/o/demo/staff/locked', label: 'Locked accounts' },
    ];
    render(
      <MemoryRouter initialEntries={['/o/demo/staff/locked']}>
        <SubNav label="Staff pages" pages={pages} />
      </MemoryRouter>,
    );
    expect(screen.getByRole('navigation', { name: 'Staff pages' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Locked accounts' }).getAttribute('aria-current')).toBe('page');
    expect(screen.getByRole('link', { name: 'Schedule' }).hasAttribute('aria-current')).toBe(false);
  });
});
