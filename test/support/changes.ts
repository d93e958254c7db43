import { expect } from 'vitest';
import { gql } from './graphql-client.ts';
import { waitForJob } from './trunkline.ts';

/** Runs change mutations by name through the public API, as a script would. */
export const JOB_FIELDS =
  'id state attempts changedSteps error { code message step } hosts { hypervisor state attempts { number worker outcome reason } planNote waitingFor error { code message } } rollback { step state command message } steps { index host description command state changed observed wanted stdout startedAt finishedAt }';

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

export function changeClient(url: () => string) {
  async function change(name: string, input: Record<string, unknown>): Promise<any> {
    const res = await gql(
      url(),
      `mutation($input: ${cap(name)}Input!) { ${name}(input: $input) { job { id } plan { steps { description command observed wouldChange } } userErrors { field code message } } }`,
      { input },
    );
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data[name];
  }
  /** Runs a change to the end and returns the job. */
  async function apply(name: string, input: Record<string, unknown>): Promise<any> {
    const payload = await change(name, input);
    expect(payload.userErrors).toEqual([]);
    return waitForJob(url(), payload.job.id, JOB_FIELDS);
  }
  /** Runs it twice: the first succeeds, the second succeeds and changes nothing. */
  async function applyTwice(name: string, input: Record<string, unknown>): Promise<any> {
    const first = await apply(name, input);
    expect(first.error, JSON.stringify(first.error)).toBeNull();
    expect(first.state).toBe('SUCCEEDED');
    const again = await apply(name, input);
    expect(again.error, JSON.stringify(again.error)).toBeNull();
    expect(again.state).toBe('SUCCEEDED');
    expect(again.steps.map((s: any) => s.changed)).toEqual(again.steps.map(() => false));
    return first;
  }
  return { change, apply, applyTwice };
}
