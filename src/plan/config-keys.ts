/**
 * The config's keys as `config --help` lists them: the cli reads through plan, never out, and this
 * loads nothing but the list (out/config-keys.ts), so that --help stays quick.
 */
export { CONFIG_KEYS_LISTED } from '../out/config-keys.js';
