import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { type GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationContext, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphqlLimits } from '../src/config/config.ts';
import { ErrorCode } from '../src/errors/codes.ts';

/*
 * What one GraphQL operation may ask for, checked before it runs (OWASP GraphQL cheat sheet):
 * graphql-armor's limits on tokens (while parsing: a 250 KB query of 2,000 aliases stops at the
 * limit instead of being parsed and validated for seconds), depth, aliases, cost and directives;
 * field suggestions masked (they map the schema for whoever guesses); introspection off unless
 * configured. Every refusal is a GraphQL error with `extensions.code` QUERY_TOO_COMPLEX (and
 * `limit`, `max`) or INTROSPECTION_DISABLED, so clients can tell it from a mistake of theirs.
 */

type Limit = 'tokens' | 'depth' | 'aliases' | 'cost' | 'directives';

/**
 * Gives a refusal of armor's its code. Armor hands the error to onReject before reporting it, so
 * the error itself is completed here (its message loses armor's misleading "Syntax Error: "
 * prefix for limits other than tokens).
 */
function refusal(limit: Limit, max: number) {
  return [
    (_ctx: ValidationContext | null, error: GraphQLError) => {
      Object.assign(error.extensions, { code: ErrorCode.QUERY_TOO_COMPLEX, limit, max });
      if (limit !== 'tokens') error.message = error.message.replace(/^Syntax Error: /, '');
    },
  ];
}

/** A validation rule whose reported errors carry `code`. */
function withCode(rule: ValidationRule, code: ErrorCode): ValidationRule {
  return (context) =>
    rule(
      Object.create(context, {
        reportError: {
          value: (error: GraphQLError) => {
            Object.assign(error.extensions, { code });
            context.reportError(error);
          },
        },
      }) as ValidationContext,
    );
}

const noIntrospection = withCode(NoSchemaIntrospectionCustomRule, ErrorCode.INTROSPECTION_DISABLED);

export function queryLimitPlugins(limits: GraphqlLimits): Plugin[] {
  const armor = EnvelopArmorPlugin({
    maxTokens: { n: limits.maxTokens, onReject: refusal('tokens', limits.maxTokens) },
    maxDepth: { n: limits.maxDepth, onReject: refusal('depth', limits.maxDepth) },
    maxAliases: { n: limits.maxAliases, onReject: refusal('aliases', limits.maxAliases) },
    costLimit: { maxCost: limits.maxCost, onReject: refusal('cost', limits.maxCost) },
    maxDirectives: { n: limits.maxDirectives, onReject: refusal('directives', limits.maxDirectives) },
    blockFieldSuggestion: { enabled: true },
  });
  const plugins: Plugin[] = [armor as Plugin];
  if (!limits.introspection) plugins.push({ onValidate: ({ addValidationRule }) => addValidationRule(noIntrospection) });
  return plugins;
}
