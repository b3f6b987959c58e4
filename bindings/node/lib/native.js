'use strict';
// The addon and the library it opens.
//
// The library is `SLUICEGATE_LIB` when that is set (a path to libsluicegate.so), else
// `libsluicegate.so` found by the dynamic loader (LD_LIBRARY_PATH, the ld.so cache, the
// system library directories). It is opened once per process, when this module is first
// required; a failure throws an Error with code `ERR_DLOPEN_FAILED`.

const path = require('node:path');

const ADDON = path.join(__dirname, '..', 'build', 'Release', 'sluicegate.node');

function loadAddon() {
  try {
    return require(ADDON);
  } catch (caught) {
    const err = /** @type {NodeJS.ErrnoException} */ (caught);
    if (err.code !== 'MODULE_NOT_FOUND') throw err;
    const missing = /** @type {NodeJS.ErrnoException} */ (
      new Error(
        `the sluicegate addon is not built (${ADDON} is missing): run \`npm run build\` in ${path.dirname(path.dirname(ADDON))}`,
        { cause: err },
      )
    );
    missing.code = 'ERR_DLOPEN_FAILED';
    throw missing;
  }
}

const native = loadAddon();

/** Where the library was opened from: `SLUICEGATE_LIB`, or the loader's search for its name. */
const libraryPath = process.env.SLUICEGATE_LIB || 'libsluicegate.so';

/** The library's version, "MAJOR.MINOR.PATCH". */
const version = native.load(libraryPath);

/**
 * The numbers the last call wrote, read right after it: each native function says which
 * slots it fills. One array per thread, so workers do not share it.
 */
const out = new Float64Array(native.out);

module.exports = { native, out, version, libraryPath };
