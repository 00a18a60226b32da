/**
 * The `yaml` library, loaded on first use: a config file and user rule files need it,
 * a run with neither (the defaults; the bundled rules are TypeScript) does not.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let lib: typeof Yaml | undefined;

/** The `yaml` module, required the first time it is asked for. */
export function yamlLib(): typeof Yaml {
  lib ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return lib;
}
