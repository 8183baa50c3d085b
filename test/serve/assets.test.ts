// The GUI's script is a string module (no type checking inside it): at least prove it parses, so a bad merge or edit
// fails here in milliseconds instead of as a blank page in the browser tests.
import {describe, expect, it} from 'vitest';

import appJs from '../../core/src/serve/assets/app.js.js';

describe(`GUI assets`, () => {
  it(`app.js is valid JavaScript`, () => {
    expect(() => new Function(appJs)).not.toThrow();
  });
  it(`app.js still fails to parse when broken (the check can fail)`, () => {
    const last = appJs.lastIndexOf(`}`);
    expect(() => new Function(appJs.slice(0, last) + appJs.slice(last + 1))).toThrow(SyntaxError);
  });
});
