import { Link } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { Done, FormAlert } from '../../components';
import { formErrors } from '../../errors';
import { formatDateTime } from '../../format';
import { useCommand } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';

/** A wait-list entry as the page shows it, and as joining, leaving and accepting answer it. */
export const WaitListItem = graphql(`
  fragment WaitListItem on WaitListEntryView {
    id
    target
    reason
    status
    offeredSlotId
    offerExpiresAt
    offeredStartsAt
    offeredProvider
    offeredLocation
  }
`);

const WaitListQuery = graphql(`
  query MyWaitList {
    myWaitList {
      ...WaitListItem
    }
  }
`);

const AcceptMutation = graphql(`
  mutation AcceptSlotOffer($entryId: ID!) {
    acceptSlotOffer(entryId: $entryId) {
      waitListEntry {
        ...WaitListItem
      }
      appointment {
        ...AppointmentItem
      }
    }
  }
`);

const LeaveMutation = graphql(`
  mutation LeaveWaitList($entryId: ID!) {
    leaveWaitList(entryId: $entryId) {
      waitListEntry {
        ...WaitListItem
      }
    }
  }
`);

/** Seed 003's wait list: what the patient waits for, and an offered time to accept before it lapses (its e-mail links here). */
export function WaitList() {
  const t = messages.waitList;
  const organization = useOrganization();
  const [{ data, error }, reread] = useQuery({ query: WaitListQuery, requestPolicy: 'network-only' });
  const [{ fetching: accepting }, accept] = useMutation(AcceptMutation);
  const [{ fetching: leaving }, leave] = useMutation(LeaveMutation);
  const form = useCommand(['entryId']);
  const when = (instant: string) => formatDateTime(instant, organization.timeZone);
  const entries = data?.myWaitList.filter((e) => e.status === 'waiting' || e.status === 'offered') ?? [];
  // Accepting and leaving take no commandId: an accepted offer or a left entry stays so, and a retry says so.
  const take = (entryId: string, starts: string) =>
    void form.run(
      () => accept({ entryId }),
      () => t.accepted(when(starts)),
    ).then(() => reread({ requestPolicy: 'network-only' }));
  const quit = (entryId: string, target: string) =>
    void form.run(
      () => leave({ entryId }),
      () => t.left(target),
    );
  return (
    <main id="content" className="page">
      <h1>{t.title}</h1>
      <p>{t.intro}</p>
      <FormAlert
        message={error ? formErrors(error).form : form.errors.code === 'OFFER_UNAVAILABLE' ? t.lapsed : form.errors.form}
      />
      <Done message={form.said} />
      {data && entries.length === 0 && <p>{t.none}</p>}
      <ul className="cards">
        {entries.map((entry) => (
          <li key={entry.id} className="card">
            <h2 className="card-title">{t.waiting(entry.target, entry.reason)}</h2>
            {entry.status === 'offered' && entry.offeredStartsAt && (
              <>
                <p>{t.offered(when(entry.offeredStartsAt), entry.offeredProvider ?? '', entry.offeredLocation ?? '')}</p>
                {entry.offerExpiresAt && <p>{t.until(when(entry.offerExpiresAt))}</p>}
                <button type="button" className="small" disabled={accepting}
                  onClick={() => take(entry.id, entry.offeredStartsAt ?? '')}>
                  {t.accept(when(entry.offeredStartsAt))}
                </button>
              </>
            )}
            <button type="button" className="secondary small" disabled={leaving}
              onClick={() => quit(entry.id, entry.target)}>
              {t.leave(entry.target)}
            </button>
          </li>
        ))}
      </ul>
      <Link to={`/o/${organization.code}/appointments/book`}>{t.book}</Link>
    </main>
  );
}
