'use strict';
// The binding's names for the C ABI's enums, held against include/sluicegate.h, so a code or
// state added to the header cannot go unnamed here.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { SluicegateError } = require('..');
const { STATES, CAUSES } = require('../lib/transitions');
const { REJECT_REASONS } = require('../lib/permit');

const HEADER = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'include', 'sluicegate.h'), 'utf8');

/** The constants of `enum name` in the header, as [name, number] pairs. */
function enumConstants(name) {
  const body = HEADER.match(new RegExp(`enum ${name}\\b[^{]*\\{([^}]*)\\}`))?.[1];
  assert.ok(body, `enum ${name} is in the header`);
  return [...body.matchAll(/^\s*(SG_\w+) = (\d+),/gm)].map(([, constant, number]) => [
    constant,
    Number(number),
  ]);
}

/** `SG_STATE_HALF_OPEN` without `prefix`, as this binding names it: `'half-open'`. */
const bindingName = (constant, prefix) => constant.slice(prefix.length).toLowerCase().replaceAll('_', '-');

test('every result code has its header name', () => {
  const codes = enumConstants('sg_result');
  assert.ok(codes.length >= 12);
  for (const [constant, number] of codes) {
    assert.equal(new SluicegateError(number, 'detail').code, constant);
  }
  assert.equal(new SluicegateError(4242, 'detail').code, 'SG_RESULT_4242');
});

test('every state, cause and rejection reason is named', () => {
  const named = [
    ['sg_state', 'SG_STATE_', STATES],
    ['sg_cause', 'SG_CAUSE_', CAUSES],
    ['sg_reject_reason', 'SG_REJECT_', REJECT_REASONS],
  ];
  for (const [name, prefix, names] of named) {
    const constants = enumConstants(name);
    assert.equal(names.length, constants.length, `${name} has as many names as constants`);
    for (const [constant, number] of constants) {
      const expected = constant === 'SG_REJECT_NONE' ? undefined : bindingName(constant, prefix);
      assert.equal(names[number], expected, constant);
    }
  }
});
