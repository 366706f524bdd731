import { useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQuery, type OperationResult } from 'urql';
import { graphql } from '../../gql';
import type { Weekday } from '../../gql/graphql';
import { Done, Field, FormAlert, SelectField } from '../../components';
import { formErrors } from '../../errors';
import { addDays, personName, todayIn } from '../../format';
import { optionalText, useCommand } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';

const StaffCatalogueQuery = graphql(`
  query StaffCatalogue {
    catalogue {
      id
      locations {
        id
        name
        address
      }
      departments {
        id
        name
      }
      providers {
        id
        name
        departmentIds
        locationIds
      }
      visitReasons {
        id
        name
        minutes
        departmentIds
      }
    }
  }
`);

/** What putting an entry in the catalogue answers: the entry. */
export const CatalogueEntryAnswer = graphql(`
  fragment CatalogueEntryAnswer on SchedulingPayload {
    catalogueEntry {
      id
      name
    }
  }
`);

const PutLocation = graphql(`
  mutation PutLocation($name: String!, $address: String) {
    putLocation(name: $name, address: $address) {
      ...CatalogueEntryAnswer
    }
  }
`);

const PutDepartment = graphql(`
  mutation PutDepartment($name: String!) {
    putDepartment(name: $name) {
      ...CatalogueEntryAnswer
    }
  }
`);

const PutProvider = graphql(`
  mutation PutProvider($name: String!, $departmentIds: [ID!]!, $locationIds: [ID!]!) {
    putProvider(name: $name, departmentIds: $departmentIds, locationIds: $locationIds) {
      ...CatalogueEntryAnswer
    }
  }
`);

const PutVisitReason = graphql(`
  mutation PutVisitReason($name: String!, $minutes: Int!, $departmentIds: [ID!]) {
    putVisitReason(name: $name, minutes: $minutes, departmentIds: $departmentIds) {
      ...CatalogueEntryAnswer
    }
  }
`);

const PublishSlots = graphql(`
  mutation PublishSlots($input: PublishSlotsInput!) {
    publishSlots(input: $input) {
      created
    }
  }
`);

type Entry = { id: string; name: string };

/** Checkboxes choosing some of `entries`. */
function Several({ legend, entries, chosen, onChange }: {
  legend: string;
  entries: readonly Entry[];
  chosen: string[];
  onChange: (ids: string[]) => void;
}) {
  return (
    <fieldset className="choice">
      <legend>{legend}</legend>
      {entries.map((entry) => (
        <label key={entry.id}>
          <input type="checkbox" checked={chosen.includes(entry.id)}
            onChange={(e) => onChange(e.target.checked ? [...chosen, entry.id] : chosen.filter((id) => id !== entry.id))} />{' '}
          {entry.name}
        </label>
      ))}
    </fieldset>
  );
}

/** One "Add a …" form: a name, the kind's own fields, and the command that puts it in the catalogue. */
function AddForm({ title, send, added, children }: {
  title: string;
  send: (name: string) => Promise<OperationResult>;
  added: () => void;
  children?: ReactNode;
}) {
  const t = messages.staff.catalogue;
  const [name, setName] = useState('');
  const form = useCommand();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const said = t.added(name.trim());
    const done = await form.run(() => send(name), () => said);
    if (done) {
      setName('');
      added();
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label={title}>
      <h3>{title}</h3>
      <FormAlert message={form.errors.form} />
      <Done message={form.said} />
      <Field label={t.name} name="name" value={name} error={form.errors.fields.name}
        onChange={(e) => setName(e.target.value)} />
      {children}
      <button type="submit" className="small">
        {title}
      </button>
    </form>
  );
}

const CareTeamQuery = graphql(`
  query CareTeam($teamId: ID!) {
    careTeamMembers(teamId: $teamId) {
      id
    }
    careTeamCandidates {
      id
      firstName
      lastName
      role
    }
  }
`);

const SetCareTeam = graphql(`
  mutation SetCareTeamMembers($teamId: ID!, $memberIds: [ID!]!) {
    setCareTeamMembers(teamId: $teamId, memberIds: $memberIds) {
      position
    }
  }
`);

