import { builder } from '../builder.ts';

export const DatapathTypeEnum = builder.enumType('DatapathType', {
  values: {
    NETDEV: { value: 'netdev', description: 'userspace datapath' },
    SYSTEM: { value: 'system', description: 'kernel datapath' },
  } as const,
});

export const VlanModeEnum = builder.enumType('VlanMode', {
  description: 'OVS Port.vlan_mode.',
  values: {
    ACCESS: { value: 'access' },
    TRUNK: { value: 'trunk' },
    NATIVE_TAGGED: { value: 'native-tagged' },
    NATIVE_UNTAGGED: { value: 'native-untagged' },
  } as const,
});

export const PortTypeEnum = builder.enumType('PortType', {
  values: {
    SYSTEM: { value: 'system', description: 'an existing network device (NIC, veth, tap)' },
    INTERNAL: { value: 'internal', description: 'a new OVS internal interface' },
  } as const,
});
