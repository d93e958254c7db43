import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printedOpenApi } from './openapi-yaml.ts';

/** Writes openapi.yaml from the code (npm run openapi:print). */
const path = fileURLToPath(new URL('../openapi.yaml', import.meta.url));
writeFileSync(path, printedOpenApi());
console.log(`wrote ${path}`);
