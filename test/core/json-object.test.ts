import { parseJsonObject } from '../../src/core/json-object.js';
import { UserError } from '../../src/core/errors.js';

const EXPECTED = 'input "versions": expected a JSON object of component → version';

describe('parseJsonObject', () => {
  test('returns the object', () => {
    expect(parseJsonObject('{"api": "1.2.0", "bot": null}', EXPECTED)).toEqual({ api: '1.2.0', bot: null });
  });

  test.each([
    ['[1, 2]', 'got an array'],
    ['null', 'got null'],
    ['42', 'got a number'],
    ['"1.2.0"', 'got a string'],
    ['true', 'got a boolean'],
    ['{"api": "hunter22"', 'but it is not valid JSON'],
    ['api=1.2.0', 'but it is not valid JSON'],
  ])('%s fails in one line that names the input and never repeats the text', (text, why) => {
    let error: unknown;
    try {
      parseJsonObject(text, EXPECTED);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe(`${EXPECTED}, ${why}`);
  });
});
