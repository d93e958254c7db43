import { bridgeDatapathArgv, ensureBridgeArgv } from '../ovs/commands.ts';
import type { DatapathType } from '../validation/names.ts';
import type { Plan } from './plan.ts';

export interface CreateBridgeInput {
  hypervisor: string;
  name: string;
  datapathType: DatapathType;
}

/** Plan for `createBridge`: one step that ensures the bridge exists with the datapath. */
export function planCreateBridge(input: CreateBridgeInput): Plan {
  const { hypervisor, name, datapathType } = input;
  return {
    kind: 'createBridge',
    hypervisors: [hypervisor],
    steps: [
      {
        host: hypervisor,
        description: `ensure bridge ${name} exists (datapath ${datapathType})`,
        probe: { kind: 'ovs-bridge-datapath', argv: bridgeDatapathArgv(name) },
        wanted: `datapath_type=${datapathType}`,
        apply: { argv: ensureBridgeArgv(name, datapathType) },
      },
    ],
  };
}
