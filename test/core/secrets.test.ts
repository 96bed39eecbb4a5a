/** The secret masker: a URL's password is a secret on its own, in the userinfo or in the query as libpq reads it. */
import { describe, expect, it } from '@jest/globals';
import { redactUrlPasswords, SecretMasker } from '../../src/core/secrets.js';

describe('SecretMasker', () => {
  it('masks a ?password= or &sslpassword= query parameter on its own, as pg and libpq read it', () => {
    const masker = new SecretMasker();
    masker.add('postgres://postgres@127.0.0.1:5433/t8?sslmode=disable&password=hunter%2B22+x&sslpassword=k3y-pass');
    // pg (URLSearchParams) reads "+" as a space; libpq keeps it: both readings are the password.
    expect(masker.redact('hunter+22+x, hunter+22 x, hunter%2B22+x, and k3y-pass')).toBe('***, ***, ***, and ***');
    expect(masker.redact('database t8 on 127.0.0.1')).toBe('database t8 on 127.0.0.1');
  });
});

describe('redactUrlPasswords', () => {
  it('hides the userinfo password and the query password of any URL in the text', () => {
    expect(
      redactUrlPasswords(
        'pg_dump: error: connection to postgres://postgres@127.0.0.1:5433/t8?password=pw&sslmode=disable failed; also postgres://app:pw2@db/x?a=1&sslpassword=k',
      ),
    ).toBe(
      'pg_dump: error: connection to postgres://postgres@127.0.0.1:5433/t8?password=***&sslmode=disable failed; also postgres://app:***@db/x?a=1&sslpassword=***',
    );
  });
});
