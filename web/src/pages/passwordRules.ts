// The password rules the API enforces (12 to 128 characters of any kind, not a breached one), for people to see as
// they type. The breached list is the server's: it is checked on submit.
import { messages } from '../messages';

/** One rule and whether `password` meets it (null: only the server can tell). */
export interface PasswordRule {
  text: string;
  met: boolean | null;
}

/** The rules for a new password, with how `password` stands against each. */
export function passwordRules(password: string): PasswordRule[] {
  const length = [...password].length;
  return [
    { text: messages.register.ruleMin, met: length >= 12 },
    { text: messages.register.ruleMax, met: length > 0 && length <= 128 },
    { text: messages.register.ruleBreached, met: null },
  ];
}
