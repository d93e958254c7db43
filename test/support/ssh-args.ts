/**
 * The arguments of a fresh `ssh` process to a lab host, as an operator's script runs it: the
 * lab's key and known_hosts only. -F /dev/null and BatchMode keep root's own ssh config
 * (ControlMaster, agents) and any prompt out of it. The command follows.
 */
export function labSshArgs(to: { identity: string; knownHosts: string; user: string; address: string; port?: number }): string[] {
  return [
    '-F',
    '/dev/null',
    '-i',
    to.identity,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${to.knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'ConnectTimeout=5',
    '-o',
    'LogLevel=ERROR',
    ...(to.port !== undefined ? ['-p', String(to.port)] : []),
    `${to.user}@${to.address}`,
  ];
}
