import { messages } from '../messages';
import { formatPhone } from '../format';
import { useOrganization } from './OrganizationLayout';

/** The FAQ's "How do I text my attendance?", with the organization's number (nothing when it takes no texts). */
export function TextingInstructions() {
  const { smsNumber } = useOrganization();
  if (!smsNumber) return null;
  const number = formatPhone(smsNumber);
  return (
    <section aria-labelledby="texting">
      <h2 id="texting">{messages.texting.title}</h2>
      <ol>
        <li>{messages.texting.step1}</li>
        <li>{messages.texting.step2(number)}</li>
        <li>{messages.texting.step3}</li>
        <li>{messages.texting.step4(number)}</li>
      </ol>
    </section>
  );
}