/** The members of one provider's care team, chosen among the organization's staff and providers. */
function TeamMembers({ provider }: { provider: Entry }) {
  const t = messages.staff.catalogue;
  const [{ data }] = useQuery({ query: CareTeamQuery, variables: { teamId: provider.id }, requestPolicy: 'network-only' });
  const [chosen, setChosen] = useState<string[] | undefined>();
  const [{ fetching }, save] = useMutation(SetCareTeam);
  const form = useCommand(['teamId']);
  if (!data) return null;
  const members = chosen ?? data.careTeamMembers.map((m) => m.id);
  const candidates = data.careTeamCandidates.map((c) => ({
    id: c.id,
    name: t.member(personName(c), t.roles[c.role] ?? c.role),
  }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void form.run(() => save({ teamId: provider.id, memberIds: members }), () => t.teamSaved(provider.name));
  };
  return (
    <form onSubmit={submit} noValidate aria-label={t.saveTeam}>
      <FormAlert message={form.errors.form} />
      <Done message={form.said} />
      <Several legend={t.members} entries={candidates} chosen={members} onChange={setChosen} />
      <button type="submit" className="small" disabled={fetching}>
        {t.saveTeam}
      </button>
    </form>
  );
}

/** Choose a provider, then who is on their care team. */
function CareTeams({ providers }: { providers: readonly Entry[] }) {
  const t = messages.staff.catalogue;
  const [providerId, setProviderId] = useState('');
  const provider = providers.find((p) => p.id === providerId);
  return (
    <section aria-labelledby="care-teams">
      <h2 id="care-teams">{t.teamTitle}</h2>
      <p>{t.teamIntro}</p>
      <SelectField label={t.teamOf} name="teamId" value={providerId} placeholder={messages.book.choose}
        options={providers.map((p) => ({ value: p.id, label: p.name }))} onChange={(e) => setProviderId(e.target.value)} />
      {provider && <TeamMembers key={provider.id} provider={provider} />}
    </section>
  );
}

const WEEKDAYS: Weekday[] = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

/** Weekly hours of a provider at a location, made into open times for the days chosen. */
function PublishForm({ providers, locations }: { providers: readonly Entry[]; locations: readonly Entry[] }) {
  const t = messages.staff.catalogue;
  const organization = useOrganization();
  const today = todayIn(organization.timeZone);
  const [choice, setChoice] = useState({ providerId: '', locationId: '', from: today, to: addDays(today, 27), slotMinutes: '30' });
  const [hours, setHours] = useState(() =>
    Object.fromEntries(WEEKDAYS.map((day, i) => [day, { open: i < 5, opens: '09:00', closes: '17:00' }])),
  );
  const [{ fetching }, publish] = useMutation(PublishSlots);
  const form = useCommand();
  const set = (key: keyof typeof choice) => (e: { target: { value: string } }) =>
    setChoice({ ...choice, [key]: e.target.value });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void form.run(
      () =>
        publish({
          input: {
            providerId: choice.providerId,
            locationId: choice.locationId,
            from: choice.from,
            to: choice.to,
            slotMinutes: Number(choice.slotMinutes),
            hours: WEEKDAYS.filter((day) => hours[day]?.open).map((weekday) => ({
              weekday,
              opens: hours[weekday]?.opens ?? '',
              closes: hours[weekday]?.closes ?? '',
            })),
          },
        }),
      (data) => t.published(data.publishSlots.created ?? 0),
    );
  };
  const options = (entries: readonly Entry[]) => entries.map((e) => ({ value: e.id, label: e.name }));
  return (
    <form onSubmit={submit} noValidate aria-label={t.hoursTitle}>
      <h2>{t.hoursTitle}</h2>
      <p>{t.hoursIntro}</p>
      <FormAlert message={form.errors.form} />
      <Done message={form.said} />
      <SelectField label={t.provider} name="providerId" value={choice.providerId} options={options(providers)}
        placeholder={messages.book.choose} error={form.errors.fields.providerId} onChange={set('providerId')} />
      <SelectField label={t.location} name="locationId" value={choice.locationId} options={options(locations)}
        placeholder={messages.book.choose} error={form.errors.fields.locationId} onChange={set('locationId')} />
      <Field label={t.from} name="from" type="date" value={choice.from} error={form.errors.fields.from} onChange={set('from')} />
      <Field label={t.to} name="to" type="date" value={choice.to} error={form.errors.fields.to} onChange={set('to')} />
      <Field label={t.slotMinutes} name="slotMinutes" type="number" min={5} value={choice.slotMinutes}
        error={form.errors.fields.slotMinutes} onChange={set('slotMinutes')} />
      {WEEKDAYS.map((day) => {
        const label = t.weekdays[day] ?? day;
        const these = hours[day] ?? { open: false, opens: '', closes: '' };
        const change = (patch: Partial<typeof these>) => setHours({ ...hours, [day]: { ...these, ...patch } });
        return (
          <fieldset key={day} className="choice">
            <legend>{label}</legend>
            <label>
              <input type="checkbox" checked={these.open} onChange={(e) => change({ open: e.target.checked })} />{' '}
              {t.open(label)}
            </label>
            {these.open && (
              <div className="actions">
                <Field label={t.opens(label)} name={`${day}-opens`} type="time" value={these.opens}
                  onChange={(e) => change({ opens: e.target.value })} />
                <Field label={t.closes(label)} name={`${day}-closes`} type="time" value={these.closes}
                  onChange={(e) => change({ closes: e.target.value })} />
              </div>
            )}
          </fieldset>
        );
      })}
      <FormAlert message={form.errors.fields.hours} />
      <button type="submit" disabled={fetching}>
        {t.publish}
      </button>
    </form>
  );
}

