import { CombinedError, type OperationResult } from 'urql';
import { describe, expect, it } from 'vitest';
import { ATTEMPTS, command } from './commands';

type Result = OperationResult<{ ok: boolean }, { commandId: string }>;

const answer = (error?: CombinedError): Result =>
  ({ data: error ? undefined : { ok: true }, error, stale: false, hasNext: false }) as unknown as Result;

describe('command', () => {
  it('retries a network failure with the same commandId', async () => {
    const ids: string[] = [];
    const result = await command(
      async (id) => {
        ids.push(id);
        return ids.length < 2 ? answer(new CombinedError({ networkError: new Error('offline') })) : answer();
      },
      async () => {},
    );
    expect(result.data).toEqual({ ok: true });
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(1);
  });

  it('does not retry an answer from the API', async () => {
    let sent = 0;
    await command(async () => {
      sent++;
      return answer(new CombinedError({ graphQLErrors: [{ message: 'refused' }] }));
    });
    expect(sent).toBe(1);
  });

  it('gives up after the last attempt', async () => {
    let sent = 0;
    const result = await command(
      async () => {
        sent++;
        return answer(new CombinedError({ networkError: new Error('offline') }));
      },
      async () => {},
    );
    expect(sent).toBe(ATTEMPTS);
    expect(result.error?.networkError).toBeDefined();
  });
});
