import { type GraphQLEnumType, isEnumType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../graphql/schema.ts';
import { ERROR_CODE_DESCRIPTIONS, ErrorCode } from '../../src/errors/codes.ts';
import { JOB_KINDS } from '../../src/jobs/job-kinds.ts';

const enumValues = (name: string) => {
  const type = schema.getType(name);
  expect(isEnumType(type), `${name} is an enum in the schema`).toBe(true);
  return (type as GraphQLEnumType).getValues();
};

describe('closed vocabularies in the GraphQL schema', () => {
  it('the ErrorCode enum is exactly src/errors/codes.ts, each value described', () => {
    const values = enumValues('ErrorCode');
    expect(values.map((v) => v.name).sort()).toEqual(Object.values(ErrorCode).sort());
    for (const v of values) expect(v.description).toBe(ERROR_CODE_DESCRIPTIONS[v.value as ErrorCode]);
  });

  it('the JobKind enum is exactly src/jobs/job-kinds.ts', () => {
    expect(
      enumValues('JobKind')
        .map((v) => v.name)
        .sort(),
    ).toEqual([...JOB_KINDS].sort());
  });

  it('every field that carries a code or a kind uses the enum', () => {
    const offenders: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || !('getFields' in type)) continue;
      for (const [name, field] of Object.entries(type.getFields())) {
        const named = String(field.type).replace(/[[\]!]/g, '');
        if (name === 'code' && named !== 'ErrorCode') offenders.push(`${type.name}.${name}: ${named}`);
        if (name === 'kind' && (type.name.startsWith('Job') || type.name === 'Plan') && named !== 'JobKind')
          offenders.push(`${type.name}.${name}: ${named}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
