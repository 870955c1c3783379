/**
 * Prints the `config:` section of Pulumi.yaml from the program's key table (infra/config.ts),
 * so the declared types, defaults and descriptions never drift from what the program validates.
 * `npm run gen:config` rewrites Pulumi.yaml's section; a test fails when they differ.
 */
import { CONFIG_KEYS, ConfigKey, defaultOf } from "../infra/config";

export function pulumiConfigSection(): Record<string, unknown> {
  const section: Record<string, unknown> = {};
  for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
    const spec = CONFIG_KEYS[key];
    // Pulumi's project schema has no object type; such keys are validated by the program only.
    if (spec.type === "object") continue;
    const def = defaultOf(key);
    section[key] = {
      type: spec.type,
      ...("items" in spec ? { items: { type: spec.items } } : {}),
      description: spec.description,
      ...(def === undefined ? {} : { default: def }),
    };
  }
  return section;
}
