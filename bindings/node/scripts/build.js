'use strict';
// Builds the Node-API addon (build/Release/sluicegate.node) with node-gyp.
//
// node-gyp needs the headers of the running Node. When they are installed beside it (Node's own
// tarballs, NodeSource's `nodejs` package, Debian's `libnode-dev`), this script points node-gyp
// at them, so the build needs no network; otherwise node-gyp downloads them as usual (or uses
// `npm_config_nodedir` when set). A tree configured once is rebuilt incrementally.
//
// node-gyp itself is the copy npm bundles (`npm_config_node_gyp`, which npm sets for `npm run`
// and install scripts), or a `node-gyp` on the PATH.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const packageDir = path.resolve(__dirname, '..');

/** The installation prefix holding this Node's own headers, or undefined. */
function localHeaders() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const versionHeader = path.join(prefix, 'include', 'node', 'node_version.h');
  let text;
  try {
    text = fs.readFileSync(versionHeader, 'utf8');
  } catch {
    return undefined;
  }
  const part = (name) => text.match(new RegExp(`#define ${name} (\\d+)`))?.[1];
  const version = `${part('NODE_MAJOR_VERSION')}.${part('NODE_MINOR_VERSION')}.${part('NODE_PATCH_VERSION')}`;
  return version === process.versions.node ? prefix : undefined;
}

/** Runs node-gyp with `args` in the package directory; exits on failure. */
function nodeGyp(args) {
  const script = process.env.npm_config_node_gyp;
  const [command, commandArgs] = script ? [process.execPath, [script, ...args]] : ['node-gyp', args];
  const run = spawnSync(command, commandArgs, { cwd: packageDir, stdio: 'inherit' });
  if (run.error) {
    console.error(`cannot run node-gyp (${run.error.message}): install npm, which bundles it`);
    process.exit(1);
  }
  if (run.status !== 0) {
    process.exit(run.status ?? 1);
  }
}

const configured = fs.existsSync(path.join(packageDir, 'build', 'Makefile'));
if (!configured) {
  const nodedir = process.env.npm_config_nodedir ? undefined : localHeaders();
  nodeGyp(['configure', ...(nodedir ? [`--nodedir=${nodedir}`] : [])]);
}
nodeGyp(['build']);
