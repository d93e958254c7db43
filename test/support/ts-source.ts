import { parseSync } from 'oxc-parser';

/*
 * TypeScript sources as syntax trees (ESTree, from oxc-parser) for the tests that check the
 * code itself (layering, closed vocabularies): comments and strings are not mistaken for code.
 */

export interface AstNode {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}

export interface ParsedSource {
  program: AstNode;
  /** 1-based line of a character offset. */
  lineOf(offset: number): number;
  text(node: AstNode): string;
}

export function parseTs(file: string, source: string): ParsedSource {
  const result = parseSync(file, source, { lang: 'ts' });
  if (result.errors.length) throw new Error(`${file}: cannot parse: ${result.errors[0]!.message}`);
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === '\n') lineStarts.push(i + 1);
  return {
    program: result.program as unknown as AstNode,
    lineOf(offset) {
      let lo = 0;
      let hi = lineStarts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (lineStarts[mid]! <= offset) lo = mid;
        else hi = mid - 1;
      }
      return lo + 1;
    },
    text: (node) => source.slice(node.start, node.end),
  };
}

const isNode = (v: unknown): v is AstNode => typeof v === 'object' && v !== null && typeof (v as AstNode).type === 'string';

/** Calls `visit` on every node below (and including) `node`, parents first. */
export function walk(node: unknown, visit: (n: AstNode) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) walk(child, visit);
    return;
  }
  if (!isNode(node)) return;
  visit(node);
  for (const [key, value] of Object.entries(node)) if (key !== 'parent' && typeof value === 'object') walk(value, visit);
}

/** The string a node holds when it is a string literal (or a template without substitutions). */
export function stringValue(node: unknown): string | null {
  if (!isNode(node)) return null;
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node.type === 'TemplateLiteral' && (node.expressions as unknown[]).length === 0)
    return ((node.quasis as Array<{ value: { cooked: string | null } }>)[0]?.value.cooked ?? null) as string | null;
  return null;
}
