import type { PortVlans } from '../../ovs/commands.ts';
import { ErrorCode } from '../../errors/codes.ts';
import { inputError as err, type UserError } from '../user-errors.ts';

export interface PortVlanRequest {
  tag?: number | null;
  trunks?: number[] | null;
  vlanMode?: PortVlans['vlanMode'];
  trunkAllVlans: boolean;
}

/**
 * Turns requested VLAN settings into OVS columns, refusing combinations OVS would take
 * silently but that are almost certainly mistakes, e.g. an untagged port with no trunks,
 * which OVS treats as a trunk of EVERY VLAN.
 */
export function checkPortVlans(req: PortVlanRequest): { vlans: PortVlans; errors: UserError[] } {
  const tag = req.tag ?? null;
  const trunks = [...new Set(req.trunks ?? [])].sort((a, b) => a - b);
  const vlanMode = req.vlanMode ?? null;
  const errors: UserError[] = [];
  if (vlanMode === 'access' && trunks.length) errors.push(err('trunks', ErrorCode.INVALID_VLAN_CONFIG, 'an access port has no trunks'));
  if (vlanMode === 'access' && tag === null) errors.push(err('tag', ErrorCode.INVALID_VLAN_CONFIG, 'an access port needs a tag'));
  if (vlanMode === 'trunk' && tag !== null)
    errors.push(err('tag', ErrorCode.INVALID_VLAN_CONFIG, 'a trunk port has no tag (use native-tagged/native-untagged for a native VLAN)'));
  if ((vlanMode === 'native-tagged' || vlanMode === 'native-untagged') && tag === null)
    errors.push(err('tag', ErrorCode.INVALID_VLAN_CONFIG, `${vlanMode} needs a tag (the native VLAN)`));
  if (tag === null && trunks.length === 0 && !req.trunkAllVlans)
    errors.push(
      err(
        'trunks',
        ErrorCode.WOULD_TRUNK_ALL_VLANS,
        'no tag and no trunks makes the port carry EVERY VLAN; give a tag or trunks, or set trunkAllVlans: true',
      ),
    );
  if (req.trunkAllVlans && (tag !== null || trunks.length))
    errors.push(err('trunkAllVlans', ErrorCode.INVALID_VLAN_CONFIG, 'trunkAllVlans excludes tag and trunks'));
  return { vlans: { tag, trunks, vlanMode }, errors };
}