/** Seed 003's choices, set up by the clinic: the catalogue patients book from, and the hours that make open times. */
export function Catalogue() {
  const t = messages.staff.catalogue;
  const [{ data, error }, reread] = useQuery({ query: StaffCatalogueQuery, requestPolicy: 'cache-and-network' });
  const [, putLocation] = useMutation(PutLocation);
  const [, putDepartment] = useMutation(PutDepartment);
  const [, putProvider] = useMutation(PutProvider);
  const [, putReason] = useMutation(PutVisitReason);
  const [address, setAddress] = useState('');
  const [minutes, setMinutes] = useState('30');
  const [providerDepartments, setProviderDepartments] = useState<string[]>([]);
  const [providerLocations, setProviderLocations] = useState<string[]>([]);
  const [reasonDepartments, setReasonDepartments] = useState<string[]>([]);
  const again = () => reread({ requestPolicy: 'network-only' });
  const catalogue = data?.catalogue;
  const names = (ids: readonly string[], entries: readonly Entry[]) =>
    entries.filter((e) => ids.includes(e.id)).map((e) => e.name).join(', ');
  const list = (title: string, items: ReactNode[]) => (
    <>
      <h3>{title}</h3>
      {items.length === 0 ? <p>{t.none}</p> : <ul>{items}</ul>}
    </>
  );
  return (
    <main id="content" className="narrow-forms">
      <h1>{t.title}</h1>
      <p>{t.intro}</p>
      <FormAlert message={error ? formErrors(error).form : undefined} />
      {catalogue && (
        <>
          <section aria-labelledby="catalogue-now">
            <h2 id="catalogue-now">{t.title}</h2>
            {list(t.locations, catalogue.locations.map((l) => (
              <li key={l.id}>{l.address ? `${l.name}, ${l.address}` : l.name}</li>
            )))}
            {list(t.departments, catalogue.departments.map((d) => <li key={d.id}>{d.name}</li>))}
            {list(t.providers, catalogue.providers.map((p) => (
              <li key={p.id}>{`${p.name} (${names(p.departmentIds, catalogue.departments)}; ${names(p.locationIds, catalogue.locations)})`}</li>
            )))}
            {list(t.reasons, catalogue.visitReasons.map((r) => <li key={r.id}>{t.reason(r.name, r.minutes ?? 0)}</li>))}
          </section>
          <section aria-labelledby="catalogue-add">
            <h2 id="catalogue-add">{t.add}</h2>
            <AddForm title={t.addLocation} added={again}
              send={(name) => putLocation({ name, address: optionalText(address) })}>
              <Field label={t.address} name="address" value={address} onChange={(e) => setAddress(e.target.value)} />
            </AddForm>
            <AddForm title={t.addDepartment} added={again} send={(name) => putDepartment({ name })} />
            <AddForm title={t.addProvider} added={again}
              send={(name) => putProvider({ name, departmentIds: providerDepartments, locationIds: providerLocations })}>
              <Several legend={t.inDepartments} entries={catalogue.departments} chosen={providerDepartments}
                onChange={setProviderDepartments} />
              <Several legend={t.atLocations} entries={catalogue.locations} chosen={providerLocations}
                onChange={setProviderLocations} />
            </AddForm>
            <AddForm title={t.addReason} added={again}
              send={(name) => putReason({ name, minutes: Number(minutes), departmentIds: reasonDepartments })}>
              <Field label={t.minutes} name="minutes" type="number" min={5} value={minutes}
                onChange={(e) => setMinutes(e.target.value)} />
              <Several legend={t.inDepartments} entries={catalogue.departments} chosen={reasonDepartments}
                onChange={setReasonDepartments} />
            </AddForm>
          </section>
          <CareTeams providers={catalogue.providers} />
          <PublishForm providers={catalogue.providers} locations={catalogue.locations} />
        </>
      )}
    </main>
  );
}
