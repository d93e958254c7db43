import { gql } from '../../test/support/graphql-client.ts';

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

/** Runs a change mutation through the public API, as a script would; returns the job id (throws on a refusal). */
export async function mutate(url: string, name: string, input: Record<string, unknown>): Promise<string> {
  const res = await gql(
    url,
    `mutation($input: ${cap(name)}Input!) { ${name}(input: $input) { job { id } userErrors { field code message } } }`,
    { input },
  );
  const payload = res.data?.[name];
  if (res.errors || !payload) throw new Error(`${name}: ${JSON.stringify(res.errors ?? res.data)}`);
  if (payload.userErrors.length) throw new Error(`${name} refused: ${JSON.stringify(payload.userErrors)}`);
  return payload.job.id as string;
}
