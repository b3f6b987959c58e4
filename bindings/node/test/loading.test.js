'use strict';
// Finding and opening the library: SLUICEGATE_LIB, the loader's search, and the errors when
// neither gives a usable library. Each case runs in a fresh process, since a process opens the
// library once.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const PACKAGE = path.join(__dirname, '..');
const LIBRARY = process.env.SLUICEGATE_LIB;

/** Requires the package in a new process with `env`; returns its output and status. */
function requireWith(env) {
  const script = `
    try {
      const sg = require(${JSON.stringify(PACKAGE)});
      console.log(JSON.stringify({ version: sg.version, libraryPath: sg.libraryPath }));
    } catch (err) {
      console.log(JSON.stringify({ code: err.code, message: err.message }));
    }`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

/** This process's environment without SLUICEGATE_LIB, plus `extra`. */
function envWithout(extra) {
  const env = { ...process.env, ...extra };
  delete env.SLUICEGATE_LIB;
  return env;
}

test('SLUICEGATE_LIB names the library', { skip: !LIBRARY && 'SLUICEGATE_LIB is not set' }, () => {
  const loaded = requireWith(process.env);
  assert.match(loaded.version, /^\d+\.\d+\.\d+$/);
  assert.equal(loaded.libraryPath, LIBRARY);
});

test(
  'without SLUICEGATE_LIB the loader finds libsluicegate.so',
  { skip: !LIBRARY && 'SLUICEGATE_LIB is not set' },
  () => {
    const loaded = requireWith(envWithout({ LD_LIBRARY_PATH: path.dirname(LIBRARY) }));
    assert.match(loaded.version, /^\d+\.\d+\.\d+$/);
    assert.equal(loaded.libraryPath, 'libsluicegate.so');
  },
);

test('a missing library is an ERR_DLOPEN_FAILED naming the path', () => {
  const failed = requireWith({ ...process.env, SLUICEGATE_LIB: '/nonexistent/libsluicegate.so' });
  assert.equal(failed.code, 'ERR_DLOPEN_FAILED');
  assert.match(failed.message, /cannot load the sluicegate library from "\/nonexistent\/libsluicegate.so"/);
});

test('a library without the functions is refused, naming the first missing one', () => {
  const failed = requireWith({ ...process.env, SLUICEGATE_LIB: 'libc.so.6' });
  assert.equal(failed.code, 'ERR_DLOPEN_FAILED');
  assert.match(failed.message, /has no function sg_version/);
});
