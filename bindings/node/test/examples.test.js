'use strict';
// The documentation's examples, run: every `@example` block of lib/ and every ```js block of the
// README. A comment `// => text` states a line the example prints; an example's printed lines
// must be exactly its `// =>` lines, in order (an example without any only has to run).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');

const PACKAGE = path.join(__dirname, '..');

/** The `@example` blocks of the doc comments in `source`. */
function jsdocExamples(source) {
  const examples = [];
  for (const [comment] of source.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const body = comment.slice('/**'.length, -'*/'.length);
    const lines = body.split('\n').map((line) => line.replace(/^\s*\*( |$)/, ''));
    let example = null;
    for (const line of lines) {
      if (line.startsWith('@example')) {
        example = [];
        examples.push(example);
      } else if (line.startsWith('@')) {
        example = null;
      } else if (example !== null) {
        example.push(line);
      }
    }
  }
  return examples.map((lines) => lines.join('\n'));
}

/** The ```js blocks of a Markdown `source`. */
function markdownExamples(source) {
  return [...source.matchAll(/```js\n([\s\S]*?)```/g)].map(([, code]) => code);
}

/** Runs `code` with `require('sluicegate')` meaning this package; returns what it printed. */
function run(code) {
  const printed = [];
  const console = { log: (...args) => printed.push(...util.format(...args).split('\n')) };
  const requireHere = (name) => require(name === 'sluicegate' ? PACKAGE : name);
  new Function('require', 'console', code)(requireHere, console);
  return printed;
}

const sources = [
  ...fs
    .readdirSync(path.join(PACKAGE, 'lib'))
    .map((file) => [`lib/${file}`, jsdocExamples(fs.readFileSync(path.join(PACKAGE, 'lib', file), 'utf8'))]),
  ['README.md', markdownExamples(fs.readFileSync(path.join(PACKAGE, 'README.md'), 'utf8'))],
];

test('the documentation has examples', () => {
  const count = sources.reduce((sum, [, examples]) => sum + examples.length, 0);
  assert.ok(count >= 8, `only ${count} examples found`);
});

for (const [file, examples] of sources) {
  examples.forEach((code, i) => {
    test(`${file}, example ${i + 1}`, () => {
      const expected = [...code.matchAll(/\/\/ => (.*)$/gm)].map(([, line]) => line);
      const printed = run(code);
      if (expected.length > 0) assert.deepEqual(printed, expected);
    });
  });
}
