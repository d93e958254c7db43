import { styleText } from 'node:util';

/*
 * Colour: on a terminal only, and never when NO_COLOR is set (https://no-color.org) or the
 * terminal cannot show it; FORCE_COLOR forces it on (or off with 0), e.g. for `less -R`.
 * The formatters take the decision as a boolean, so they stay pure.
 */

type Format = Parameters<typeof styleText>[0];

export function colorEnabled(
  env: Readonly<Record<string, string | undefined>>,
  stream: { isTTY?: boolean; hasColors?: () => boolean },
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  if (!stream.isTTY) return false;
  return stream.hasColors ? stream.hasColors() : true;
}

export type Paint = (format: Format, text: string) => string;

/** styleText without its own stream check (the decision is `color`). */
export const painter =
  (color: boolean): Paint =>
  (format, text) =>
    color && text ? styleText(format, text, { validateStream: false }) : text;

const GOOD = new Set(['SUCCEEDED', 'REACHABLE', 'TRUNKED', 'TRUNKS_ALL', 'REACH', 'running', 'changed', 'ok']);
const BAD = new Set(['FAILED', 'UNREACHABLE', 'MISSING', 'NO_UPLINK', 'NOT_POSSIBLE']);
const BUSY = new Set(['RUNNING', 'QUEUED', 'PENDING', 'WAITING', 'paused']);
const QUIET = new Set(['CANCELLED', 'SKIPPED', 'UNKNOWN', 'shut off', 'skipped', 'unchanged']);

/** A state word in its colour: green done/healthy, red failed, yellow in progress, grey cancelled/unknown. */
export function paintState(paint: Paint, text: string): string {
  if (GOOD.has(text)) return paint('green', text);
  if (BAD.has(text)) return paint('red', text);
  if (BUSY.has(text)) return paint('yellow', text);
  if (QUIET.has(text)) return paint('gray', text);
  return text;
}
