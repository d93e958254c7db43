import { enableCompileCache } from 'node:module';

// The entry point (bin/trunkline execs it). Node's compile cache keeps the stripped TypeScript
// of every module on disk (os.tmpdir()/node-compile-cache): a command starts in about half the
// time after its first run. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
enableCompileCache();
const { runCli } = await import('./program.ts');

// The process's own streams and environment. Exiting explicitly: an event stream or a
// keep-alive socket must not keep a finished command alive.
const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
process.exit(code);
