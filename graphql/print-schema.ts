import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printedSchema } from './schema.ts';

/** `npm run schema:print`: rewrites graphql/schema.graphql from the code. */
const target = fileURLToPath(new URL('./schema.graphql', import.meta.url));
writeFileSync(target, printedSchema());
console.log(`wrote ${target}`);
