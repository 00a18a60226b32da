/**
 * Masks secrets in text meant for people (error messages, log lines): the password of
 * a URL (`postgres://user:***@host`), `password=` settings of a connection string,
 * bearer tokens and bcrypt hashes. A safety net under the rule that messages name the
 * key and the problem, never the value of a secret.
 */

const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/@:]*:)[^\s@]*@/gi;
const KEYWORD_PASSWORD = /\b(password|passwd|pwd)=[^\s&;,'"]+/gi;
const BEARER = /\b(bearer)\s+[^\s"',}]+/gi;
const BCRYPT = /\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}/g;

/** The text with every secret it recognises replaced by `***` (or `<bcrypt hash>`). */
export function redactSecrets(text: string): string {
  return text.replace(URL_PASSWORD, '$1***@').replace(KEYWORD_PASSWORD, '$1=***').replace(BEARER, '$1 ***').replace(BCRYPT, '<bcrypt hash>');
}
