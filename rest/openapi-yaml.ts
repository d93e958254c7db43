import { stringify } from 'yaml';
import { openApiDocument } from './openapi-document.ts';

/** openapi.yaml as checked in: a header, then the document. */
export function printedOpenApi(): string {
  return `# Generated from rest/ by \`npm run openapi:print\`: do not edit; a unit test fails while it is stale.\n${stringify(openApiDocument(), { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
