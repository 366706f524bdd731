import { messages } from '../messages';
import { passwordRules } from './passwordRules';

/** The new-password rules and how the password typed so far meets them, announced politely as they change. */
export function PasswordRulesList({ id, password }: { id: string; password: string }) {
  return (
    <div id={id} className="rules" aria-live="polite">
      <p>{messages.register.rules}</p>
      <ul>
        {passwordRules(password).map((rule) => (
          <li key={rule.text} className={rule.met ? 'met' : undefined}>
            <span aria-hidden="true">{rule.met ? '✓ ' : '• '}</span>
            {rule.text}
            {rule.met !== null && (
              <span className="visually-hidden">{rule.met ? ` (${messages.register.met})` : ` (${messages.register.notMet})`}</span>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
