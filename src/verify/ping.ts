/** Parses `ping -n -q` statistics (iputils, as on Debian): sent, received, loss, RTT. */
export interface PingResult {
  sent: number;
  received: number;
  lossPercent: number;
  rttAvgMs: number | null;
}

export function parsePing(stdout: string): PingResult | null {
  const stats = /(\d+) packets transmitted, (\d+) received(?:, \+\d+ errors)?, ([\d.]+)% packet loss/.exec(stdout);
  if (!stats) return null;
  const rtt = /rtt min\/avg\/max\/mdev = [\d.]+\/([\d.]+)\//.exec(stdout);
  return { sent: Number(stats[1]), received: Number(stats[2]), lossPercent: Number(stats[3]), rttAvgMs: rtt ? Number(rtt[1]) : null };
}
