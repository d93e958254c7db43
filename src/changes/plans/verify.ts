import type { Host } from '../../inventory/host-registry.ts';
import { ErrorCode } from '../../errors/codes.ts';
import { toShellCommand } from '../../ssh/quote.ts';
import { createProbeArgvs, pingPairs, planProbes, removeProbeArgvs, type Probe } from '../../verify/probes.ts';
import type { VerifyVlanInput } from '../inputs.ts';
import type { Plan, PlanStep } from '../plan.ts';
import type { UserError } from '../user-errors.ts';

/** The probes and their bridge, per host: what the verify job executes (kept in the job input). */
export interface VerifySpec {
  tag: number;
  isolationFrom: number[];
  probes: Array<Probe & { bridge: string }>;
}

const show = (argvs: string[][]) => argvs.map(toShellCommand).join(' && ');

/**
 * verifyVlan as a plan: per host "create probes", one "ping matrix" step, per host "remove
 * probes" (always run). Steps are informational: the verify job executes the spec.
 */
export function planVerifyVlan(hosts: Host[], input: VerifyVlanInput): { plan?: Plan; spec?: VerifySpec; errors?: UserError[] } {
  if (hosts.length < 2 && input.isolationFrom.length === 0)
    return {
      errors: [
        { field: ['input', 'hypervisors'], code: ErrorCode.INVALID_INPUT, message: 'hypervisors: name two or more, or give isolationFrom' },
      ],
    };
  if (input.isolationFrom.includes(input.tag))
    return {
      errors: [
        {
          field: ['input', 'isolationFrom'],
          code: ErrorCode.INVALID_INPUT,
          message: `isolationFrom: cannot include the VLAN being verified (${input.tag})`,
        },
      ],
    };
  const bridgeOf = (h: Host) => input.bridge ?? h.defaults.bridge;
  const probes = planProbes(
    hosts.map((h) => h.name),
    input.tag,
    input.isolationFrom,
  ).map((p) => ({ ...p, bridge: bridgeOf(hosts.find((h) => h.name === p.host)!) }));
  const step = (host: string, description: string, argvs: string[][]): PlanStep => ({
    host,
    subject: host,
    description,
    probe: { kind: 'verify', argv: ['ip', 'netns', 'list'] },
    wanted: 'done',
    apply: null,
    // Each command runs on its own through sudo; shown joined for humans.
    display: argvs.length ? show(argvs) : 'ip netns exec PROBE ping -n -q -c 3 -i 0.2 -W 1 ADDRESS (each pair)',
    observed: null,
    changes: null,
  });
  const mine = (h: Host) => probes.filter((p) => p.host === h.name);
  const pairs = pingPairs(probes);
  const steps: PlanStep[] = [
    ...hosts.map((h) =>
      step(
        h.name,
        `create probes on ${h.name}: ${mine(h)
          .map((p) => `VLAN ${p.vlan} at ${p.address}`)
          .join(', ')}`,
        mine(h).flatMap((p) => createProbeArgvs(p, p.bridge)),
      ),
    ),
    step(
      hosts[0]!.name,
      `ping matrix: ${pairs.filter((p) => p.expect === 'REACH').length} pairs must reach, ${pairs.filter((p) => p.expect === 'ISOLATED').length} must not`,
      [],
    ),
    ...hosts.map((h) => step(h.name, `remove probes on ${h.name}`, mine(h).flatMap(removeProbeArgvs))),
  ];
  return {
    plan: { kind: 'verifyVlan', hypervisors: hosts.map((h) => h.name), steps },
    spec: { tag: input.tag, isolationFrom: input.isolationFrom, probes },
  };
}
