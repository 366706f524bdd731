// Mutations are commands: each user action gets one `commandId`, and a network failure is retried with the same id,
// so the server does it once and answers the retry as it did the first time.
import type { AnyVariables, OperationResult } from 'urql';

/** How many times a command is sent at most when the network fails. */
export const ATTEMPTS = 3;

/** Sends `send(commandId)` until it gets an answer (at most ATTEMPTS times), with one commandId for all tries. */
export async function command<Data, Variables extends AnyVariables>(
  send: (commandId: string) => Promise<OperationResult<Data, Variables>>,
  wait: (attempt: number) => Promise<void> = (attempt) => new Promise((r) => setTimeout(r, 300 * attempt)),
): Promise<OperationResult<Data, Variables>> {
  const commandId = crypto.randomUUID();
  let result = await send(commandId);
  for (let attempt = 1; attempt < ATTEMPTS && result.error?.networkError; attempt++) {
    await wait(attempt);
    result = await send(commandId);
  }
  return result;
}
