import * as pulumi from "@pulumi/pulumi";

/** Objects merge key by key; anything else (arrays included) is replaced by the override. */
export function mergeValues(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === "object" && !Array.isArray(v) && !pulumi.Output.isInstance(v);
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    out[key] = isObject(value) && isObject(out[key]) ? mergeValues(out[key] as Record<string, unknown>, value) : value;
  }
  return out;
}
